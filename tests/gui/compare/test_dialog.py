"""Run ▸ Compare… and the Compare… button: a dialog that builds the --compare text from the current settings,
opens a comparison window of those variants on OK, and refuses a bad value in one line, staying open."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QDialogButtonBox

from lstm_viz.core.compare import COMPARABLE
from lstm_viz.core.config import RunConfig
from lstm_viz.gui.compare.dialog import CompareDialog, suggested_values
from lstm_viz.gui.main_window import MainWindow

SMALL = RunConfig(task="adding", hidden=6, seq_len=12, batch=4, seed=2)
TIMEOUT_MS = 20000


@pytest.fixture
def window(qtbot, tmp_path):
    window = MainWindow(SMALL, runs_dir=tmp_path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    yield window
    window.close()


def test_the_dialog_builds_the_compare_text_and_suggests_values_parse_compare_takes(qtbot):
    dialog = CompareDialog(SMALL)
    qtbot.addWidget(dialog)
    assert dialog.compare_text() == "cell=lstm,gru,rnn"
    dialog.setting.setCurrentText("hidden")
    assert dialog.compare_text() == "hidden=6,12"
    dialog.values.setText(" 4, 8 ,16")
    assert dialog.compare_text() == "hidden=4,8,16"
    assert [dialog.setting.itemText(i) for i in range(dialog.setting.count())] == list(COMPARABLE)
    for setting in COMPARABLE:  # every suggestion is a comparison that builds
        dialog.setting.setCurrentText(setting)
        dialog.accept()
        assert dialog.comparison is not None and dialog.comparison.setting == setting, (setting, dialog.error.text())
    assert suggested_values("lr", SMALL.replace(lr=0.01)) == "0.001,0.01,0.1"


def test_ok_opens_a_comparison_of_those_variants_of_the_current_settings_and_pauses_the_run(qtbot, window):
    window.start_pause()
    assert window.controls.compare_button.isVisible()
    window.controls.compare_button.click()
    dialog = window.compare_dialog
    assert dialog.isVisible()
    dialog.setting.setCurrentText("cell")
    dialog.values.setText("lstm,rnn")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()
    assert len(window.comparisons) == 1
    compare = window.comparisons[0]
    qtbot.addWidget(compare)
    assert compare.labels == ["cell=lstm", "cell=rnn"]
    assert [t.config for t in compare.worker.trainers] == [SMALL.replace(cell="lstm"), SMALL.replace(cell="rnn")]
    qtbot.waitUntil(lambda: compare.snapshots is not None and compare.snapshots[0].step >= 2, timeout=TIMEOUT_MS)
    assert not window._want_running and "Comparing cell" in window.message_label.text()
    qtbot.waitUntil(lambda: all(run.steps.size for run in compare.runs) and len(compare.runs) == 2, timeout=TIMEOUT_MS)
    window.close()  # closing the main window closes its comparisons and stops their thread
    assert not compare.isVisible() and not compare.worker.is_alive


def test_a_refused_value_keeps_the_dialog_open_with_why_in_one_line_and_nothing_changes(qtbot, window):
    trainer = window.worker.trainer
    menu = next(a.menu() for a in window.menu_bar.actions() if a.text() == "&Run")
    compare_action = next(a for a in menu.actions() if a.text() == "Compare…")
    compare_action.trigger()
    dialog = window.compare_dialog
    dialog.setting.setCurrentText("hidden")
    refused = {
        "4,0": "hidden=0 is refused",
        "4": "a comparison has 2 to 4 variants",
        "4,4": "the value 4 is given twice",
        "4,x": "hidden must be a whole number",
    }
    for values, reason in refused.items():
        dialog.values.setText(values)
        dialog.accept()
        assert dialog.isVisible() and reason in dialog.error.text() and "\n" not in dialog.error.text()
        assert not dialog.error.text().startswith("--compare")
    assert window.comparisons == [] and window.worker.trainer is trainer and window.worker.is_alive
    dialog.reject()
    assert window.comparisons == []
