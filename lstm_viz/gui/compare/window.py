"""The comparison window: 2 to 4 runs side by side on one step axis, trained live in turns (a CompareWorker)
or opened from their run directories (lstm-viz open RUN_A RUN_B). Training and gradients through time
overlaid, small-multiple heatmaps, each run's prediction; the timeline moves every run to the same step."""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QToolBar,
    QWidget,
)

from lstm_viz.core.compare import COMPARABLE, NOT_COMPARED, Comparison, differences, value_label
from lstm_viz.core.config import Clip, ConfigError
from lstm_viz.core.history import Run, open_run
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.compare.gradients import CompareGradientsPanel
from lstm_viz.gui.compare.heatmaps import CompareHeatmapsPanel
from lstm_viz.gui.compare.task_view import CompareTaskPanel
from lstm_viz.gui.compare.training import CompareTrainingPanel
from lstm_viz.gui.compare.worker import CompareWorker
from lstm_viz.gui.lecture import NORMAL_SCALE, step_scale
from lstm_viz.gui.panels.plots import coloured, font_scale, set_font_scale
from lstm_viz.gui.timeline import Timeline

FRAME_MS = 33
HISTORY_REFRESH_S = 1.0


def record_at_or_before(run: Run, step: int) -> int | None:
    """The newest record of `run` at or before `step` (runs recorded on their own schedules align by step)."""
    steps = run.steps[run.steps <= step]
    return int(steps[-1]) if len(steps) else None


