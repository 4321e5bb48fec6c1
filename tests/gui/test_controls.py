"""The Controls dock shows the settings that matter for the task and nothing else."""

from lstm_viz.core.config import RunConfig
from lstm_viz.gui.controls import ControlsPanel


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
