"""The main window with the real worker and panels, offscreen."""

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt

from lstm_viz import open_run
from lstm_viz.core.config import ConfigError, RunConfig, load_preset
from lstm_viz.core.runs import read_metrics
from lstm_viz.core.snapshot import STATE_NAMES
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui import main_window
from lstm_viz.gui.app import run_app
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.state import Selection
from lstm_viz.gui.worker import NOTICE_MARK, WARNING_MARK, is_notice

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000
PANEL_TITLES = ("Gates", "States", "Gradients through time", "Training", "Task view", "Cell")


def has_records(run_dir) -> bool:
    """Whether the run in `run_dir` can be opened and has a record."""
    try:
        return len(open_run(run_dir).steps) > 0
    except ConfigError:
        return False


@pytest.fixture
def window(qtbot):
    window = MainWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    yield window
    window.close()


def wait_for(qtbot, window, condition):
    """Wait for a drawn snapshot satisfying `condition`, and return it."""
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=TIMEOUT_MS)
    return window.last_snapshot


def images(panel) -> list[np.ndarray]:
    """Copies of the images a panel shows now."""
    shown = []
    for view in panel.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.ImageItem) and item.isVisible() and item.image is not None:
                shown.append(np.array(item.image))
    return shown


def shown_quantities(panel, trace, layer=0, direction=0) -> list[str | None]:
    """For each image the panel shows: the name of the trace's (T, H) quantity it is, or None."""
    names = [name for name in trace.names if trace[name].ndim == 4]
    return [
        next((name for name in names if np.array_equal(image, trace[name][layer, direction].T)), None)
        for image in images(panel)
    ]


def curves(panel) -> list[np.ndarray]:
    """The y data of the visible curves a panel shows now."""
    shown = []
    for view in panel.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.PlotDataItem) and item.isVisible() and item.yData is not None:
                shown.append(np.array(item.yData))
    return shown


def choose(combo, value) -> None:
    """Pick `value` in a combo box as a user would (activated is emitted for user choices only)."""
    index = combo.findData(value)
    assert index >= 0, f"{value!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_window_opens_with_controls_and_all_five_panel_docks(window):
    assert set(window.docks) == {"Controls", *PANEL_TITLES}
    for title in PANEL_TITLES:
        dock = window.docks[title]
        assert dock.isVisible() and dock.widget() is window.panels[title]
        assert dock.width() > 200 and dock.height() > 100, f"{title} dock is too small: {dock.size()}"
    assert window.windowTitle().startswith("lstm_viz — ")


def test_the_gates_view_box_sits_in_its_title_bar_over_no_plot_or_title(qtbot, window):
    window.resize(1024, 768)
    qtbot.wait(150)
    dock, gates = window.docks["Gates"], window.panels["Gates"]
    box = gates.view_choice
    assert box.isVisible() and box.parent() is dock.titleBarWidget()
    box_area = box.rect().translated(box.mapTo(window, box.rect().topLeft()))
    panel_area = gates.rect().translated(gates.mapTo(window, gates.rect().topLeft()))
    assert not box_area.intersects(panel_area)  # the panel's plots and titles are all below it
    title = dock.titleBarWidget().title
    assert not box_area.intersects(title.rect().translated(title.mapTo(window, title.rect().topLeft())))
    box.setCurrentText("Saturation")  # and it still switches the view
    assert gates.saturation_graphics.isVisible() and not gates.graphics.isVisible()


def test_training_redraws_the_panels_with_new_images(qtbot, window):
    gates = window.panels["Gates"]
    first = wait_for(qtbot, window, lambda snapshot: True)
    before = images(gates)
    assert sorted(shown_quantities(gates, first.trace)) == sorted(STATE_NAMES["lstm"][:4])
    window.worker.start()
    later = wait_for(qtbot, window, lambda snapshot: snapshot.step >= first.step + 20)
    after = images(gates)
    assert len(after) == len(before)
    assert any(not np.array_equal(old, new) for old, new in zip(before, after, strict=True))
    assert sorted(shown_quantities(gates, later.trace)) == sorted(STATE_NAMES["lstm"][:4])  # the newest trace
    assert "step" in window.status_label.text() and window.controls.start_pause.text() == "Pause"


