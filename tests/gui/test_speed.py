"""The speed control and the worker's throttle: a step count over a couple of seconds, never a timed speed target."""

import pytest
from PyQt6.QtCore import Qt

from lstm_viz.core.config import RunConfig
from lstm_viz.gui.app import run_app
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.speed import SPEEDS, SpeedControl, nearest_rung, speed_text

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000


def test_the_slider_runs_from_one_step_a_second_to_full_speed(qtbot):
    control = SpeedControl()
    qtbot.addWidget(control)
    assert control.speed is None and control.label.text() == "full speed"
    with qtbot.waitSignal(control.speed_changed) as changed:
        control.slider.setValue(0)
    assert changed.args == [1] and control.label.text() == "1 step/s"
    control.slider.triggerAction(control.slider.SliderAction.SliderSingleStepAdd)
    assert control.speed == 2 and control.label.text() == "2 steps/s"
    control.slider.setValue(control.slider.maximum())
    assert control.speed is None and SPEEDS[-1] is None


def test_a_speed_set_from_outside_is_kept_exactly_and_emits_nothing(qtbot):
    control = SpeedControl()
    qtbot.addWidget(control)
    with qtbot.assertNotEmitted(control.speed_changed):
        control.set_speed(7)
    assert control.speed == 7 and control.label.text() == "7 steps/s" and SPEEDS[control.slider.value()] == 5
    assert nearest_rung(8) == SPEEDS.index(10) and nearest_rung(None) == len(SPEEDS) - 1
    assert speed_text(2.5) == "2.5 steps/s"
    with pytest.raises(ValueError, match="speed must be 1 to 10000"):
        control.set_speed(0.5)


def open_window(qtbot, speed) -> MainWindow:
    window = MainWindow(SMALL, speed=speed)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    return window


def steps_in(qtbot, window, milliseconds: int) -> int:
    """Steps trained in about `milliseconds` of training (from the first step seen to the last)."""
    window.start_pause()
    qtbot.waitUntil(lambda: window.last_snapshot.running and window.last_snapshot.step >= 1, timeout=TIMEOUT_MS)
    first = window.worker.trainer.step_count
    qtbot.wait(milliseconds)
    return window.worker.trainer.step_count - first


def test_at_5_steps_a_second_two_seconds_train_about_ten_steps(qtbot):
    window = open_window(qtbot, speed=5)
    assert window.controls.speed.label.text() == "5 steps/s"
    assert window.lecture_bar.speed.label.text() == "5 steps/s"  # lecture mode's compact bar says the same
    steps = steps_in(qtbot, window, 2000)
    assert 4 <= steps <= 20
    qtbot.waitUntil(lambda: "limited to 5 steps/s" in window.status_label.text(), timeout=TIMEOUT_MS)
    assert window.status_label.text().startswith("training · step ")
    window.close()


def test_full_speed_is_not_throttled(qtbot):
    window = open_window(qtbot, speed=None)
    assert window.controls.speed.label.text() == "full speed"
    assert steps_in(qtbot, window, 1500) > 40  # hundreds a second here; a throttle of 20/s would give 30
    assert "limited" not in window.status_label.text()
    window.close()


def test_pause_and_step_work_while_throttled_and_the_slider_is_live(qtbot):
    window = open_window(qtbot, speed=None)
    window.controls.speed.slider.setValue(0)  # the user drags it to 1 step/s
    assert window.speed_limit == 1
    window.start_pause()
    qtbot.waitUntil(lambda: window.last_snapshot.step >= 1, timeout=TIMEOUT_MS)
    seen = window.last_snapshot.step
    window.start_pause()  # taken at once, not after the wait for the next step
    qtbot.waitUntil(lambda: not window.last_snapshot.running, timeout=TIMEOUT_MS)
    paused = window.last_snapshot.step
    assert paused <= seen + 1
    qtbot.wait(1500)  # more than a step's wait at 1 step/s: paused, nothing trains
    assert window.worker.trainer.step_count == paused
    qtbot.keyClick(window, Qt.Key.Key_S)  # one step, whatever the speed
    qtbot.waitUntil(lambda: window.last_snapshot.step == paused + 1, timeout=TIMEOUT_MS)
    window.close()


def test_paused_opens_at_step_0_paused_with_its_first_frame_drawn(qapp, tmp_path, monkeypatch):
    from lstm_viz.gui import app as app_module

    seen = {}

    def save(app, window, screenshot):
        snapshot = window.last_snapshot
        seen.update(step=snapshot.step, running=snapshot.running, drawn=window.panels["Gates"].snapshot is not None,
                    button=window.controls.start_pause.text())  # fmt: skip
        app.exit(0)

    monkeypatch.setattr(app_module, "_save_and_exit", save)
    assert run_app(SMALL, steps=50, paused=True, screenshot=tmp_path / "shot.png") == 0
    assert seen == {"step": 0, "running": False, "drawn": True, "button": "Start"}
