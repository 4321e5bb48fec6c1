"""The main window: rearrangeable docks for the controls and the five panels, menus,
keyboard shortcuts, a message bar and a status bar.

A 30 fps timer takes the newest Snapshot from the worker's mailbox and, only when there
is one, hands it to every panel. The Snapshot is all the GUI learns from the worker.
"""

from __future__ import annotations

import dataclasses
import io
import math
import sys
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence, QPainter, QShortcut
from PyQt6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from lstm_viz import __version__
from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.history import Run, open_run, whole_run_metrics
from lstm_viz.core.runs import INTEGER_COLUMNS, atomic_write_text
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.controls import ControlsPanel
from lstm_viz.gui.dock_title import DockTitleBar, HelpPopup
from lstm_viz.gui.help import equations_html, panel_help
from lstm_viz.gui.lecture import (
    LECTURE_PANELS,
    LECTURE_SCALE,
    NORMAL_SCALE,
    SETTINGS_VERSION,
    LectureBar,
    ViewSettings,
    step_scale,
)
from lstm_viz.gui.message_bar import ERROR_STYLE, NOTE_STYLE, NOTICE_STYLE, WARNING_STYLE, MessageBar, NoteBar
from lstm_viz.gui.panels import CellPanel, GatesPanel, GradientsPanel, StatesPanel, TaskViewPanel, TrainingPanel
from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.plots import font_scale, set_font_scale, unscaled_font
from lstm_viz.gui.speed import speed_text
from lstm_viz.gui.state import Selection
from lstm_viz.gui.timeline import History, Timeline
from lstm_viz.gui.worker import NOTICE_MARK, TrainingWorker, is_notice, is_warning

if TYPE_CHECKING:  # imported when first used: not needed for the first frame (startup_s)
    from lstm_viz.gui.compare.dialog import CompareDialog
    from lstm_viz.gui.compare.window import CompareWindow

FRAME_INTERVAL_MS = 30  # ≤33 frames/s, so ~30 even when a tick comes late; drawn only when a new snapshot arrived
DRAW_SHARE = 0.9  # drawing and painting take at most this share of the GUI thread's time (costly frames are spaced out)
# A trace of this many values per quantity (T × H × layers × directions) or more is drawn a panel per tick of the
# timer: a whole frame at adding T=1000, H=256 (256k) costs ~30 ms of CPU, and several times that in wall time
# on a busy machine, in which the window would not answer; a panel is at most ~13 ms. H=128, T=200 is 26k.
STAGGER_CELLS = 100_000
DRAW_BURST_S = 0.1  # unspent drawing time saved up, at most: one slow frame (a GC pause) does not skip the next
PACE_WINDOW_S = 10.0  # the status bar's frame rate is over the frames of this long
MIN_SIZE = (1024, 720)  # the window fits a 1024x768 projector and a 1280x720 screen
COMPACT_BELOW = 900  # a window less tall than this has the task view under the controls
TEXT_FILTER = "Text files (*.txt *.md *.rst *.py *.csv *.tsv *.json *.html *.tex);;All files (*)"
NOTICE_MS = 8000  # a notice ("✓ Saved ...") hides itself after this long; an error stays until closed or replaced
NOTE_MS = 45000  # a preset's "what to watch" note hides itself after this long (or when closed, or replaced)
NOTE_MARK = "ℹ "  # a preset's note starts with this
SHORTCUTS = (
    ("Space", "start / pause training"),
    ("Alt+← / Alt+→", "select the previous / next timestep of the probe (click a heatmap cell to pick one)"),
    ("S", "pause and train exactly one step"),
    ("R", "reset: a new model from the current settings, at step 0"),
    ("Ctrl+O", "train the character model on a text file"),
    ("Ctrl+S", "save a checkpoint"),
    ("Ctrl+L", "load a checkpoint"),
    ("Ctrl+K", "compare: variants of the current settings side by side"),
    ("F11", "lecture mode: full screen, large text, compact controls (F11 or Esc leaves it)"),
    ("Ctrl++ / Ctrl+-", "larger / smaller text and lines (Ctrl+0: the default size)"),
    ("Ctrl+Q", "quit"),
)
ABOUT = (
    "<b>lstm_viz {version}</b><p>Trains a small recurrent network (LSTM, GRU or vanilla RNN) with PyTorch in a "
    "background thread and shows, live and for every timestep of a fixed probe sequence, its gates, cell and "
    "hidden states and the gradients flowing back through time. The internals are reconstructed exactly from the "
    "fused torch layers' weights and outputs, so what you see is what torch computes. Change the learning rate or "
    "clipping while it trains to watch gradients vanish, explode or settle.</p>"
)


