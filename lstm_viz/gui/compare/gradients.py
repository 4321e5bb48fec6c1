"""Gradients through time of every run on one log axis: ‖∂L/∂h_t‖ (solid) and, for an LSTM, ‖∂L/∂c_t‖ (dashed),
the norm over the units of the top layer's forward direction. Where the RNN's gradient vanishes and the LSTM's
does not is seen here at a glance."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from lstm_viz.core.snapshot import Snapshot, Trace
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.compare.training import DASHED, LEGEND_BRUSH, log10_finite
from lstm_viz.gui.panels.plots import TimePlot, label_style, new_graphics


def gradient_norms(trace: Trace, name: str) -> np.ndarray:
    """(T,) ‖name_t‖ over the units of the top layer, forward direction."""
    return np.linalg.norm(np.asarray(trace[name][-1, 0], dtype=float), axis=-1)


HIDDEN_TITLE = "Gradients through time: ‖∂L/∂h_t‖"
CELL_TITLE = HIDDEN_TITLE + " —  ‖∂L/∂c_t‖ - - (LSTM)"  # only while an LSTM is compared: no other cell has c_t


class CompareGradientsPanel(QtWidgets.QWidget):
    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.graphics = new_graphics()
        QtWidgets.QVBoxLayout(self).addWidget(self.graphics)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.plot = TimePlot(left="‖∂L/∂·‖", log_y=True, colorbar_space=False)
        self.plot.set_title(HIDDEN_TITLE)
        self.graphics.addItem(self.plot)
        self.plot.addLegend(
            offset=(10, 10), labelTextColor="#DDDDDD", labelTextSize=label_style()["font-size"], brush=LEGEND_BRUSH
        )
        self.hidden_curves, self.cell_curves = [], []
        for label, colour in zip(labels, VARIANT_COLOURS, strict=False):
            self.hidden_curves.append(self.plot.plot(pen=pg.mkPen(colour, width=2), name=label))
            self.cell_curves.append(self.plot.plot(pen=pg.mkPen(colour, width=2, style=DASHED)))

    def update_snapshots(self, snapshots: list[Snapshot]) -> None:
        traces = [snapshot.trace for snapshot in snapshots if snapshot.trace is not None]
        self.plot.set_title(CELL_TITLE if any("grad_cell" in trace.quantities for trace in traces) else HIDDEN_TITLE)
        for index, snapshot in enumerate(snapshots):
            trace = snapshot.trace
            if trace is None or "grad_hidden" not in trace.quantities:
                continue
            hidden = gradient_norms(trace, "grad_hidden")
            self.hidden_curves[index].setData(np.arange(len(hidden)), log10_finite(hidden), connect="finite")
            has_cell = "grad_cell" in trace.quantities
            self.cell_curves[index].setVisible(has_cell)
            if has_cell:
                cell = gradient_norms(trace, "grad_cell")
                self.cell_curves[index].setData(np.arange(len(cell)), log10_finite(cell), connect="finite")
            self.plot.show_timesteps(len(hidden), trace.labels)
