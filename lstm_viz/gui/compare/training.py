"""Training of every run on one step axis: the loss with each run's baseline, and the gradient norm before
(solid) and after (dashed) clipping; log axes, a legend, the shown step marked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.panels.plots import Plot, label_style, new_graphics

DASHED = QtCore.Qt.PenStyle.DashLine
LEGEND_BRUSH = (0, 0, 0, 170)  # a legend's names stay readable over the curves
DOTTED = QtCore.Qt.PenStyle.DotLine


def log10_finite(values: np.ndarray) -> np.ndarray:
    """log10 of the values, NaN where a value is not finite or not positive (a gap in the curve)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), np.log10(np.where(values > 0, values, 1.0)), np.nan)


class CompareTrainingPanel(QtWidgets.QWidget):
    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.graphics = new_graphics()
        QtWidgets.QVBoxLayout(self).addWidget(self.graphics)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.loss_plot = Plot(left="loss", bottom="step", log_y=True, colorbar_space=False)
        self.norm_plot = Plot(left="‖grad‖", bottom="step", log_y=True, colorbar_space=False)
        self.loss_plot.set_title("Loss (dotted: each run's baseline)")
        self.norm_plot.set_title("Gradient norm: before clipping — after - -")
        self.graphics.addItem(self.loss_plot, row=0, col=0)
        self.graphics.addItem(self.norm_plot, row=1, col=0)
        self.norm_plot.setXLink(self.loss_plot)
        legend = self.loss_plot.addLegend(
            offset=(-10, 10), labelTextColor="#DDDDDD", labelTextSize=label_style()["font-size"], brush=LEGEND_BRUSH
        )
        self.loss_curves, self.baselines, self.norm_curves, self.clipped_curves = [], [], [], []
        for label, colour in zip(labels, VARIANT_COLOURS, strict=False):
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), name=label, autoDownsample=True, clipToView=True)
            self.loss_plot.addItem(curve)
            baseline = pg.InfiniteLine(angle=0, pen=pg.mkPen(colour, width=1, style=DOTTED))
            self.loss_plot.addItem(baseline, ignoreBounds=True)
            norm = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5), autoDownsample=True, clipToView=True)
            clipped = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5, style=DASHED), autoDownsample=True,
                                      clipToView=True)  # fmt: skip
            self.norm_plot.addItem(norm)
            self.norm_plot.addItem(clipped)
            self.loss_curves.append(curve)
            self.baselines.append(baseline)
            self.norm_curves.append(norm)
            self.clipped_curves.append(clipped)
        del legend
        self.shown = [pg.InfiniteLine(angle=90, pen=pg.mkPen("#FFFFFF", width=1)) for _ in range(2)]
        for plot, line in zip((self.loss_plot, self.norm_plot), self.shown, strict=True):
            plot.addItem(line, ignoreBounds=True)
            line.hide()

    def update_snapshots(self, snapshots: list[Snapshot], scrubbed: bool = False) -> None:
        """Every run's curves as its metrics are now; the step shown marked when scrubbed back."""
        for index, snapshot in enumerate(snapshots):
            steps = snapshot.metrics["step"]  # (steps,)
            self.loss_curves[index].setData(steps, log10_finite(snapshot.metrics["loss"]), connect="finite")
            self.norm_curves[index].setData(steps, log10_finite(snapshot.metrics["grad_norm"]), connect="finite")
            clipped = snapshot.metrics["grad_norm_clipped"]
            self.clipped_curves[index].setData(steps, log10_finite(clipped), connect="finite")
            baseline = log10_finite(np.array([snapshot.baseline_loss]))[0]
            self.baselines[index].setVisible(bool(np.isfinite(baseline)))
            if np.isfinite(baseline):
                self.baselines[index].setPos(baseline)
        for line in self.shown:
            line.setVisible(scrubbed)
            line.setPos(snapshots[0].step)

    def curve_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, loss) of run `index` as drawn (the loss, not its log)."""
        steps, log_loss = self.loss_curves[index].getData()
        return steps, 10.0**log_loss
