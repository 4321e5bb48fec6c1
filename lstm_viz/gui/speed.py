"""The speed control: a slider from 1 step/s to full speed, so that a class can watch the gates form.

Its rungs are 1, 2, 5 × 10^k steps/s and, at the right end, full speed (no limit). A speed given on the
command line that is no rung (--speed 7) is kept as it is, the slider on the nearest rung, until the user
moves it.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from lstm_viz.core.config import MAX_SPEED, MIN_SPEED

SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, None)  # steps/s; None: full speed
TIP = (
    "Training speed, from 1 step/s to full speed (the Space key pauses at any speed). Slow it down to watch "
    "the gates and states change step by step; applies at once."
)


def speed_text(steps_per_s: float | None) -> str:
    """'full speed', '1 step/s', '10 steps/s', '2.5 steps/s'."""
    if steps_per_s is None:
        return "full speed"
    return f"{steps_per_s:g} step/s" if steps_per_s == 1 else f"{steps_per_s:g} steps/s"


def nearest_rung(steps_per_s: float | None) -> int:
    """The slider position of `steps_per_s`: its rung, or the rung nearest on a log scale."""
    if steps_per_s is None:
        return len(SPEEDS) - 1
    limited = SPEEDS[:-1]
    return min(range(len(limited)), key=lambda index: abs(math.log(limited[index] / steps_per_s)))


class SpeedControl(QWidget):
    speed_changed = pyqtSignal(object)  # float steps/s, or None for full speed

    def __init__(self) -> None:
        super().__init__()
        self.speed: float | None = None
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip(TIP)
        self.label = QLabel()
        self.label.setToolTip(TIP)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("1000 steps/s"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.set_speed(None)
        self.slider.valueChanged.connect(self._moved)

    def set_speed(self, steps_per_s: float | None) -> None:
        """Show `steps_per_s` (None: full speed) without emitting speed_changed."""
        if steps_per_s is not None and not MIN_SPEED <= steps_per_s <= MAX_SPEED:
            raise ValueError(f"speed must be {MIN_SPEED:g} to {MAX_SPEED:g} steps/s, got {steps_per_s}")
        self.speed = steps_per_s
        was_blocked = self.slider.blockSignals(True)
        self.slider.setValue(nearest_rung(steps_per_s))
        self.slider.blockSignals(was_blocked)
        self.label.setText(speed_text(steps_per_s))

    def _moved(self, position: int) -> None:
        self.speed = SPEEDS[position]
        self.label.setText(speed_text(self.speed))
        self.speed_changed.emit(self.speed)
