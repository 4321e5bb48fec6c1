"""The Controls dock: every setting of the run, the run buttons and what the panels show.

It keeps the RunConfig the user asked for and emits it; the window sends it to the worker,
which applies live settings (learning rate, clipping, temperature) from the next step and
starts a new model for anything else. show_config() puts a config on the widgets without
emitting anything, so after a preset load or a refused change they show what is running.
"""

from __future__ import annotations

import bisect
import math
from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut, QValidator
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lstm_viz.core.config import (
    BUILTIN_TEXTS,
    MAX_BATCH,
    MAX_CHRONO_T_MAX,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_PROBE_CHARS,
    MAX_SEQ_LEN,
    MIN_CHRONO_T_MAX,
    NEXT_STEP_TASKS,
    Clip,
    ConfigError,
    RunConfig,
    chrono_t_max,
    is_preset,
    load_preset,
    preset_info,
    preset_names,
)
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.core.tasks.chars import HIHELLO, probe_ids
from lstm_viz.gui.speed import SpeedControl

TASK_LABELS = {
    "sine": "sine: next value",
    "chars": "chars: next character",
    "adding": "adding problem",
    "copy": "copy: repeat 10 symbols",
    "digits": "digits: classify row by row",
}
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD (momentum)", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
CLIP_LABELS = {"off": "off", "norm": "global norm", "value": "each value"}
DIRECTION_LABELS = ("forward →", "backward ←")
FORGET_BIAS_LABELS = {"constant": "constant", "chrono": "chrono, T_max"}
LIVE_TIP = "Applies from the next step; training goes on."
RESET_TIP = "Changing this starts a new model at step 0."
SEQ_LEN_TIP = (
    "Timesteps per sequence (and in the probe the panels show); for the copy task its gap T (sequences are T + 20 "
    "long). " + RESET_TIP
)
NO_SEQ_LEN_TIP = "The digits are 8 rows of 8 pixels: always 8 timesteps."
FORGET_BIAS_TIP = (
    "LSTM gate biases at init. Constant: the forget gate's bias (1 or more keeps memories early on). "
    "Chrono (Tallec & Ollivier 2018): each unit's forget bias is log u, u ~ U(1, T_max − 1), and its input "
    "gate bias minus that, so the units start with memory time scales spread up to T_max steps (set T_max "
    "to the longest dependency). " + RESET_TIP
)
BIDIRECTIONAL_TIP = "A second direction reads the sequence backwards. " + RESET_TIP
PROBE_TIP = (
    "The text every panel shows the model on: type or paste up to {limit} characters the model knows, then Show "
    "(Ctrl+Enter). The model reads each character but the last and is scored on predicting the next one: those "
    "next characters are the targets the gradients through time flow back from. Default goes back to a window of "
    "the training text. " + LIVE_TIP
).format(limit=MAX_PROBE_CHARS)
NO_PROBE_TIP = "Only character models read a text: this task's probe is drawn from its own data."
PROBE_LINES = 3
NO_BIDIRECTIONAL_TIP = (
    "Off for next-step tasks (sine, chars): the target at t is the input at t+1, which a backward direction "
    "would already have read. The adding problem, copy and digits can use it."
)


class LogSpinBox(QDoubleSpinBox):
    """A positive number shown as 0.001 / 1e-05, stepping through 1, 2, 5 × 10^k."""

    LADDER = [mantissa * 10.0**exponent for exponent in range(-8, 6) for mantissa in (1.0, 2.0, 5.0)]

    def __init__(self, minimum: float, maximum: float) -> None:
        super().__init__()
        self.setDecimals(12)  # the displayed text is %g; this only stops Qt rounding the value
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, position: int):
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, position
        state = (
            QValidator.State.Acceptable if self.minimum() <= value <= self.maximum() else QValidator.State.Intermediate
        )
        return state, text, position

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        below = bisect.bisect_left(self.LADDER, value * (1 - 1e-9))  # first rung >= value
        on_rung = below < len(self.LADDER) and math.isclose(self.LADDER[below], value, rel_tol=1e-9)
        index = below + steps if on_rung or steps < 0 else below + steps - 1
        index = min(max(index, 0), len(self.LADDER) - 1)
        self.setValue(self.LADDER[index])


