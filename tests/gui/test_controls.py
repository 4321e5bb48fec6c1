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
