"""Gradients through time: how much the probe loss depends on the state at each timestep.

‖∂L/∂h_t‖ and, for the LSTM, ‖∂L/∂c_t‖ (norms over units) on a log axis: a line falling
steeply towards early timesteps is a vanishing gradient, a rising one an exploding
gradient. Below, ∂L/∂c_t (LSTM) or ∂L/∂h_t (GRU, RNN) per unit on a symmetric scale.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets
from PyQt6.QtCore import pyqtSignal

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.panels.heatmap import (
    DIVERGING_COLORMAP,
    ORANGE,
    SKY,
    Heatmap,
    LogAxis,
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

GRADIENT_FLOOR = 1e-30  # norms are clipped to this before the log axis: an exact 0 would be -inf


class GradientsPanel(QtWidgets.QWidget):
    unit_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self.time_axis = TimeAxis("bottom")
        self.time_plot = pg.PlotItem(axisItems={"bottom": self.time_axis, "left": LogAxis("left")})
        style_plot(self.time_plot, left="norm")
        show_x_values(self.time_plot, False)  # the heatmap below shows the time axis
        reserve_colorbar_space(self.time_plot)
        self.time_plot.setLogMode(x=False, y=True)
        self.time_plot.showGrid(x=False, y=True, alpha=0.25)
        self.time_plot.enableAutoRange(x=False, y=True)
        self.hidden_norm_curve = self.time_plot.plot(pen=pg.mkPen(SKY, width=2.5))
        self.cell_norm_curve = self.time_plot.plot(pen=pg.mkPen(ORANGE, width=2.5))
        self.heatmap = Heatmap("", DIVERGING_COLORMAP, levels=None)
        self.heatmap.plot.setXLink(self.time_plot)
        self.heatmap.unit_clicked.connect(self._select_unit)
        self.graphics.addItem(self.time_plot, row=0, col=0)
        self.graphics.addItem(self.heatmap.plot, row=1, col=0)

        self.trace = None
        self.layer = self.direction = self.unit = 0
        self._steps = 0

    def update_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.trace is not None:
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
        layers, directions = trace["grad_hidden"].shape[:2]
        suffix = where_suffix(layers, directions, layer, direction)
        grad_hidden = trace["grad_hidden"][layer, direction]  # (T, H)
        timesteps = np.arange(len(grad_hidden))
        self.hidden_norm_curve.setData(timesteps, np.maximum(np.linalg.norm(grad_hidden, axis=-1), GRADIENT_FLOOR))
        title = "gradient of the probe loss: " + coloured("‖∂L/∂h_t‖", SKY)
        is_lstm = trace.cell == "lstm"
        if is_lstm:
            grad_cell = trace["grad_cell"][layer, direction]  # (T, H)
            self.cell_norm_curve.setData(timesteps, np.maximum(np.linalg.norm(grad_cell, axis=-1), GRADIENT_FLOOR))
            title += " and " + coloured("‖∂L/∂c_t‖", ORANGE)
        self.cell_norm_curve.setVisible(is_lstm)
        set_title(self.time_plot, title + suffix)

        self.heatmap.set_data(grad_cell if is_lstm else grad_hidden, trace.labels)
        self.heatmap.set_unit(unit)
        set_title(self.heatmap.plot, ("∂L/∂c_t" if is_lstm else "∂L/∂h_t") + " per unit" + suffix)
        self.time_axis.set_labels(trace.labels)
        if len(timesteps) != self._steps:
            self._steps = len(timesteps)
            set_time_range(self.time_plot, self._steps)
