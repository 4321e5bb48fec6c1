"""The window's layout holds still: no text, sample or message changes the size of the window or
of any dock, and View > Restore default layout brings back the default sizes."""

import dataclasses
import math

import pytest
from PyQt6.QtCore import Qt

from lstm_viz.core.config import RunConfig
from lstm_viz.gui.main_window import MainWindow

NAMES = RunConfig(task="chars", text="names", hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000
RIGHT_COLUMN = ("Gradients through time", "Training", "Task view")


@pytest.fixture
def window(qtbot):
    window = MainWindow(NAMES)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    qtbot.wait(100)  # the first layout settles
    yield window
    window.close()


def wait_for(qtbot, window, condition):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=TIMEOUT_MS)
    return window.last_snapshot


def geometry(window) -> dict:
    """The window's size and every dock's and panel's place."""
    shown = {"window": window.size()}
    for title, dock in window.docks.items():
        shown[title] = dock.geometry()
        shown[f"{title} contents"] = dock.widget().geometry()
    return shown


ONE_WORD_PER_LINE = "\n".join(f"word{index % 37}" for index in range(3000)) + "\n"
LONG_LINES = "\n".join(("abcdefghij klmnopqrstuvwxyz " * 11)[:300] for _ in range(100)) + "\n"


@pytest.mark.parametrize(
    ("text", "worst_sample"),
    [(ONE_WORD_PER_LINE, "w\n" * 60), (LONG_LINES, "x" * 300 + " " + "y" * 300)],
    ids=["one word per line", "300-character lines"],
)
def test_no_text_changes_the_window_or_any_panel(qtbot, window, tmp_path, text, worst_sample):
    before = geometry(window)
    text_height = window.panels["Task view"].text.height()
    path = tmp_path / "text.txt"
    path.write_text(text)
    window.open_text(str(path))
    window.worker.start()
    loaded = wait_for(qtbot, window, lambda snapshot: snapshot.config.text == str(path) and "sample" in snapshot.view)
    window.worker.pause()
    qtbot.wait(100)
    assert geometry(window) == before
    # The worst a sample of this text can be: many lines, or words wider than the panel.
    window.draw(dataclasses.replace(loaded, view={**loaded.view, "sample": worst_sample}))
    qtbot.wait(100)
    assert geometry(window) == before
    shown = window.panels["Task view"].text
    assert shown.height() == text_height and shown.verticalScrollBar().maximum() > 0  # the rest scrolls
    assert "w⏎" in shown.toPlainText() or "x" * 300 in shown.toPlainText()


def test_a_message_lies_over_the_docks_and_moves_none_of_them(qtbot, window):
    before = geometry(window)
    window.show_message("Could not read that file: " + "a long reason " * 40)
    qtbot.wait(50)
    assert window.message_bar.isVisible() and geometry(window) == before
    bar, timeline = window.message_bar.geometry(), window.timeline_bar.geometry()  # the timeline: over the status bar
    assert bar.bottom() + 1 == timeline.top() and (bar.left(), bar.width()) == (0, window.width())
    label = window.message_label
    assert label.height() >= label.heightForWidth(label.width()) > 2 * label.fontMetrics().height()  # all of it
    window.show_message("")
    qtbot.wait(50)
    assert not window.message_bar.isVisible() and geometry(window) == before


def test_a_notice_hides_itself_and_an_error_stays(window):
    window.show_message("✓ Saved step 3 to checkpoint.pt")
    assert window.notice_timer.isActive()
    window.notice_timer.timeout.emit()
    assert not window.message_bar.isVisible()
    window.show_message("Could not write checkpoint.pt")
    assert not window.notice_timer.isActive() and window.message_bar.isVisible()


def test_restore_default_layout_brings_back_the_window_size_and_even_columns(qtbot, window):
    default = geometry(window)
    docks = window.docks
    window.resizeDocks([docks[title] for title in RIGHT_COLUMN], [20, 20, 2000], Qt.Orientation.Vertical)
    window.resize(window.width() - 300, window.height() + 900)  # past the bottom of the screen
    qtbot.wait(50)
    assert docks["Training"].height() < 100 and window.height() > window.screen().availableGeometry().height()
    window.restore_layout()
    qtbot.wait(50)
    assert geometry(window) == default
    heights = [docks[title].height() for title in RIGHT_COLUMN]
    assert max(heights) - min(heights) <= 2, heights
    assert abs(docks["Gates"].height() - docks["States"].height()) <= 2


def test_after_a_reset_the_training_axes_show_the_new_run(qtbot, window):
    training = window.panels["Training"]
    window.worker.start()
    wait_for(qtbot, window, lambda snapshot: snapshot.step >= 60)
    window.worker.pause()
    assert training.loss_plot.viewRange()[0][1] >= 60
    window.reset()
    wait_for(qtbot, window, lambda snapshot: snapshot.step == 0)
    (x_low, x_high), (y_low, y_high) = training.loss_plot.viewRange()
    assert (x_low, x_high) == (0, 10)
    baseline = math.log10(window.last_snapshot.baseline_loss)
    assert y_low <= baseline <= y_high and y_high - y_low < 1  # around the baseline, the only thing in it
