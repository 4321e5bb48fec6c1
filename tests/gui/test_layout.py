"""The window's layout holds still: no text, sample or message changes the size of the window or
of any dock, and View > Restore default layout brings back the default sizes."""

import dataclasses
import math

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QTabBar

from lstm_viz.core.config import RunConfig, load_preset
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.panels.plots import Plot

NAMES = RunConfig(task="chars", text="names", hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000


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
    """The window's size and every shown dock's and panel's place (a tab behind another has none)."""
    shown = {"window": window.size()}
    for title, dock in window.docks.items():
        if dock.visibleRegion().isEmpty():
            continue
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


def shown_window(qtbot, config, steps: int = 0) -> MainWindow:
    """A window with the default layout (none remembered), shown, after `steps` training steps."""
    window = MainWindow(config, remember_view=False)
    qtbot.addWidget(window)
    window.show()
    if steps:
        window.worker.start(until_step=steps)
        done = lambda: window.last_snapshot is not None and window.last_snapshot.step >= steps  # noqa: E731
        qtbot.waitUntil(done, timeout=TIMEOUT_MS)
    return window


def window_rect(widget):
    """`widget`'s rectangle in its window's coordinates."""
    return widget.rect().translated(widget.mapTo(widget.window(), widget.rect().topLeft()))


def plot_parts(window):
    """(name, rectangle in the window) of every shown plot's data area and axes (with their labels)."""
    for title, plot in shown_plots(window):
        view = window.panels[title].graphics
        for name, item in (
            ("plot area", plot.vb),
            ("y axis", plot.getAxis("left")),
            ("x axis", plot.getAxis("bottom")),
        ):
            if item.isVisible():
                rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
                yield (
                    f"{title}: {plot.titleLabel.text[:20]!r} {name}",
                    rect.translated(view.mapTo(window, rect.topLeft()) - rect.topLeft()),
                )


@pytest.mark.parametrize(
    ("size", "lecture"),
    [((1024, 768), False), ((1920, 1080), False), ((1024, 768), True)],
    ids=["1024x768", "1920x1080", "lecture 1024x768"],
)
def test_a_presets_note_takes_its_own_room_and_covers_no_panel(qtbot, size, lecture):
    window = shown_window(qtbot, load_preset("exploding"))  # the longest note
    if lecture:  # three panels at x1.5 (the grid's least width is ~320 px: the note wrapped there must not count)
        window.set_lecture_mode(True)
        window.showNormal()
    window.resize(*size)
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    qtbot.wait(150)
    try:
        assert window.note_bar.isVisible() and "--paused" in window.note_bar.label.text()
        note = window_rect(window.note_bar)
        label = window.note_bar.label
        assert label.height() >= label.heightForWidth(label.width())  # all of it shows
        assert note.top() >= window_rect(window.menu_bar).bottom()  # under the menus
        covered = [title for title, dock in window.docks.items() if dock.isVisible()
                   and window_rect(dock).intersects(note)]  # fmt: skip
        covered += [name for name, rect in plot_parts(window) if rect.intersects(note)]
        assert covered == []
        assert (window.width(), window.height()) == size and problems(window) == []  # the panels still fit
        shown = [dock for dock in window.docks.values() if not dock.visibleRegion().isEmpty()]  # not a tab behind
        top_with_note = min(window_rect(dock).top() for dock in shown)
        window.note_bar.close_button.click()
        qtbot.wait(100)
        assert not window.note_bar.isVisible()
        top = min(window_rect(dock).top() for dock in shown)
        assert top <= top_with_note - note.height() + 4  # the room is given back
    finally:
        window.set_lecture_mode(False)
        window.close()


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
    right_column = window.default_columns()[2]
    top = docks[right_column[0]].height()
    window.resizeDocks([docks[title] for title in right_column], [20] * (len(right_column) - 1) + [2000],
                       Qt.Orientation.Vertical)  # fmt: skip
    window.resize(window.width() - 300, window.height() + 900)  # past the bottom of the screen
    qtbot.wait(50)
    assert docks[right_column[0]].height() < top - 20 and window.height() > window.screen().availableGeometry().height()
    window.restore_layout()
    qtbot.wait(50)
    assert geometry(window) == default
    heights = [docks[title].height() for title in right_column]
    assert max(heights) - min(heights) <= 2, heights
    tabs = next(bar for bar in window.findChildren(QTabBar) if bar.isVisible())  # States | Cell, under the States
    assert abs(docks["Gates"].height() - docks["States"].height() - tabs.height()) <= 2


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
    assert y_low <= baseline <= y_high and y_high - y_low == 1  # the decade around the baseline, the only thing in it


# ---- legible at 1024x768 and 1280x720, in either mode and at any text size --------------------------------
SINE = RunConfig(task="sine", hidden=8, seq_len=20, batch=8)
SCREENS = [(1024, 768), (1280, 720)]
MODES = [(False, (0.9, 1.0, 1.1)), (True, (1.25, 1.5))]  # (lecture, font scales): each mode's default and steps
FOUR = ("Gates", "Gradients through time", "Training", "Task view")  # lecture mode's other 2 x 2 grid (default: Cell)


def shown_plots(window):
    """Every plot the visible panels show now."""
    for title, panel in window.panels.items():
        if window.docks[title].isVisible():
            for item in panel.graphics.scene().items():
                if isinstance(item, Plot) and item.isVisible():
                    yield title, item


def broken_words(title) -> list[str]:
    """Where a title's lines break other than at a space: '‖∂L/|∂h_t‖' (a formula cut in two)."""
    broken = []
    block = title.item.document().begin()
    while block.isValid():
        text, layout = block.text(), block.layout()
        for number in range(1, layout.lineCount()):
            start = layout.lineAt(number).textStart()
            if not text[start - 1].isspace():
                broken.append(f"{text[max(start - 12, 0) : start]}|{text[start : start + 12]}".replace("\u2060", ""))
        block = block.next()
    return broken


def problems(window) -> list[str]:
    """What is cut or too small: a plot shorter than its minimum, a title cut or broken inside a word (a formula), a
    value axis with < 2 labels, a time axis linked to another showing other timesteps."""
    found = []
    for title, plot in shown_plots(window):
        name = f"{title}: {plot.titleLabel.text[:30]!r}"
        if plot.vb.height() < plot.vb.minimumHeight() - 0.5:
            found.append(f"{name} is {plot.vb.height():.0f} px tall, below its {plot.vb.minimumHeight():.0f}")
        if plot.titleLabel.is_cut():
            label = plot.titleLabel
            text = label.mapRectFromItem(label.item, label.item.boundingRect())
            place = label.rect()
            found.append(f"{name}: title {text.width():.0f}x{text.height():.0f} cut in {place.width():.0f}x"
                         f"{place.height():.0f}")  # fmt: skip
        broken = broken_words(plot.titleLabel)
        if broken:
            found.append(f"{name}: title broken inside a word or formula at {broken}")
        leader = plot.vb.linkedView(plot.vb.XAxis)
        if leader is not None and not np.allclose(plot.vb.viewRange()[0], leader.viewRange()[0]):
            found.append(f"{name}: x range {plot.vb.viewRange()[0]}, linked to {leader.viewRange()[0]}")
        axis = plot.getAxis("left")
        if plot.vb.addedItems and axis.style["showValues"] and len(axis.labelled_ticks()) < 2:
            found.append(f"{name}: y axis labels {axis.labelled_ticks()}")
    return found


def take_size(qtbot, window, width, height):
    """Resize the window as a screen of that size does (a full-screen or maximised window is given it again when it
    asks for more): for one layout pass after a resize, titles rewrapping (words kept whole) or a character
    model's text measured at the old width can ask for a few pixels more (1024x768 -> 1280x720: 727 px at x1.5),
    and less once measured anew."""
    for _ in range(2):
        window.resize(width, height)
        qtbot.wait(150)  # the layout settles, titles wrap, ticks are placed


@pytest.mark.parametrize("config", [SINE, NAMES], ids=["sine", "chars"])
def test_the_window_fits_small_screens_with_nothing_cut_in_either_mode_and_any_text_size(qtbot, config):
    window = shown_window(qtbot, config, steps=30)
    try:
        for lecture, scales in MODES:
            window.set_lecture_mode(lecture)
            for scale in scales:
                window.set_font_scale(scale)
                for width, height in SCREENS:
                    window.showNormal()
                    take_size(qtbot, window, width, height)
                    where = f"{width}x{height}, {'lecture' if lecture else 'normal'} mode, text x{scale}"
                    assert (window.width(), window.height()) == (width, height), where  # it fits
                    assert problems(window) == [], where
            if lecture:  # four other panels, 2 x 2, at the lecture scale
                window.lecture_panels = FOUR
                window._arrange_lecture()
                for width, height in SCREENS:
                    take_size(qtbot, window, width, height)
                    assert (window.width(), window.height()) == (width, height) and problems(window) == [], FOUR
    finally:
        window.set_lecture_mode(False)
        window.set_font_scale(None)
        window.close()


def test_in_lecture_mode_at_1024x768_axis_labels_are_16_points_or_more(qtbot):
    window = shown_window(qtbot, SINE)
    window.set_lecture_mode(True)
    window.showNormal()
    window.resize(1024, 768)
    qtbot.wait(100)
    try:
        for _, plot in shown_plots(window):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                if axis.labelText:
                    assert float(axis.labelStyle["font-size"].removesuffix("pt")) >= 16, (plot, name)
    finally:
        window.set_lecture_mode(False)
        window.close()


def drawn_text_px(view) -> list[tuple[float, str]]:
    """(pixel height of its font on screen, text) for every text item of the view's diagram: the font's pixel size
    times the view's scale and the item's own."""
    from PyQt6.QtWidgets import QGraphicsSimpleTextItem, QGraphicsTextItem

    found = []
    for item in view.scene().items():
        if isinstance(item, QGraphicsSimpleTextItem | QGraphicsTextItem) and item.isVisible():
            text = item.text() if isinstance(item, QGraphicsSimpleTextItem) else item.toPlainText()
            if text.strip():
                scale = view.transform().m22() * item.sceneTransform().m22()
                found.append((item.font().pixelSize() * scale, text))
    return found


@pytest.mark.parametrize("lecture", [False, True], ids=["normal", "lecture"])
def test_the_cell_diagrams_text_is_11_px_or_more_at_1024x768_and_whole_in_lecture_mode(qtbot, lecture):
    from lstm_viz.gui.panels.cell import SCENE_H, SCENE_W
    from lstm_viz.gui.state import Selection

    window = shown_window(qtbot, SINE, steps=5)
    window.set_lecture_mode(lecture)
    window.docks["Cell"].raise_()  # normal mode: the tab beside States
    window.select(Selection(0, 0, 3, 12))
    panel = window.panels["Cell"]
    try:
        for width, height in SCREENS if lecture else SCREENS[:1]:
            window.showNormal()
            take_size(qtbot, window, width, height)
            assert window.docks["Cell"].isVisible() and panel.view.isVisible()
            sizes = drawn_text_px(panel.view)
            assert len(sizes) > 20 and min(sizes)[0] >= 11, (width, height, min(sizes))  # titles, numbers, labels
            if lecture:  # the whole diagram on the screen, no part scrolled away
                shown = panel.view.mapFromScene(panel.view.sceneRect()).boundingRect()
                assert panel.view.viewport().rect().adjusted(-1, -1, 1, 1).contains(shown), (width, height, shown)
                assert shown.width() >= SCENE_W * 11 / 22 and shown.height() >= SCENE_H * 11 / 22
            assert panel.values["timestep"] == 12 and "unit 3, t = 12" in panel.heading.text()
    finally:
        window.set_lecture_mode(False)
        window.close()
