"""Gates panel: units × time heatmaps of the gates on the probe sequence.

LSTM: input i, forget f, candidate g, output o; GRU: reset r, update z, candidate n;
a vanilla RNN has no gates, so it shows h. Sigmoid gates on a fixed 0..1 scale, tanh
quantities on a fixed -1..1 scale: colours mean the same thing in every frame.
"""

from __future__ import annotations

from PyQt6 import QtWidgets
from PyQt6.QtCore import pyqtSignal

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.panels.heatmap import (
    DIVERGING_COLORMAP,
    GATE_COLORMAP,
    GATE_LEVELS,
    TANH_LEVELS,
    Heatmap,
    clamp_selection,
    new_graphics,
    set_title,
    show_x_values,
    where_suffix,
)

SIGMOID = (GATE_COLORMAP, GATE_LEVELS)
TANH = (DIVERGING_COLORMAP, TANH_LEVELS)
# cell -> (trace name, title, (colour map, levels)) in display order, two per row.
GATES = {
    "lstm": (
        ("input_gate", "input gate i_t", SIGMOID),
        ("forget_gate", "forget gate f_t", SIGMOID),
        ("cell_candidate", "candidate g_t", TANH),
        ("output_gate", "output gate o_t", SIGMOID),
    ),
    "gru": (
        ("reset_gate", "reset gate r_t", SIGMOID),
        ("update_gate", "update gate z_t", SIGMOID),
        ("candidate", "candidate n_t", TANH),
    ),
    "rnn": (("hidden", "hidden state h_t (a vanilla RNN has no gates)", TANH),),
}
COLUMNS = 2


class GatesPanel(QtWidgets.QWidget):
    unit_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        # Four heatmaps for the most gates any cell has, re-purposed when the cell changes.
        self.heatmaps = [Heatmap() for _ in range(max(len(gates) for gates in GATES.values()))]
        self.time_plot = self.heatmaps[0].plot  # the same object for the panel's lifetime
        for heatmap in self.heatmaps:
            if heatmap.plot is not self.time_plot:
                heatmap.plot.setXLink(self.time_plot)
            heatmap.unit_clicked.connect(self._select_unit)
        self.cell: str | None = None
        self.trace = None
        self.layer = self.direction = self.unit = 0
        self._arrange("lstm")

    @property
    def shown(self) -> list[tuple[Heatmap, str, str]]:
        """(heatmap, trace name, title) for each quantity the current cell shows."""
        return [
            (heatmap, name, title) for heatmap, (name, title, _) in zip(self.heatmaps, GATES[self.cell], strict=False)
        ]

    def _arrange(self, cell: str) -> None:
        self.cell = cell
        self.graphics.ci.clear()
        for index, (heatmap, (_, title, (colormap, levels))) in enumerate(
            zip(self.heatmaps, GATES[cell], strict=False)
        ):
            heatmap.configure(title, colormap, levels)
            show_x_values(heatmap.plot, index + COLUMNS >= len(GATES[cell]))  # nothing below it
            self.graphics.addItem(heatmap.plot, row=index // COLUMNS, col=index % COLUMNS)

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
        layers, directions = trace[trace.names[0]].shape[:2]
        suffix = where_suffix(layers, directions, layer, direction)
        for heatmap, name, title in self.shown:
            heatmap.set_data(trace[name][layer, direction], trace.labels)  # (T, H)
            heatmap.set_unit(unit)
            set_title(heatmap.plot, title + suffix)
