"""The window's explanations: the "?" of each dock, Help > Equations, the preset's description under the Preset box
and in the title, and its "what to watch" note, shown once."""

import pytest
from PyQt6.QtCore import Qt

from lstm_viz.core.config import RunConfig, load_preset, preset_info
from lstm_viz.gui.help import EQUATIONS, PANEL_HELP, TASK_HELP, panel_help
from lstm_viz.gui.main_window import NOTE_MARK, MainWindow

# The offscreen platform cannot raise a popup or a floating dock, nor let a popup grab the keyboard; a real screen can.
OFFSCREEN_LIMITS = pytest.mark.qt_log_ignore(
    "This plugin does not support raise",
    "does not support grabbing the keyboard",
    "does not support propagateSizeHints",
)
SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000
# Words each panel's text must have, about what that panel (and no other) draws.
OWN_WORDS = {
    "Controls": ("Live", "Setup", "Speed"),
    "Gates": ("forget gate", "input gate", "saturated"),
    "States": ("cell state", "o<sub>t</sub>·tanh(c<sub>t</sub>)", "faintly"),
    "Gradients through time": ("vanishing gradient", "exploding gradient", "mean over the timesteps"),
    "Training": ("no-memory baseline", "clipping threshold", "live setting changed"),
    "Task view": ("probe",),
    "Cell": ("f<sub>t</sub>·∂L/∂c<sub>t</sub>", "classic LSTM diagram"),
}


