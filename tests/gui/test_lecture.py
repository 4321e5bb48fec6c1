"""Lecture mode, the font scale and the view remembered between launches (lstm_viz/gui/lecture.py and the
window's View menu)."""

import pytest
from PyQt6.QtGui import QImage, QKeySequence
from PyQt6.QtTest import QTest

from lstm_viz.core.config import RunConfig
from lstm_viz.gui.lecture import LECTURE_PANELS, LECTURE_SCALE, SCALE_STEPS, step_scale
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.panels.plots import LABEL_POINTS, font_scale, set_font_scale

SINE = RunConfig(task="sine", hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000


@pytest.fixture(autouse=True)
def default_font_scale():
    yield
    set_font_scale(1.0)  # the plots' scale is the application's: the next test starts at 1


def open_window(qtbot, config=SINE) -> MainWindow:
    window = MainWindow(config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    return window


def press(qtbot, window, key: str) -> None:
    """Press a key sequence ("F11", "Ctrl++") in the window, as a user would."""
    sequence = QKeySequence(key)[0]
    QTest.keyClick(window, sequence.key(), sequence.keyboardModifiers())
    qtbot.wait(20)


def axis_label_points(window) -> float:
    """The point size of the Training panel's 'loss' axis label, as its HTML says it."""
    html = window.panels["Training"].loss_plot.getAxis("left").label.toHtml()
    return float(html.split("font-size:")[-1].split("pt")[0])


def test_step_scale_moves_along_the_rungs_and_stops_at_the_ends():
    assert step_scale(1.0, 1) == 1.1 and step_scale(1.0, -1) == 0.9 and step_scale(1.5, 2) == 2.0
    assert step_scale(SCALE_STEPS[-1], 1) == SCALE_STEPS[-1] and step_scale(SCALE_STEPS[0], -3) == SCALE_STEPS[0]
    assert step_scale(1.02, 0) == 1.0  # off the rungs: from the nearest


def test_f11_enters_lecture_mode_and_f11_or_esc_leave_it(qtbot):
    window = open_window(qtbot)
    controls, lecture_bar = window.docks["Controls"], window.lecture_bar
    assert controls.isVisible() and not lecture_bar.isVisible()
    press(qtbot, window, "F11")
    assert window.lecture and window.lecture_action.isChecked()
    assert not controls.isVisible() and lecture_bar.isVisible()  # the controls collapse into the toolbar
    shown = [title for title in window.panels if window.docks[title].isVisible()]
    assert shown == list(LECTURE_PANELS)
    assert axis_label_points(window) >= 16 and font_scale() == LECTURE_SCALE
    press(qtbot, window, "Esc")
    assert not window.lecture and controls.isVisible() and not lecture_bar.isVisible()
    assert axis_label_points(window) == pytest.approx(LABEL_POINTS) and font_scale() == 1.0
    assert all(dock.isVisible() for dock in window.docks.values())  # the normal layout is back
    press(qtbot, window, "F11")
    press(qtbot, window, "F11")
    assert not window.lecture


def test_the_lecture_toolbar_runs_and_sets_what_the_controls_do(qtbot):
    window = open_window(qtbot)
    window.set_lecture_mode(True)
    bar = window.lecture_bar
    bar.start_pause.click()
    qtbot.waitUntil(lambda: window.last_snapshot.running, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bar.start_pause.text() == "Pause", timeout=TIMEOUT_MS)
    bar.start_pause.click()
    qtbot.waitUntil(lambda: not window.last_snapshot.running, timeout=TIMEOUT_MS)
    bar.clip_mode.setCurrentIndex(bar.clip_mode.findData("norm"))
    bar.clip_mode.activated.emit(bar.clip_mode.currentIndex())
    bar.clip_threshold.setValue(0.5)
    assert str(window.controls.config.clip) == "norm:0.5"  # the dock's settings, which the worker gets
    qtbot.waitUntil(lambda: str(window.last_snapshot.config.clip) == "norm:0.5", timeout=TIMEOUT_MS)
    exploding = bar.preset.findText("exploding")
    bar.preset.setCurrentIndex(exploding)
    bar.preset.activated.emit(exploding)
    assert window.controls.preset_name == "exploding"
    qtbot.waitUntil(lambda: window.last_snapshot.config.cell == "rnn", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bar.clip_mode.currentData() == window.last_snapshot.config.clip.mode, timeout=TIMEOUT_MS)


def test_the_panels_in_lecture_mode_are_the_chosen_ones(qtbot):
    window = open_window(qtbot)
    assert window.lecture_panels == ("Gates", "Training", "Cell")  # the default: the Cell among them
    window.lecture_panel_actions["Gates"].trigger()  # View > Panels in lecture mode: Gates off
    window.lecture_panel_actions["Cell"].trigger()  # and the Cell
    window.lecture_panel_actions["States"].trigger()  # States on
    window.lecture_panel_actions["Gradients through time"].trigger()  # and Gradients
    window.set_lecture_mode(True)
    shown = {title for title in window.panels if window.docks[title].isVisible()}
    assert shown == {"States", "Gradients through time", "Training"}
    window.lecture_panel_actions["Training"].trigger()  # in lecture mode: at once
    assert not window.docks["Training"].isVisible() and window.docks["States"].isVisible()
    window.set_lecture_mode(False)
    assert all(window.docks[title].isVisible() for title in window.panels)
    assert window.lecture_panels == ("States", "Gradients through time")


def test_three_lecture_panels_give_the_first_the_whole_left_side(qtbot):
    window = open_window(qtbot)
    window.set_lecture_mode(True)
    window.showNormal()
    window.resize(1024, 768)
    qtbot.wait(150)

    def place(title):
        dock = window.docks[title]
        return dock.mapTo(window, dock.rect().topLeft()), dock.size()

    (gates_at, gates), (training_at, training), (cell_at, cell) = map(place, ("Gates", "Training", "Cell"))
    assert gates_at.x() + gates.width() <= training_at.x() and training_at.x() == cell_at.x()  # left | right
    assert training_at.y() + training.height() <= cell_at.y()  # Training above the Cell
    assert gates.height() >= training.height() + cell.height()  # the gates as tall as the right column
    assert gates.width() > 0.4 * window.width()
    window.set_lecture_mode(False)


def test_ctrl_plus_minus_and_zero_scale_the_text_in_either_mode(qtbot):
    window = open_window(qtbot)
    training = window.panels["Training"].loss_plot
    width, tick_points = training.getAxis("left").width(), training.getAxis("left").style["tickFont"].pointSizeF()
    window_points = window.font().pointSizeF()
    press(qtbot, window, "Ctrl++")
    assert font_scale() == step_scale(1.0, 1)
    assert axis_label_points(window) == pytest.approx(LABEL_POINTS * font_scale())
    assert training.getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(tick_points * font_scale())
    assert training.getAxis("left").width() > width and window.font().pointSizeF() > window_points  # the controls too
    press(qtbot, window, "Ctrl+-")
    press(qtbot, window, "Ctrl+-")
    assert font_scale() == step_scale(1.0, -1) and axis_label_points(window) < LABEL_POINTS
    press(qtbot, window, "Ctrl+0")
    assert font_scale() == 1.0 and axis_label_points(window) == pytest.approx(LABEL_POINTS)
    window.set_lecture_mode(True)
    press(qtbot, window, "Ctrl++")
    assert font_scale() == step_scale(LECTURE_SCALE, 1)  # lecture mode's own scale
    window.set_lecture_mode(False)
    assert font_scale() == 1.0
    window.set_lecture_mode(True)
    assert font_scale() == step_scale(LECTURE_SCALE, 1)


def test_line_widths_follow_the_font_scale(qtbot):
    window = open_window(qtbot)
    states = window.panels["States"]
    curve_width = states.hidden_curve.opts["pen"].widthF()
    line_width = window.panels["Training"].baseline_line.pen.widthF()
    window.set_font_scale(2.0)
    assert states.hidden_curve.opts["pen"].widthF() == pytest.approx(2 * curve_width)
    assert window.panels["Training"].baseline_line.pen.widthF() == pytest.approx(2 * line_width)
    window.set_font_scale(None)
    assert states.hidden_curve.opts["pen"].widthF() == pytest.approx(curve_width)


def test_a_second_window_opens_as_the_first_was_left_and_restore_default_resets_all(qtbot):
    first = open_window(qtbot)
    first.set_font_scale(1.25)
    first.lecture_panel_actions["States"].trigger()
    first.docks["States"].close()
    first.set_lecture_mode(True)
    first.set_font_scale(1.75)
    first.close()

    second = open_window(qtbot)
    assert second.lecture and font_scale() == 1.75 and second.font_scales["normal"] == 1.25
    assert "States" in second.lecture_panels and second.docks["States"].isVisible()
    second.set_lecture_mode(False)
    assert font_scale() == 1.25 and not second.docks["States"].isVisible()  # the normal layout as it was left
    second.close()

    third = open_window(qtbot)
    assert not third.lecture and font_scale() == 1.25 and not third.docks["States"].isVisible()
    third.restore_default_view()
    assert not third.lecture and font_scale() == 1.0 and third.lecture_panels == LECTURE_PANELS
    assert all(dock.isVisible() for dock in third.docks.values())
    third.close()
    fourth = open_window(qtbot)
    assert not fourth.lecture and font_scale() == 1.0 and all(dock.isVisible() for dock in fourth.docks.values())
    fourth.close()


def test_a_window_that_remembers_nothing_leaves_the_settings_alone(qtbot):
    first = open_window(qtbot)
    first.set_font_scale(1.25)
    first.close()
    window = MainWindow(SINE, remember_view=False)
    qtbot.addWidget(window)
    window.set_lecture_mode(True)
    window.set_font_scale(2.0)
    window.close()
    second = open_window(qtbot)
    assert not second.lecture and font_scale() == 1.25
    second.close()


def test_the_lecture_flag_opens_the_window_in_lecture_mode(qapp, tmp_path, monkeypatch):
    from lstm_viz.gui.app import run_app

    modes = []
    enter = MainWindow.set_lecture_mode
    monkeypatch.setattr(MainWindow, "set_lecture_mode", lambda window, on: enter(window, on) or modes.append(on))
    path = tmp_path / "lecture.png"
    assert run_app(SINE, steps=2, screenshot=path, lecture=True) == 0
    shot = QImage(str(path))
    screen = qapp.primaryScreen().geometry()
    assert modes == [True] and (shot.width(), shot.height()) == (screen.width(), screen.height())  # full screen
