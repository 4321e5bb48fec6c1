"""Each run's prediction on the same probe: the target in grey and every run's output over time (a sine's
rollout after the probe), and below, per run, what its task view says in words (the adding sum, a sample)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.compare.training import DASHED
from lstm_viz.gui.panels.plots import GREY, TimePlot, coloured, new_graphics


def view_words(snapshot: Snapshot) -> str:
    """What the task view says in words: 'prediction 0.81 (target 0.82)', a sample text, an accuracy."""
    view = snapshot.view
    if "sample" in view:
        return str(view["sample"])[:120]
    if "prediction" in view and "target" in view:
        return f"prediction {view['prediction']:.3f} (target {view['target']:.3f})"
    numbers = [f"{key.replace('_', ' ')} {value:.3g}" for key, value in view.items()
               if isinstance(value, float) and key != "evaluated_at_step"]  # fmt: skip
    return " · ".join(numbers[:3])


class CompareTaskPanel(QtWidgets.QWidget):
    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.graphics = new_graphics()
        box.addWidget(self.graphics, stretch=1)
        self.plot = TimePlot(left="output", colorbar_space=False)
        self.plot.set_title("Prediction on the probe (grey: target)")
        self.graphics.addItem(self.plot)
        self.target = self.plot.plot(pen=pg.mkPen(GREY, width=3))
        self.outputs = [self.plot.plot(pen=pg.mkPen(c, width=2)) for c in VARIANT_COLOURS[: len(labels)]]
        self.rollouts = [self.plot.plot(pen=pg.mkPen(c, width=2, style=DASHED)) for c in VARIANT_COLOURS[: len(labels)]]
        self.words = QtWidgets.QLabel()
        self.words.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.words.setWordWrap(True)
        box.addWidget(self.words)

    def update_snapshots(self, snapshots: list[Snapshot]) -> None:
        lines = []
        for index, snapshot in enumerate(snapshots):
            trace = snapshot.trace
            lines.append(coloured(f"{self.labels[index]}: {view_words(snapshot)}", VARIANT_COLOURS[index]))
            if trace is None or np.asarray(trace.probe_output).shape[-1] != 1:  # a curve only for one output
                self.outputs[index].setData([], [])
                continue
            output = np.asarray(trace.probe_output, dtype=float)[:, 0]  # (T,)
            self.outputs[index].setData(np.arange(len(output)), output)
            target = np.asarray(trace.probe_target, dtype=float).reshape(-1)
            if len(target) == len(output):
                self.target.setData(np.arange(len(target)), target)
            elif len(target) == 1:  # one number for the whole sequence (adding): a line at the last step
                self.target.setData([len(output) - 1], [target[0]], pen=None, symbol="o", symbolBrush=GREY)
            rollout = snapshot.view.get("rollout")
            if rollout is not None:
                start = int(snapshot.view.get("rollout_start", 0))  # the rollout is (T,): forced, then free
                rollout = np.asarray(rollout, dtype=float).reshape(-1)[start:]
                self.rollouts[index].setData(start + np.arange(len(rollout)), rollout)
            self.plot.show_timesteps(len(output), trace.labels)
        self.words.setText("<br>".join(lines))