def open_window(qtbot, config: RunConfig) -> MainWindow:
    window = MainWindow(config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    return window


@pytest.fixture
def window(qtbot):
    window = open_window(qtbot, SMALL)
    yield window
    window.close()


@OFFSCREEN_LIMITS
def test_every_dock_has_a_question_mark_that_opens_its_own_two_paragraphs(qtbot, window):
    assert set(window.docks) == set(PANEL_HELP)
    shown = {}
    for title, dock in window.docks.items():
        bar = dock.titleBarWidget()
        assert bar.title.text() == title and bar.help_button.text() == "?"
        qtbot.mouseClick(bar.help_button, Qt.MouseButton.LeftButton)
        assert window.help_popup.isVisible()
        text = window.help_popup.label.text()
        assert text == panel_help(title, "sine") and text.count("<p>") == 2
        assert "What is drawn." in text and "What to look for." in text
        for words in OWN_WORDS[title]:
            assert words in text, (title, words)
        shown[title] = text
        window.help_popup.hide()
    assert len(set(shown.values())) == len(shown)  # each its own
    assert TASK_HELP["sine"] in shown["Task view"]


@OFFSCREEN_LIMITS
def test_the_task_views_text_is_the_tasks(qtbot):
    window = open_window(qtbot, RunConfig(task="adding", hidden=8, seq_len=20, batch=8))
    bar = window.docks["Task view"].titleBarWidget()
    qtbot.mouseClick(bar.help_button, Qt.MouseButton.LeftButton)
    text = window.help_popup.label.text()
    assert TASK_HELP["adding"] in text and TASK_HELP["sine"] not in text and "marked" in text
    window.close()


def test_the_gradients_help_of_a_character_model_says_the_loss_is_over_the_probe_texts_next_characters():
    chars = panel_help("Gradients through time", "chars")
    assert "next character of the probe text" in chars and "change with the text" in chars
    assert chars.count("<p>") == 2 and "vanishing gradient" in chars
    for task in ("sine", "adding", "copy", "digits"):  # no probe text: not said
        assert "probe text" not in panel_help("Gradients through time", task)
    assert "colour strip" not in panel_help("Task view", "chars")  # the text view replaced it
    assert "hover a character" in panel_help("Task view", "chars")


@OFFSCREEN_LIMITS
def test_the_custom_title_bar_keeps_float_and_close(qtbot, window):
    dock = window.docks["Gates"]
    bar = dock.titleBarWidget()
    qtbot.mouseClick(bar.float_button, Qt.MouseButton.LeftButton)
    assert dock.isFloating()
    qtbot.mouseClick(bar.float_button, Qt.MouseButton.LeftButton)
    assert not dock.isFloating()
    qtbot.mouseClick(bar.close_button, Qt.MouseButton.LeftButton)
    assert not dock.isVisible() and not dock.toggleViewAction().isChecked()
    window.restore_layout()
    assert dock.isVisible()


def test_help_shows_the_equations_of_the_cell_trained_now(qtbot, window):
    window.show_equations()
    assert window.equations.isVisible() and not window.equations.isModal()  # training goes on behind it
    lstm = window.equations.text()
    assert "LSTM (torch.nn.LSTM)" in lstm
    assert "c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>" in lstm
    assert "h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>)" in lstm
    window.worker.reset(SMALL.replace(cell="gru"))
    qtbot.waitUntil(lambda: window.last_snapshot.config.cell == "gru", timeout=TIMEOUT_MS)
    gru = window.equations.text()  # an open window follows the cell
    assert "GRU (torch.nn.GRU)" in gru and "f<sub>t</sub>" not in gru
    # torch's GRU puts the reset gate on W_hn h + b_hn (not on h before the product, as Cho et al. 2014 do)
    assert "r<sub>t</sub> ⊙ (W<sub>hn</sub> h<sub>t−1</sub> + b<sub>hn</sub>)" in gru
    assert "(1 − z<sub>t</sub>) ⊙ n<sub>t</sub> + z<sub>t</sub> ⊙ h<sub>t−1</sub>" in gru
    assert set(EQUATIONS) == {"lstm", "gru", "rnn"}


def test_a_preset_shows_its_description_and_names_the_window(qtbot, window):
    controls = window.controls
    assert not controls.preset_description.isVisibleTo(controls)  # custom settings: nothing to describe
    assert window.windowTitle() == "lstm_viz — sine, custom settings"
    index = controls.preset.findText("adding-100")
    controls.preset.setCurrentIndex(index)
    controls.preset.activated.emit(index)
    qtbot.waitUntil(lambda: window.last_snapshot.config == load_preset("adding-100"), timeout=TIMEOUT_MS)
    description = preset_info("adding-100")["description"]
    assert controls.preset_description.text() == description and controls.preset_description.isVisibleTo(controls)
    assert controls.preset_description.wordWrap()
    assert window.windowTitle() == "lstm_viz — adding-100"
    controls.hidden.setValue(16)  # no preset any more
    qtbot.waitUntil(lambda: window.last_snapshot.config.hidden == 16, timeout=TIMEOUT_MS)
    assert window.windowTitle() == "lstm_viz — adding, custom settings"
    assert not controls.preset_description.isVisibleTo(controls)


def test_the_what_to_watch_note_shows_once_in_its_own_bar_and_stays_through_start(qtbot):
    window = open_window(qtbot, load_preset("exploding"))
    note = f"{NOTE_MARK}exploding: {preset_info('exploding')['watch']}"
    assert window.note_bar.isVisible() and window.note_bar.label.text() == note
    assert "--compare clip=off,norm:1" in note and "--paused" in note
    assert window.note_timer.isActive() and not window.message_bar.isVisible()  # it goes by itself in time
    window.start_pause()  # a command that succeeds hides an error, not the note
    qtbot.waitUntil(lambda: window.last_snapshot.running, timeout=TIMEOUT_MS)
    window.show_message("Could not read that file")  # an error comes and goes beside it
    window.show_message("")
    qtbot.wait(100)
    assert window.note_bar.isVisible() and window.note_bar.label.text() == note
    points = window.note_bar.label.font().pointSizeF()
    window.set_font_scale(1.5)  # it follows the text size, as the rest of the window
    assert window.note_bar.label.font().pointSizeF() == pytest.approx(1.5 * points)
    window.set_font_scale(None)
    qtbot.mouseClick(window.note_bar.close_button, Qt.MouseButton.LeftButton)  # the user closes it
    assert not window.note_bar.isVisible()
    window.reset()  # the same preset again: not said again
    qtbot.waitUntil(lambda: window.last_snapshot.step < 5, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    assert not window.note_bar.isVisible()
    window.close()


def test_no_note_for_settings_without_one(window):
    assert not window.note_bar.isVisible()  # SMALL is no preset
    assert window.noted_presets == set()


def test_the_equations_of_a_vanilla_rnn_name_its_nonlinearity():
    from lstm_viz.gui.help import equations_html

    assert "h<sub>t</sub> = tanh(" in equations_html("rnn") and "relu" not in equations_html("rnn")
    relu = equations_html("rnn", "relu")
    assert "nn.RNN, relu" in relu and "h<sub>t</sub> = relu(" in relu and "tanh" not in relu
    assert equations_html("lstm", "relu") == equations_html("lstm")  # only a vanilla RNN has one to choose