def test_switching_cell_and_task_resets_and_the_panels_show_the_new_quantities(qtbot, window):
    window.worker.start()
    wait_for(qtbot, window, lambda snapshot: snapshot.step >= 5)
    choose(window.controls.cell, "gru")
    gru = wait_for(qtbot, window, lambda snapshot: snapshot.config.cell == "gru")
    assert gru.trace.cell == "gru"  # a new model
    assert sorted(shown_quantities(window.panels["Gates"], gru.trace)) == ["candidate", "reset_gate", "update_gate"]
    assert shown_quantities(window.panels["States"], gru.trace) == ["hidden"]  # no cell state, nothing stale

    sine_inputs = gru.trace.probe_input[:, 0]
    choose(window.controls.task, "adding")
    adding = wait_for(qtbot, window, lambda snapshot: snapshot.config.task == "adding")
    assert adding.config.cell == "gru" and adding.running
    assert sorted(shown_quantities(window.panels["Gates"], adding.trace)) == ["candidate", "reset_gate", "update_gate"]
    task_curves = curves(window.panels["Task view"])
    assert any(np.array_equal(y, adding.trace.probe_input[:, 0]) for y in task_curves)  # the adding inputs
    assert not any(len(y) == len(sine_inputs) and np.allclose(y, sine_inputs) for y in task_curves)
    assert window.controls.task.currentData() == "adding"
    assert not window.controls.temperature.isEnabled()  # a chars-only setting


def test_a_bad_text_file_shows_in_the_message_bar_and_training_goes_on(qtbot, window, tmp_path):
    window.worker.start()
    wait_for(qtbot, window, lambda snapshot: snapshot.step >= 2)
    missing = tmp_path / "missing.txt"
    window.open_text(str(missing))
    refused = wait_for(qtbot, window, lambda snapshot: snapshot.message != "")
    assert window.message_bar.isVisible() and str(missing) in window.message_label.text()
    assert not is_notice(refused.message)
    assert window.controls.task.currentData() == "sine"  # the controls show what is running
    wait_for(qtbot, window, lambda snapshot: snapshot.step > refused.step + 3 and snapshot.running)


