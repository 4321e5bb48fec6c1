"""The step scrubber under the panels, and the history it moves through.

Timeline is the bar: a slider over the run's steps that stops at the recorded ones (a place on it is a
step, not a record number: records are every step up to 100, then sparser), where it stands ("step 200 of 3400"),
a Live button and Fork from here. History is what the window asks which step to draw: live (the
newest step, from the worker, or the newest record of a run being followed) or the recorded step
the user scrubbed to, read with Run.snapshot, the same Snapshot type the worker publishes, so the
panels draw both alike.

Dragging stays smooth because a slider move only notes the wanted step; the window's frame timer
draws the latest wanted step at its next tick (one record read, one redraw), never a queue of them.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QWidget

from lstm_viz.core.config import ConfigError
from lstm_viz.core.history import Event, Run, open_run
from lstm_viz.core.snapshot import Snapshot

REFRESH_S = 0.5  # the run directory is listed again this often (new records, events, the writer's state)
METRICS_SHARE = 0.1  # reading a growing metrics.csv again takes at most this share of the time (1 s at 100k rows)
HEIGHT = 34
LIVE_TIP = "Show the newest step and follow training (End)"
NEWEST_TIP = "Show the newest record and follow the run while it is written (End)"
FORK_TIP = (
    "Start a new run from the weights and settings recorded at the shown step, with a fresh optimizer state; "
    "the current run stays on disk. Change a setting first to ask 'what if…'."
)
SLIDER_TIP = (
    "Recorded steps of this run, laid out by step (the records are denser early on): drag to the nearest record, "
    "or ←/→ for the previous/next record, Home/End for the first/last"
)


class Timeline(QWidget):
    """The bar. It shows what it is told (set_records, show_live, show_step) and emits what the user asks."""

    step_requested = pyqtSignal(int)  # a recorded step to show
    live_requested = pyqtSignal()  # back to the newest step, following it
    fork_requested = pyqtSignal()

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.steps = np.zeros(0, dtype=np.int64)  # the recorded steps, ascending
        self.live = True
        self.shown: int | None = None  # the recorded step shown when not live
        self.newest: int | None = None  # the newest step of the run
        self._note = ""  # about the shown step ("unreadable")
        self._no_records = ""  # what the bar says while the run has no records
        self._setting = False  # the slider is being moved by the program, not the user

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(SLIDER_TIP)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the window's shortcuts handle the keys
        self.slider.valueChanged.connect(self._slider_moved)  # its values are steps, not record numbers
        self.slider.sliderReleased.connect(lambda: self._move_slider(self._record_of_shown()))  # onto the record
        self.position = QLabel()
        self.position.setMinimumWidth(self.position.fontMetrics().horizontalAdvance("step 1000000 of 1000000 · live"))
        self.position.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.live_button = QPushButton("Newest" if read_only else "Live")
        self.live_button.setCheckable(True)
        self.live_button.setToolTip(NEWEST_TIP if read_only else LIVE_TIP)
        self.live_button.clicked.connect(self._live_clicked)
        self.live_button.setStyleSheet("QPushButton:checked { color: #1a7f37; font-weight: bold; }")  # live: green
        self.fork_button = QPushButton("Fork from here")
        self.fork_button.setToolTip(FORK_TIP)
        self.fork_button.clicked.connect(self.fork_requested)
        self.fork_button.setVisible(not read_only)

        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 8, 2)
        row.setSpacing(8)
        title = QLabel("Steps")
        title.setToolTip(SLIDER_TIP)
        row.addWidget(title)
        row.addWidget(self.slider, 1)
        row.addWidget(self.position)
        row.addWidget(self.live_button)
        row.addWidget(self.fork_button)
        self.setFixedHeight(HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_records(self.steps)
        self.show_live(None)

    def install_shortcuts(self, window: QWidget) -> None:
        """←/→ previous/next record, Home/End first/last (End: live), anywhere in `window` (text fields keep theirs)."""
        for key, slot in (
            (Qt.Key.Key_Left, lambda: self.move_by(-1)),
            (Qt.Key.Key_Right, lambda: self.move_by(1)),
            (Qt.Key.Key_Home, self.first),
            (Qt.Key.Key_End, self.live_requested.emit),
        ):
            QShortcut(QKeySequence(key), window, activated=slot)

    # ---- what the window tells it ----------------------------------------------------------
    def set_records(self, steps: np.ndarray, no_records: str = "no history recorded") -> None:
        """The run's recorded steps now; the slider keeps standing at the shown step. It spans the steps from the
        first record to the last, so that a place on it is a step of the run however the records are spaced
        (every step up to 100, then sparser): moved, it asks for the nearest record."""
        self.steps = np.asarray(steps, dtype=np.int64)
        self._no_records = no_records
        has_records = len(self.steps) > 0
        self.slider.setEnabled(has_records)
        first, last = (int(self.steps[0]), int(self.steps[-1])) if has_records else (0, 0)
        self._setting = True
        try:
            self.slider.setRange(first, last)
            self.slider.setPageStep(max(1, (last - first) // 10))
            self.slider.setSingleStep(max(1, (last - first) // max(len(self.steps) - 1, 1)))  # the mean spacing
        finally:
            self._setting = False
        self._move_slider(self._record_of_shown())
        if not has_records:
            self.position.setText(no_records)
        self.fork_button.setEnabled(has_records and not self.live)

    def show_live(self, newest: int | None, following: str = "live") -> None:
        """The newest step is shown (`newest`, None before the first) and followed."""
        self.live, self.shown = True, None
        self._move_slider(self._record_of_shown())
        self.live_button.setChecked(True)
        self.fork_button.setEnabled(False)
        if not len(self.steps):
            self.position.setText(self._no_records)
        else:
            self.position.setText(f"step {newest} · {following}" if newest is not None else following)

    def show_step(self, step: int, newest: int, note: str = "") -> None:
        """The recorded `step` is shown, of a run now at `newest`; `note` says more about it ("unreadable")."""
        self.live, self.shown, self._note = False, int(step), note
        self._move_slider(self._record_of_shown())
        self.live_button.setChecked(False)
        self.fork_button.setEnabled(not note)
        self.set_newest(newest)

    def set_newest(self, newest: int) -> None:
        """The run has gone on to `newest` (while a recorded step is shown)."""
        self.newest = newest
        if not self.live and self.shown is not None:
            note = f" · {self._note}" if self._note else ""
            self.position.setText(f"step {self.shown} of {max(newest, self.shown)}{note}")

    # ---- what the user asks --------------------------------------------------------------------
    def move_by(self, records: int) -> None:
        """Ask for the record `records` before (<0) or after the shown one; from live, ← is the last record."""
        if not len(self.steps):
            return
        if self.live:
            index = len(self.steps) - 1 if records < 0 else None
        else:
            index = self._index_of_shown() + records
        if index is not None:
            self.step_requested.emit(int(self.steps[min(max(index, 0), len(self.steps) - 1)]))

    def first(self) -> None:
        if len(self.steps):
            self.step_requested.emit(int(self.steps[0]))

    def _slider_moved(self, step: int) -> None:
        if not self._setting and len(self.steps):
            index = int(np.searchsorted(self.steps, step))  # the records either side of `step`: the nearer one
            either_side = self.steps[max(index - 1, 0) : index + 1]  # (1 or 2,)
            self.step_requested.emit(int(either_side[np.abs(either_side - step).argmin()]))

    def _live_clicked(self) -> None:
        self.live_button.setChecked(self.live)  # it shows the state; the window decides
        self.live_requested.emit()

    def _index_of_shown(self) -> int:
        """The index of the shown step in the records (the nearest record at or before it), or the last when live."""
        if self.live or self.shown is None:
            return max(len(self.steps) - 1, 0)
        return max(int(np.searchsorted(self.steps, self.shown, side="right")) - 1, 0)

    def _record_of_shown(self) -> int:
        """The step of the record shown (the nearest at or before the shown step), the last when live; 0 if none."""
        return int(self.steps[self._index_of_shown()]) if len(self.steps) else 0

    def _move_slider(self, step: int) -> None:
        if self.slider.isSliderDown():
            return  # not under the user's hand: it goes onto the record when released
        self._setting = True
        try:
            self.slider.setValue(step)
        finally:
            self._setting = False


class History:
    """The run the window's timeline moves through and the step to show: live, or a wanted recorded step.

    The window calls due_refresh() at every frame (it lists the run directory every REFRESH_S) and
    take_wanted() for a step to draw; errors come back as one-line messages, never exceptions.
    """

    def __init__(self, run: Run | None = None) -> None:
        self.run = run
        self.run_dir = str(run.path) if run is not None else ""
        self.live = True
        self.wanted: int | None = None  # the recorded step the user asked for, not drawn yet
        self.shown: int | None = None  # the recorded step the panels show (None: live)
        self.lost = ""  # why the run can no longer be read (deleted), once it happened
        self._last_refresh = time.perf_counter() if run is not None else -float("inf")
        self._metrics: dict | None = None  # the run's metrics as last read, and when, and what that cost
        self._metrics_read_at = self._metrics_cost = 0.0

    @property
    def steps(self) -> np.ndarray:
        """The recorded steps (none once the run's folder is gone)."""
        return self.run.steps if self.run is not None and not self.lost else np.zeros(0, dtype=np.int64)

    @property
    def events(self) -> list[Event]:
        return self.run.events if self.run is not None else []

    def follow(self, run_dir: str) -> str:
        """Move to the run in `run_dir` (the live run's directory, "" for none), live; a message if it can't be read."""
        self.run, self.run_dir, self.lost, self._metrics = None, run_dir, "", None
        self.go_live()
        if not run_dir:
            return ""
        try:
            self.run = open_run(run_dir)
        except ConfigError as error:
            self.lost = str(error)
            return f"cannot show the history of this run: {error}"
        self._last_refresh = time.perf_counter()
        return ""

    def due_refresh(self, force: bool = False) -> tuple[bool, str] | None:
        """List the run directory again if REFRESH_S has passed: (anything new, a message if that failed),
        or None if it was not time yet."""
        if self.run is None or self.lost:
            return None
        now = time.perf_counter()
        if not force and now - self._last_refresh < REFRESH_S:
            return None
        self._last_refresh = now
        try:
            return self.run.refresh(), ""
        except ConfigError as error:
            self.lost = str(error)
            return True, f"{error}; what is on screen stays, nothing more can be read from it"

    def metrics(self, force: bool = False) -> tuple[dict | None, str]:
        """(the run's metrics, "") or (None, why they cannot be read). A run being written has more every refresh;
        they are read again at most with METRICS_SHARE of the time (or when `force`d), else the last read stays."""
        now = time.perf_counter()
        due = now - self._metrics_read_at >= self._metrics_cost / METRICS_SHARE
        if self.run is not None and (self._metrics is None or due or force):
            try:
                self._metrics = self.run.metrics  # read again only if the file changed since
            except ConfigError as error:
                return self._metrics, str(error)
            self._metrics_read_at = time.perf_counter()
            self._metrics_cost = self._metrics_read_at - now
        return self._metrics, ""

    def request(self, step: int) -> None:
        """The user asked for recorded `step`: drawn at the next frame (the latest request wins)."""
        self.live = False
        self.wanted = int(step)

    def go_live(self) -> None:
        self.live, self.wanted, self.shown = True, None, None

    def take_wanted(self) -> int | None:
        """The recorded step to draw now, if one is wanted and not shown yet."""
        wanted, self.wanted = self.wanted, None
        return wanted if wanted is not None and wanted != self.shown else None

    def load(self, step: int, metrics: dict | None = None) -> tuple[Snapshot | None, str]:
        """(the record at `step` as a Snapshot, "") or (None, why it cannot be shown). metrics: the run's
        metrics if the caller has them (the live run's), else they are read from the run directory."""
        if self.run is None:
            return None, self.lost or "this run has no history to show"
        try:
            snapshot = self.run.snapshot(step, metrics=metrics)
        except ConfigError as error:
            return None, str(error)
        self.shown = int(step)
        return snapshot, ""

    @property
    def path(self) -> Path | None:
        return self.run.path if self.run is not None else None
