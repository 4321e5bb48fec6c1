"""The Controls dock shows the settings that matter for the task and nothing else."""

import pytest

from lstm_viz.core.config import RunConfig, load_preset
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.controls import NO_PROBE_TIP, ControlsPanel


def test_the_text_box_is_blank_for_tasks_without_a_text_and_shows_the_text_of_a_character_task(qtbot):
    sine = RunConfig(task="sine")  # its text is the unused default, hihello
    controls = ControlsPanel(sine)
    qtbot.addWidget(controls)
    assert sine.text == "hihello"
    assert controls.text.currentText() == "" and not controls.text.isEnabled()
    controls.show_config(RunConfig(task="chars", text="names"))
    assert controls.text.currentText() == "names" and controls.text.isEnabled()
    controls.show_config(RunConfig(task="adding", text="names"))
    assert controls.text.currentText() == "" and controls.text.currentData() is None
    with qtbot.waitSignal(controls.apply_requested) as applied:  # the user picks the character task again
        controls.task.setCurrentIndex(controls.task.findData("chars"))
        controls.task.activated.emit(controls.task.currentIndex())
    assert applied.args[0].text == "names" and controls.text.currentText() == "names"


def test_the_forget_bias_is_a_constant_or_chrono_with_its_t_max(qtbot):
    controls = ControlsPanel(RunConfig(task="adding", seq_len=120))
    qtbot.addWidget(controls)
    assert controls.forget_bias_kind.currentData() == "constant" and controls.forget_bias.value() == 1.0
    with qtbot.waitSignal(controls.apply_requested) as applied:  # chrono: T_max starts at the sequence length
        controls.forget_bias_kind.setCurrentIndex(controls.forget_bias_kind.findData("chrono"))
        controls.forget_bias_kind.activated.emit(controls.forget_bias_kind.currentIndex())
    assert applied.args[0].forget_bias == "chrono:120" and controls.forget_bias.value() == 120
    with qtbot.waitSignal(controls.apply_requested) as applied:  # the spin box is now T_max
        controls.forget_bias.setValue(500)
    assert applied.args[0].forget_bias == "chrono:500"
    with qtbot.waitSignal(controls.apply_requested) as applied:
        controls.forget_bias_kind.setCurrentIndex(controls.forget_bias_kind.findData("constant"))
        controls.forget_bias_kind.activated.emit(controls.forget_bias_kind.currentIndex())
    assert applied.args[0].forget_bias == 1.0 and controls.forget_bias.value() == 1.0
    controls.show_config(RunConfig(task="adding", forget_bias="chrono:200", cell="gru"))
    assert controls.forget_bias_kind.currentText().startswith("chrono") and controls.forget_bias.value() == 200
    assert not controls.forget_bias.isEnabled() and not controls.forget_bias_kind.isEnabled()  # LSTM only


def names_snapshot(probe_text: str = ""):
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=4, seq_len=12, batch=2, probe_text=probe_text))
    return trainer.snapshot()


def test_the_probe_text_box_is_offered_for_character_models_only(qtbot):
    controls = ControlsPanel(RunConfig(task="sine"))
    qtbot.addWidget(controls)
    assert not controls.probe_text.isEnabled() and not controls.probe_show.isEnabled()
    assert controls.probe_text.toolTip() == NO_PROBE_TIP
    controls.show_config(RunConfig(task="chars", text="names"))
    assert controls.probe_text.isEnabled() and controls.probe_show.isEnabled()
    assert "scored on predicting the next one" in controls.probe_text.toolTip()
    assert not controls.probe_default.isEnabled()  # it is the default
    controls.show_config(RunConfig(task="chars", text="names", probe_text="\nbob\n"))
    assert controls.probe_default.isEnabled()


def test_the_box_shows_the_probe_on_the_panels_and_show_sends_a_typed_text(qtbot):
    snapshot = names_snapshot()
    controls = ControlsPanel(snapshot.config)
    qtbot.addWidget(controls)
    controls.show_probe(snapshot)
    ids = [*snapshot.trace.probe_input, snapshot.trace.probe_target[-1]]
    own = "".join("\nabcdefghijklmnopqrstuvwxyz"[index] for index in ids)  # the window drawn from the names
    assert controls.probe_text.toPlainText() == own and len(own) == 13 and own[0] == "\n"
    with qtbot.assertNotEmitted(controls.apply_requested):
        controls.probe_show.click()  # the probe on the panels already
    controls.probe_text.setPlainText("\nanna\nbob\n")
    with qtbot.waitSignal(controls.apply_requested) as applied:
        controls.probe_show.click()
    assert applied.args[0] == snapshot.config.replace(probe_text="\nanna\nbob\n")
    with qtbot.waitSignal(controls.apply_requested) as applied:
        controls.probe_default.click()
    assert applied.args[0].probe_text == ""


@pytest.mark.parametrize(
    "typed, words",
    [
        ("Anna & Bob", "does not know: '␣', '&', 'A', 'B'; type only ⏎ a-z; the panels keep the previous probe"),
        ("", "the probe text is empty: type at least 2 characters, or press Default"),
        ("a" * 201, "201 characters, over the limit of 200"),
        ("a", "at least 2 characters"),
    ],
)
def test_a_text_the_model_cannot_read_is_refused_in_one_line_and_stays_in_the_box_to_mend(qtbot, typed, words):
    snapshot = names_snapshot()
    controls = ControlsPanel(snapshot.config)
    qtbot.addWidget(controls)
    controls.show_probe(snapshot)
    controls.probe_text.setPlainText(typed)
    with qtbot.assertNotEmitted(controls.apply_requested), qtbot.waitSignal(controls.error) as error:
        controls.probe_show.click()
    assert words in error.args[0] and "\n" not in error.args[0]
    controls.show_probe(snapshot)  # the next frame: what the user typed stays to be mended
    assert controls.probe_text.toPlainText() == typed and controls.config.probe_text == ""


def test_a_new_text_or_task_drops_the_probe_text(qtbot):
    controls = ControlsPanel(RunConfig(task="chars", text="names", probe_text="\nbob\n"))
    qtbot.addWidget(controls)
    with qtbot.waitSignal(controls.apply_requested) as applied:
        controls.text.setCurrentIndex(controls.text.findData("hihello"))
        controls.text.activated.emit(controls.text.currentIndex())
    assert (applied.args[0].text, applied.args[0].probe_text) == ("hihello", "")
    names = load_preset("names")  # a probe text does not make a preset custom settings
    controls.show_config(names.replace(probe_text="\nbob\n"))
    assert controls.preset_name == "names"
    with qtbot.waitSignal(controls.apply_requested) as applied:
        controls.task.setCurrentIndex(controls.task.findData("sine"))
        controls.task.activated.emit(controls.task.currentIndex())
    assert (applied.args[0].task, applied.args[0].probe_text) == ("sine", "")
