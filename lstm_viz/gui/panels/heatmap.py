"""A units × time heatmap with a colour bar, a hover read-out and a selected-unit marker.

Orientation: a heatmap shows trace[name][layer, direction], shaped (T, H), transposed into
an image shaped (H, T) in row-major order: rows are units, columns are timesteps. The pixel
of (unit u, timestep t) is centred on x = t, y = u, and unit 0 is at the top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui
from PyQt6.QtCore import pyqtSignal

from lstm_viz.gui.panels.plots import (
    CACHED,
    COLORBAR_WIDTH,
    ReadOut,
    RecallingAxis,
    TimePlot,
    follow_scale,
    nice_limit,
    restyle_axis,
    scaled,
    short_number,
    style_axis,
)

GATE_COLORMAP = "viridis"  # values in 0..1
DIVERGING_COLORMAP = "CET-D1A"  # values in -m..m, zero in the middle
GATE_LEVELS = (0.0, 1.0)
TANH_LEVELS = (-1.0, 1.0)
COLORBAR_AXIS_WIDTH = 44  # at font scale 1; fits "-5e-3", "-0.05" (colour-bar labels are short_number()s)
NAN_COLOUR = 0xFF808080  # opaque grey: a value that is not a number
MARKER_END_SIZE = 20  # pixels: the triangles at the ends of the selected unit's row


def _triangle(direction: int) -> QtGui.QPainterPath:
    """A scatter symbol: a triangle pointing right (1) or left (-1) with its base on the point,
    so that at the image's edge all of it lies over the image."""
    path = QtGui.QPainterPath()
    path.addPolygon(
        QtGui.QPolygonF([QtCore.QPointF(0, -0.35), QtCore.QPointF(0.5 * direction, 0), QtCore.QPointF(0, 0.35)])
    )
    path.closeSubpath()
    return path


POINTING_RIGHT, POINTING_LEFT = _triangle(1), _triangle(-1)


def argb_table(lut: np.ndarray) -> np.ndarray:
    """A colour map's (N, 3 or 4) uint8 lookup table as (N,) opaque 0xAARRGGBB words."""
    red, green, blue = (lut[:, channel].astype(np.uint32) for channel in range(3))  # (N,) each
    return (0xFF000000 | (red << 16) | (green << 8) | blue).astype(np.uint32)


def colour_indices(values: np.ndarray, levels: tuple[float, float], table_size: int) -> np.ndarray:
    """Index into a colour table of `table_size` for each value, as pyqtgraph maps them: `levels`
    spread over the table, values beyond them (however large, infinities included) at its ends, NaN at 0."""
    low, high = levels
    if not high > low:
        return np.zeros(values.shape, dtype=np.intp)
    scaled = values - np.float64(low)  # (H, T) float64: levels ≤ 5e38, beyond float32
    scaled *= table_size / (high - low)  # levels spread over 0..table_size
    np.clip(scaled, 0, table_size - 1, out=scaled)  # ±inf to the ends; NaN stays NaN
    scaled[np.isnan(scaled)] = 0
    return scaled.astype(np.intp)  # (H, T); truncation is floor for values ≥ 0