class MainWindow(QMainWindow):
    drawn = pyqtSignal()  # a new snapshot has been drawn (for screenshots and tests)

    def __init__(
        self,
        config: RunConfig,
        runs_dir: Path | None = None,
        history_mb: float | None = None,
        run: Run | None = None,
        remember_view: bool = True,
        speed: float | None = None,
    ) -> None:
        """A window training `config`, each run recorded under `runs_dir` (None: not recorded), at most `speed`
        steps/s (None: full speed); or, given `run`, a window showing that recorded run read-only (no training;
        `config` its settings). remember_view: open with the layout, lecture mode and font scale of the last
        window closed, and remember this one's."""
        super().__init__()
        # ConfigError reaches the caller
        self.worker = TrainingWorker(config, runs_dir, history_mb) if run is None else None
        self.speed_limit: float | None = None  # steps/s, None: full speed
        self.noted_presets: set[str] = set()  # presets whose "what to watch" note has been shown
        self.runs_dir, self.history_mb = runs_dir, history_mb
        self.history = History(run)  # the run the timeline moves through, and the step shown
        self.viewers: list[MainWindow] = []  # runs opened from this window (File > Open run…)
        self.comparisons: list[CompareWindow] = []  # comparisons started here (Run > Compare…)
        self.compare_dialog: CompareDialog | None = None
        self.last_snapshot: Snapshot | None = None  # the newest from the worker (training's state)
        self.shown_snapshot: Snapshot | None = None  # what the panels show: live, or a recorded step
        self.selection = Selection()  # what every panel shows: layer, direction, unit, timestep
        self.last_folder = str(Path.home())  # where file dialogs start: the folder last chosen in one
        self._frame_times: deque[float] = deque(maxlen=120)
        self._want_running = False
        self._draw_budget = 0.0  # CPU seconds the GUI thread may use: grows at DRAW_SHARE per second, frames spend it
        self._last_tick, self._last_cpu = time.perf_counter(), time.thread_time()
        self._draw_limited_at = -float("inf")  # when a snapshot last waited for the drawing budget
        self._staggered_panels: list = []  # the panels yet to draw the snapshot shown, a tick each
        # Panels not on screen (a tab behind another, a closed dock, left out of lecture mode) draw nothing; those
        # that missed a snapshot or a selection catch up when shown (_panel_shown).
        self._hidden_panels: set[str] = set()
        self._behind_panels: set[str] = set()
        self._traced_snapshot: Snapshot | None = None  # the newest snapshot shown that had a trace

        self.controls = ControlsPanel(config)
        self.panels = {
            "Gates": GatesPanel(),
            "States": StatesPanel(),
            "Gradients through time": GradientsPanel(),
            "Training": TrainingPanel(),
            "Task view": TaskViewPanel(),
            "Cell": CellPanel(),
        }
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._build_timeline()
        self._build_lecture_bar()
        self._build_menus()
        self._build_message_bar()
        self._build_status_bar()
        self._build_shortcuts()
        self._connect()
        self._link_time_axes()
        self.restore_layout()
        self._restore_view(ViewSettings() if remember_view else None)
        self._show_title(config)
        self.set_speed(speed)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer drifts up to 5% late: 28 fps, not 30
        self.timer.setInterval(FRAME_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # ---- layout ----------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        for title, widget in {"Controls": self.controls, **self.panels}.items():
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            tools = getattr(self.panels.get(title), "title_tools", None)  # in its title bar, not over its plots
            dock.setTitleBarWidget(DockTitleBar(dock, lambda button, title=title: self.show_help(title, button), tools))
            if title in self.panels:
                dock.visibilityChanged.connect(lambda shown, title=title: self._panel_shown(title, shown))
            self.docks[title] = dock
        self.help_popup = HelpPopup(self)
        self.equations: QMessageBox | None = None  # Help > Equations, while open

    def restore_layout(self) -> None:
        """The default window size (unless maximised) and docks: controls on the left; gates and states (the
        cell a tab beside them) in the middle; gradients, training and the task on the right, each column split
        evenly. On a short screen (a 1024x768 projector, 1280x720) the task view goes under the controls, which
        then scroll: three panels' plots would not fit one column."""
        if not self.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            self._fit_to_screen()
        docks = self.docks
        for dock in docks.values():
            dock.setFloating(False)
            dock.show()
        columns = self.default_columns()
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks[columns[0][0]])
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks[columns[1][0]])
        self.splitDockWidget(docks[columns[1][0]], docks[columns[2][0]], Qt.Orientation.Horizontal)
        for column in columns:
            for above, below in zip(column, column[1:], strict=False):
                self.splitDockWidget(docks[above], docks[below], Qt.Orientation.Vertical)
        self.tabifyDockWidget(docks["States"], docks["Cell"])  # a tab under the gates: the selected unit's cell
        docks["States"].raise_()
        width = self.width()
        self.resizeDocks(
            [docks[column[0]] for column in columns],
            [300, (width - 300) // 2, (width - 300) // 2],
            Qt.Orientation.Horizontal,
        )
        height = self.height() - self.menuWidget().sizeHint().height() - self.statusBar().sizeHint().height()
        height -= self.timeline_bar.sizeHint().height()
        for column in columns:
            sizes = [height // len(column)] * len(column)
            self.resizeDocks([docks[title] for title in column], sizes, Qt.Orientation.Vertical)

    def default_columns(self) -> list[list[str]]:
        """The docks of the default layout's three columns, top to bottom."""
        if self.height() < COMPACT_BELOW:
            return [["Controls", "Task view"], ["Gates", "States"], ["Gradients through time", "Training"]]
        return [["Controls"], ["Gates", "States"], ["Gradients through time", "Training", "Task view"]]

    def _build_message_bar(self) -> None:
        """Messages: a banner over the bottom edge of the docks, above the status bar: red for errors, green for
        notices, hidden when empty. It lies over them, so that nothing moves when it comes or goes. A preset's
        note is read while the panels are watched: it takes a bar of its own under the menus (the docks make
        room for it), so that it covers nothing."""
        self.message_bar = MessageBar(self)
        self.message_label = self.message_bar.label
        self.notice_timer = QTimer(self, singleShot=True, interval=NOTICE_MS)  # a notice goes; an error stays
        self.notice_timer.timeout.connect(self.message_bar.hide)
        self.note_bar = NoteBar()
        self.note_bar.close_button.setToolTip("Hide this note")
        self.note_timer = QTimer(self, singleShot=True, interval=NOTE_MS)
        self.note_timer.timeout.connect(self.note_bar.hide)
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.menu_bar)
        column.addWidget(self.note_bar)
        self.setMenuWidget(top)

    def _place_message_bar(self) -> None:
        """As wide as the window, as tall as its wrapped text, its bottom on the timeline's top (the status bar's
        if the timeline is hidden, the window's if both are, as in lecture mode)."""
        width = self.width()
        height = self.message_bar.heightForWidth(width)
        below = [bar.geometry().top() for bar in (self.timeline_bar, self.statusBar()) if bar.isVisible()]
        self.message_bar.setGeometry(0, (below[0] if below else self.height()) - height, width, height)
        self.message_bar.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._place_message_bar()

    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)

    def _build_menus(self) -> None:
        self.menu_bar = QMenuBar()
        file_menu = self.menu_bar.addMenu("&File")
        self._action(file_menu, "Open run…", self.open_run_dialog, "Ctrl+Shift+O")
        file_menu.addSeparator()
        for text, slot, key in (
            ("Open text…", self.open_text, "Ctrl+O"),
            ("Load checkpoint…", self.load_checkpoint, "Ctrl+L"),
            ("Save checkpoint…", self.save_checkpoint, "Ctrl+S"),
        ):
            self._action(file_menu, text, slot, key).setEnabled(self.worker is not None)  # a recorded run trains not
        file_menu.addSeparator()
        self._action(file_menu, "Export panels as PNG…", lambda: self.export_panels("png"))
        self._action(file_menu, "Export panels as SVG…", lambda: self.export_panels("svg"))
        self._action(file_menu, "Export metrics as CSV…", self.export_metrics)
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q")

        run_menu = self.menu_bar.addMenu("&Run")
        self._action(run_menu, "Compare…", self.open_compare_dialog, "Ctrl+K").setEnabled(self.worker is not None)

        view_menu = self.menu_bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.timeline_bar.toggleViewAction())
        view_menu.addSeparator()
        self.lecture_action = self._action(view_menu, "Lecture mode", lambda: self.set_lecture_mode(not self.lecture))
        self.lecture_action.setShortcut(QKeySequence("F11"))
        self.lecture_action.setCheckable(True)
        lecture_panels_menu = view_menu.addMenu("Panels in lecture mode")
        self.lecture_panel_actions = {}
        for title in self.panels:
            action = self._action(lecture_panels_menu, title, lambda title=title: self._toggle_lecture_panel(title))
            action.setCheckable(True)
            self.lecture_panel_actions[title] = action
        view_menu.addSeparator()
        self._action(view_menu, "Larger text", lambda: self.step_font_scale(1)).setShortcuts(
            [QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")]
        )
        self._action(view_menu, "Smaller text", lambda: self.step_font_scale(-1), "Ctrl+-")
        self._action(view_menu, "Default text size", lambda: self.set_font_scale(None), "Ctrl+0")
        view_menu.addSeparator()
        self._action(view_menu, "Restore default layout", self.restore_default_view)

        help_menu = self.menu_bar.addMenu("&Help")
        self._action(help_menu, "Equations of this cell…", self.show_equations, "F1")
        self._action(help_menu, "Keyboard shortcuts", self.show_shortcuts)
        self._action(help_menu, "About lstm_viz", self.show_about)

    def _action(self, menu, text: str, slot, shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_shortcuts(self) -> None:
        QShortcut(QKeySequence("Esc"), self, activated=lambda: self.set_lecture_mode(False))
        self.timeline.install_shortcuts(self)
        for key, change in (("Alt+Left", -1), ("Alt+Right", 1)):  # plain ←/→ move the timeline
            QShortcut(QKeySequence(key), self, activated=lambda change=change: self.step_timestep(change))
        if self.worker is None:
            return
        for key, slot in (("Space", self.start_pause), ("S", self.worker.step), ("R", self.reset)):
            QShortcut(QKeySequence(key), self, activated=slot)

    def _connect(self) -> None:
        controls = self.controls
        if self.worker is not None:
            controls.apply_requested.connect(self.worker.apply)
            controls.reset_requested.connect(self.worker.reset)
            controls.start_pause_clicked.connect(self.start_pause)
            controls.step_clicked.connect(self.worker.step)
            controls.open_text_clicked.connect(self.open_text)
            controls.compare_clicked.connect(self.open_compare_dialog)
            controls.speed.speed_changed.connect(self.set_speed)
        controls.selection_changed.connect(
            lambda layer, direction: self.select(self.selection.moved(layer=layer, direction=direction))
        )
        controls.error.connect(self.show_message)
        for panel in self.panels.values():
            panel.selection_requested.connect(self.select)

    def _link_time_axes(self) -> None:
        """Zooming the time axis of one panel zooms all: they show the same probe timesteps."""
        plots = [panel.time_plot for panel in self.panels.values() if panel.time_plot is not None]
        for plot in plots[1:]:
            plot.setXLink(plots[0])

    def _fit_to_screen(self) -> None:
        """90% of a large screen; all of a screen smaller than MIN_SIZE / 0.9 (a 1024x768 projector)."""
        available = self.screen().availableGeometry()
        width, height = (
            int(size * 0.9) if size * 0.9 >= minimum else size
            for size, minimum in ((available.width(), MIN_SIZE[0]), (available.height(), MIN_SIZE[1]))
        )
        self.resize(width, height)
        self.move(available.x() + (available.width() - width) // 2, available.y() + (available.height() - height) // 2)

    # ---- lecture mode, font scale, remembered view ------------------------------------------------
    def _build_lecture_bar(self) -> None:
        """Lecture mode's compact controls along the top, hidden outside it."""
        self.lecture = False
        self.lecture_bar = LectureBar(self.controls, self)
        self.lecture_bar.start_pause_clicked.connect(self.start_pause)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.lecture_bar)
        self.lecture_bar.hide()

    def _restore_view(self, settings: ViewSettings | None) -> None:
        """The layout, lecture mode and font scales saved by the last window closed (settings None: the defaults,
        at the text size shown now, and nothing is saved)."""
        self.view_settings = settings
        self._normal_geometry = None  # the window's place before lecture mode made it full screen
        self.layouts: dict[str, object] = {"normal": None, "lecture": None}  # saveState() of each mode's docks
        self.font_scales = {"normal": NORMAL_SCALE if settings else font_scale(), "lecture": LECTURE_SCALE}
        self.lecture_panels = LECTURE_PANELS
        if settings is not None:
            self.font_scales = {mode: settings.scale(mode) for mode in self.font_scales}
            self.layouts = {mode: settings.layout(mode) for mode in self.layouts}
            self.lecture_panels = settings.lecture_panels()
            geometry = settings.store.value("normal/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            if self.layouts["normal"] is not None:
                self.restoreState(self.layouts["normal"], SETTINGS_VERSION)
        self._check_lecture_panels()
        self._apply_font_scale()
        if settings is not None and settings.lecture():
            self.set_lecture_mode(True)

    def set_lecture_mode(self, on: bool) -> None:
        """Lecture mode (F11; F11 or Esc leaves it): full screen, the lecture font scale, the compact toolbar instead
        of the Controls dock, and only the panels chosen for it; each mode keeps its own layout."""
        if on == self.lecture:
            self.lecture_action.setChecked(on)
            return
        self.layouts[self.mode] = self.saveState(SETTINGS_VERSION)
        self.lecture = on
        if on:
            self._normal_geometry = self.saveGeometry()
            self._arrange_lecture()
            if self.layouts["lecture"] is not None:
                self.restoreState(self.layouts["lecture"], SETTINGS_VERSION)
            self.docks["Controls"].hide()
            self.lecture_bar.setVisible(self.worker is not None)  # a recorded run has nothing to run
            self.statusBar().hide()  # its small print is no use to a class; the room is
            self.showFullScreen()
        else:
            self.lecture_panels = tuple(title for title in self.panels if self.docks[title].isVisible())
            self.lecture_bar.hide()
            self.statusBar().show()
            self.showNormal()
            if self._normal_geometry is not None:
                self.restoreGeometry(self._normal_geometry)
            if self.layouts["normal"] is not None:
                self.restoreState(self.layouts["normal"], SETTINGS_VERSION)
            else:
                self.restore_layout()
        self.lecture_action.setChecked(on)
        self._check_lecture_panels()
        self._apply_font_scale()
        self._save_view()

    @property
    def mode(self) -> str:
        return "lecture" if self.lecture else "normal"

    def _arrange_lecture(self) -> None:
        """The chosen panels in columns of even width (side by side up to two; three, the first takes the whole left
        side, the other two stack on the right; 2 x 2 for four), nothing else but the compact toolbar."""
        chosen = [title for title in self.panels if title in self.lecture_panels] or [next(iter(self.panels))]
        for title, dock in self.docks.items():
            dock.setFloating(False)
            if title not in chosen:  # out of the layout, not just hidden: a hidden dock's place still takes height
                self.removeDockWidget(dock)
        self.timeline_bar.hide()
        columns = len(chosen) if len(chosen) <= 2 else math.ceil(math.sqrt(len(chosen)))
        stacks = [[title] for title in chosen[:columns]]  # a column each, top to bottom
        below = chosen[columns:]
        first = (columns - len(below) % columns) % columns  # a short last row goes to the right: the left stays tall
        for index, title in enumerate(below):
            stacks[(first + index) % columns].append(title)
        for title in chosen:
            self.docks[title].show()
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.docks[stacks[0][0]])
        for left, right in zip(stacks, stacks[1:], strict=False):
            self.splitDockWidget(self.docks[left[0]], self.docks[right[0]], Qt.Orientation.Horizontal)
        for stack in stacks:
            for above, under in zip(stack, stack[1:], strict=False):
                self.splitDockWidget(self.docks[above], self.docks[under], Qt.Orientation.Vertical)
        screen = self.screen().geometry()
        self.resizeDocks([self.docks[stack[0]] for stack in stacks], [screen.width() // columns] * columns,
                         Qt.Orientation.Horizontal)  # fmt: skip
        for stack in stacks:
            self.resizeDocks([self.docks[title] for title in stack], [screen.height() // len(stack)] * len(stack),
                             Qt.Orientation.Vertical)  # fmt: skip

    def _toggle_lecture_panel(self, title: str) -> None:
        """View > Panels in lecture mode: show `title` in lecture mode or not (at once, when in it)."""
        if self.lecture:
            self.lecture_panels = tuple(shown for shown in self.panels if self.docks[shown].isVisible())
        chosen = set(self.lecture_panels) ^ {title}
        self.lecture_panels = tuple(shown for shown in self.panels if shown in chosen)
        if self.lecture:
            self._arrange_lecture()
        self._check_lecture_panels()
        self._save_view()

    def _check_lecture_panels(self) -> None:
        for title, action in self.lecture_panel_actions.items():
            action.setChecked(title in self.lecture_panels)

    def step_font_scale(self, steps: int) -> None:
        """Ctrl+plus (1) / Ctrl+minus (-1): the next larger or smaller text size of this mode."""
        self.set_font_scale(step_scale(self.font_scales[self.mode], steps))

    def set_font_scale(self, scale: float | None) -> None:
        """This mode's font scale (None: its default, Ctrl+0): fonts, fixed sizes and line widths everywhere."""
        self.font_scales[self.mode] = scale or (LECTURE_SCALE if self.lecture else NORMAL_SCALE)
        self._apply_font_scale()
        self._save_view()
        where = "in lecture mode" if self.lecture else ""
        self.statusBar().showMessage(f"text size {self.font_scales[self.mode]:g}x {where} (Ctrl+0: default)", NOTICE_MS)

    def _apply_font_scale(self) -> None:
        for title in self.panels:  # the docks' title bars stay small: their room goes to the plots, which scale
            self.docks[title].setFont(unscaled_font())
        set_font_scale(self.font_scales[self.mode])  # every window's plots and widgets
        for panel in self.panels.values():
            panel.fit_minimum_height()

    def _save_view(self) -> None:
        """Remember the layout of the mode shown, lecture mode and the font scales for the next launch."""
        if self.view_settings is None:
            return
        self.layouts[self.mode] = self.saveState(SETTINGS_VERSION)
        self.view_settings.save(self.lecture, self.font_scales, self.layouts, self.lecture_panels)
        geometry = self._normal_geometry if self.lecture else self.saveGeometry()
        if geometry is not None:
            self.view_settings.store.setValue("normal/geometry", geometry)

    def restore_default_view(self) -> None:
        """View > Restore default layout: out of lecture mode, default text sizes, lecture panels and docks, and
        nothing remembered but that."""
        if self.lecture:
            self.set_lecture_mode(False)
        self.layouts = {"normal": None, "lecture": None}
        self.font_scales = {"normal": NORMAL_SCALE, "lecture": LECTURE_SCALE}
        self.lecture_panels = LECTURE_PANELS
        self._check_lecture_panels()
        self._apply_font_scale()
        self.timeline_bar.show()
        self.restore_layout()
        if self.view_settings is not None:
            self.view_settings.clear()

    # ---- drawing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw the newest snapshot, if the worker published one and the GUI thread is within its share of the time.

        What the thread used since the last tick (CPU time: the last frame's drawing and the painting
        Qt did after it, whenever its paint events came) is paid from the budget; a costly frame is
        repaid by waiting cost × (1 - share) / share."""
        now, used = time.perf_counter(), time.thread_time()
        earned, spent = (now - self._last_tick) * DRAW_SHARE, used - self._last_cpu
        self._draw_budget = min(self._draw_budget + earned - spent, DRAW_BURST_S)
        self._last_tick, self._last_cpu = now, used
        if self._draw_budget < 0:
            if self.worker is not None and not self.worker.mailbox.empty:  # a snapshot waits: drawing is the limit
                self._draw_limited_at = now
            return
        if self._staggered_panels:
            self._draw_next_panel()
            return
        self._refresh_history()
        snapshot = self.worker.mailbox.take() if self.worker is not None else None
        if snapshot is not None:
            self.draw(snapshot, staggered=is_large(snapshot))

    def draw(self, snapshot: Snapshot, staggered: bool = False) -> None:
        """Take in a snapshot from the worker: the panels draw it when live (not scrubbed back); `staggered`: a
        panel at each tick of the timer (see is_large)."""
        previous = self.last_snapshot
        self.last_snapshot = snapshot
        if snapshot.run_dir != self.history.run_dir:  # a new run (reset, new model, load, fork): its timeline, live
            self._follow_run(snapshot.run_dir)
        config_changed = previous is None or snapshot.config != previous.config
        # A command run since the last frame makes its message news, even a repeated one ("" hides the bar).
        before = (previous.message, previous.commands_done) if previous is not None else ("", 0)
        new_message = (snapshot.message, snapshot.commands_done) != before
        settled = snapshot.commands_done == self.worker.commands_sent  # every request made so far is in it
        if settled:  # an older snapshot must not undo a Start or Pause the worker has yet to see
            self._want_running = snapshot.running
        controls_outdated = settled and snapshot.config != self.controls.config
        if controls_outdated:
            self.controls.show_config(snapshot.config)  # a loaded checkpoint, or a refused change undone
        if config_changed or controls_outdated:
            self._show_title(snapshot.config)
        if self.history.live:
            self._show_on_panels(snapshot, staggered)
            self.timeline.show_live(snapshot.step)
        else:  # scrubbed back: the recorded step stays, training's curves grow past it
            self.timeline.set_newest(snapshot.step)
            if self.shown_snapshot is not None and self.history.shown is not None:
                self.shown_snapshot = dataclasses.replace(self.shown_snapshot, metrics=snapshot.metrics)
                self.panels["Training"].update_snapshot(self.shown_snapshot)
        if new_message:
            self.show_message(snapshot.message)
        self.controls.set_running(snapshot.running)
        self.lecture_bar.set_running(snapshot.running)
        if not self._staggered_panels:
            self._frame_done()

    def _frame_done(self) -> None:
        self._frame_times.append(time.perf_counter())
        if self.last_snapshot is not None:
            self._show_status(self.last_snapshot)
        self.drawn.emit()

    def _show_on_panels(self, snapshot: Snapshot, staggered: bool = False) -> None:
        """Every panel draws `snapshot` (live or recorded: they do not know which); `staggered`: one at each of the
        next ticks of the timer (_draw_next_panel), else all now."""
        previous, self.shown_snapshot = self.shown_snapshot, snapshot
        if snapshot.trace is not None:
            self._traced_snapshot = snapshot
        if previous is None or snapshot.config != previous.config or snapshot.trace is not None:
            self.select(self.selection, redraw=False)  # kept inside this model and probe
        self._staggered_panels = self._shown_panels() if staggered else []
        if not staggered:
            self._each_panel("update_snapshot", snapshot)
        self.controls.show_probe(snapshot)
        self.panels["Training"].show_cursor(None if self.history.live else snapshot.step)

    def _draw_next_panel(self) -> None:
        """The next panel of a staggered frame draws the snapshot shown; after the last, the frame is done."""
        _call(self._staggered_panels.pop(0), "update_snapshot", self.shown_snapshot)
        if not self._staggered_panels and self.last_snapshot is not None:
            self._frame_done()

    def select(self, selection: Selection, redraw: bool = True) -> None:
        """Show this selection in every panel, kept inside the current model and probe sequence.
        redraw=False: only when it changed (the panels are about to draw a new snapshot anyway)."""
        shown = self.shown_snapshot or self.last_snapshot
        config = self.controls.config if shown is None else shown.config
        trace = shown.trace if shown is not None else None
        steps = trace[trace.names[0]].shape[2] if trace is not None else None  # (layers, directions, T, H)
        inside = selection.within(config.layers, 2 if config.bidirectional else 1, config.hidden, steps)
        changed, self.selection = inside != self.selection, inside
        if redraw or changed:
            self._each_panel("set_selection", inside)
        self.controls.set_unit(inside.unit, inside.timestep)

    def step_timestep(self, change: int) -> None:
        """Select the timestep `change` steps later (earlier if negative), as Alt+→ / Alt+← do."""
        self.select(self.selection.moved(timestep=self.selection.timestep + change))

    def _each_panel(self, method: str, *args) -> None:
        """Call a panel method on every panel on screen (the others catch up when shown); a bug in one is reported
        and the others still draw."""
        for panel in self._shown_panels():
            _call(panel, method, *args)

    def _shown_panels(self) -> list:
        """The panels on screen; the others are marked to catch up when shown."""
        self._behind_panels |= self._hidden_panels
        return [panel for title, panel in self.panels.items() if title not in self._hidden_panels]

    def _panel_shown(self, title: str, shown: bool) -> None:
        """A panel's dock came on screen or left it: one that missed a snapshot or a selection draws them now."""
        if not shown:
            self._hidden_panels.add(title)
            return
        self._hidden_panels.discard(title)
        if title in self._behind_panels:
            self._catch_up(title)

    def _catch_up(self, title: str) -> None:
        """Panel `title` draws the selection and the snapshot shown (a trace panel the newest trace: a snapshot
        without one keeps the last picture), which it missed while hidden."""
        self._behind_panels.discard(title)
        panel = self.panels[title]
        _call(panel, "set_selection", self.selection)
        traced, shown = self._traced_snapshot, self.shown_snapshot
        if isinstance(panel, TracePanel) and traced is not None and traced is not shown:
            _call(panel, "update_snapshot", traced)
        if shown is not None:
            _call(panel, "update_snapshot", shown)

    def show_message(self, message: str) -> None:
        """Show `message` in the message bar; an empty message hides it. A notice hides itself after NOTICE_MS."""
        self.notice_timer.stop()
        if not message:
            self.message_bar.hide()
            return
        if is_notice(message):
            self.notice_timer.start()
        style = NOTICE_STYLE if is_notice(message) else WARNING_STYLE if is_warning(message) else ERROR_STYLE
        self.message_bar.show_text(message, style)
        self._place_message_bar()

    def show_note(self, note: str) -> None:
        """A preset's "what to watch" note in its own bar under the menus, for NOTE_MS or until closed."""
        self.note_bar.show_text(f"{NOTE_MARK}{note}", NOTE_STYLE)
        self.note_timer.start()

    def _show_status(self, snapshot: Snapshot) -> None:
        losses = snapshot.metrics.get("loss", np.empty(0))
        loss = f"loss {losses[-1]:.4g} (no-memory baseline {snapshot.baseline_loss:.4g})" if len(losses) else ""
        if snapshot.running:
            limited = time.perf_counter() - self._draw_limited_at < PACE_WINDOW_S
            pace = frame_pace(list(self._frame_times), time.perf_counter(), snapshot.steps_per_s, limited)
            steps_per_s = f"{snapshot.steps_per_s:.0f}" if snapshot.steps_per_s >= 10 else f"{snapshot.steps_per_s:.2g}"
            limit = f" (limited to {speed_text(self.speed_limit)})" if self.speed_limit is not None else ""
            state = f"training · step {snapshot.step} · {steps_per_s} steps/s{limit} · {pace}"
        else:
            state = f"paused · step {snapshot.step}"
        if not self.history.live and self.history.shown is not None:  # scrubbed back; training goes on
            training = f"training goes on ({snapshot.steps_per_s:.0f} steps/s)" if snapshot.running else "paused"
            state, loss = f"viewing step {self.history.shown} of {snapshot.step} · End for live · {training}", ""
        self.status_label.setText(f"{state} · {loss}" if loss else state)

    def _show_title(self, config: RunConfig) -> None:
        self.lecture_bar.show_config(config, self.controls.preset_name)
        if self.worker is None:
            self.setWindowTitle(f"lstm_viz — {self.history.path} (recorded run, read-only)")
            return
        preset = self.controls.preset_name
        self.setWindowTitle(f"lstm_viz — {preset or f'{config.task}, custom settings'}")
        if self.equations is not None and self.equations.isVisible():
            self.equations.setText(equations_html(config.cell))
        watch = self.controls.preset_info.get(preset, {}).get("watch", "") if preset else ""
        if watch and preset not in self.noted_presets:  # once per preset: a Reset does not say it again
            self.noted_presets.add(preset)
            self.show_note(f"{preset}: {watch}")

    def set_speed(self, steps_per_s: float | None) -> None:
        """Train at most `steps_per_s` steps a second (None: full speed); the control shows it."""
        self.speed_limit = steps_per_s
        self.controls.speed.set_speed(steps_per_s)
        if self.lecture_bar.speed is not None:  # lecture mode's copy of the slider
            self.lecture_bar.speed.set_speed(steps_per_s)
        if self.worker is not None:
            self.worker.set_speed(steps_per_s)

    def show_help(self, title: str, anchor: QWidget) -> None:
        """The "?" of dock `title`: what the panel draws and what to look for, under the button."""
        shown = self.shown_snapshot or self.last_snapshot
        task = (shown.config if shown is not None else self.controls.config).task
        self.help_popup.show_text(panel_help(title, task), anchor)

    def show_equations(self) -> None:
        """Help > Equations: the current cell type's equations, in a window that does not block training."""
        shown = self.shown_snapshot or self.last_snapshot
        cell = (shown.config if shown is not None else self.controls.config).cell
        nonlinearity = shown.trace.nonlinearity if shown is not None and shown.trace is not None else "tanh"
        if self.equations is None:
            self.equations = QMessageBox(QMessageBox.Icon.NoIcon, "Equations", "", QMessageBox.StandardButton.Close,
                                         self)  # fmt: skip
            self.equations.setModal(False)
            self.equations.setTextFormat(Qt.TextFormat.RichText)
        self.equations.setText(equations_html(cell, nonlinearity))
        self.equations.show()

    # ---- history: the timeline, recorded steps, runs opened read-only ----------------------------
    def _build_timeline(self) -> None:
        """The timeline in a fixed bar along the bottom of the window, under the docks."""
        self.timeline = Timeline(read_only=self.worker is None)
        self.timeline_bar = QToolBar("Timeline", self)
        self.timeline_bar.setObjectName("Timeline")
        self.timeline_bar.setMovable(False)
        self.timeline_bar.setFloatable(False)
        self.timeline_bar.addWidget(self.timeline)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.timeline_bar)
        self.timeline.step_requested.connect(self.show_step)
        self.timeline.live_requested.connect(self.go_live)
        self.timeline.fork_requested.connect(self.fork_here)
        self._writer_state = ""  # a recorded run's writer: "writing", "finished" or "stopped"
        self.first_view: tuple[str, int | None] | None = None  # what a run opened read-only shows when shown
        if self.worker is None:
            run_config = self.history.run.config if self.history.run is not None else None
            self.controls.set_read_only(own_model=run_config is not None and run_config.task == "own")
            self.timeline.set_records(self.history.steps, "no records yet")
            self.panels["Training"].show_events(self.history.events)
            self._writer_state = self._writer_now()

    @property
    def newest_step(self) -> int | None:
        """The newest step there is: training's, or the last record of a run opened read-only."""
        if self.worker is not None:
            return self.last_snapshot.step if self.last_snapshot is not None else None
        steps = self.history.steps
        return int(steps[-1]) if len(steps) else None

    def show_step(self, step: int) -> None:
        """Show recorded `step` (the slider, ←/→, Home): the timeline moves at once, the panels at the next frame."""
        self.history.request(step)
        self.timeline.show_step(step, max(self.newest_step or step, step))

    def go_live(self) -> None:
        """Back to the newest step (End), following it: training's, or the newest record of a run opened read-only."""
        self.history.go_live()
        if self.worker is None:
            self._show_newest_record()
        elif self.last_snapshot is not None:
            self._show_on_panels(self.last_snapshot)
            self.timeline.show_live(self.last_snapshot.step)
            self._show_status(self.last_snapshot)

    def fork_here(self) -> None:
        """A new run from the weights and settings recorded at the shown step, with a fresh optimizer; back to live."""
        if self.worker is None or self.history.live or self.history.shown is None or self.history.path is None:
            return
        self.worker.fork(self.history.path, self.history.shown)
        self.go_live()

    def _follow_run(self, run_dir: str) -> None:
        """The worker trains a new run (recorded in `run_dir`, "" if not): its timeline, live."""
        message = self.history.follow(run_dir)
        if message:
            self.show_message(message)
        self.timeline.set_records(self.history.steps, "no records yet" if run_dir else "this run is not recorded")
        self.timeline.show_live(None)
        self.panels["Training"].show_events(self.history.events)

    def _refresh_history(self) -> None:
        """At every frame: now and then list the run again (new records, events, the writer's state); draw the
        recorded step the user asked for last, or, following a recorded run, its newest record."""
        refreshed = self.history.due_refresh()
        if refreshed is not None:
            changed, message = refreshed
            if message:
                self.show_message(message)
            if changed:
                missing = "run folder deleted" if self.history.lost else "no records yet"
                self.timeline.set_records(self.history.steps, missing)
                self.panels["Training"].show_events(self.history.events)
            if self.worker is None:
                self._follow_recorded_run(changed)
        wanted = self.history.take_wanted()
        if wanted is not None:
            self._draw_record(wanted)

    def _follow_recorded_run(self, changed: bool) -> None:
        """A run opened read-only: show its newest record when live, grow its curves, notice when its writer ends."""
        if changed and not self.history.lost:
            steps = self.history.steps
            if self.history.live and len(steps) and steps[-1] != self.history.shown:
                self._show_newest_record()
            else:  # more metrics: the curves grow, the rest stays
                self._grow_curves()
        state = self._writer_now()
        if state != self._writer_state:
            self._writer_state = state
            self._grow_curves(force=True)  # every row the writer wrote
            newest = self.newest_step
            if state == "finished":
                self.show_message(f"{NOTICE_MARK}The run finished at step {newest}.")
            elif state == "stopped":
                self.show_message(
                    f"The writer of this run stopped at step {newest} without finishing (killed?); "
                    "what it recorded stays readable."
                )
            self._show_viewer_status()

    def _writer_now(self) -> str:
        run = self.history.run
        if run is None or self.history.lost:
            return self._writer_state
        return "finished" if run.finished else "writing" if run.writer_alive else "stopped"

    def _recorded_metrics(self, force: bool = False) -> dict | None:
        metrics, message = self.history.metrics(force)
        if message:
            self.show_message(message)
        return metrics

    def _grow_curves(self, force: bool = False) -> None:
        """A run opened read-only has more metrics: the training curves show them, the rest stays."""
        metrics = self._recorded_metrics(force)
        if self.shown_snapshot is not None and metrics is not None and metrics is not self.shown_snapshot.metrics:
            self.shown_snapshot = dataclasses.replace(self.shown_snapshot, metrics=metrics)
            self.panels["Training"].update_snapshot(self.shown_snapshot)
        self._show_viewer_status()

    def _show_newest_record(self) -> None:
        steps = self.history.steps
        if not len(steps):
            self.timeline.set_records(steps, "waiting for the first record" if self._writer_state == "writing" else "")
            self.timeline.show_live(None)
            self._show_viewer_status()
            return
        self._draw_record(int(steps[-1]))

    def _draw_record(self, step: int) -> None:
        """Draw the record of `step` on every panel; if it cannot be read, say why and keep the picture."""
        newest = max(self.newest_step or step, step)
        if self.worker is not None:  # the live run's metrics, fresher than its metrics.csv and not read again
            metrics = self.last_snapshot.metrics if self.last_snapshot is not None else None
        else:
            metrics = self._recorded_metrics()
        snapshot, error = self.history.load(step, metrics)
        if snapshot is None:
            self.show_message(error)
            if not self.history.live:
                self.timeline.show_step(step, newest, note="unreadable")
            return
        self._show_on_panels(snapshot)
        if self.history.live:
            self.timeline.show_live(step, "newest record" if self._writer_state != "writing" else "following")
        else:
            self.timeline.show_step(step, newest)
        if self.worker is None:
            if snapshot.config != self.controls.config:
                self.controls.show_config(snapshot.config)  # the settings at that step
            self._show_viewer_status()
        elif self.last_snapshot is not None:
            self._show_status(self.last_snapshot)
        self.drawn.emit()

    def _show_viewer_status(self) -> None:
        shown, newest = self.history.shown, self.newest_step
        where = f"step {shown} of {newest}" if shown is not None else "no records yet"
        state = {
            "writing": "being written: new records show as they come" + (" (End)" if not self.history.live else ""),
            "finished": "finished",
            "stopped": "its writer stopped without finishing",
        }.get(self._writer_state, "")
        self.status_label.setText(" · ".join(part for part in ("recorded run, read-only", where, state) if part))

    def open_run_dialog(self, path: str | None = None) -> MainWindow | None:
        """File > Open run…: the run in a window of its own, read-only (training here goes on); a message if
        the folder is no run it can show."""
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Open a run directory", str(self.runs_dir or ""))
        if not path:
            return None
        try:
            viewer = open_viewer(open_run(path), remember_view=False)
        except ConfigError as error:
            self.show_message(f"Cannot open run: {error}")
            return None
        self.viewers = [window for window in self.viewers if window.isVisible()] + [viewer]  # closed ones let go
        viewer.show()
        return viewer

    # ---- comparisons ---------------------------------------------------------------------------
    def open_compare_dialog(self) -> CompareDialog:
        """Run > Compare… (and Compare… beside the preset): pick a setting and its values; OK trains the variants
        of the current settings side by side in a window of their own."""
        from lstm_viz.gui.compare.dialog import CompareDialog

        dialog = CompareDialog(self.controls.config, self)
        dialog.accepted.connect(lambda: self.start_comparison(dialog.comparison))
        self.compare_dialog = dialog
        dialog.open()
        return dialog

    def start_comparison(self, comparison) -> CompareWindow:
        """`comparison` training in a window of its own, recorded as this window's runs are; this run pauses (the
        two would share the processor), Start here goes on with it."""
        from lstm_viz.gui.compare.window import live_compare_window

        paused = self._want_running
        if paused:
            self.start_pause()
        name = self.controls.preset_name or self.controls.config.task
        window = live_compare_window(comparison, name, self.runs_dir, self.history_mb)
        self.comparisons = [shown for shown in self.comparisons if shown.isVisible()] + [window]
        screen = self.screen().availableGeometry()
        window.resize(min(1600, screen.width()), min(950, screen.height()))
        window.show()
        window.worker.start()
        here = "; this run is paused (Start goes on with it)" if paused else ""
        self.show_message(f"{NOTICE_MARK}Comparing {comparison.setting} = {' / '.join(comparison.labels)} in a "
                          f"window of its own{here}.")  # fmt: skip
        return window

    # ---- commands ----------------------------------------------------------------------------
    def start_pause(self) -> None:
        if self.worker is None:
            return
        self._want_running = not self._want_running
        if self._want_running:
            self.worker.start()
        else:
            self.worker.pause()

    def reset(self) -> None:
        if self.worker is not None:
            self.worker.reset(self.controls.config)

    def open_text(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Train on a text file", self.last_folder, TEXT_FILTER)
        if path:
            self.last_folder = str(Path(path).parent)
            self.controls.choose_text(path)

    def load_checkpoint(self, path: str | None = None) -> None:
        if self.worker is None:
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Load checkpoint", self.last_folder, "Checkpoints (*.pt);;All files (*)"
            )
        if path:
            self.last_folder = str(Path(path).parent)
            self.worker.load_checkpoint(Path(path))

    def save_checkpoint(self, path: str | None = None) -> None:
        if self.worker is None:
            return
        if path is None:
            suggested = str(Path(self.last_folder) / "checkpoint.pt")
            path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", suggested, "Checkpoints (*.pt)")
        if path:
            self.last_folder = str(Path(path).parent)
            self.worker.save_checkpoint(Path(path))

    def export_panels(self, kind: str, folder: str | None = None) -> None:
        """Each panel as it is on screen, named with the step it shows: PANEL_stepN.png, or .svg with text and
        curves as vector graphics. Files of these names already in the folder are replaced only if the user agrees."""
        if folder is None:
            caption = f"Export panels as {kind.upper()} into folder"
            folder = QFileDialog.getExistingDirectory(self, caption, self.last_folder)
        if not folder:
            return
        self.last_folder = folder
        shown = self.panels["Gates"].snapshot  # what the panels show
        step = shown.step if shown is not None else 0
        paths = {title: Path(folder) / f"{title.lower().replace(' ', '_')}_step{step}.{kind}" for title in self.panels}
        if not self._may_replace([path for path in paths.values() if path.exists()]):
            return
        for title in list(self._behind_panels):  # a tab behind another, drawn as it would be shown
            self._catch_up(title)
        written = 0
        for title, panel in self.panels.items():
            path = str(paths[title])
            written += panel.grab().save(path) if kind == "png" else _save_svg(panel, path)
        if written == len(self.panels):
            self.show_message(f"{NOTICE_MARK}Exported {written} {kind.upper()} files to {folder}")
        else:
            self.show_message(f"Could not write {kind.upper()} files to {folder}; choose a folder you can write to")

    def export_metrics(self, path: str | None = None) -> None:
        """Every step's metrics up to the last snapshot, one row per step, like a run's metrics.csv (a live run
        longer than the rows kept in memory has its older rows read back from its metrics.csv)."""
        snapshot = self.last_snapshot or self.shown_snapshot
        if snapshot is None:
            return
        metrics = snapshot.metrics
        if snapshot.metrics_envelope is not None and snapshot.run_dir:
            metrics = whole_run_metrics(snapshot.run_dir, metrics)
        if path is None:  # named with its last step: a later export does not overwrite it
            name = f"metrics_step{int(metrics['step'][-1]) if len(metrics['step']) else 0}.csv"
            suggested = str(Path(self.last_folder) / name)
            path, _ = QFileDialog.getSaveFileName(self, "Export metrics", suggested, "CSV files (*.csv)")
        if not path:
            return
        self.last_folder = str(Path(path).parent)
        table = np.stack(list(metrics.values()), axis=1)  # (steps, columns)
        buffer = io.StringIO()
        buffer.write(",".join(metrics) + "\n")
        np.savetxt(buffer, table, fmt=["%d" if name in INTEGER_COLUMNS else "%.9g" for name in metrics], delimiter=",")
        try:
            atomic_write_text(path, buffer.getvalue())
        except ConfigError as error:
            self.show_message(str(error))
            return
        self.show_message(f"{NOTICE_MARK}Exported {len(table)} steps of metrics to {path}")

    def _may_replace(self, existing: list[Path]) -> bool:
        """True if no file is in the way, or the user agrees to replace those that are."""
        if not existing:
            return True
        names = ", ".join(path.name for path in existing)
        answer = QMessageBox.question(
            self,
            "Replace files?",
            f"{len(existing)} of the files are already in {existing[0].parent}: {names}. Replace them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for key, what in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About lstm_viz", ABOUT.format(version=__version__))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """A run opened read-only draws its first frame once the window is laid out: before that, the linked time
        axes of plots of different widths would be matched up wrongly (0..11 of 32 timesteps)."""
        super().showEvent(event)
        QTimer.singleShot(0, self._place_message_bar)  # a message said before the window was laid out
        if self.first_view is not None:
            kind, step = self.first_view
            self.first_view = None
            if kind == "newest":
                self.go_live()
            else:
                self.show_step(step)
                self._refresh_history()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._save_view()
        self.timer.stop()
        if self.worker is not None:
            self.worker.stop()
        for window in self.viewers + self.comparisons:
            window.close()
        super().closeEvent(event)


def _call(panel, method: str, *args) -> None:
    """panel.method(*args); a bug in one panel is reported and the others still draw."""
    try:
        getattr(panel, method)(*args)
    except Exception:
        sys.excepthook(*sys.exc_info())


def is_large(snapshot: Snapshot) -> bool:
    """A trace of STAGGER_CELLS values per quantity or more: its frames are drawn a panel per tick."""
    trace = snapshot.trace
    return trace is not None and trace["hidden"].size >= STAGGER_CELLS


def frame_pace(frame_times: list[float], now: float, steps_per_s: float, limited: bool = False) -> str:
    """What the status bar says of the pace of drawing: '12 frames/s' over the frames of the last PACE_WINDOW_S,
    'a frame every 2.5 s' below one a second, and why when it is not the window's usual ~10: the worker publishes
    between steps, so a frame per step is the most a slow model gives; `limited`: drawing itself takes the GUI
    thread's share (a huge model slows the picture, not the window)."""
    recent = [at for at in frame_times if now - at < PACE_WINDOW_S]
    if len(recent) < 2:
        return "a frame every >10 s" if len(frame_times) >= 2 else "first frames"
    interval = max((recent[-1] - recent[0]) / (len(recent) - 1), now - recent[-1])
    pace = f"{1 / interval:.0f} frames/s" if interval <= 1 else f"a frame every {interval:.1f} s"
    if limited:
        return f"{pace} (drawing is the limit)"
    if 0 < steps_per_s < 10 and 1 / interval > 0.7 * steps_per_s:
        return f"{pace} (a frame per training step)"
    return pace


def open_viewer(run: Run, step: int | None = None, remember_view: bool = True) -> MainWindow:
    """A window showing recorded `run` read-only, at `step` or following its newest record; ConfigError if the
    run has nothing it can show (no record and no settings, or a record that cannot be read). remember_view: as
    MainWindow's (a run opened from a window takes the text size there and no remembered layout)."""
    steps = run.steps
    if step is not None or len(steps):
        shown = int(steps[-1]) if step is None else int(step)
        config = run.snapshot(shown).config  # the first frame: any problem is the caller's, before a window opens
    elif run.config is not None and run.writer_alive:
        config = run.config  # no record yet: the window waits for the first
    else:
        raise ConfigError(f"run '{run.path}' has no history records to show (trained with --history-mb 0?)")
    window = MainWindow(config, run=run, remember_view=remember_view)
    window.first_view = ("step", int(step)) if step is not None else ("newest", None)
    return window


def _save_svg(widget: QWidget, path: str) -> bool:
    """Render `widget` into an SVG file (pyqtgraph's SVG exporter fails with this Qt: pyqtgraph#3485)."""
    from PyQt6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    generator.setTitle(widget.window().windowTitle())
    painter = QPainter()
    if not painter.begin(generator):
        return False
    widget.render(painter)
    return painter.end()
