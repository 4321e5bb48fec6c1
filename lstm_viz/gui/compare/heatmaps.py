"""Small multiples: a row per run, the same quantity (picked once for all), the same colour scale and a shared
time axis; top layer, forward direction. A run whose cell lacks the quantity shows its nearest one, labelled
(a GRU its update gate for f_t, an RNN h_t)."""

from __future__ import annotations

import numpy as np
from PyQt6 import QtWidgets

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, GATE_COLORMAP, GATE_LEVELS, Heatmap
from lstm_viz.gui.panels.plots import coloured, new_graphics, nice_limit

# picked quantity -> per cell: (trace name, what the row says it shows)
QUANTITIES = {
    "c_t": {"lstm": ("cell", "c_t"), "gru": ("hidden", "h_t (a GRU has no c_t)"), "rnn": ("hidden", "h_t (no c_t)")},
    "h_t": {"lstm": ("hidden", "h_t"), "gru": ("hidden", "h_t"), "rnn": ("hidden", "h_t")},
    "f_t": {
        "lstm": ("forget_gate", "f_t forget gate"),
        "gru": ("update_gate", "z_t update gate (a GRU has no f_t)"),
        "rnn": ("hidden", "h_t (an RNN has no gates)"),
    },
    "∂L/∂c_t": {
        "lstm": ("grad_cell", "∂L/∂c_t"),
        "gru": ("grad_hidden", "∂L/∂h_t (no c_t)"),
        "rnn": ("grad_hidden", "∂L/∂h_t (no c_t)"),
    },
}
GATES = ("forget_gate", "update_gate", "input_gate", "output_gate", "reset_gate")


class CompareHeatmapsPanel(QtWidgets.QWidget):
    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Per timestep, every run:"))
        self.quantity = QtWidgets.QComboBox()
        self.quantity.addItems(list(QUANTITIES))
        self.quantity.currentTextChanged.connect(lambda _: self.draw())
        row.addWidget(self.quantity)
        row.addStretch(1)
        box.addLayout(row)
        self.graphics = new_graphics()
        box.addWidget(self.graphics, stretch=1)
        self.heatmaps = []
        for index, _ in enumerate(labels):
            heatmap = Heatmap(colormap=DIVERGING_COLORMAP, levels=None, marker=False)
            self.graphics.addItem(heatmap.plot, row=index, col=0)
            if self.heatmaps:
                heatmap.plot.setXLink(self.heatmaps[0].plot)
            self.heatmaps.append(heatmap)
        self.snapshots: list[Snapshot] = []

    def update_snapshots(self, snapshots: list[Snapshot]) -> None:
        self.snapshots = [s for s in snapshots]
        self.draw()

    def rows(self) -> list[tuple[str, str, np.ndarray]] | None:
        """Per run: (trace name, row title, (T, H) values) of the picked quantity; None before a trace."""
        if not self.snapshots or any(s.trace is None for s in self.snapshots):
            return None
        rows = []
        for label, snapshot in zip(self.labels, self.snapshots, strict=True):
            name, title = QUANTITIES[self.quantity.currentText()][snapshot.trace.cell]
            rows.append((name, f"{label}: {title}", np.asarray(snapshot.trace[name][-1, 0])))
        return rows

    def draw(self) -> None:
        rows = self.rows()
        if rows is None:
            return
        unbounded = [values for name, _, values in rows if name not in GATES]
        limit = nice_limit(np.concatenate([v.ravel() for v in unbounded])) if unbounded else 1.0
        for index, (heatmap, (name, title, values)) in enumerate(zip(self.heatmaps, rows, strict=True)):
            gate = name in GATES
            levels = GATE_LEVELS if gate else (-limit, limit)  # one scale for every row of this kind
            heatmap.configure(coloured(title, VARIANT_COLOURS[index]), GATE_COLORMAP if gate else DIVERGING_COLORMAP,
                              levels)  # fmt: skip
            heatmap.set_data(values, self.snapshots[index].trace.labels)
            heatmap.plot.show_x_values(index == len(rows) - 1)
