"""Shared plotting pieces of the panels: a units × time heatmap with a colour bar, a hover
read-out and a selected-unit marker; a time axis that labels timesteps with characters;
colours, fonts and plot styling.

Orientation: a heatmap shows trace[name][layer, direction], shaped (T, H), transposed into
an image shaped (H, T) in row-major order: rows are units, columns are timesteps. The pixel
of (unit u, timestep t) is centred on x = t, y = u, and unit 0 is at the top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets
from PyQt6.QtCore import pyqtSignal

GATE_COLORMAP = "viridis"  # values in 0..1
DIVERGING_COLORMAP = "CET-D1A"  # values in -m..m, zero in the middle
GATE_LEVELS = (0.0, 1.0)
TANH_LEVELS = (-1.0, 1.0)

TITLE_SIZE = "11pt"
TITLE_HEIGHT = 24  # pyqtgraph reserves 30
LOG_LABEL_PIXELS = 22  # vertical room one log-axis label needs
TEXT_COLOUR = "#DDDDDD"
LABEL_STYLE = {"font-size": "11pt", "color": TEXT_COLOUR}
LEFT_AXIS_WIDTH = 44  # fixed, so that the time axes of a panel's plots line up; fits "1e-12"
COLORBAR_AXIS_WIDTH = 44  # fits "-5e-3", "-0.05" (colour-bar labels are short_number()s)
COLORBAR_WIDTH = 66  # fixed; plots without a colour bar reserve as much space

# Okabe-Ito: distinguishable with colour-blindness and on a projector.
ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
GREY = "#9A9A9A"


def tick_font() -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPointSize(10)
    return font


def coloured(text: str, colour: str) -> str:
    """`text` in `colour`, for titles that double as legends."""
    return f'<span style="color:{colour}">{text}</span>'


class TitleLabel(pg.LabelItem):
    """A plot title that never makes its plot wider: in a narrow dock a long title is cut
    at the right end instead of pushing the plots out of the panel."""

    def __init__(self, parent: pg.PlotItem) -> None:
        super().__init__("", size=TITLE_SIZE, color=TEXT_COLOUR, parent=parent)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)

    def updateMin(self):  # noqa: N802 (pyqtgraph's name)
        super().updateMin()
        self.setMinimumWidth(0)
        height = self._sizeHint[QtCore.Qt.SizeHint.MinimumSize][1]
        self._sizeHint[QtCore.Qt.SizeHint.MinimumSize] = (0, height)

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)  # centres the text
        cut_at_left = self.rect().left() - self.itemRect().left()
        if cut_at_left > 0:  # longer than the plot is wide: keep its beginning in view
            self.item.moveBy(cut_at_left, 0)


def style_plot(plot: pg.PlotItem, left: str = "", bottom: str = "timestep") -> None:
    """Readable fonts, a fixed-width left axis, a title that cannot widen the plot, and a
    context menu with only the view actions (no 'Plot Options': turning log mode off
    there would misplace reference lines)."""
    plot.layout.removeItem(plot.titleLabel)
    plot.titleLabel.setParentItem(None)
    plot.titleLabel = TitleLabel(plot)
    plot.layout.addItem(plot.titleLabel, 0, 1, 1, 5)  # over the view, right axis and colour bar
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(tick_font())
        axis.setTextPen(pg.mkPen(TEXT_COLOUR))
        axis.enableAutoSIPrefix(False)  # "(x0.001)" next to a log axis only confuses
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    plot.setLabel("left", left, **LABEL_STYLE)
    plot.setLabel("bottom", bottom, **LABEL_STYLE)
    plot.hideButtons()
    plot.setMenuEnabled(False, enableViewBoxMenu=True)


def new_graphics() -> pg.GraphicsLayoutWidget:
    """The panel's plot area: dark, with little space between plots (docks can be small)."""
    graphics = pg.GraphicsLayoutWidget()
    graphics.ci.setContentsMargins(2, 2, 2, 2)
    graphics.ci.layout.setSpacing(2)
    return graphics


def show_x_values(plot: pg.PlotItem, show: bool) -> None:
    """Only the lowest of a stack of x-linked plots needs x tick values and the x label."""
    axis = plot.getAxis("bottom")
    axis.showLabel(show)
    axis.setStyle(showValues=show)


def set_time_range(plot: pg.PlotItem, steps: int) -> None:
    """Show (and allow zooming within) timesteps 0..steps-1; linked time axes follow."""
    plot.vb.setLimits(xMin=-0.5, xMax=steps - 0.5)
    plot.setXRange(-0.5, steps - 0.5, padding=0)


def set_title(plot: pg.PlotItem, title: str) -> None:
    """Set the title only when it changes (re-laying out a title is not free)."""
    if plot.titleLabel.text != title:
        plot.setTitle(title)
        plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)


def reserve_colorbar_space(plot: pg.PlotItem) -> None:
    """Keep the right margin a colour bar would take, so time axes line up with heatmaps."""
    spacer = pg.GraphicsWidget()
    spacer.setFixedWidth(COLORBAR_WIDTH)
    plot.layout.addItem(spacer, 2, 5)
    plot.layout.setColumnFixedWidth(4, 5)