def test_keyboard_space_starts_and_pauses_s_steps_r_resets(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_for(qtbot, window, lambda snapshot: snapshot.running and snapshot.step >= 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    paused = wait_for(qtbot, window, lambda snapshot: not snapshot.running)
    qtbot.keyClick(window, Qt.Key.Key_S)
    wait_for(qtbot, window, lambda snapshot: snapshot.step == paused.step + 1)
    qtbot.keyClick(window, Qt.Key.Key_R)
    wait_for(qtbot, window, lambda snapshot: snapshot.step == 0)


def test_clicking_a_cell_selects_its_unit_and_timestep_in_every_panel(qtbot, window, monkeypatch):
    selections = {}
    for title, panel in window.panels.items():
        monkeypatch.setattr(panel, "set_selection", lambda where, title=title: selections.__setitem__(title, where))
    window.panels["States"].selection_requested.emit(Selection(unit=5, timestep=7))
    on_screen = tuple(title for title in PANEL_TITLES if title != "Cell")  # the Cell is a tab behind the States
    assert selections == {title: Selection(0, 0, 5, 7) for title in on_screen}
    window.panels["Gates"].selection_requested.emit(Selection(unit=99, timestep=-3))  # beyond the model: its edges
    assert set(selections.values()) == {Selection(0, 0, SMALL.hidden - 1, 0)}
    window.docks["Cell"].raise_()  # shown, the hidden panel catches up with the selection
    qtbot.waitUntil(lambda: "Cell" in selections)
    assert selections["Cell"] == Selection(0, 0, SMALL.hidden - 1, 0)


def test_a_panel_behind_a_tab_draws_nothing_and_when_shown_the_newest_trace_and_selection(qtbot, window):
    import dataclasses

    window.timer.stop()  # only these snapshots are drawn
    cell, trainer = window.panels["Cell"], Trainer(SMALL)
    first = trainer.snapshot()
    window.draw(first)
    window.select(Selection(0, 0, 3, 5))
    assert cell.snapshot is not first and window.panels["States"].snapshot is first  # the Cell tab is behind
    trainer.step()
    traced = trainer.snapshot()
    window.draw(traced)
    trainer.step()
    window.draw(dataclasses.replace(traced, step=trainer.step_count, trace=None))  # no trace: the pictures stay
    window.docks["Cell"].raise_()
    qtbot.waitUntil(lambda: cell.snapshot is traced)
    hidden = traced.trace["hidden"]  # (L, D, T, H)
    assert cell.values["timestep"] == 5 and "unit 3, t = 5" in cell.heading.text()
    assert cell.values["hidden"] == pytest.approx(float(hidden[0, 0, 5, 3]), abs=1e-5)


def test_alt_arrows_step_the_selected_timestep_within_the_probe(qtbot, window):
    window.worker.step()
    snapshot = wait_for(qtbot, window, lambda snapshot: snapshot.trace is not None)
    steps = snapshot.trace["hidden"].shape[2]  # (layers, directions, T, H)
    window.select(Selection(unit=2, timestep=steps - 2))
    shown_step = window.history.shown
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert window.selection == Selection(0, 0, 2, steps - 1)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # the last timestep stays
    assert window.selection.timestep == steps - 1
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.selection.timestep == steps - 4
    assert window.history.shown == shown_step  # the timeline's plain ←/→ did not move
    for panel in ("Gates", "States", "Gradients through time"):
        assert window.panels[panel].time_plot.timestep_marker.value() == steps - 4


def test_a_live_setting_applies_without_restarting(qtbot, window):
    window.worker.start()
    before = wait_for(qtbot, window, lambda snapshot: snapshot.step >= 5)
    window.controls.lr.setValue(0.002)
    applied = wait_for(qtbot, window, lambda snapshot: snapshot.config.lr == 0.002)
    assert applied.step >= before.step


def test_export_metrics_writes_the_last_snapshot_as_csv(qtbot, window, tmp_path):
    for _ in range(3):
        window.worker.step()
    snapshot = wait_for(qtbot, window, lambda snapshot: snapshot.step == 3)
    path = tmp_path / "metrics.csv"
    window.export_metrics(str(path))
    written = read_metrics(path)
    assert list(written) == list(snapshot.metrics)
    for name, values in snapshot.metrics.items():
        np.testing.assert_allclose(written[name], values, rtol=1e-8)
    assert is_notice(window.message_label.text())


def test_export_metrics_of_a_run_longer_than_its_rows_in_memory_has_every_step(qtbot, tmp_path, monkeypatch):
    from lstm_viz.core import history
    from lstm_viz.core import trainer as trainer_module
    from lstm_viz.core.curves import MetricsLog

    monkeypatch.setattr(trainer_module, "MetricsLog", lambda columns: MetricsLog(columns, keep=8))  # 8..16 rows
    monkeypatch.setattr(history, "METRICS_FLUSH_S", 0.0)
    window = MainWindow(SMALL, runs_dir=tmp_path / "runs", history_mb=0)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=TIMEOUT_MS)
    for _ in range(40):
        window.worker.step()
    snapshot = wait_for(qtbot, window, lambda snapshot: snapshot.step == 40)
    assert snapshot.metrics["step"][0] > 20 and snapshot.metrics_envelope is not None  # older rows left memory
    window.export_metrics(str(tmp_path / "export.csv"))
    written, recorded = read_metrics(tmp_path / "export.csv"), history.open_run(snapshot.run_dir).metrics
    np.testing.assert_array_equal(written["step"], np.arange(1, 41))
    for name, values in recorded.items():  # every step, as the run's metrics.csv has it
        np.testing.assert_array_equal(written[name], values, err_msg=name)
    assert "Exported 40 steps" in window.message_label.text()
    window.close()


def test_closing_during_training_stops_the_worker_thread_quickly(qtbot):
    window = MainWindow(SMALL)
    qtbot.addWidget(window)
    window.show()
    window.worker.start()
    wait_for(qtbot, window, lambda snapshot: snapshot.running and snapshot.step > 0)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.0
    assert not window.worker.is_alive


def test_run_app_trains_the_steps_and_saves_a_screenshot(qapp, tmp_path):
    path = tmp_path / "window.png"
    assert run_app(SMALL, steps=5, screenshot=path) == 0
    from PyQt6.QtGui import QImage

    image = QImage(str(path))
    assert image.width() >= 1000 and image.height() >= 600


def test_export_panels_writes_a_png_and_an_svg_per_panel(qtbot, window, tmp_path):
    window.worker.step()
    wait_for(qtbot, window, lambda snapshot: snapshot.step == 1)
    window.docks["Cell"].raise_()  # its tab, shown once: laid out (the States tab behind it keeps its layout)
    qtbot.wait(50)
    sizes = {title: (panel.width(), panel.height()) for title, panel in window.panels.items()}
    window.export_panels("png", str(tmp_path))  # the notice it shows lies over the panels: they keep their size
    from PyQt6.QtGui import QImage

    for title, size in sizes.items():
        image = QImage(str(tmp_path / f"{title.lower().replace(' ', '_')}_step1.png"))
        assert (image.width(), image.height()) == size, title
    window.export_panels("svg", str(tmp_path))
    for title in PANEL_TITLES:
        svg = (tmp_path / f"{title.lower().replace(' ', '_')}_step1.svg").read_text(encoding="utf-8")
        axis_label = "unit" if title == "Cell" else "timestep" if "timestep" in svg else "training step"
        assert "<svg" in svg and axis_label in svg, title  # axis labels (the cell's heading) stay text
    assert is_notice(window.message_label.text())


def test_exports_are_named_with_the_step_and_replace_files_only_if_the_user_agrees(
    qtbot, window, tmp_path, monkeypatch
):
    window.worker.step()
    wait_for(qtbot, window, lambda snapshot: snapshot.step == 1)
    window.export_panels("png", str(tmp_path))
    gates = tmp_path / "gates_step1.png"
    gates.write_bytes(b"the user's own file")
    asked = []

    def answer(reply):
        return lambda parent, title, text, *buttons: asked.append(text) or reply

    monkeypatch.setattr(main_window.QMessageBox, "question", answer(main_window.QMessageBox.StandardButton.No))
    window.export_panels("png", str(tmp_path))
    assert len(asked) == 1 and f"{len(PANEL_TITLES)} of the files" in asked[0] and "gates_step1.png" in asked[0]
    assert gates.read_bytes() == b"the user's own file"  # refused: nothing replaced
    monkeypatch.setattr(main_window.QMessageBox, "question", answer(main_window.QMessageBox.StandardButton.Yes))
    window.export_panels("png", str(tmp_path))
    assert gates.read_bytes().startswith(b"\x89PNG") and len(asked) == 2
    window.worker.step()
    wait_for(qtbot, window, lambda snapshot: snapshot.step == 2)
    window.export_panels("png", str(tmp_path))  # another step: new names, nothing to ask
    assert len(asked) == 2 and len(list(tmp_path.glob("*_step2.png"))) == len(PANEL_TITLES)

    suggested = []

    def save_dialog(parent, caption, path, *rest):
        suggested.append(path)
        return "", ""  # cancelled

    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName", save_dialog)
    window.export_metrics()  # the dialog starts in the folder last exported to, with the step in the name
    assert suggested == [str(tmp_path / "metrics_step2.csv")]


def test_open_text_offers_text_types_and_all_files_from_home_then_from_the_last_folder(window, tmp_path, monkeypatch):
    asked = []

    def dialog(parent, caption, folder, filters):
        asked.append((folder, filters))
        return str(tmp_path / "poems.md"), ""

    monkeypatch.setattr(main_window.QFileDialog, "getOpenFileName", dialog)
    (tmp_path / "poems.md").write_text("roses are red\n" * 100)
    window.open_text()
    window.open_text()
    (first_folder, filters), (second_folder, _) = asked
    assert first_folder == str(Path.home()) and second_folder == str(tmp_path)
    offered = filters.split(";;")
    assert all(kind in offered[0] for kind in ("*.txt", "*.md", "*.py", "*.csv")) and "All files (*)" in offered
    assert window.controls.config.text == str(tmp_path / "poems.md")


def test_loading_a_preset_resets_and_every_widget_shows_its_settings(qtbot, window):
    controls = window.controls
    controls.hidden.setValue(12)  # as if typed: a new model with 12 units
    wait_for(qtbot, window, lambda snapshot: snapshot.config.hidden == 12)
    assert controls.preset_name is None and "custom" in window.windowTitle()

    index = controls.preset.findText("hihello")
    controls.preset.setCurrentIndex(index)
    controls.preset.activated.emit(index)
    loaded = wait_for(qtbot, window, lambda snapshot: snapshot.config.task == "chars")
    preset = load_preset("hihello")
    assert loaded.config == preset and loaded.step == 0
    assert (controls.task.currentData(), controls.text.currentData(), controls.cell.currentData()) == (
        preset.task,
        preset.text,
        preset.cell,
    )
    assert (controls.hidden.value(), controls.seq_len.value(), controls.batch.value()) == (
        preset.hidden,
        preset.seq_len,
        preset.batch,
    )
    assert controls.lr.value() == pytest.approx(preset.lr) and controls.clip_mode.currentData() == preset.clip.mode
    assert controls.temperature.isEnabled() and window.windowTitle() == "lstm_viz — hihello"


def test_switching_to_chars_picks_a_text_long_enough_for_the_sequence_length(qtbot, window):
    assert SMALL.text == "hihello" and SMALL.seq_len >= len("hihello")  # hihello cannot fill a sequence
    choose(window.controls.task, "chars")
    chars = wait_for(qtbot, window, lambda snapshot: snapshot.config.task == "chars")
    assert chars.config.text == "names" and chars.message == ""
    assert window.controls.text.currentData() == "names" and not window.message_bar.isVisible()


@pytest.mark.parametrize("next_step_task", ["sine", "a text file"])
def test_bidirectional_is_offered_only_where_the_backward_direction_cannot_read_the_target(
    qtbot, window, tmp_path, next_step_task
):
    bidirectional = window.controls.bidirectional
    assert not bidirectional.isEnabled() and "input at t+1" in bidirectional.toolTip()  # sine
    choose(window.controls.task, "adding")
    wait_for(qtbot, window, lambda snapshot: snapshot.config.task == "adding")
    assert bidirectional.isEnabled() and "backwards" in bidirectional.toolTip()
    bidirectional.click()
    both = wait_for(qtbot, window, lambda snapshot: snapshot.config.bidirectional)
    assert both.trace["hidden"].shape[1] == 2  # two directions

    if next_step_task == "sine":  # switching to a next-step task turns it off, with no error
        choose(window.controls.task, "sine")
    else:
        text = tmp_path / "text.txt"
        text.write_text("the quick brown fox jumps over the lazy dog\n" * 5)
        window.open_text(str(text))
    switched = wait_for(qtbot, window, lambda snapshot: snapshot.config.task != "adding")
    assert not switched.config.bidirectional and switched.trace["hidden"].shape[1] == 1
    assert switched.message == "" and not window.message_bar.isVisible()
    assert not bidirectional.isChecked() and not bidirectional.isEnabled()


def test_a_warning_is_neither_an_error_nor_a_passing_notice(window):
    """A stalled run's warning (worker.WARNING_MARK) has a style of its own and stays until closed."""
    window.show_message(WARNING_MARK + "Training has stalled: loss 0.5 over the last 500 steps")
    assert window.message_bar.isVisible() and not window.notice_timer.isActive()
    warning_style = window.message_bar.styleSheet()
    window.show_message("Could not write checkpoint.pt")
    error_style = window.message_bar.styleSheet()
    window.show_message(NOTICE_MARK + "Saved step 3 to checkpoint.pt")
    assert len({warning_style, error_style, window.message_bar.styleSheet()}) == 3


@pytest.mark.parametrize("frame_cost_s", [0.010, 0.050, 2.0])
def test_costly_frames_take_at_most_their_share_of_the_gui_thread(window, monkeypatch, frame_cost_s):
    """On a simulated clock, the timer ticking every FRAME_INTERVAL_MS with a new snapshot each
    time: cheap frames are all drawn; costly ones are spaced out so that drawing takes DRAW_SHARE
    of the time, however costly they are."""
    window.timer.stop()
    now, cpu = [0.0], [0.0]  # wall clock, and the GUI thread's CPU time (only frames use it here)
    monkeypatch.setattr(main_window, "time", SimpleNamespace(perf_counter=lambda: now[0], thread_time=lambda: cpu[0]))
    monkeypatch.setattr(window.worker.mailbox, "take", lambda: window.last_snapshot)
    frames: list[float] = []  # when each drawn frame started

    def costly_draw(snapshot, staggered=False) -> None:
        frames.append(now[0])
        now[0] += frame_cost_s
        cpu[0] += frame_cost_s

    monkeypatch.setattr(window, "draw", costly_draw)
    window._last_tick, window._last_cpu, window._draw_budget = 0.0, 0.0, 0.0
    interval, ticks = main_window.FRAME_INTERVAL_MS / 1000, 4000
    for tick in range(ticks):
        now[0] = max(now[0], tick * interval)  # a tick due during a frame comes when it ends
        window.refresh()

    drawing = len(frames) * frame_cost_s / now[0]
    if frame_cost_s < interval * main_window.DRAW_SHARE:
        assert len(frames) == ticks  # every tick draws
    else:
        saved_up = main_window.DRAW_BURST_S / now[0]  # what may be drawn beyond the share: the initial budget
        assert main_window.DRAW_SHARE - 0.02 <= drawing <= main_window.DRAW_SHARE + saved_up
        gaps = np.diff(frames) - frame_cost_s  # idle time between frames
        assert gaps.max() <= frame_cost_s * (1 / main_window.DRAW_SHARE - 1) + interval


def test_the_status_bar_says_the_pace_of_drawing_honestly():
    from lstm_viz.gui.main_window import frame_pace

    ten_a_second = [100 + 0.1 * k for k in range(30)]
    assert frame_pace(ten_a_second, now=ten_a_second[-1], steps_per_s=300) == "10 frames/s"
    # a step takes 2.5 s (T=1000, H=256): a frame per step, not "0 frames/s"
    slow = [100.0, 102.5, 105.0, 107.5]
    assert frame_pace(slow, now=107.5, steps_per_s=0.4) == "a frame every 2.5 s (a frame per training step)"
    assert frame_pace(slow, now=107.5, steps_per_s=300, limited=True) == "a frame every 2.5 s (drawing is the limit)"
    # the wait since the last frame counts once it is longer than their spacing
    assert frame_pace(ten_a_second, now=ten_a_second[-1] + 4.0, steps_per_s=300) == "a frame every 4.0 s"
    assert frame_pace([100.0, 101.0], now=130.0, steps_per_s=1) == "a frame every >10 s"
    assert frame_pace([100.0], now=100.0, steps_per_s=1) == "first frames"


def test_a_large_trace_is_drawn_a_panel_per_tick_and_the_frame_counts_when_all_have_drawn(window, monkeypatch):
    """adding at T=1000, H=256 costs ~30 ms of CPU a frame: each tick of the timer draws one panel, so that the
    window answers in between; drawn (and the frame rate) come once the last panel has the snapshot."""
    window.timer.stop()
    small = Trainer(RunConfig(task="adding", hidden=8, seq_len=20, batch=4)).snapshot()
    large = Trainer(RunConfig(task="adding", hidden=100, seq_len=1000, batch=1)).snapshot()
    assert not main_window.is_large(small) and main_window.is_large(large)
    window.draw(small)
    drawn = []
    window.drawn.connect(lambda: drawn.append(window.shown_snapshot))
    monkeypatch.setattr(window, "_draw_budget", 1.0)
    monkeypatch.setattr(main_window, "DRAW_SHARE", 1e9)  # the budget is not what is tested here
    window.worker.mailbox.put(large)
    updated = []
    for title, panel in window.panels.items():
        monkeypatch.setattr(panel, "update_snapshot", lambda snapshot, title=title: updated.append((title, snapshot)))
    window.refresh()  # takes the snapshot; no panel yet
    assert window.last_snapshot is large and updated == [] and drawn == []
    on_screen = [title for title in window.panels if title != "Cell"]  # the Cell is a tab behind the States
    for tick in range(len(on_screen)):
        window.refresh()
        assert [title for title, _ in updated] == on_screen[: tick + 1]
        assert all(snapshot is large for _, snapshot in updated)
        assert drawn == ([large] if tick == len(on_screen) - 1 else [])
    window.worker.mailbox.put(small)
    window.refresh()  # a small trace: every panel on screen at once
    assert updated[len(on_screen) :] == [(title, small) for title in on_screen]
    assert drawn == [large, small]


def test_a_typed_probe_text_is_what_every_panel_shows_and_one_the_model_cannot_read_changes_nothing(qtbot, tmp_path):
    window = MainWindow(RunConfig(task="chars", text="names", hidden=8, seq_len=20, batch=4), runs_dir=tmp_path)
    qtbot.addWidget(window)
    window.show()
    window.worker.start()
    wait_for(qtbot, window, lambda snapshot: snapshot.step >= 3)
    controls = window.controls
    qtbot.waitUntil(lambda: len(controls.probe_text.toPlainText()) == 21)  # the names' own window: T + 1
    controls.probe_text.setPlainText("\nzoe\nmax\n")
    controls.probe_show.click()
    shown = wait_for(qtbot, window, lambda snapshot: snapshot.config.probe_text == "\nzoe\nmax\n")
    qtbot.waitUntil(lambda: window.shown_snapshot is not None and window.shown_snapshot.config == shown.config)
    for title in ("Gates", "States", "Gradients through time", "Task view"):
        assert window.panels[title].trace.labels == tuple("⏎zoe⏎max"), title
    trace = window.panels["Gates"].trace
    assert np.array_equal(window.panels["Gates"].heatmaps[1].values, trace["forget_gate"][0, 0])
    assert window.panels["Task view"].text_view.grid.labels == tuple("⏎zoe⏎max")
    assert controls.probe_text.toPlainText() == "\nzoe\nmax\n" and controls.probe_default.isEnabled()

    controls.probe_text.setPlainText("\nZoe\n")  # a capital the names never have: refused before it is sent
    controls.probe_show.click()
    assert window.message_bar.isVisible() and "'Z'" in window.message_label.text()
    window.worker.apply(shown.config.replace(probe_text="\nZoe\n"))  # and by the worker, should one get there
    refused = wait_for(qtbot, window, lambda snapshot: "'Z'" in snapshot.message)
    assert refused.running and refused.config.probe_text == "\nzoe\nmax\n" and refused.trace.labels == tuple("⏎zoe⏎max")
    wait_for(qtbot, window, lambda snapshot: snapshot.step > refused.step + 3 and snapshot.running)
    assert controls.probe_text.toPlainText() == "\nZoe\n"  # the typed text stays to be mended

    window.worker.pause()
    run_dir = window.last_snapshot.run_dir
    qtbot.waitUntil(lambda: has_records(run_dir), timeout=TIMEOUT_MS)  # the writer process may lag on a busy machine
    viewer = window.open_run_dialog(run_dir)  # the run as recorded: the probe of its steps
    qtbot.addWidget(viewer)
    box = viewer.controls.probe_text  # the viewer follows the newest record, as the writer process makes them
    qtbot.waitUntil(lambda: box.toPlainText() == "\nzoe\nmax\n", timeout=TIMEOUT_MS)
    assert not box.isEnabled() and viewer.panels["Gates"].trace.labels == tuple("⏎zoe⏎max")
    viewer.show_step(1)  # before the change: the names' own window
    qtbot.waitUntil(lambda: len(box.toPlainText()) == 21 and len(viewer.panels["Gates"].trace.labels) == 20)
    viewer.close()
    window.close()
