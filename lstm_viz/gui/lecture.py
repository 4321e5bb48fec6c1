"""What a lecturer with a projector needs from the window: a font scale for everything on it, lecture mode's
compact toolbar, and the view settings remembered between launches.

- The font scale multiplies every font, fixed size and line width: the plots' (plots.set_font_scale) and the
  widgets' (the window's font). Normal and lecture mode each have their own, stepped with Ctrl+plus / Ctrl+minus.
- Lecture mode: full screen, the lecture font scale (axis labels 11 pt x 1.5 = 16.5 pt), the Controls dock
  replaced by LectureBar (start/pause, reset, preset, speed, clipping in one row) and only the chosen panels.
- ViewSettings: the layout of each mode, lecture mode and the font scales in QSettings (an INI file in the
  user's config folder; tests point QSettings at a temporary folder).
"""

from __future__ import annotations

from PyQt6.QtCore import QByteArray, QSettings, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QLabel, QPushButton, QToolBar, QWidget

from lstm_viz.core.config import Clip
from lstm_viz.gui.controls import CLIP_LABELS, LogSpinBox, _combo, _select

NORMAL_SCALE = 1.0
LECTURE_SCALE = 1.5  # axis labels 11 pt -> 16.5 pt, tick labels 15 pt
SCALE_STEPS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5)  # Ctrl+plus / Ctrl+minus move along these
LECTURE_PANELS = ("Gates", "Training", "Cell")  # the default subset: Gates on the left, the others stacked right
SETTINGS_VERSION = 1  # of the saved dock layouts: a layout of another version is not restored


def step_scale(scale: float, steps: int) -> float:
    """The font scale `steps` rungs of SCALE_STEPS above (below, if negative) `scale`."""
    nearest = min(range(len(SCALE_STEPS)), key=lambda index: abs(SCALE_STEPS[index] - scale))
    return SCALE_STEPS[min(max(nearest + steps, 0), len(SCALE_STEPS) - 1)]


class ViewSettings:
    """What the window remembers between launches: one INI file, lstm_viz/view.ini in the user's config folder."""

    def __init__(self) -> None:
        self.store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "lstm_viz", "view")

    def scale(self, mode: str) -> float:
        default = LECTURE_SCALE if mode == "lecture" else NORMAL_SCALE
        try:
            value = float(self.store.value(f"{mode}/font_scale", default))
        except (TypeError, ValueError):
            return default
        return value if SCALE_STEPS[0] <= value <= SCALE_STEPS[-1] else default  # a hand-edited file: no 100x text

    def layout(self, mode: str) -> QByteArray | None:
        value = self.store.value(f"{mode}/layout")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def lecture(self) -> bool:
        return str(self.store.value("lecture", "false")).lower() == "true"

    def lecture_panels(self) -> tuple[str, ...]:
        value = self.store.value("lecture/panels")
        if value is None:
            return LECTURE_PANELS
        return tuple([value] if isinstance(value, str) else value)

    def save(self, lecture: bool, scales: dict[str, float], layouts: dict[str, QByteArray | None], panels) -> None:
        self.store.setValue("lecture", lecture)
        for mode, scale in scales.items():
            self.store.setValue(f"{mode}/font_scale", scale)
        for mode, layout in layouts.items():
            if layout is not None:
                self.store.setValue(f"{mode}/layout", layout)
        self.store.setValue("lecture/panels", list(panels) or "")
        self.store.sync()

    def clear(self) -> None:
        self.store.clear()
        self.store.sync()


class LectureBar(QToolBar):
    """Lecture mode's controls in one row: Start/Pause, Reset, the preset, the speed (if the controls have one)
    and clipping. Each mirrors the Controls dock's widget of the same name and acts through it."""

    start_pause_clicked = pyqtSignal()

    def __init__(self, controls, parent: QWidget | None = None) -> None:
        super().__init__("Lecture controls", parent)
        self.setObjectName("Lecture controls")
        self.setMovable(False)
        self.setFloatable(False)
        self.controls = controls
        self.start_pause = QPushButton("Start")
        self.start_pause.setToolTip(controls.start_pause.toolTip())
        self.start_pause.clicked.connect(self.start_pause_clicked)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip(controls.reset_button.toolTip())
        self.reset.clicked.connect(controls.reset_button.click)
        self.preset = QComboBox()
        self.preset.addItems(list(controls.presets))
        self.preset.setPlaceholderText("custom settings")
        self.preset.setToolTip(controls.preset.toolTip())
        self.preset.activated.connect(lambda index: controls.choose_preset(self.preset.itemText(index)))
        self.clip_mode = _combo(CLIP_LABELS, controls.clip_mode.toolTip())
        self.clip_threshold = LogSpinBox(controls.clip_threshold.minimum(), controls.clip_threshold.maximum())
        self.clip_threshold.setToolTip(controls.clip_threshold.toolTip())
        self.clip_mode.activated.connect(lambda _: self._edit_clip())
        self.clip_threshold.valueChanged.connect(lambda _: self._edit_clip())
        for widget in (self.start_pause, self.reset):
            self.addWidget(widget)
        self.addSeparator()
        self.addWidget(QLabel(" Preset "))
        self.addWidget(self.preset)
        self.speed = None
        speed = getattr(controls, "speed", None)  # the speed control, where the controls have one
        if speed is not None:
            self.speed = type(speed)()
            self.speed.speed_changed.connect(lambda value: _set_speed(speed, value, emit=True))
            speed.speed_changed.connect(lambda value: _set_speed(self.speed, value, emit=False))
            _set_speed(self.speed, speed.speed, emit=False)
            self.addSeparator()
            self.addWidget(QLabel(" Speed "))
            self.addWidget(self.speed)
        self.addSeparator()
        self.addWidget(QLabel(" Clipping "))
        self.addWidget(self.clip_mode)
        self.addWidget(self.clip_threshold)
        self.show_config(controls.config, controls.preset_name)

    def show_config(self, config, preset_name: str | None) -> None:
        """Show these settings without acting on them."""
        for widget in (self.preset, self.clip_mode, self.clip_threshold):
            widget.blockSignals(True)
        try:
            self.preset.setCurrentIndex(self.preset.findText(preset_name) if preset_name else -1)
            _select(self.clip_mode, config.clip.mode)
            self.clip_threshold.setValue(config.clip.threshold)
            self.clip_threshold.setEnabled(config.clip.mode != "off")
        finally:
            for widget in (self.preset, self.clip_mode, self.clip_threshold):
                widget.blockSignals(False)

    def set_running(self, running: bool) -> None:
        self.start_pause.setText("Pause" if running else "Start")

    def _edit_clip(self) -> None:
        self.controls.apply_clip(Clip(self.clip_mode.currentData(), self.clip_threshold.value()))


def _set_speed(control, value, emit: bool) -> None:
    """Show `value` on a speed control; with `emit`, as if the user had chosen it there."""
    if control.speed == value:
        return
    control.set_speed(value)
    if emit:
        control.speed_changed.emit(value)