class RowImage(pg.ImageItem):
    """An image whose rows are units (or named rows): reports hover and left clicks.

    It renders itself: each value's colour is looked up in one numpy step into an RGB32 image
    (Qt scales that onto the screen ~4x faster than pyqtgraph's Indexed8 image, and huge or
    infinite values, as in a diverging run's gradients, cannot overflow on the way); NaN is grey."""

    hovered = pyqtSignal(object)  # (timestep, row) under the mouse, or None when it leaves
    cell_clicked = pyqtSignal(int, int)  # (timestep, row) clicked

    def render(self):
        self._unrenderable = True
        if self.image is None or self.image.size == 0 or self.lut is None:
            return
        lut = self.lut(self.image, 256) if callable(self.lut) else self.lut
        if lut is not getattr(self, "_lut_in_table", None):  # the colour map changed: convert its table once
            self._lut_in_table, self._table = lut, argb_table(np.asarray(lut))
        low, high = (float(level) for level in self.levels)
        pixels = self._table[colour_indices(self.image, (low, high), len(self._table))]  # (H, T) uint32
        pixels[np.isnan(self.image)] = NAN_COLOUR
        self._pixels = pixels = np.ascontiguousarray(pixels)  # the QImage reads this memory: kept as long as it
        rows, columns = pixels.shape
        self.qimage = QtGui.QImage(pixels.data, columns, rows, 4 * columns, QtGui.QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False

    def hoverEvent(self, event):  # noqa: N802
        if event.isExit():
            self.hovered.emit(None)
            return
        event.acceptClicks(QtCore.Qt.MouseButton.LeftButton)
        position = event.pos()  # in pixels: x = column = timestep, y = row
        self.hovered.emit((math.floor(position.x()), math.floor(position.y())))

    def mouseClickEvent(self, event):  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.image is not None:
            timestep, row = math.floor(event.pos().x()), math.floor(event.pos().y())
            rows, steps = self.image.shape
            if 0 <= row < rows and 0 <= timestep < steps:
                event.accept()
                self.cell_clicked.emit(timestep, row)
                return
        super().mouseClickEvent(event)


def recall_colorbar_pictures(colorbar: pg.ColorBarItem) -> None:
    """Give `colorbar` a RecallingAxis for its values, set up as pyqtgraph sets up the one it makes: its levels go
    back and forth between a few round values (nice_limit)."""
    axis = RecallingAxis("right")
    colorbar.setAxisItems({"right": axis})
    axis.setStyle(showValues=True)
    axis.unlinkFromView()
    axis.setRange(*colorbar.values)
    colorbar.axis = axis


class Heatmap:
    """A TimePlot showing a (T, H) quantity as units × time, with a fixed-level or
    symmetric colour bar, a hover read-out and thin markers on the selected unit (a row) and
    timestep (a column). cell_clicked(timestep, row) says which cell was clicked.

    `levels=None` means symmetric levels ±nice_limit(values), recomputed per update.
    `colorbar=False`: no colour bar (a strip too short for one says its scale in its title).
    """

    def __init__(
        self,
        title: str = "",
        colormap: str = GATE_COLORMAP,
        levels: tuple[float, float] | None = GATE_LEVELS,
        row_names: Sequence[str] | None = None,
        colorbar: bool = True,
        marker: bool = True,
    ) -> None:
        self.plot = TimePlot(left="row" if row_names else "unit", colorbar_space=not colorbar, grid=False)
        self.axis = self.plot.time_axis
        self.plot.invertY(True)
        self.image = RowImage(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(
                values=levels or TANH_LEVELS, colorMap=colormap, interactive=False, colorMapMenu=False, width=14
            )
            recall_colorbar_pictures(self.colorbar)
            self.colorbar.setFixedWidth(scaled(COLORBAR_WIDTH))
            self.colorbar.axis.setWidth(scaled(COLORBAR_AXIS_WIDTH))
            style_axis(self.colorbar.axis)
            for frame in ("left", "top", "bottom"):  # the bar's frame: painted once, from a pixmap after that
                self.colorbar.getAxis(frame).setCacheMode(CACHED)
            self.colorbar.setImageItem(self.image, insert_in=self.plot)
        # The selected unit: a thin white line on a dark halo, and at each end of its row a white triangle
        # pointing at it (a 1 px line alone is lost among the stripes of h_t, or of 128 units).
        self.marker_halo = pg.InfiniteLine(angle=0, pen=pg.mkPen((0, 0, 0, 220), width=3))
        self.marker = pg.InfiniteLine(angle=0, pen=pg.mkPen((255, 255, 255, 230), width=1))
        self.marker_ends = pg.ScatterPlotItem(
            size=MARKER_END_SIZE, pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush("w"), hoverable=False
        )
        self.marker_ends.setCacheMode(CACHED)  # repainted only when the row moves, not at every frame
        self.unit = 0
        self._marked: tuple[int, int] | None = None  # (unit, timesteps) the marker shows
        for z, item in enumerate((self.marker_halo, self.marker, self.marker_ends)):
            item.setZValue(10 + z)
            item.setVisible(marker)
            self.plot.addItem(item, ignoreBounds=True)
        self.hover_text = ReadOut()
        if row_names:
            self.plot.getAxis("left").setTicks([list(enumerate(row_names))])
        self.row_names = tuple(row_names) if row_names else None
        self.values: np.ndarray | None = None  # (T, H) on display
        self.fixed_levels = levels
        self.levels = levels or TANH_LEVELS
        self.cell_clicked = self.image.cell_clicked
        self.has_marker = marker
        self._hovered: tuple[int, int] | None = None
        self.image.hovered.connect(self._show_hover)
        self.configure(title, colormap, levels)
        follow_scale(self)

    def rescale(self, ratio: float) -> None:
        """The colour bar at the current font scale (the plot rescales itself)."""
        if self.colorbar is not None:
            self.colorbar.setFixedWidth(scaled(COLORBAR_WIDTH))
            self.colorbar.axis.setWidth(scaled(COLORBAR_AXIS_WIDTH))
            restyle_axis(self.colorbar.axis)

    def configure(self, title: str, colormap: str, levels: tuple[float, float] | None) -> None:
        """Re-purpose this heatmap for another quantity (on a cell-type change)."""
        self.plot.set_title(title)
        if self.colorbar is not None:
            self.colorbar.setColorMap(colormap)
        else:
            self.image.setColorMap(colormap)
        self.fixed_levels = levels
        self._set_levels(levels or TANH_LEVELS)

    def _set_levels(self, levels: tuple[float, float]) -> None:
        """Levels of image and colour bar; the bar labels both ends and the middle."""
        self.levels = levels
        if self.colorbar is None:
            self.image.setLevels(levels)
            return
        self.colorbar.setLevels(levels)
        low, high = levels
        labelled = [(value, short_number(value)) for value in (low, (low + high) / 2, high)]
        self.colorbar.axis.setTicks([labelled, [(low + (high - low) * k / 4, "") for k in (1, 3)]])

    def set_data(self, values: np.ndarray, labels: Sequence[str] | None = None) -> None:
        """Show `values` (T, H); ranges are reset only when the shape changes."""
        image = np.ascontiguousarray(values.T, dtype=np.float32)  # (H, T)
        shape_changed = self.values is None or self.values.shape != values.shape
        self.values = values
        self.image.setImage(image, autoLevels=False)
        if self.fixed_levels is None:
            limit = nice_limit(values)
            if self.levels != (-limit, limit):
                self._set_levels((-limit, limit))
        steps, rows = values.shape
        self.plot.show_timesteps(steps, labels)
        if shape_changed:
            self.set_unit(self.unit)  # the triangles at the row's ends
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, steps, rows))
            self.plot.vb.setLimits(yMin=-0.5, yMax=rows - 0.5)
            self.plot.setYRange(-0.5, rows - 0.5, padding=0)
        if self._hovered is not None:
            self._show_hover(self._hovered)

    def set_unit(self, unit: int) -> None:
        """Mark row `unit` (panels call this every frame: only a change of row or of length costs anything)."""
        steps = 0 if self.values is None else len(self.values)
        if (unit, steps) == self._marked:
            return
        self._marked = (unit, steps)
        self.unit = unit
        self.marker.setPos(unit)
        self.marker_halo.setPos(unit)
        self.marker_ends.setData(x=[-0.5, steps - 0.5], y=[unit, unit], symbol=[POINTING_RIGHT, POINTING_LEFT])

    def set_selected(self, unit: int, timestep: int) -> None:
        """Mark the selected unit's row and timestep's column."""
        self.set_unit(unit)
        if self.has_marker:
            self.plot.mark_timestep(timestep)

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
        self.hover_text.show_at(self.plot, QtCore.QPointF(*where), text)  # beside the centre of (timestep, row)
