"""Gates panel: units × time heatmaps of the gates on the probe sequence.

LSTM: input i, forget f, candidate g, output o; GRU: reset r, update z, candidate n;
a vanilla RNN has no gates, so it shows h. Sigmoid gates on a fixed 0..1 scale, tanh
quantities on a fixed -1..1 scale: colours mean the same thing in every frame.
"""

from __future__ import annotations

from PyQt6 import QtCore

from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, GATE_COLORMAP, GATE_LEVELS, TANH_LEVELS, Heatmap
from lstm_viz.gui.panels.plots import MIN_VIEW_HEIGHT, TITLE_HEIGHT, scaled

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
COLUMNS = 2  # when the panel is wide enough; a narrow, tall panel stacks the heatmaps in one column
MIN_HEATMAP_WIDTH = 280  # pixels at font scale 1 a heatmap needs beside another (axis, image, colour bar)


class GatesPanel(TracePanel):
    def __init__(self) -> None:
        super().__init__()
        # Four heatmaps for the most gates any cell has, re-purposed when the cell changes.
        self.heatmaps = [Heatmap() for _ in range(max(len(gates) for gates in GATES.values()))]
        self.time_plot = self.heatmaps[0].plot  # the same object for the panel's lifetime
        for heatmap in self.heatmaps:
            if heatmap.plot is not self.time_plot:
                heatmap.plot.setXLink(self.time_plot)
            heatmap.cell_clicked.connect(self.select_cell)
        self.kind = "lstm"
        self.columns = COLUMNS
        self.arrange("lstm")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Two heatmaps a row when they fit side by side, else one a row if the panel is tall enough for that."""
        super().resizeEvent(event)
        rows = len(GATES[self.kind])
        one_row_height = scaled(TITLE_HEIGHT + MIN_VIEW_HEIGHT + 16)
        fits_one_column = self.height() >= rows * one_row_height + scaled(50)
        columns = 1 if self.width() < COLUMNS * scaled(MIN_HEATMAP_WIDTH) and fits_one_column else COLUMNS
        if columns != self.columns:
            self.columns = columns
            self.arrange(self.kind)
            QtCore.QTimer.singleShot(0, self.fit_minimum_height)

    def fit_minimum_height(self) -> None:
        """The least height of two heatmaps a row, also while they stand in one column (which they do only while
        there is room): the panel can always shrink back into two columns."""
        if self.columns == COLUMNS:
            super().fit_minimum_height()

    @property
    def shown(self) -> list[tuple[Heatmap, str, str]]:
        """(heatmap, trace name, title) for each quantity the current cell shows."""
        return [
            (heatmap, name, title) for heatmap, (name, title, _) in zip(self.heatmaps, GATES[self.kind], strict=False)
        ]

    def arrange(self, cell: str) -> None:
        self.graphics.ci.clear()
        gates = GATES[cell]
        for index, (heatmap, (_, title, (colormap, levels))) in enumerate(zip(self.heatmaps, gates, strict=False)):
            heatmap.configure(title, colormap, levels)
            columns = self.columns
            heatmap.plot.show_x_values(index // columns == (len(gates) - 1) // columns)  # the bottom row: rows align
            self.graphics.addItem(heatmap.plot, row=index // columns, col=index % columns)

    def draw(self) -> None:
        trace = self.trace
        layer, direction, unit, suffix = self.selection()
        timestep = self.selected_timestep()
        for heatmap, name, title in self.shown:
            heatmap.set_data(trace[name][layer, direction], trace.labels)  # (T, H)
            heatmap.set_selected(unit, timestep)
            heatmap.plot.set_title(title + suffix)
