"""States panel: the cell state c_t (LSTM) and hidden state h_t as units × time heatmaps,
and the selected unit's c_t and h_t over time with the three most active other units faint.

h_t = o_t ⊙ tanh(c_t) lies in -1..1 (fixed scale); c_t is unbounded, so its scale is
symmetric around zero and follows its largest value.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets
from PyQt6.QtCore import pyqtSignal

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.panels.heatmap import (
    DIVERGING_COLORMAP,
    GREY,
    ORANGE,
    SKY,
    TANH_LEVELS,
    Heatmap,
    TimeAxis,
    clamp_selection,
    coloured,
    new_graphics,
    reserve_colorbar_space,
    set_time_range,
    set_title,
    show_x_values,
    style_plot,
    where_suffix,
)

OTHER_UNITS = 3  # faint lines: the most active units besides the selected one


class StatesPanel(QtWidgets.QWidget):
    unit_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.cell_heatmap = Heatmap("cell state c_t", DIVERGING_COLORMAP, levels=None)
        self.hidden_heatmap = Heatmap("hidden state h_t", DIVERGING_COLORMAP, levels=TANH_LEVELS)

        self.time_axis = TimeAxis("bottom")
        self.time_plot = pg.PlotItem(axisItems={"bottom": self.time_axis})
        style_plot(self.time_plot, left="value")
        reserve_colorbar_space(self.time_plot)
        self.time_plot.showGrid(x=False, y=True, alpha=0.25)
        self.time_plot.addLine(y=0, pen=pg.mkPen(GREY, width=1, style=pg.QtCore.Qt.PenStyle.DotLine))
        self.other_curves = [self.time_plot.plot(pen=pg.mkPen(200, 200, 200, 90, width=1)) for _ in range(OTHER_UNITS)]
        self.cell_curve = self.time_plot.plot(pen=pg.mkPen(ORANGE, width=2.5))
        self.hidden_curve = self.time_plot.plot(pen=pg.mkPen(SKY, width=2.5))
        self.time_plot.enableAutoRange(x=False, y=True)

        for heatmap in (self.cell_heatmap, self.hidden_heatmap):
            heatmap.plot.setXLink(self.time_plot)
            show_x_values(heatmap.plot, False)
            heatmap.unit_clicked.connect(self._select_unit)
        self.cell: str | None = None
        self.trace = None
        self.layer = self.direction = self.unit = 0
        self.other_units: list[int] = []
        self._steps = 0
        self._arrange("lstm")

    @property
    def heatmaps(self) -> list[Heatmap]:
        return [self.cell_heatmap, self.hidden_heatmap] if self.cell == "lstm" else [self.hidden_heatmap]

    def _arrange(self, cell: str) -> None:
        self.cell = cell
        self.graphics.ci.clear()
        for row, heatmap in enumerate(self.heatmaps):
            self.graphics.addItem(heatmap.plot, row=row, col=0)
        self.graphics.addItem(self.time_plot, row=len(self.heatmaps), col=0)
        self.cell_curve.setVisible(cell == "lstm")

    def update_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.trace is None:
            return
        if snapshot.trace.cell != self.cell:
            self._arrange(snapshot.trace.cell)
        self.trace = snapshot.trace
        self._draw()

    def set_selection(self, layer: int, direction: int, unit: int) -> None:
        self.layer, self.direction, self.unit = layer, direction, unit
        if self.trace is not None:
            self._draw()

    def _select_unit(self, unit: int) -> None:
        self.set_selection(self.layer, self.direction, unit)
        self.unit_clicked.emit(unit)

    def _draw(self) -> None:
        trace = self.trace
        layer, direction, unit = clamp_selection(trace, self.layer, self.direction, self.unit)
        layers, directions = trace["hidden"].shape[:2]
        suffix = where_suffix(layers, directions, layer, direction)
        hidden = trace["hidden"][layer, direction]  # (T, H)
        steps = len(hidden)
        timesteps = np.arange(steps)
        quantities = [("cell", "cell state c_t")] if self.cell == "lstm" else []
        for heatmap, (name, title) in zip(self.heatmaps, quantities + [("hidden", "hidden state h_t")], strict=True):
            heatmap.set_data(trace[name][layer, direction], trace.labels)  # (T, H)
            heatmap.set_unit(unit)
            set_title(heatmap.plot, title + suffix)

        activity = np.abs(hidden).mean(axis=0)  # (H,)
        activity[unit] = -1.0
        self.other_units = [int(u) for u in np.argsort(-activity)[: min(OTHER_UNITS, hidden.shape[1] - 1)]]
        for index, curve in enumerate(self.other_curves):
            if index < len(self.other_units):
                curve.setData(timesteps, hidden[:, self.other_units[index]])
            curve.setVisible(index < len(self.other_units))
        self.hidden_curve.setData(timesteps, hidden[:, unit])
        names = coloured("h_t", SKY)
        if self.cell == "lstm":
            self.cell_curve.setData(timesteps, trace["cell"][layer, direction][:, unit])
            names = coloured("c_t", ORANGE) + " and " + names
        others = ", ".join(str(u) for u in self.other_units)
        faint = coloured(f" · faint, most active: {others}", GREY) if others else ""
        set_title(self.time_plot, f"{names} of unit {unit}{faint}")
        self.time_axis.set_labels(trace.labels)
        if steps != self._steps:
            self._steps = steps
            set_time_range(self.time_plot, steps)