class CompareWindow(QMainWindow):
    """`labels`: one per run, in the runs' order (its colour is VARIANT_COLOURS[k]). Either `worker` (training
    live) or `runs` (recorded, read-only)."""

    def __init__(self, labels: list[str], title: str, worker: CompareWorker | None = None,
                 runs: list[Run] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.labels, self.worker = list(labels), worker
        self.runs: list[Run] = list(runs or [])
        self.setWindowTitle(f"lstm_viz · compare {title}")
        self.snapshots: list[Snapshot] | None = None  # what the panels show
        self.live_snapshots: list[Snapshot] | None = None  # the newest the worker published
        self.wanted_step: int | None = None
        self.shown_step: int | None = None  # a recorded step shown (None: live / newest)
        self.training = CompareTrainingPanel(self.labels)
        self.gradients = CompareGradientsPanel(self.labels)
        self.heatmaps = CompareHeatmapsPanel(self.labels)
        self.task = CompareTaskPanel(self.labels)
        left, right, outer = QSplitter(Qt.Orientation.Vertical), QSplitter(Qt.Orientation.Vertical), QSplitter()
        self.right = right
        left.addWidget(self.training)
        left.addWidget(self.gradients)
        right.addWidget(self.heatmaps)
        right.addWidget(self.task)
        right.setSizes([600, 300])
        outer.addWidget(left)
        outer.addWidget(right)
        self.setCentralWidget(outer)
        self.header = QLabel(" · ".join(coloured(f"■ {label}", c) for label, c in zip(labels, VARIANT_COLOURS,
                                                                                      strict=False)))  # fmt: skip
        self._build_controls(title)
        self.timeline = Timeline(read_only=True)
        bar = QToolBar("Timeline", self)
        bar.setMovable(False)
        bar.addWidget(self.timeline)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
        self.timeline.install_shortcuts(self)
        for key, steps in (("Ctrl++", 1), ("Ctrl+=", 1), ("Ctrl+-", -1), ("Ctrl+0", 0)):  # as in the main window
            QShortcut(QKeySequence(key), self, activated=lambda steps=steps: self.step_font_scale(steps))
        for heatmap in self.heatmaps.heatmaps:  # a cell picks the unit (and timestep) the text views show
            heatmap.cell_clicked.connect(lambda timestep, unit: self.task.select(unit, timestep))
        self.timeline.step_requested.connect(self.show_step)
        self.timeline.live_requested.connect(self.go_live)
        self._history_checked = 0.0
        self.timer = QTimer(self, interval=FRAME_MS, timeout=self.refresh)
        self.timer.start()
        if worker is None:
            self._refresh_records()
            steps = self.common_steps()
            if len(steps):
                self.show_step(int(steps[-1]))
            self.timeline.show_live(int(steps[-1]) if len(steps) else None, "newest")

    # ---- controls --------------------------------------------------------------------------
    def _build_controls(self, title: str) -> None:
        bar = QToolBar("Comparison", self)
        bar.setMovable(False)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.header)
        layout.addWidget(QLabel(f"  {title}  "))
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start_pause)
        self.step_button = QPushButton("Step")
        self.lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=10.0, singleStep=1e-3)
        self.clip = QLineEdit()
        self.clip.setMaximumWidth(90)
        self.target = QComboBox()
        self.target.addItems(["all runs", *self.labels])
        apply_button = QPushButton("Apply")
        apply_button.clicked.connect(self.apply_settings)
        if self.worker is not None:
            self.step_button.clicked.connect(self.worker.step)
            first = self.worker.trainers[0].config
            self.lr.setValue(first.lr)
            self.clip.setText(str(first.clip))
            for widget in (self.start_button, self.step_button, QLabel("lr"), self.lr, QLabel("clip"), self.clip,
                           QLabel("to"), self.target, apply_button):  # fmt: skip
                layout.addWidget(widget)
        layout.addStretch(1)
        self.status = QLabel()  # in the status bar: the controls' row fits a 1024 px wide screen
        self.statusBar().addPermanentWidget(self.status)
        bar.addWidget(row)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def step_font_scale(self, steps: int) -> None:
        """Ctrl+plus (1) / Ctrl+minus (-1): the next larger or smaller text size, Ctrl+0 (0) the default; the
        scale is the application's, so a main window's plots and widgets follow too."""
        set_font_scale(step_scale(font_scale(), steps) if steps else NORMAL_SCALE)
        self.statusBar().showMessage(f"text size {font_scale():g}x (Ctrl+0: default)", 8000)

    def start_pause(self) -> None:
        running = bool(self.live_snapshots and self.live_snapshots[0].running)
        self.worker.pause() if running else self.worker.start()

    def apply_settings(self) -> None:
        """lr and clip, to every run or to the one picked."""
        try:
            changes = {"lr": float(self.lr.value()), "clip": Clip.parse(self.clip.text())}
        except ConfigError as error:
            self.statusBar().showMessage(str(error))
            return
        variant = self.target.currentIndex() - 1
        self.worker.apply(changes, None if variant < 0 else variant)
        who = "every run" if variant < 0 else self.labels[variant]
        self.statusBar().showMessage(f"lr {changes['lr']:g}, clip {changes['clip']} for {who} from the next step")

    # ---- drawing -------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.worker is not None:
            published = self.worker.mailbox.take()
            if published is not None:
                self.live_snapshots = list(published)
                if not self.runs and all(s.run_dir for s in published):
                    self.runs = [open_run(s.run_dir) for s in published]
                if self.shown_step is None:
                    self.draw(self.live_snapshots)
                    self.timeline.show_live(published[0].step)
        if time.perf_counter() - self._history_checked >= HISTORY_REFRESH_S:  # the writers record on their own
            self._refresh_records()
        if self.wanted_step is not None:
            step, self.wanted_step = self.wanted_step, None
            self._draw_records(step)

    def _refresh_records(self) -> None:
        self._history_checked = time.perf_counter()
        for run in self.runs:
            run.refresh()
        self.timeline.set_records(self.common_steps(), "no records yet")

    def common_steps(self) -> np.ndarray:
        """Steps every run has reached and the first run has a record of: the timeline's stops."""
        if not self.runs:
            return np.zeros(0, dtype=np.int64)
        first = self.runs[0].steps
        reached = min(int(run.steps[-1]) if len(run.steps) else -1 for run in self.runs)
        return first[first <= reached]

    def show_step(self, step: int) -> None:
        self.wanted_step = int(step)
        steps = self.common_steps()
        self.timeline.show_step(step, int(steps[-1]) if len(steps) else step)

    def go_live(self) -> None:
        self.shown_step = None
        if self.worker is None:
            steps = self.common_steps()
            if len(steps):
                self.show_step(int(steps[-1]))
            self.timeline.show_live(int(steps[-1]) if len(steps) else None, "newest")
        elif self.live_snapshots is not None:
            self.draw(self.live_snapshots)
            self.timeline.show_live(self.live_snapshots[0].step)

    def _draw_records(self, step: int) -> None:
        """Every run's record at `step` (or its newest before it), the metrics as they are now."""
        snapshots = []
        try:
            for index, run in enumerate(self.runs):
                record = record_at_or_before(run, step)
                if record is None:
                    return
                metrics = self.live_snapshots[index].metrics if self.live_snapshots else None
                snapshots.append(run.snapshot(record, metrics=metrics))
        except ConfigError as error:
            self.statusBar().showMessage(str(error))
            return
        self.shown_step = step if self.worker is not None else None
        self.draw(snapshots, scrubbed=self.worker is not None)

    def draw(self, snapshots: list[Snapshot], scrubbed: bool = False) -> None:
        if self.snapshots is None and snapshots[0].config.task == "chars":  # text views under the plot: half each
            self.right.setSizes([self.right.height() // 2] * 2)
        self.snapshots = snapshots
        self.training.update_snapshots(snapshots, scrubbed)
        self.gradients.update_snapshots(snapshots)
        self.heatmaps.update_snapshots(snapshots)
        self.task.update_snapshots(snapshots)
        rates = " · ".join(coloured(f"{label} {s.steps_per_s:.0f}", c)
                           for label, s, c in zip(self.labels, snapshots, VARIANT_COLOURS, strict=False))  # fmt: skip
        speed = f" · steps/s {rates}" if self.worker is not None and not scrubbed else ""
        self.status.setText(f"step {snapshots[0].step}{speed}")
        notes = [s.message for s in snapshots if s.message]
        if notes:
            self.statusBar().showMessage(" · ".join(notes))
        running = bool(self.live_snapshots and self.live_snapshots[0].running)
        self.start_button.setText("Pause" if running else "Start")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        if self.worker is not None:
            self.worker.stop()
        super().closeEvent(event)


def open_compare_viewer(runs: list[Run]) -> CompareWindow:
    """Recorded runs side by side, read-only; ConfigError for runs of different tasks."""
    configs = [run.config for run in runs]
    if any(config is None for config in configs):
        raise ConfigError("a run without settings (config.json) cannot be compared")
    tasks = sorted({config.task for config in configs})
    if len(tasks) > 1:
        raise ConfigError(f"runs of different tasks cannot be compared ({' / '.join(tasks)}); open runs of one task")
    differing = differences(configs)
    labels = [run_label(config, configs) or run.path.name for run, config in zip(runs, configs, strict=True)]
    return CompareWindow(labels, differing or "the same settings", runs=runs)


def run_label(config, configs) -> str:
    """A run's values of the settings that differ between `configs`: 'cell lstm hidden 128' ('' if none do)."""
    differing = [name for name in COMPARABLE + NOT_COMPARED if len({str(getattr(c, name)) for c in configs}) > 1]
    return " ".join(f"{name} {value_label(getattr(config, name))}" for name in differing)


def live_compare_window(comparison: Comparison, name: str, runs_dir=None, history_mb: float | None = None
                        ) -> CompareWindow:  # fmt: skip
    """A window training `comparison`'s variants in turns (paused until its worker starts), each recorded under
    `runs_dir` as <name>-<setting>-<time>/<value> (None: not recorded)."""
    worker = CompareWorker(comparison, runs_dir, history_mb, name)
    labels = [f"{comparison.setting}={variant.label}" for variant in comparison.variants]
    return CompareWindow(labels, f"{name}: {comparison.setting}", worker=worker)