class ControlsPanel(QWidget):
    apply_requested = pyqtSignal(object)  # RunConfig: an edited setting (live, or a new model if it must)
    reset_requested = pyqtSignal(object)  # RunConfig: a new model at step 0 (Reset, preset)
    start_pause_clicked = pyqtSignal()
    step_clicked = pyqtSignal()
    open_text_clicked = pyqtSignal()
    compare_clicked = pyqtSignal()  # Compare…: variants of these settings side by side
    selection_changed = pyqtSignal(int, int)  # layer, direction shown by the panels
    error = pyqtSignal(str)  # a setting the core refused

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config
        self.presets = _valid_presets()
        self.preset_info = {name: preset_info(name) for name in self.presets}  # description, watch

        self.preset = QComboBox()
        self.preset.addItems(list(self.presets))
        self.preset.setPlaceholderText("custom settings")
        self.preset.setToolTip("Load a ready-made experiment; this starts a new model.")
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Train 2 to 4 variants of these settings side by side (Run ▸ Compare…)")
        self.start_pause = QPushButton("Start")
        self.start_pause.setToolTip("Start or pause training (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Pause and train exactly one step (S)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("A new model from these settings, at step 0 (R)")
        self.speed = SpeedControl()
        self.preset_description = QLabel()  # what the chosen preset shows, for a student
        self.preset_description.setObjectName("preset_description")
        self.preset_description.setWordWrap(True)
        self.preset_description.setStyleSheet("color: palette(text); padding: 2px 0px 4px 0px;")

        self.task = _combo(TASK_LABELS, RESET_TIP)
        self.text = QComboBox()
        self.text.setToolTip("The text the character model learns. " + RESET_TIP)
        self.open_text = QPushButton("Open text…")
        self.open_text.setToolTip("Train the character model on a UTF-8 text file")
        self.temperature = LogSpinBox(0.01, 100.0)
        self.temperature.setToolTip(
            "Sampling temperature of the generated text: low is safe, high is wild. " + LIVE_TIP
        )

        self.cell = _combo(CELL_LABELS, RESET_TIP)
        self.hidden = _spin(1, MAX_HIDDEN, "Units per layer and direction. " + RESET_TIP)
        self.layers = _spin(1, MAX_LAYERS, "Stacked recurrent layers. " + RESET_TIP)
        self.bidirectional = QCheckBox("bidirectional")
        self.forget_bias_kind = _combo(FORGET_BIAS_LABELS, FORGET_BIAS_TIP)
        self.forget_bias = QDoubleSpinBox()
        self.forget_bias.setKeyboardTracking(False)
        self.forget_bias.setToolTip(FORGET_BIAS_TIP)
        self.seed = _spin(0, 2**31 - 1, "Seed of the initial weights, batches and probe. " + RESET_TIP)

        self.optimizer = _combo(OPTIMIZER_LABELS, RESET_TIP)
        self.lr = LogSpinBox(1e-6, 1e4)
        self.lr.setToolTip("Learning rate; arrows step 1, 2, 5 × 10^k. " + LIVE_TIP)
        self.batch = _spin(1, MAX_BATCH, "Sequences per step. " + RESET_TIP)
        self.seq_len = _spin(2, MAX_SEQ_LEN, SEQ_LEN_TIP)
        self.clip_mode = _combo(CLIP_LABELS, "Clip the gradient by its global norm or each value. " + LIVE_TIP)
        self.clip_threshold = LogSpinBox(1e-6, 1e6)
        self.clip_threshold.setToolTip("Clipping threshold. " + LIVE_TIP)

        self.layer = QComboBox()
        self.layer.setToolTip("The layer the gates, states and gradients panels show")
        self.direction = _combo(dict(enumerate(DIRECTION_LABELS)), "The direction the panels show")
        self.unit = QLabel()
        self.unit.setToolTip("Click a cell of any heatmap to select its unit and timestep everywhere; Alt+←/→ step")
        self.probe_text = QPlainTextEdit()
        self.probe_text.setTabChangesFocus(True)
        self.probe_text.setFixedHeight(PROBE_LINES * self.probe_text.fontMetrics().lineSpacing() + 12)
        self.probe_show = QPushButton("Show")
        self.probe_show.setToolTip("Show the panels on this text (Ctrl+Enter in the box)")
        self.probe_default = QPushButton("Default")
        self.probe_default.setToolTip("Back to the probe drawn from the training text")
        self.vocab: str | None = None  # what the shown character model knows, in id order (None: no such model)
        self.probe_shown = ""  # the probe text of the snapshot on the panels
        self.read_only = False

        self._build_layout()
        self.show_config(config)
        self.set_unit(0)
        self._connect()

    # ---- layout --------------------------------------------------------------------------
    def _build_layout(self) -> None:
        for combo in (self.preset, self.task, self.text, self.cell, self.optimizer, self.clip_mode, self.layer):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)  # narrow by default; widen the dock to see long names
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset, 1)
        preset_row.addWidget(self.compare_button)
        run = _form(
            "Run",
            (_row(self.start_pause, self.step_button, self.reset_button),),
            ("Speed", self.speed),
            ("Preset", preset_row),
            (self.preset_description,),
        )
        setup = _form(
            "Setup (a change restarts)",
            ("Task", self.task),
            ("Text", _row(self.text, self.open_text)),
            ("Cell", self.cell),
            ("Hidden units", self.hidden),
            ("Layers", _row(self.layers, self.bidirectional)),
            ("Forget bias", _row(self.forget_bias_kind, self.forget_bias)),
            ("Optimizer", self.optimizer),
            ("Batch", self.batch),
            ("Sequence length", self.seq_len),
            ("Seed", self.seed),
        )
        live = _form(
            "Live (applies next step)",
            ("Learning rate", self.lr),
            ("Clipping", _row(self.clip_mode, self.clip_threshold)),
            ("Temperature", self.temperature),
        )
        view = _form(
            "Show",
            ("Layer", _row(self.layer, self.direction)),
            ("Unit", self.unit),
            ("Probe text", self.probe_text),
            ("", _row(self.probe_show, self.probe_default)),
        )
        self.run_group, self.setup_group, self.live_group = run, setup, live
        self.setup_rows = [setup.layout().itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text()
                           for row in range(setup.layout().rowCount())]

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(6, 4, 6, 4)
        column.setSpacing(6)
        for group in (run, setup, live, view):
            column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(content.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _connect(self) -> None:
        self.preset.activated.connect(lambda index: self._load_preset(self.preset.itemText(index)))
        self.start_pause.clicked.connect(self.start_pause_clicked)
        self.step_button.clicked.connect(self.step_clicked)
        self.reset_button.clicked.connect(lambda: self.reset_requested.emit(self.config))
        self.open_text.clicked.connect(self.open_text_clicked)
        self.compare_button.clicked.connect(self.compare_clicked)

        self.task.activated.connect(lambda _: self._choose_task(self.task.currentData()))
        self.text.activated.connect(lambda _: self._edit(text=self.text.currentData()))
        self.temperature.valueChanged.connect(lambda value: self._edit(temperature=value))
        self.cell.activated.connect(lambda _: self._edit(cell=self.cell.currentData()))
        self.hidden.valueChanged.connect(lambda value: self._edit(hidden=value))
        self.layers.valueChanged.connect(lambda value: self._edit(layers=value))
        self.bidirectional.toggled.connect(lambda checked: self._edit(bidirectional=checked))
        self.forget_bias_kind.activated.connect(lambda _: self._choose_forget_bias(self.forget_bias_kind.currentData()))
        self.forget_bias.valueChanged.connect(
            lambda value: self._edit(forget_bias=f"chrono:{value:g}" if self._chrono else value)
        )
        self.seed.valueChanged.connect(lambda value: self._edit(seed=value))
        self.optimizer.activated.connect(lambda _: self._edit(optimizer=self.optimizer.currentData()))
        self.lr.valueChanged.connect(lambda value: self._edit(lr=value))
        self.batch.valueChanged.connect(lambda value: self._edit(batch=value))
        self.seq_len.valueChanged.connect(lambda value: self._edit(seq_len=value))
        self.clip_mode.activated.connect(lambda _: self._edit_clip())
        self.clip_threshold.valueChanged.connect(lambda _: self._edit_clip())

        self.probe_show.clicked.connect(self._show_probe_text)
        self.probe_default.clicked.connect(self._default_probe)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.probe_text, activated=self._show_probe_text).setContext(
                Qt.ShortcutContext.WidgetShortcut
            )
        self.layer.activated.connect(lambda _: self._emit_selection())
        self.direction.activated.connect(lambda _: self._emit_selection())

    # ---- from the window -------------------------------------------------------------------
    def show_config(self, config: RunConfig) -> None:
        """Put `config` on the widgets without emitting any change."""
        self.config = config
        widgets = self.findChildren(QWidget)
        blocked = [widget.blockSignals(True) for widget in widgets]
        try:
            matching = [name for name, preset in self.presets.items() if is_preset(config, preset)]
            self.preset.setCurrentIndex(self.preset.findText(matching[0]) if matching else -1)
            self._describe_preset(matching[0] if matching else None)
            _select(self.task, config.task)
            self._fill_texts(config.text)
            self.temperature.setValue(config.temperature)
            _select(self.cell, config.cell)
            self.hidden.setValue(config.hidden)
            self.layers.setValue(config.layers)
            self.bidirectional.setChecked(config.bidirectional)
            t_max = chrono_t_max(config.forget_bias)
            _select(self.forget_bias_kind, "constant" if t_max is None else "chrono")
            if t_max is None:  # the spin box holds the bias itself
                self.forget_bias.setDecimals(2)
                self.forget_bias.setRange(-10.0, 10.0)
                self.forget_bias.setSingleStep(0.5)
                self.forget_bias.setValue(config.forget_bias)
            else:  # ... or chrono's T_max, in steps
                self.forget_bias.setDecimals(0)
                self.forget_bias.setRange(MIN_CHRONO_T_MAX, MAX_CHRONO_T_MAX)
                self.forget_bias.setSingleStep(10)
                self.forget_bias.setValue(t_max)
            self.seed.setValue(min(config.seed, self.seed.maximum()))
            _select(self.optimizer, config.optimizer)
            self.lr.setValue(config.lr)
            self.batch.setValue(config.batch)
            self.seq_len.setValue(config.seq_len)
            _select(self.clip_mode, config.clip.mode)
            self.clip_threshold.setValue(config.clip.threshold)
            layer = max(self.layer.currentIndex(), 0)
            self.layer.clear()
            self.layer.addItems([f"layer {index + 1}" for index in range(config.layers)])
            self.layer.setCurrentIndex(min(layer, config.layers - 1))
            if not config.bidirectional:
                self.direction.setCurrentIndex(0)
        finally:
            for widget, was_blocked in zip(widgets, blocked, strict=True):
                widget.blockSignals(was_blocked)
        self._enable_relevant()

    def _describe_preset(self, name: str | None) -> None:
        """The preset's description under the Preset box; hidden for custom settings."""
        description = self.preset_info.get(name, {}).get("description", "") if name else ""
        self.preset_description.setText(description)
        self.preset_description.setVisible(bool(description))

    def set_read_only(self, own_model: bool = False) -> None:
        """For a recorded run: no run buttons; the settings are shown (those of the shown step), greyed; only
        what the panels show can be chosen. A run of your own model (the Recorder) shows only what describes
        the module: its training settings were your script's, which the run does not hold."""
        self.run_group.hide()
        self.read_only = True
        self._enable_relevant()  # the probe text shows the recorded one, greyed
        self.setup_group.setTitle("Your model (recorded)" if own_model else "Setup (recorded)")
        self.live_group.setTitle("Live settings at the shown step")
        for group in (self.setup_group, self.live_group):
            group.setEnabled(False)
        if own_model:
            self.live_group.hide()
            form = self.setup_group.layout()
            for row in ("Task", "Text", "Forget bias", "Optimizer", "Batch", "Seed"):
                form.setRowVisible(self.setup_rows.index(row), False)

    @property
    def preset_name(self) -> str | None:
        """The preset the config equals, or None once a setting differs from every preset."""
        return self.preset.currentText() if self.preset.currentIndex() >= 0 else None

    @property
    def selection(self) -> tuple[int, int]:
        """(layer, direction) the panels should show."""
        return max(self.layer.currentIndex(), 0), max(self.direction.currentIndex(), 0)

    def set_running(self, running: bool) -> None:
        self.start_pause.setText("Pause" if running else "Start")

    def set_unit(self, unit: int, timestep: int = 0) -> None:
        self.unit.setText(f"{unit}, t = {timestep}   (click a heatmap cell; Alt+←/→)")

    def choose_text(self, path: str) -> None:
        """Train the character model on the text file at `path`."""
        self._edit(task="chars", text=path, bidirectional=False)

    def choose_preset(self, name: str) -> None:
        """Load preset `name`, as choosing it in the Preset box does (lecture mode's toolbar has one too)."""
        self._load_preset(name)

    def apply_clip(self, clip: Clip) -> None:
        """Clip with `clip` from the next step, as editing the Clipping row does."""
        self._edit(clip=clip)

    def show_probe(self, snapshot: Snapshot) -> None:
        """The probe text of the snapshot on the panels into the box (unless the user is editing it there), and
        the vocabulary a typed text is checked against."""
        trace, vocab = snapshot.trace, snapshot.view.get("vocab")
        if snapshot.config.task != "chars" or trace is None or not isinstance(vocab, str):
            self.vocab, shown = None, ""
        else:
            self.vocab = vocab
            ids = np.append(np.asarray(trace.probe_input), np.asarray(trace.probe_target)[-1:]).astype(np.int64)
            shown = "".join(vocab[index] for index in ids)  # every character read, then the last one's target
        editing = self.probe_text.toPlainText() != self.probe_shown
        self.probe_shown = shown
        if not editing and self.probe_text.toPlainText() != shown:
            self.probe_text.setPlainText(shown)

    # ---- edits -------------------------------------------------------------------------
    def _show_probe_text(self) -> None:
        """Show: the typed text becomes the probe, or a message says why not and the panels keep theirs."""
        text = self.probe_text.toPlainText()
        kept = "; the panels keep the previous probe"
        if not text:
            self.error.emit(f"the probe text is empty: type at least 2 characters, or press Default{kept}")
            return
        if text == self.probe_shown:
            return  # on the panels already
        if self.vocab is not None:
            try:
                probe_ids(text, self.vocab, Path(self.config.text).name)
            except ConfigError as error:
                self.error.emit(f"{error}{kept}")
                return
        try:
            self.config.replace(probe_text=text)
        except ConfigError as error:
            self.error.emit(f"{error}{kept}")
            return
        self.probe_shown = text  # not an edit in progress: the next snapshot's probe replaces it
        self._edit(probe_text=text)

    def _default_probe(self) -> None:
        """Default: the probe drawn from the training text; an edit in the box is dropped."""
        self.probe_text.setPlainText(self.probe_shown)
        self._edit(probe_text="")

    def _edit(self, **changes) -> None:
        if any(name in changes and changes[name] != getattr(self.config, name) for name in ("task", "text")):
            changes.setdefault("probe_text", "")  # a probe text is in the old model's characters
        try:
            config = self.config.replace(**changes)
        except ConfigError as error:
            self.error.emit(str(error))
            self.show_config(self.config)
            return
        if config != self.config:
            self.show_config(config)
            self.apply_requested.emit(config)

    def _edit_clip(self) -> None:
        self._edit(clip=Clip(self.clip_mode.currentData(), self.clip_threshold.value()))

    def _choose_task(self, task: str) -> None:
        changes = {"task": task}
        if task == "chars" and self.config.text == HIHELLO and self.config.seq_len >= len(HIHELLO):
            changes["text"] = "names"  # hihello is shorter than this sequence; names fits any length
        if task in NEXT_STEP_TASKS:
            changes["bidirectional"] = False  # it would read the answer; unchecked and greyed, its tooltip says why
        self._edit(**changes)

    @property
    def _chrono(self) -> bool:
        return chrono_t_max(self.config.forget_bias) is not None

    def _choose_forget_bias(self, kind: str) -> None:
        """Constant: 1; chrono: T_max = the sequence length, the longest dependency a sequence can hold."""
        if kind == "chrono" and not self._chrono:
            self._edit(forget_bias=f"chrono:{max(self.config.seq_len, MIN_CHRONO_T_MAX)}")
        elif kind == "constant" and self._chrono:
            self._edit(forget_bias=1.0)

    def _load_preset(self, name: str) -> None:
        try:
            config = load_preset(name)
        except ConfigError as error:
            self.error.emit(str(error))
            self.show_config(self.config)
            return
        self.show_config(config)
        self.reset_requested.emit(config)

    def _emit_selection(self) -> None:
        self.selection_changed.emit(*self.selection)

    def _fill_texts(self, text: str) -> None:
        self.text.clear()
        for name in BUILTIN_TEXTS:
            self.text.addItem(name, name)
        if text not in BUILTIN_TEXTS:
            self.text.addItem(Path(text).name, text)
            self.text.setItemData(self.text.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        _select(self.text, text if self.config.task == "chars" else None)  # blank for a task without a text

    def _enable_relevant(self) -> None:
        config = self.config
        chars = config.task == "chars"
        for widget in (self.text, self.temperature):
            widget.setEnabled(chars)
        for widget in (self.probe_text, self.probe_show):
            widget.setEnabled(chars and not self.read_only)
            widget.setToolTip(PROBE_TIP if chars else NO_PROBE_TIP)
        self.probe_default.setEnabled(chars and not self.read_only and bool(config.probe_text))
        for widget in (self.forget_bias_kind, self.forget_bias):
            widget.setEnabled(config.cell == "lstm")
        self.clip_threshold.setEnabled(config.clip.mode != "off")
        self.seq_len.setEnabled(config.task != "digits")
        self.seq_len.setToolTip(SEQ_LEN_TIP if config.task != "digits" else NO_SEQ_LEN_TIP)
        self.layer.setEnabled(config.layers > 1)
        self.direction.setEnabled(config.bidirectional)
        bidirectional_allowed = config.task not in NEXT_STEP_TASKS
        self.bidirectional.setEnabled(bidirectional_allowed)
        self.bidirectional.setToolTip(BIDIRECTIONAL_TIP if bidirectional_allowed else NO_BIDIRECTIONAL_TIP)


def _valid_presets() -> dict[str, RunConfig]:
    """The built-in presets that load; a broken preset file is left out of the menu."""
    presets = {}
    for name in preset_names():
        try:
            presets[name] = load_preset(name)
        except ConfigError:
            continue
    return presets


def _combo(labels: dict, tooltip: str) -> QComboBox:
    combo = QComboBox()
    for value, label in labels.items():
        combo.addItem(label, value)
    combo.setToolTip(tooltip)
    return combo


def _select(combo: QComboBox, value) -> None:
    combo.setCurrentIndex(combo.findData(value))


def _spin(minimum: int, maximum: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setKeyboardTracking(False)  # typing "128" is one change, not three
    spin.setToolTip(tooltip)
    return spin


def _row(*widgets) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget, 1)
    return row


def _form(title: str, *rows) -> QGroupBox:
    group = QGroupBox(title)
    form = QFormLayout(group)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setContentsMargins(8, 4, 8, 6)
    form.setVerticalSpacing(4)
    for row in rows:
        if len(row) == 1:
            form.addRow(row[0])
        else:
            form.addRow(*row)
    return group
