"""Each run's prediction on the same probe: the target in grey and every run's output over time (a sine's
rollout after the probe), or for a class task (chars, copy) the probability each run gives the target at each
timestep; for chars, per run the probe text coloured by a unit of its top layer (the main window's text view:
a click on a heatmap cell picks the unit); and below, per run, what its task view says in words (the adding
sum, a sample)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.compare.training import DASHED
from lstm_viz.gui.panels.base import Panel
from lstm_viz.gui.panels.plots import GREY, TimePlot, coloured
from lstm_viz.gui.panels.task_view import target_probability
from lstm_viz.gui.panels.text_view import TextView

CLASS_TASKS = ("chars", "copy")  # an output of class scores at every timestep: the target's probability is drawn
CLASS_TITLES = {"chars": "probability of the actual next character", "copy": "probability of the right output"}


def view_words(snapshot: Snapshot) -> str:
    """What the task view says in words: 'prediction 0.81 (target 0.82)', a sample text, an accuracy."""
    view = snapshot.view
    if "sample" in view:
        return str(view["sample"])[:120]
    if "prediction" in view and "target" in view:
        return f"prediction {view['prediction']:.3f} (target {view['target']:.3f})"
    numbers = [f"{key.replace('_', ' ')} {value:.3g}" for key, value in view.items()
               if isinstance(value, float) and key != "evaluated_at_step"]  # fmt: skip
    if not numbers and snapshot.trace is not None:  # sine's view is curves only
        numbers = [f"probe loss {snapshot.trace.loss:.4g}"]
    return " · ".join(numbers[:3])


class CompareTaskPanel(Panel):
    """A main-window panel's parts (its plots in `graphics`, never squeezed below their least height)."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels
        box = self.box
        self.plot = TimePlot(left="output", colorbar_space=False)
        self.plot.set_title("Prediction on the probe (grey: target)")
        self.graphics.addItem(self.plot)
        self.target = self.plot.plot(pen=pg.mkPen(GREY, width=3))
        self.outputs = [self.plot.plot(pen=pg.mkPen(c, width=2)) for c in VARIANT_COLOURS[: len(labels)]]
        self.rollouts = [self.plot.plot(pen=pg.mkPen(c, width=2, style=DASHED)) for c in VARIANT_COLOURS[: len(labels)]]
        self.text_views = []  # chars: one per run, shown once a trace of a char task comes
        for colour in VARIANT_COLOURS[: len(labels)]:
            view = TextView()
            view.caption.setStyleSheet(f"color: {colour}")
            view.timestep_clicked.connect(self.highlight)
            view.hide()
            box.addWidget(view)
            self.text_views.append(view)
        self.unit, self.timestep = 0, None  # what the text views show: this unit, this timestep framed
        self.snapshots: list[Snapshot] = []
        self.words = QtWidgets.QLabel()
        self.words.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.words.setWordWrap(True)
        box.addWidget(self.words)
        self.task = ""

    def arrange(self, task: str) -> None:
        """A class task's plot is of probabilities, 0 to 1; chars shows the text views."""
        self.task = task
        if task in CLASS_TASKS:
            self.plot.set_title(f"{CLASS_TITLES[task]}, each run")
            self.plot.setLabel("left", "p")
            self.plot.enableAutoRange(y=False)
            self.plot.setYRange(0, 1, padding=0.05)
            self.plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        for view in self.text_views:
            view.setVisible(task == "chars")
        self.fit_minimum_height()

    def select(self, unit: int, timestep: int | None = None) -> None:
        """Colour the text views by `unit` (of each run's top layer, forward), `timestep` framed."""
        self.unit, self.timestep = unit, timestep
        self.draw_text_views()

    def highlight(self, timestep: int) -> None:
        self.timestep = timestep
        for view in self.text_views:
            view.set_highlight(timestep)

    def draw_text_views(self) -> None:
        if self.task != "chars":
            return
        for label, view, snapshot in zip(self.labels, self.text_views, self.snapshots, strict=False):
            trace = snapshot.trace
            if trace is None:
                continue
            layers, _, _, units = trace["hidden"].shape  # (layers, directions, T, H)
            view.show_trace(trace, layers - 1, 0, min(self.unit, units - 1), f" · {label}")
            view.set_highlight(self.timestep)
        self.fit_text_views()

    def fit_text_views(self) -> None:
        """Each text view as tall as its lines, up to an equal share of the panel with the plot (then it scrolls)."""
        shown = [view for view in self.text_views if not view.isHidden()]
        for view in shown:
            view.setFixedHeight(view.wanted_height(most=self.height() // (len(shown) + 1)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit_text_views()

    def update_snapshots(self, snapshots: list[Snapshot]) -> None:
        self.snapshots = list(snapshots)
        task = snapshots[0].config.task
        if task != self.task:
            self.arrange(task)
        lines = []
        for index, snapshot in enumerate(snapshots):
            trace = snapshot.trace
            lines.append(coloured(f"{self.labels[index]}: {view_words(snapshot)}", VARIANT_COLOURS[index]))
            if trace is not None and task in CLASS_TASKS:
                probability = target_probability(trace)  # (T,)
                self.outputs[index].setData(np.arange(len(probability)), probability)
                self.plot.show_timesteps(len(probability), trace.labels)
                continue
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
        self.draw_text_views()
