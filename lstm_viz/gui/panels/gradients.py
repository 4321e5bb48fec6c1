"""Gradients through time: how much the probe loss depends on the state at each timestep.

‖∂L/∂h_t‖ and, for the LSTM, ‖∂L/∂c_t‖ (norms over units) on a log axis: a line falling
steeply towards early timesteps is a vanishing gradient, a rising one an exploding
gradient. Below, ∂L/∂c_t (LSTM) or ∂L/∂h_t (GRU, RNN) per unit on a symmetric scale.
Hovering the norms plot says what L is (LOSS_NOTE). A run recorded from your own module
without a probe_loss has no gradients through time: the panel says so (NO_PROBE_LOSS).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, Heatmap
from lstm_viz.gui.panels.plots import GREY, ORANGE, SKY, BoldCurve, TimePlot, coloured, short_number, tick_font

GRADIENT_FLOOR = 1e-30  # norms are clipped to this before the log axis: an exact 0 would be -inf
LOSS_NOTE = (
    "L is the probe sequence's loss, a mean: MSE or cross-entropy averaged over its T steps (the adding\n"
    "problem: its last step only), so for sine and characters ‖∂L/∂h_t‖ scales as 1/T.\n"
    "Clipping thresholds refer to the training loss, a mean over batch and steps too: min-char-rnn's\n"
    "[-5, 5] is on a loss summed over 25 steps, value:0.2 here; value:5 clips far less."
)
NO_PROBE_LOSS = "no probe loss given: pass probe_loss= to the Recorder"


def log10_norms(gradient: np.ndarray) -> np.ndarray:
    """log10 of the norm over units at each timestep of a (T, H) gradient, at least log10(GRADIENT_FLOOR)."""
    norms = np.linalg.norm(gradient.astype(np.float64), axis=-1)  # (T,) float64: float32 squares overflow past 1.8e19
    return np.log10(np.maximum(norms, GRADIENT_FLOOR))  # (T,)


class GradientsPanel(TracePanel):
    def __init__(self) -> None:
        super().__init__()
        self.time_plot = TimePlot(left="norm", log_y=True)  # the curves hold log10 of the norms
        self.time_plot.show_x_values(False)  # the heatmap below shows the time axis
        self.time_plot.enableAutoRange(x=False, y=True)
        self.time_plot.setToolTip(LOSS_NOTE)
        self.hidden_norm_curve, self.cell_norm_curve = BoldCurve(SKY), BoldCurve(ORANGE)
        self.time_plot.addItem(self.hidden_norm_curve)
        self.time_plot.addItem(self.cell_norm_curve)
        self.time_plot.name_curve(self.hidden_norm_curve, "‖∂L/∂h_t‖")
        self.time_plot.name_curve(self.cell_norm_curve, "‖∂L/∂c_t‖")
        # Norms at the floor are 0 or too small for float64: the line says so, where they lie.
        self.floor_line = pg.InfiniteLine(
            math.log10(GRADIENT_FLOOR), angle=0, pen=pg.mkPen(GREY, width=1, style=QtCore.Qt.PenStyle.DotLine)
        )
        self.floor_line.label = pg.InfLineLabel(
            self.floor_line,
            f"≤{short_number(GRADIENT_FLOOR)} (0 or underflow)",
            position=0.01,
            anchors=[(0, 1), (0, 1)],
        )
        self.floor_line.label.setColor(GREY)
        self.floor_line.label.setFont(tick_font())
        self.time_plot.addItem(self.floor_line, ignoreBounds=True)
        self.floor_line.hide()
        self.heatmap = Heatmap("", DIVERGING_COLORMAP, levels=None)
        self.heatmap.plot.setXLink(self.time_plot)
        self.heatmap.cell_clicked.connect(self.select_cell)
        self.graphics.addItem(self.time_plot, row=0, col=0)
        self.graphics.addItem(self.heatmap.plot, row=1, col=0)

    def arrange(self, cell: str) -> None:
        self.cell_norm_curve.setVisible(cell == "lstm")

    def draw(self) -> None:
        trace = self.trace
        layer, direction, unit, suffix = self.selection()
        timestep = self.selected_timestep()
        has_gradients = "grad_hidden" in trace.quantities
        self.heatmap.plot.setVisible(has_gradients)
        if not has_gradients:
            for curve in (self.hidden_norm_curve, self.cell_norm_curve):
                curve.setData([], [])
            self.floor_line.hide()
            self.time_plot.set_title(coloured(NO_PROBE_LOSS, GREY))
            return
        grad_hidden = trace["grad_hidden"][layer, direction]  # (T, H)
        timesteps = np.arange(len(grad_hidden))
        norms = [log10_norms(grad_hidden)]  # (T,) each
        self.hidden_norm_curve.setData(timesteps, norms[0])
        title = "gradient of the probe loss: " + coloured("‖∂L/∂h_t‖", SKY)
        shown, name = grad_hidden, "∂L/∂h_t"
        if self.kind == "lstm":
            shown, name = trace["grad_cell"][layer, direction], "∂L/∂c_t"  # (T, H)
            norms.append(log10_norms(shown))
            self.cell_norm_curve.setData(timesteps, norms[1])
            title += " and " + coloured("‖∂L/∂c_t‖", ORANGE)
        self.floor_line.setVisible(any(np.any(drawn <= self.floor_line.value()) for drawn in norms))
        self.time_plot.set_title(title + suffix)
        self.time_plot.show_timesteps(len(timesteps), trace.labels)
        self.time_plot.mark_timestep(timestep)
        self.time_plot.settle()
        self.heatmap.set_data(shown, trace.labels)
        self.heatmap.set_selected(unit, timestep)
        self.heatmap.plot.set_title(f"{name} per unit{suffix}")