def nice_limit(values: np.ndarray) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above max|values|: a symmetric colour scale that
    stays put from frame to frame and has round colour-bar labels. 1 if nothing is finite."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    if not 0.0 < largest < float("inf"):
        return 1.0
    exponent = math.floor(math.log10(largest))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        limit = mantissa * 10.0**exponent
        if limit >= largest:
            return limit
    return 10.0 ** (exponent + 1)


def where_suffix(layers: int, directions: int, layer: int, direction: int) -> str:
    """' · layer 2 ←' when the trace has more than one layer or direction, else ''."""
    parts = []
    if layers > 1:
        parts.append(f"layer {layer + 1}")
    if directions > 1:
        parts.append("backward ←" if direction else "forward →")
    return " · " + ", ".join(parts) if parts else ""


def clamp_selection(trace, layer: int, direction: int, unit: int) -> tuple[int, int, int]:
    """The selection moved inside the trace's (layers, directions, units)."""
    layers, directions, _, units = trace[trace.names[0]].shape
    return (min(max(layer, 0), layers - 1), min(max(direction, 0), directions - 1), min(max(unit, 0), units - 1))


def _label_strides():
    for exponent in range(12):
        for mantissa in (1, 2, 5):
            yield mantissa * 10**exponent


class TimeAxis(pg.AxisItem):
    """A timestep axis; with labels (the probe's characters) its ticks show them, every k-th
    one when they would overlap, recomputed on zoom and resize."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self.setStyle(hideOverlappingLabels=10)  # the first and last character may reach past the ends
        self.labels: tuple[str, ...] | None = None

    def set_labels(self, labels: Sequence[str] | None) -> None:
        labels = tuple(labels) if labels else None
        if labels != self.labels:
            self.labels = labels
            self.picture = None
            self.update()

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        if not self.labels:
            return super().tickValues(minVal, maxVal, size)
        first, last = max(0, math.ceil(minVal)), min(len(self.labels) - 1, math.floor(maxVal))
        if last < first or size <= 0:
            return []
        pixels_per_step = size / max(maxVal - minVal, 1e-9)
        label_pixels = QtGui.QFontMetrics(self.style["tickFont"] or tick_font()).horizontalAdvance("W") + 6
        needed = label_pixels / pixels_per_step  # timesteps per label for labels not to overlap
        every = next(k for k in _label_strides() if k >= needed)  # 1, 2, 5, 10, ...: the same in similar plots
        return [(float(every), [float(t) for t in range(math.ceil(first / every) * every, last + 1, every)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if not self.labels:
            return super().tickStrings(values, scale, spacing)
        indices = [int(round(value)) for value in values]
        return [self.labels[i] if 0 <= i < len(self.labels) else "" for i in indices]


def short_number(value: float) -> str:
    """0.01 .. 9999 as they are, other magnitudes as 6e-4, 1e-12: fits a narrow axis."""
    if value == 0 or 0.01 <= abs(value) < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


class LogAxis(pg.AxisItem):
    """A vertical log-scale axis (its values are log10) with as many short labels as fit:
    every k-th power of ten, or 1-2-5 / 1..9 steps within the decades when there is room."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803
        if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
            return super().tickValues(minVal, maxVal, size)
        room = max(2, int(size // LOG_LABEL_PIXELS))
        decades = range(math.floor(minVal), math.ceil(maxVal) + 1)
        inside = [d for d in decades if minVal <= d <= maxVal]
        if len(inside) > room:  # too many powers of ten: every k-th of them
            every = math.ceil(len(inside) / room)
            return [(float(every), [float(d) for d in inside if d % every == 0])]
        best = [float(d) for d in inside]
        for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
            values = [d + math.log10(m) for d in decades for m in mantissas if minVal <= d + math.log10(m) <= maxVal]
            if len(values) <= room:
                best = values
        return [(None, best)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802
        return [short_number(10.0**value * scale) for value in values]


class RowImage(pg.ImageItem):
    """An image whose rows are units (or named rows): reports hover and left clicks."""

    hovered = pyqtSignal(object)  # (timestep, row) under the mouse, or None when it leaves
    row_clicked = pyqtSignal(int)

    def hoverEvent(self, event):  # noqa: N802
        if event.isExit():
            self.hovered.emit(None)
            return
        event.acceptClicks(QtCore.Qt.MouseButton.LeftButton)
        position = event.pos()  # in pixels: x = column = timestep, y = row
        self.hovered.emit((math.floor(position.x()), math.floor(position.y())))

    def mouseClickEvent(self, event):  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.image is not None:
            row = math.floor(event.pos().y())
            if 0 <= row < self.image.shape[0]:
                event.accept()
                self.row_clicked.emit(row)
                return
        super().mouseClickEvent(event)


class Heatmap:
    """A PlotItem showing a (T, H) quantity as units × time, with a fixed-level or
    symmetric colour bar, a hover read-out and a thin marker on the selected unit.

    `levels=None` means symmetric levels ±nice_limit(values), recomputed per update.
    """

    def __init__(
        self,
        title: str = "",
        colormap: str = GATE_COLORMAP,
        levels: tuple[float, float] | None = GATE_LEVELS,
        row_names: Sequence[str] | None = None,
    ) -> None:
        self.axis = TimeAxis("bottom")
        self.plot = pg.PlotItem(axisItems={"bottom": self.axis})
        style_plot(self.plot, left="row" if row_names else "unit")
        self.plot.invertY(True)
        self.image = RowImage(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=levels or TANH_LEVELS, colorMap=colormap, interactive=False, colorMapMenu=False, width=14
        )
        self.colorbar.setFixedWidth(COLORBAR_WIDTH)
        self.colorbar.axis.setWidth(COLORBAR_AXIS_WIDTH)
        self.colorbar.axis.setTickFont(tick_font())
        self.colorbar.axis.setTextPen(pg.mkPen(TEXT_COLOUR))
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        # The selected unit: a thin white line on a dark halo, visible on every colour of both maps.
        self.marker_halo = pg.InfiniteLine(angle=0, pen=pg.mkPen((0, 0, 0, 170), width=3))
        self.marker = pg.InfiniteLine(angle=0, pen=pg.mkPen((255, 255, 255, 230), width=1))
        for z, line in enumerate((self.marker_halo, self.marker)):
            line.setZValue(10 + z)
            self.plot.addItem(line, ignoreBounds=True)
        self.hover_text = pg.TextItem(color="w", fill=pg.mkBrush(20, 20, 20, 220), border=pg.mkPen(GREY))
        self.hover_text.setFont(tick_font())
        self.hover_text.setZValue(20)
        self.hover_text.hide()
        self.plot.addItem(self.hover_text, ignoreBounds=True)
        if row_names:
            self.plot.getAxis("left").setTicks([list(enumerate(row_names))])
        self.row_names = tuple(row_names) if row_names else None
        self.values: np.ndarray | None = None  # (T, H) on display
        self.fixed_levels = levels
        self.unit_clicked = self.image.row_clicked
        self._hovered: tuple[int, int] | None = None
        self.image.hovered.connect(self._show_hover)
        self.configure(title, colormap, levels)

    def configure(self, title: str, colormap: str, levels: tuple[float, float] | None) -> None:
        """Re-purpose this heatmap for another quantity (on a cell-type change)."""
        set_title(self.plot, title)
        self.colorbar.setColorMap(colormap)
        self.fixed_levels = levels
        self._set_levels(levels or TANH_LEVELS)

    def _set_levels(self, levels: tuple[float, float]) -> None:
        """Levels of image and colour bar; the bar labels both ends and the middle."""
        self.colorbar.setLevels(levels)
        low, high = levels
        labelled = [(value, short_number(value)) for value in (low, (low + high) / 2, high)]
        self.colorbar.axis.setTicks([labelled, [(low + (high - low) * k / 4, "") for k in (1, 3)]])

    def set_data(self, values: np.ndarray, labels: Sequence[str] | None = None) -> None:
        """Show `values` (T, H); ranges are reset only when the shape changes."""
        image = np.ascontiguousarray(values.T)  # (H, T)
        shape_changed = self.values is None or self.values.shape != values.shape
        self.values = values
        self.image.setImage(image, autoLevels=False)
        if self.fixed_levels is None:
            limit = nice_limit(values)
            if self.colorbar.levels() != (-limit, limit):
                self._set_levels((-limit, limit))
        self.axis.set_labels(labels)
        if shape_changed:
            steps, rows = values.shape
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, steps, rows))
            set_time_range(self.plot, steps)
            self.plot.vb.setLimits(yMin=-0.5, yMax=rows - 0.5)
            self.plot.setYRange(-0.5, rows - 0.5, padding=0)
        if self._hovered is not None:
            self._show_hover(self._hovered)

    def set_unit(self, unit: int) -> None:
        self.marker.setPos(unit)
        self.marker_halo.setPos(unit)

    def describe(self, timestep: int, row: int) -> str:
        """'unit U, t=T ('c'), value V' for the cell under the mouse; '' outside the image."""
        if self.values is None:
            return ""
        steps, rows = self.values.shape
        if not (0 <= timestep < steps and 0 <= row < rows):
            return ""
        labels = self.axis.labels
        char = f" ('{labels[timestep]}')" if labels and timestep < len(labels) else ""
        name = self.row_names[row] if self.row_names else f"unit {row}"
        return f"{name}, t={timestep}{char}, value {self.values[timestep, row]:.3g}"

    def _show_hover(self, where: tuple[int, int] | None) -> None:
        self._hovered = where
        text = self.describe(*where) if where is not None else ""
        if not text:
            self.hover_text.hide()
            return
        timestep, row = where
        steps, rows = self.values.shape
        # Keep the read-out inside the image: left of the mouse on the right half, above it low down.
        self.hover_text.setAnchor((1.0 if timestep > steps / 2 else 0.0, 1.0 if row > rows / 2 else 0.0))
        self.hover_text.setText(text)
        self.hover_text.setPos(timestep, row)
        self.hover_text.show()
