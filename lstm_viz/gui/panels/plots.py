"""Shared pieces of the panels' plots: colours and fonts, an axis of timesteps (or the probe's
characters), a log-scale axis, a styled plot whose auto-range moves in round steps, a fast bold curve.

What keeps a frame of all panels at H=128, T=200 cheap (each measured):
- axes and titles are painted from cached pixmaps until they change, and the auto-range snaps
  to round bounds, so ticks change only when the data leaves them;
- panels apply the auto-range after new data, before painting: a range that moves while the
  view paints makes Qt paint the whole panel a second time;
- each view repaints whole (FullViewportUpdate), not the union of changed regions;
- grid lines are opaque and under the curves (Qt draws lines with alpha several times slower);
- 2 px curves are four 1 px antialiased strokes (a 2 px antialiased stroke costs ~5x more).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

TITLE_SIZE = "11pt"
TITLE_HEIGHT = 24  # pyqtgraph reserves 30
LOG_LABEL_PIXELS = 22  # vertical room one log-axis label needs
TEXT_COLOUR = "#DDDDDD"
LABEL_STYLE = {"font-size": "11pt", "color": TEXT_COLOUR}
LEFT_AXIS_WIDTH = 58  # fixed, so that the time axes of a panel's plots line up; fits "1e-20" beside the label
COLORBAR_WIDTH = 66  # fixed; plots without a colour bar reserve as much space
GRID_ALPHA = 0.3
CACHED = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
PIXMAP_CACHE_KB = 64 * 1024

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
TIMESTEP_MARKER_COLOUR = (255, 255, 255, 170)  # the selected timestep's vertical line


def tick_font(points: int = 10) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPointSize(points)
    return font


def coloured(text: str, colour: str) -> str:
    """`text` in `colour`, for titles that double as legends."""
    return f'<span style="color:{colour}">{text}</span>'


def round_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (> 0)."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        if mantissa * 10.0**exponent >= value:
            return mantissa * 10.0**exponent
    return 10.0 ** (exponent + 1)


def nice_limit(values: np.ndarray, share: float = 0.99) -> float:
    """round_step of the magnitude that `share` of the finite values stay within: a symmetric colour
    scale that stays put from frame to frame and has round labels. The few values beyond it take the
    end colours (a handful of runaway cells would otherwise wash out all the others; hovering shows
    the exact value). 1 if nothing is finite and non-zero."""
    finite = np.abs(values[np.isfinite(values)])
    typical = float(np.quantile(finite, share, method="higher")) if finite.size else 0.0
    return round_step(typical) if 0.0 < typical < float("inf") else 1.0


def round_bounds(low: float, high: float) -> tuple[float, float]:
    """[low, high] with a little margin, widened to multiples of a 1-2-5 step near a tenth of it
    (a single value: of a tenth of its magnitude, or of 1 around zero); not below 0 if low is not."""
    span = high - low if high - low > 1e-9 * max(abs(low), abs(high)) else max(abs(low), abs(high), 1.0)
    step = round_step(span / 10)
    margin = 0.02 * span
    bottom, top = math.floor((low - margin) / step) * step, math.ceil((high + margin) / step) * step
    if low >= 0 > bottom:  # data that is never negative (steps, probabilities): from 0 at the lowest
        bottom = 0.0
    return (bottom, top) if top > bottom else (bottom - step, top + step)


def short_number(value: float) -> str:
    """0.01 .. 9999 as they are, other magnitudes as 6e-4, 1e-12: fits a narrow axis."""
    if value == 0 or 0.01 <= abs(value) < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


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


class ValueAxis(pg.AxisItem):
    """A plot's value axis whose grid lines are opaque: their faded colours blended onto the black
    background beforehand (Qt draws lines with alpha several times slower; a plot whose range
    changes draws them anew)."""

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph's name)
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        return axis, [(_on_black(pen), start, end) for pen, start, end in ticks], texts


def _on_black(pen: QtGui.QPen) -> QtGui.QPen:
    colour = pen.color()
    alpha = colour.alphaF()
    opaque = QtGui.QPen(pen)
    opaque.setColor(QtGui.QColor.fromRgbF(colour.redF() * alpha, colour.greenF() * alpha, colour.blueF() * alpha))
    return opaque


class LogAxis(ValueAxis):
    """A vertical log-scale axis (its values are log10) with as many short labels as fit at least
    LOG_LABEL_PIXELS apart: 1..9, 1-2-5, 1-3 or 1 in each decade, every 2nd, 5th, 10th... power
    of ten over many decades, evenly spaced values when less than two round ones are in view,
    or else as many of the 1..9 values as fit."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803
        if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return super().tickValues(minVal, maxVal, size)
        min_gap = LOG_LABEL_PIXELS * (maxVal - minVal) / size  # in decades

        def inside(values) -> list[float]:
            return sorted(float(v) for v in values if minVal <= v <= maxVal)

        def spaced(values: list[float]) -> bool:
            return len(values) >= 2 and all(b - a >= min_gap for a, b in zip(values, values[1:], strict=False))

        decades = range(math.floor(minVal), math.ceil(maxVal) + 1)
        candidates = [
            inside(d + math.log10(m) for d in decades for m in ms) for ms in (range(1, 10), (1, 2, 5), (1, 3))
        ]
        every = max(1, int(round_step(min_gap)))
        candidates.append(inside(d for d in decades if d % every == 0))
        low, high = 10.0**minVal, 10.0**maxVal  # within a decade: evenly spaced values, closest at the top
        step = round_step(min_gap * math.log(10) * high)
        candidates.append(
            inside(math.log10(k * step) for k in range(max(1, math.ceil(low / step)), int(high / step) + 1))
        )
        fitting = next((values for values in candidates if spaced(values)), None)
        if fitting is None:  # a short axis: the 1..9 values, skipping those too close to the last one kept
            fitting = []
            for value in candidates[0]:
                if not fitting or value - fitting[-1] >= min_gap:
                    fitting.append(value)
        return [(None, fitting)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802
        return [short_number(10.0**value * scale) for value in values]


class SteadyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range (and 'View All') covers the data with round bounds, grows as soon
    as the data leaves them and shrinks only when the data fills less than SHRINK_BELOW of them.
    min_span: the least span each axis's auto-range covers (10 training steps, not fractions of one)."""

    SHRINK_BELOW = 0.6

    def __init__(self) -> None:
        super().__init__()
        self._bounds: list[tuple[float, float] | None] = [None, None]
        self.min_span = [0.0, 0.0]

    def forget(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        """Start afresh for other data (a new run): show these ranges until data arrives, then auto-range
        to it, whatever the bounds of the data before. An axis linked to another view follows that one."""
        self._bounds = [None, None]
        free = [axis for axis in (self.XAxis, self.YAxis) if self.linkedView(axis) is None]
        ranges = {self.XAxis: {"xRange": x_range}, self.YAxis: {"yRange": y_range}}
        for axis in free:
            self.setRange(**ranges[axis], padding=0)
            self.enableAutoRange(axis)

    def suggestPadding(self, axis):  # noqa: N802 (pyqtgraph's names)
        return 0.0  # round_bounds() leaves the margin

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802, N803
        bounds = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        for axis, data in enumerate(bounds):
            if data is None or not all(math.isfinite(v) for v in data):
                continue
            wanted, current = round_bounds(*data), self._bounds[axis]
            span = self.min_span[axis]
            if wanted[1] - wanted[0] < span:  # from a multiple of the span: 0..10, not 0.5..10.5
                low = math.floor(wanted[0] / span) * span
                wanted = (low, max(wanted[1], low + span))
            inside = current is not None and current[0] <= wanted[0] and wanted[1] <= current[1]
            if not (inside and wanted[1] - wanted[0] >= self.SHRINK_BELOW * (current[1] - current[0])):
                self._bounds[axis] = wanted
            bounds[axis] = list(self._bounds[axis])
        return bounds


class TitleLabel(pg.LabelItem):
    """A plot title that never makes its plot wider: in a narrow dock a long title is cut
    at the right end instead of pushing the plots out of the panel."""

    def __init__(self, parent: pg.PlotItem) -> None:
        super().__init__("", size=TITLE_SIZE, color=TEXT_COLOUR, parent=parent)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.item.setCacheMode(CACHED)

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


def style_axis(axis: pg.AxisItem) -> None:
    """Readable tick labels in the text colour, no SI prefix, painted from a cached pixmap."""
    axis.setTickFont(tick_font())
    axis.setTextPen(pg.mkPen(TEXT_COLOUR))
    axis.enableAutoSIPrefix(False)  # "(x0.001)" next to a log axis only confuses
    axis.setCacheMode(CACHED)
    axis.label.setCacheMode(CACHED)


class Plot(pg.PlotItem):
    """A panel's plot: readable fonts, a fixed-width left axis (time axes of stacked plots line
    up), a title that cannot widen it, a steady auto-range and a context menu with only the view
    actions (no 'Plot Options': turning log mode off there would misplace reference lines).

    log_y: the left axis labels the plotted values, which are log10 of the quantity, as powers
    of ten. colorbar_space: keep the right margin a heatmap's colour bar takes, so that the
    time axes of a panel's plots and heatmaps line up.
    """

    def __init__(
        self,
        left: str = "",
        bottom: str = "",
        log_y: bool = False,
        colorbar_space: bool = True,
        grid: bool = True,
        bottom_axis: pg.AxisItem | None = None,
    ) -> None:
        axes = {"bottom": bottom_axis or pg.AxisItem("bottom"), "left": LogAxis("left") if log_y else ValueAxis("left")}
        super().__init__(viewBox=SteadyViewBox(), axisItems=axes)
        self.layout.removeItem(self.titleLabel)
        self.titleLabel.setParentItem(None)
        self.titleLabel = TitleLabel(self)
        self.layout.addItem(self.titleLabel, 0, 1, 1, 5)  # over the view, right axis and colour bar
        self.layout.setRowFixedHeight(0, TITLE_HEIGHT)
        for name in ("left", "bottom"):
            style_axis(self.getAxis(name))
        for name in ("right", "top"):  # hidden, yet they would re-lay out their (empty) label on every range change
            self.getAxis(name).enableAutoSIPrefix(False)
        if log_y:
            self.getAxis("left").setLogMode(False, True)
        self.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.setLabel("left", left, **LABEL_STYLE)
        self.setLabel("bottom", bottom, **LABEL_STYLE)
        if grid:
            self.showGrid(x=False, y=True, alpha=GRID_ALPHA)
            self.getAxis("left").setZValue(self.vb.zValue() - 1)  # opaque grid lines: under the curves
        if colorbar_space:
            spacer = pg.GraphicsWidget()
            spacer.setFixedWidth(COLORBAR_WIDTH)
            self.layout.addItem(spacer, 2, 5)
            self.layout.setColumnFixedWidth(4, 5)
        self.hideButtons()
        self.setMenuEnabled(False, enableViewBoxMenu=True)

    def set_title(self, title: str) -> None:
        """Set the title only when it changes (laying out a title is not free)."""
        if self.titleLabel.text != title:
            self.setTitle(title)
            self.layout.setRowFixedHeight(0, TITLE_HEIGHT)

    def settle(self) -> None:
        """Apply a pending auto-range now, after new data, rather than when the view paints: a range
        that changes while it paints makes Qt paint the whole panel a second time."""
        self.vb.prepareForPaint()

    def show_x_values(self, show: bool) -> None:
        """Only the lowest of a stack of x-linked plots needs x tick values and the x label."""
        axis = self.getAxis("bottom")
        axis.showLabel(show)
        axis.setStyle(showValues=show)


class TimePlot(Plot):
    """A plot against the probe's timesteps, labelled with its characters when it has them."""

    def __init__(self, left: str = "", **options) -> None:
        self.time_axis = TimeAxis("bottom")
        super().__init__(left, bottom="timestep", bottom_axis=self.time_axis, **options)
        self.steps = 0
        self.timestep_marker: pg.InfiniteLine | None = None  # the selected timestep, made on first use

    def mark_timestep(self, timestep: int) -> None:
        """A thin vertical line at the selected timestep (over images and curves, not part of the range)."""
        if self.timestep_marker is None:
            self.timestep_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(TIMESTEP_MARKER_COLOUR, width=1))
            self.timestep_marker.setZValue(15)
            self.addItem(self.timestep_marker, ignoreBounds=True)
        if self.timestep_marker.value() != timestep:
            self.timestep_marker.setPos(timestep)

    def show_timesteps(self, steps: int, labels: Sequence[str] | None) -> None:
        """Show (and allow zooming within) timesteps 0..steps-1, set again only when `steps` changes;
        linked time axes follow."""
        self.time_axis.set_labels(labels)
        if steps != self.steps:
            self.steps = steps
            self.vb.setLimits(xMin=-0.5, xMax=steps - 0.5)
            self.setXRange(-0.5, steps - 0.5, padding=0)


class BoldCurve(pg.PlotCurveItem):
    """A line 2 px wide: four antialiased 1 px strokes half a pixel apart, which look like one
    antialiased 2 px stroke and draw ~5x faster (Qt strokes wide antialiased pens slowly)."""

    OFFSETS = ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5))  # device pixels

    def __init__(self, colour: str) -> None:
        super().__init__(pen=pg.mkPen(colour, width=1), antialias=True)

    def pixelPadding(self):  # noqa: N802 (pyqtgraph's name)
        return super().pixelPadding() + 1.0

    def paint(self, painter, option, widget):
        if self.xData is None or len(self.xData) == 0:
            return
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self.opts["pen"])
        path = self.getPath()
        to_device = painter.transform()
        for dx, dy in self.OFFSETS:
            painter.setTransform(to_device * QtGui.QTransform.fromTranslate(dx, dy))
            painter.drawPath(path)
        painter.setTransform(to_device)


def new_graphics() -> pg.GraphicsLayoutWidget:
    """A panel's plot area: dark, with little space between plots (docks can be small)."""
    # The cached axis pictures of all panels take ~5 MB at 1920x1080, 4x that on a HiDPI screen:
    # more than Qt's default 10 MB cache, which would then redraw them every frame.
    QtGui.QPixmapCache.setCacheLimit(max(QtGui.QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
    graphics = pg.GraphicsLayoutWidget()
    # Every frame changes nearly every item: repainting the whole view is cheaper (~15% per frame
    # at H=128, T=200) than Qt's bookkeeping of the smallest changed region.
    graphics.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
    graphics.ci.setContentsMargins(2, 2, 2, 2)
    graphics.ci.layout.setSpacing(2)
    return graphics
