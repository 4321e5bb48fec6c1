"""States panel: the cell state c_t (LSTM) and hidden state h_t as units × time heatmaps,
and the selected unit's c_t and h_t over time with the three most active other units faint.

h_t = o_t ⊙ tanh(c_t) lies in -1..1 (fixed scale); c_t is unbounded, so its scale is
symmetric around zero and covers 99% of its values (plots.nice_limit).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, TANH_LEVELS, Heatmap
from lstm_viz.gui.panels.plots import GREY, ORANGE, SKY, BoldCurve, TimePlot, coloured

OTHER_UNITS = 3  # faint lines: the most active units besides the selected one


class StatesPanel(TracePanel):
    def __init__(self) -> None:
        super().__init__()
        self.cell_heatmap = Heatmap("cell state c_t", DIVERGING_COLORMAP, levels=None)
        self.hidden_heatmap = Heatmap("hidden state h_t", DIVERGING_COLORMAP, levels=TANH_LEVELS)
        self.time_plot = TimePlot(left="value")
        self.time_plot.addLine(y=0, pen=pg.mkPen(GREY, width=1, style=pg.QtCore.Qt.PenStyle.DotLine))
        self.other_curves = [pg.PlotCurveItem(pen=pg.mkPen(200, 200, 200, 90, width=1)) for _ in range(OTHER_UNITS)]
        self.cell_curve, self.hidden_curve = BoldCurve(ORANGE), BoldCurve(SKY)
        for curve in (*self.other_curves, self.cell_curve, self.hidden_curve):
            self.time_plot.addItem(curve)

        self.time_plot.enableAutoRange(x=False, y=True)
        for heatmap in (self.cell_heatmap, self.hidden_heatmap):
            heatmap.plot.setXLink(self.time_plot)
            heatmap.plot.show_x_values(False)
            heatmap.cell_clicked.connect(self.select_cell)
        self.other_units: list[int] = []
        self.kind = "lstm"
        self.arrange("lstm")

    @property
    def heatmaps(self) -> list[Heatmap]:
        return [self.cell_heatmap, self.hidden_heatmap] if self.kind == "lstm" else [self.hidden_heatmap]

    def arrange(self, cell: str) -> None:
        self.graphics.ci.clear()
        for row, heatmap in enumerate(self.heatmaps):
            self.graphics.addItem(heatmap.plot, row=row, col=0)
        self.graphics.addItem(self.time_plot, row=len(self.heatmaps), col=0)
        self.cell_curve.setVisible(cell == "lstm")

    def draw(self) -> None:
        trace = self.trace
        layer, direction, unit, suffix = self.selection()
        timestep = self.selected_timestep()
        hidden = trace["hidden"][layer, direction]  # (T, H)
        names = ["cell"] if self.kind == "lstm" else []
        for heatmap, name in zip(self.heatmaps, names + ["hidden"], strict=True):
            heatmap.set_data(trace[name][layer, direction], trace.labels)  # (T, H)
            heatmap.set_selected(unit, timestep)
            heatmap.plot.set_title(f"{name} state {name[0]}_t{suffix}")

        activity = np.abs(hidden).mean(axis=0)  # (H,)
        activity[unit] = -1.0
        self.other_units = [int(u) for u in np.argsort(-activity)[: min(OTHER_UNITS, hidden.shape[1] - 1)]]
        timesteps = np.arange(len(hidden))
        for index, curve in enumerate(self.other_curves):
            if index < len(self.other_units):
                curve.setData(timesteps, hidden[:, self.other_units[index]])
                self.time_plot.name_curve(curve, f"h_t of unit {self.other_units[index]}")  # in the hover read-out
            curve.setVisible(index < len(self.other_units))
        self.hidden_curve.setData(timesteps, hidden[:, unit])
        self.time_plot.name_curve(self.hidden_curve, f"h_t of unit {unit}")
        self.time_plot.name_curve(self.cell_curve, f"c_t of unit {unit}")
        title = coloured("h_t", SKY)
        if self.kind == "lstm":
            self.cell_curve.setData(timesteps, trace["cell"][layer, direction][:, unit])
            title = coloured("c_t", ORANGE) + " and " + title
        others = ", ".join(str(u) for u in self.other_units)
        faint = coloured(f" · faint: most active {others}", GREY) if others else ""
        self.time_plot.set_title(f"{title} of unit {unit}{suffix}{faint}")
        self.time_plot.show_timesteps(len(hidden), trace.labels)
        self.time_plot.mark_timestep(timestep)
        self.time_plot.settle()
