"""Gates panel: units × time heatmaps of the gates on the probe sequence.

LSTM: input i, forget f, candidate g, output o; GRU: reset r, update z, candidate n;
a vanilla RNN has no gates, so it shows h. Sigmoid gates on a fixed 0..1 scale, tanh
quantities on a fixed -1..1 scale: colours mean the same thing in every frame.

The Saturation view (Karpathy, Johnson & Fei-Fei 2015, "Visualizing and Understanding Recurrent Networks",
Fig. 4): for each sigmoid gate, each unit is a point at (share of the probe's timesteps with the gate < 0.1,
share with it > 0.9). Points near (0, 0) are gates that stay in between; on the left-to-top diagonal, gates that
are always saturated, open or shut (a forget gate near (0, 1) keeps its cell for the whole sequence).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, GATE_COLORMAP, GATE_LEVELS, TANH_LEVELS, Heatmap
from lstm_viz.gui.panels.plots import (
    GREY,
    MIN_VIEW_HEIGHT,
    ORANGE,
    SKY,
    TITLE_HEIGHT,
    Plot,
    new_graphics,
    scaled,
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
COLUMNS = 2  # when the panel is wide enough; a narrow, tall panel stacks the heatmaps in one column
MIN_HEATMAP_WIDTH = 280  # pixels at font scale 1 a heatmap needs beside another (axis, image, colour bar)
SHUT, OPEN = 0.1, 0.9  # a gate below SHUT is saturated shut, above OPEN saturated open (Karpathy et al. 2015)
SATURATION_VIEW = "Saturation"


def saturation(gate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of a (T, H) gate: the share of timesteps it is below SHUT, and the share above OPEN; (H,) each."""
    return (gate < SHUT).mean(axis=0), (gate > OPEN).mean(axis=0)


class SaturationPlot:
    """One gate's saturation: a point per unit, the selected one ringed; a click on a point emits its unit."""

    def __init__(self) -> None:
        self.plot = Plot(left=f"share > {OPEN}", bottom=f"share &lt; {SHUT}", colorbar_space=False)
        self.plot.setXRange(-0.03, 1.03, padding=0)
        self.plot.setYRange(-0.03, 1.03, padding=0)
        self.plot.setAspectLocked(True)
        self.plot.disableAutoRange()
        diagonal = pg.PlotCurveItem([0, 1], [1, 0], pen=pg.mkPen(GREY, width=1, style=QtCore.Qt.PenStyle.DotLine))
        self.plot.addItem(diagonal)  # always saturated, shut or open
        self.points = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(SKY), hoverable=True)
        self.selected = pg.ScatterPlotItem(size=16, pen=pg.mkPen(ORANGE, width=2.5), brush=None)
        self.plot.addItem(self.points)
        self.plot.addItem(self.selected)
        self.unit_clicked = self.points.sigClicked
        self.shares: tuple[np.ndarray, np.ndarray] | None = None

    def set_data(self, gate: np.ndarray, unit: int) -> None:
        """Show the saturation of `gate` (T, H); ring `unit`."""
        self.shares = shut, open_ = saturation(gate)
        self.points.setData(x=shut, y=open_, data=np.arange(len(shut)))
        self.selected.setData(x=[shut[unit]], y=[open_[unit]])


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
        # The saturation view: a plot per sigmoid gate, in a widget of its own shown instead of the heatmaps.
        # The window puts it in the dock's title bar (title_tools), off the plots; alone, the panel keeps it over
        # its top left corner, not in a row of its own.
        self.view_choice = QtWidgets.QComboBox(self)
        self.view_choice.addItems(["Heatmaps", SATURATION_VIEW])
        self.view_choice.setToolTip(
            "Saturation (Karpathy et al. 2015): each unit a point at (share of timesteps with the gate < 0.1, "
            "share > 0.9); click a point to select its unit"
        )
        self.view_choice.move(2, 2)
        self.title_tools = self.view_choice
        self.view_choice.adjustSize()
        self.saturation_graphics = new_graphics()
        self.saturation_graphics.hide()
        self.box.addWidget(self.saturation_graphics, stretch=1)
        self.view_choice.raise_()  # over the plots, which the layout placed after it
        self.saturation_plots = [SaturationPlot() for _ in range(3)]  # the most sigmoid gates a cell has
        for plot in self.saturation_plots:
            plot.unit_clicked.connect(lambda _item, points, *_: self.select(unit=int(points[0].data())))
        self.view_choice.currentTextChanged.connect(self._show_view)
        self.kind = "lstm"
        self.columns = COLUMNS
        self.arrange("lstm")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Two heatmaps a row when they fit side by side, else one a row if the panel is tall enough for that."""
        super().resizeEvent(event)
        rows = len(GATES[self.kind])
        one_row_height = scaled(TITLE_HEIGHT + MIN_VIEW_HEIGHT + 16)  # 4 rows: 256 px at scale 1, 251 needed (measured)
        fits_one_column = self.height() >= rows * one_row_height
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
        # The layout grows to its least size while being filled (two columns after one, titles on two lines) and
        # the view does not shrink it back until the view's own size changes: fit it to the view now.
        self.graphics.ci.setGeometry(self.graphics.range)

    @property
    def saturation_shown(self) -> bool:
        return self.view_choice.currentText() == SATURATION_VIEW

    def _show_view(self) -> None:
        self.graphics.setVisible(not self.saturation_shown)
        self.saturation_graphics.setVisible(self.saturation_shown)
        self.view_choice.raise_()
        if self.snapshot is not None:
            self.draw()

    @property
    def sigmoid_gates(self) -> list[tuple[SaturationPlot, str, str]]:
        """(plot, trace name, title) for each sigmoid gate the current cell has."""
        gates = [(name, title) for name, title, scale in GATES[self.kind] if scale == SIGMOID]
        return [(plot, name, title) for plot, (name, title) in zip(self.saturation_plots, gates, strict=False)]

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
        self.saturation_graphics.ci.clear()
        for index, (plot, _, _) in enumerate(self.sigmoid_gates):
            self.saturation_graphics.addItem(plot.plot, row=0, col=index)
        # A vanilla RNN has no gates to saturate: no choice, and its one title keeps the corner (it lay under the box).
        self.view_choice.setVisible(bool(self.sigmoid_gates))
        if not self.sigmoid_gates:
            with QtCore.QSignalBlocker(self.view_choice):  # no draw of the old cell's trace from here
                self.view_choice.setCurrentText("Heatmaps")
            self.graphics.show()
            self.saturation_graphics.hide()

    def draw(self) -> None:
        trace = self.trace
        layer, direction, unit, suffix = self.selection()
        if self.saturation_shown:
            for plot, name, title in self.sigmoid_gates:
                plot.set_data(trace[name][layer, direction], unit)  # (T, H)
                plot.plot.set_title(f"{title.split(' ')[0]} {title.split(' ')[-1]}{suffix}")
            return
        timestep = self.selected_timestep()
        for heatmap, name, title in self.shown:
            heatmap.set_data(trace[name][layer, direction], trace.labels)  # (T, H)
            heatmap.set_selected(unit, timestep)
            heatmap.plot.set_title(title + suffix)
