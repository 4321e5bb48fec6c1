"""The timeline: scrubbing a run's recorded steps in the window, live follow, fork from a record, the
training panel's cursor and event marks, and runs opened read-only (finished, or being written by another
process). What the panels show is checked against the record files read with np.load, not through Run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QStyle

from lstm_viz.core.config import RunConfig
from lstm_viz.core.history import HISTORY_DIR, open_run, record_name
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.app import open_app
from lstm_viz.gui.main_window import MainWindow, open_viewer
from lstm_viz.gui.state import Selection
from lstm_viz.gui.timeline import Timeline
from lstm_viz.gui.worker import is_notice

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000
FOLLOW_MS = 5000  # what a followed run writes shows at the next refresh (0.5 s); the rest is for a busy machine


# ---- helpers -----------------------------------------------------------------------------------
def record_file(run_dir: Path, step: int) -> dict[str, np.ndarray]:
    """Every array of a record, read with numpy alone."""
    with np.load(Path(run_dir) / HISTORY_DIR / record_name(step)) as record:
        return {key: record[key] for key in record.files}


def images(panel) -> list[np.ndarray]:
    """Copies of the heatmap images a panel shows now."""
    shown = []
    for view in panel.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.ImageItem) and item.isVisible() and item.image is not None:
                shown.append(np.array(item.image))
    return shown


def shows_record(window, record: dict[str, np.ndarray]) -> bool:
    """Whether the gates and states panels show this record's input gate, forget gate and cell state."""
    gates, states = images(window.panels["Gates"]), images(window.panels["States"])
    return all(
        any(np.array_equal(image, record[name][0, 0].T) for image in shown)
        for name, shown in (("input_gate", gates), ("forget_gate", gates), ("cell", states))
    )


def write_run(run_dir: Path, steps: int = 30, config: RunConfig = SMALL, lr_change_at: int | None = None) -> Path:
    """A finished run of `steps` steps (every one recorded), optionally with a change of the learning rate."""
    trainer = Trainer(config)
    trainer.record_to(run_dir, name="test")
    for _ in range(steps):
        if trainer.step_count == lr_change_at:
            trainer.apply(trainer.config.replace(lr=trainer.config.lr * 2))
        trainer.step()
    trainer.finish_recording()
    return Path(run_dir)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("runs") / "finished", steps=30, lr_change_at=12)


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "copy"))


@pytest.fixture
def recording_window(qtbot, tmp_path):
    """A window training SMALL, recording its runs under tmp_path/runs, paused after 25 steps with them recorded."""
    window = MainWindow(SMALL, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.show()
    window.worker.start(until_step=25)
    qtbot.waitUntil(
        lambda: (
            window.last_snapshot is not None and window.last_snapshot.step == 25 and not window.last_snapshot.running
        ),
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: 25 in window.timeline.steps, timeout=TIMEOUT_MS)  # the writer caught up; listed
    yield window
    window.close()


def wait_shown(qtbot, window, step: int) -> None:
    qtbot.waitUntil(lambda: window.history.shown == step, timeout=TIMEOUT_MS)


# ---- the bar alone ---------------------------------------------------------------------------------
def test_timeline_asks_for_the_record_before_after_first_and_live(qtbot):
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.set_records(np.array([1, 2, 3, 50, 100]))
    timeline.show_live(120)
    assert timeline.position.text() == "step 120 · live" and timeline.slider.value() == 100
    assert not timeline.fork_button.isEnabled()  # only a recorded step can be forked
    asked = []
    timeline.step_requested.connect(asked.append)
    timeline.live_requested.connect(lambda: asked.append("live"))
    timeline.move_by(-1)  # from live: the newest record
    timeline.show_step(50, 120)
    assert timeline.position.text() == "step 50 of 120" and timeline.slider.value() == 50
    assert timeline.fork_button.isEnabled() and not timeline.live_button.isChecked()
    timeline.move_by(-1)
    timeline.move_by(1)
    timeline.first()
    timeline.slider.setValue(26)  # as a drag does: the nearest record, 3 (not 50)
    timeline.slider.setValue(27)  # 50
    timeline.live_button.click()
    assert asked == [100, 3, 100, 1, 3, 50, "live"]


def test_the_slider_is_laid_out_by_step_however_thinned_the_records_are(qtbot):
    """Records every step up to 100, then every 128th to 4096: the bar's middle is the run's middle step, not its
    middle record (step 110 of 4096 sat there when the slider counted records)."""
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(1000, 40)
    steps = np.concatenate([np.arange(1, 101), np.arange(128, 4097, 128)])  # (132,)
    timeline.set_records(steps)
    timeline.show_step(2048, 4096)
    slider = timeline.slider
    assert (slider.minimum(), slider.value(), slider.maximum()) == (1, 2048, 4096)
    place = QStyle.sliderPositionFromValue(slider.minimum(), slider.maximum(), slider.value(), 1000)
    assert abs(place - 500) <= 1  # halfway along the bar
    asked = []
    timeline.step_requested.connect(asked.append)
    for step in (1000, 1030, 50, 3, 4096, 4000):  # dragged to each: the nearest record
        slider.setValue(step)
    assert asked == [1024, 1024, 50, 3, 4096, 3968]
    assert slider.pageStep() == 409 and slider.singleStep() == 4095 // 131  # the mean spacing of the records
    timeline.show_step(100, 4096)
    timeline.set_records(np.append(steps, 8192))  # the run goes on: the bar stretches, and stays at the shown step
    assert (slider.maximum(), slider.value()) == (8192, 100)


def test_timeline_without_records_is_disabled_and_says_why(qtbot):
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.set_records(np.zeros(0, dtype=np.int64), "this run is not recorded")
    assert not timeline.slider.isEnabled() and timeline.position.text() == "this run is not recorded"


# ---- scrubbing a run the window trains --------------------------------------------------------------
def test_scrubbing_shows_the_records_values_while_training_goes_on(qtbot, recording_window):
    window = recording_window
    run_dir = Path(window.last_snapshot.run_dir)
    assert run_dir.parent == window.runs_dir and window.history.run_dir == str(run_dir)
    window.worker.start()  # training goes on while the user looks back
    window.show_step(10)
    wait_shown(qtbot, window, 10)
    record = record_file(run_dir, 10)
    assert shows_record(window, record)
    assert not shows_record(window, record_file(run_dir, 11))
    probe = window.panels["Task view"]
    assert window.shown_snapshot.step == 10 and window.shown_snapshot.trace.loss == float(record["loss"])
    assert probe.snapshot.step == 10  # every panel got the record, not only the heatmaps
    qtbot.waitUntil(lambda: window.last_snapshot.step > 40, timeout=TIMEOUT_MS)
    assert window.history.shown == 10 and shows_record(window, record)  # live snapshots don't move it
    assert window.status_label.text().startswith(f"viewing step 10 of {window.last_snapshot.step} · End for live")
    assert window.timeline.position.text().startswith("step 10 of ")
    cursor = window.panels["Training"].cursors[0]
    assert cursor.isVisible() and cursor.value() == 10


def test_keys_move_between_records_and_end_goes_back_to_live(qtbot, recording_window):
    window = recording_window
    run_dir = Path(window.last_snapshot.run_dir)
    window.activateWindow()
    window.show_step(10)
    wait_shown(qtbot, window, 10)
    QTest.keyClick(window, Qt.Key.Key_Left)
    wait_shown(qtbot, window, 9)
    assert shows_record(window, record_file(run_dir, 9))
    QTest.keyClick(window, Qt.Key.Key_Right)
    QTest.keyClick(window, Qt.Key.Key_Right)
    wait_shown(qtbot, window, 11)
    first = int(window.timeline.steps[0])
    QTest.keyClick(window, Qt.Key.Key_Home)
    wait_shown(qtbot, window, first)
    assert shows_record(window, record_file(run_dir, first))
    QTest.keyClick(window, Qt.Key.Key_End)
    assert window.history.live and window.timeline.live_button.isChecked()
    assert window.shown_snapshot is window.last_snapshot and not window.panels["Training"].cursors[0].isVisible()
    assert window.timeline.position.text() == "step 25 · live"
    assert window.status_label.text().startswith("paused · step 25")


def test_dragging_draws_only_the_latest_step_asked_for(qtbot, recording_window):
    window = recording_window
    drawn = []
    window.drawn.connect(lambda: drawn.append(window.history.shown))
    for step in window.timeline.steps:  # a fast drag: many positions before the next frame
        window.timeline.slider.setValue(int(step))
    window.timeline.slider.setValue(int(window.timeline.steps[5]))
    wait_shown(qtbot, window, int(window.timeline.steps[5]))
    qtbot.wait(200)
    assert drawn == [int(window.timeline.steps[5])]


def test_live_window_follows_the_newest_step_and_lists_new_records(qtbot, recording_window):
    window = recording_window
    before = len(window.timeline.steps)
    window.worker.start(until_step=60)
    qtbot.waitUntil(lambda: window.last_snapshot.step == 60 and 60 in window.timeline.steps, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    assert window.history.live and window.shown_snapshot is window.last_snapshot
    assert len(window.timeline.steps) > before and window.timeline.slider.value() == window.timeline.steps[-1]
    assert window.timeline.position.text() == "step 60 · live"


def test_events_are_marked_on_the_training_panels_step_axis(qtbot, recording_window):
    window = recording_window
    window.worker.apply(window.controls.config.replace(lr=0.02))
    window.worker.start(until_step=30)
    training = window.panels["Training"]
    qtbot.waitUntil(lambda: bool(training.event_marks[0].marks), timeout=TIMEOUT_MS)
    [(step, _, label, text)] = training.event_marks[0].marks
    assert step == 25 and label == "lr" and "0.02" in text
    assert "0.02" in training.event_marks[1].text_near(25.0) and training.event_marks[1].text_near(28.0) == ""


def test_fork_continues_from_exactly_the_recorded_weights(qtbot, recording_window):
    window = recording_window
    old_dir = Path(window.last_snapshot.run_dir)
    window.show_step(12)
    wait_shown(qtbot, window, 12)
    window.timeline.fork_button.click()
    assert window.history.live
    snapshot = window.last_snapshot
    qtbot.waitUntil(lambda: window.last_snapshot.run_dir not in ("", str(old_dir)), timeout=TIMEOUT_MS)
    snapshot = window.last_snapshot
    assert snapshot.step == 12 and not snapshot.running and is_notice(snapshot.message)
    assert "Forked a new run from step 12" in window.message_label.text()
    record = record_file(old_dir, 12)
    trainer = window.worker.trainer  # paused: the worker thread leaves it alone
    for name, value in trainer.model.state_dict().items():
        assert np.array_equal(value.numpy(), record[f"weights/{name}"]), name
    assert not trainer.optimizer.state  # a fresh optimizer
    new_dir = Path(snapshot.run_dir)
    assert new_dir.parent == old_dir.parent and window.history.run_dir == str(new_dir)
    qtbot.waitUntil(lambda: any(event.kind == "fork" for event in window.history.events), timeout=TIMEOUT_MS)
    window.worker.step()
    qtbot.waitUntil(lambda: window.last_snapshot.step == 13, timeout=TIMEOUT_MS)
    assert np.array_equal(window.last_snapshot.metrics["step"][-2:], [12, 13])  # the metrics up to 12, then 13


# ---- runs opened read-only ----------------------------------------------------------------------
def test_open_a_finished_run_at_its_last_step_and_scrub_it(qtbot, finished_run):
    window = open_viewer(open_run(finished_run))
    qtbot.addWidget(window)
    window.show()
    assert window.worker is None and "read-only" in window.windowTitle() and str(finished_run) in window.windowTitle()
    last = int(window.history.steps[-1])
    assert last == 30 and window.history.shown == last and shows_record(window, record_file(finished_run, last))
    assert not window.controls.setup_group.isEnabled() and not window.controls.run_group.isVisibleTo(window)
    assert window.status_label.text() == "recorded run, read-only · step 30 of 30 · finished"
    assert not window.timeline.fork_button.isVisibleTo(window)
    for panel in window.panels.values():  # drawn once laid out: the linked time axes show all 20 timesteps
        if panel.time_plot is not None:
            assert panel.time_plot.viewRange()[0] == pytest.approx([-0.5, 19.5])
    window.show_step(5)
    wait_shown(qtbot, window, 5)
    assert shows_record(window, record_file(finished_run, 5))
    assert window.controls.config.lr == SMALL.lr  # the settings of step 5: before the change at 12
    window.show_step(20)
    wait_shown(qtbot, window, 20)
    assert window.controls.config.lr == 2 * SMALL.lr
    training = window.panels["Training"]
    assert [mark[:3] for mark in training.event_marks[0].marks] == [(12, training.event_marks[0].marks[0][1], "lr")]
    window.close()


def test_open_app_at_a_step_saves_a_screenshot_and_exits(qtbot, tmp_path, finished_run):
    screenshot = tmp_path / "shot.png"
    assert open_app(open_run(finished_run), step=7, screenshot=screenshot) == 0
    assert screenshot.stat().st_size > 10000


def test_file_open_run_opens_a_read_only_window_beside_training(qtbot, recording_window, finished_run):
    window = recording_window
    viewer = window.open_run_dialog(str(finished_run))
    qtbot.addWidget(viewer)
    assert viewer is not None and viewer.worker is None and viewer in window.viewers
    assert viewer.history.shown == 30 and window.worker.is_alive and window.history.run_dir != str(finished_run)


def train_in_subprocess(run_dir: Path, steps: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "lstm_viz", "train", "--preset", "sine", "--hidden", "8", "--seq-len", "20"]
    command += ["--steps", str(steps), "--out", str(run_dir)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_records(run_dir: Path, process: subprocess.Popen, records: int = 5):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the training subprocess ended early"
        history = run_dir / HISTORY_DIR
        if (run_dir / "run.json").exists() and history.is_dir() and len(os.listdir(history)) >= records:
            return open_run(run_dir)
        time.sleep(0.1)
    raise AssertionError("the training subprocess wrote no records")


def shows_its_record_if_kept(window, run_dir: Path) -> bool:
    """Whether the window shows the record it says it shows (False if the writer has thinned it out since)."""
    try:
        return shows_record(window, record_file(run_dir, window.history.shown))
    except FileNotFoundError:
        return False


def test_follow_a_run_being_written_then_notice_when_its_writer_is_killed(qtbot, tmp_path):
    run_dir = tmp_path / "followed"
    process = train_in_subprocess(run_dir, steps=10**6)
    try:
        run = wait_for_records(run_dir, process)
        window = open_viewer(run)
        qtbot.addWidget(window)
        window.show()
        first = window.history.shown
        assert window.history.live and window.timeline.live_button.text() == "Newest"
        assert "being written" in window.status_label.text()
        on_disk = max(int(name[5:14]) for name in os.listdir(run_dir / HISTORY_DIR) if name.startswith("step-"))
        qtbot.waitUntil(lambda: window.history.shown >= max(on_disk, first + 1), timeout=FOLLOW_MS)
        newest = window.history.shown
        assert window.timeline.position.text() == f"step {newest} · following"
        qtbot.waitUntil(lambda: shows_its_record_if_kept(window, run_dir), timeout=FOLLOW_MS)
        window.show_step(1)  # scrub back (to a record never thinned): it stays there while records keep coming
        wait_shown(qtbot, window, 1)
        newest = int(window.timeline.steps[-1])
        qtbot.waitUntil(lambda: window.timeline.steps[-1] > newest, timeout=FOLLOW_MS)
        assert window.history.shown == 1 and window.timeline.position.text().startswith("step 1 of ")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    qtbot.waitUntil(lambda: "stopped" in window.message_label.text(), timeout=FOLLOW_MS)
    assert window.message_bar.isVisible()
    assert "without finishing" in window.message_label.text()
    window.close()


def test_follow_a_run_until_its_writer_finishes(qtbot, tmp_path):
    run_dir = tmp_path / "followed"
    process = train_in_subprocess(run_dir, steps=400)
    try:
        window = open_viewer(wait_for_records(run_dir, process, records=1))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: "finished" in window.message_label.text(), timeout=60000)
    finally:
        process.wait(60)
    qtbot.waitUntil(lambda: window.history.shown == 400, timeout=FOLLOW_MS)
    assert window.message_label.text() == "✓ The run finished at step 400."
    assert shows_record(window, record_file(run_dir, 400))
    assert window.shown_snapshot.metrics["step"][-1] == 400  # the curves have every row the writer wrote
    assert np.array_equal(window.panels["Training"].loss_curve.xData, np.arange(1, 401))
    window.close()


def test_a_growing_metrics_file_is_read_again_at_most_a_tenth_of_the_time(tmp_path, finished_run):
    from lstm_viz.gui.timeline import History

    run_dir = copy_of(finished_run, tmp_path)
    history = History(open_run(run_dir))
    metrics, message = history.metrics()
    assert message == "" and len(metrics["step"]) == 30
    with open(run_dir / "metrics.csv", "a") as file:
        file.write("31" + ",0.5" * (len(metrics) - 1) + "\n")
    history.due_refresh(force=True)
    history._metrics_cost = 1.0  # as if that read had taken a second (a run of 100k steps)
    assert history.metrics()[0] is metrics  # not again within 10 s
    assert len(history.metrics(force=True)[0]["step"]) == 31


# ---- bad input in the window: a message, and the window keeps working ---------------------------------
def still_training(qtbot, window) -> None:
    step = window.last_snapshot.step
    window.worker.start()
    qtbot.waitUntil(lambda: window.last_snapshot.step > step + 2, timeout=TIMEOUT_MS)
    window.worker.pause()


@pytest.mark.parametrize("case", ["not a run", "newer format", "a file"])
def test_file_open_run_refuses_what_is_no_run(qtbot, recording_window, finished_run, tmp_path, case):
    window = recording_window
    if case == "not a run":
        path = tmp_path / "photos"
        path.mkdir()
        expected = "is not an lstm_viz run"
    elif case == "newer format":
        path = copy_of(finished_run, tmp_path)
        meta = (path / "run.json").read_text().replace('"format": 1', '"format": 99')
        (path / "run.json").write_text(meta)
        expected = "newer lstm_viz"
    else:
        path = tmp_path / "run.json"
        path.write_text("{}")
        expected = "is a file"
    assert window.open_run_dialog(str(path)) is None and not window.viewers
    assert window.message_bar.isVisible() and expected in window.message_label.text()
    assert window.message_label.text().startswith("Cannot open run:")
    still_training(qtbot, window)


@pytest.fixture
def viewer(qtbot, finished_run, tmp_path):
    """A read-only window on a copy of the finished run, at step 20."""
    run_dir = copy_of(finished_run, tmp_path)
    window = open_viewer(open_run(run_dir), step=20)
    qtbot.addWidget(window)
    window.show()
    assert window.history.shown == 20
    yield window
    window.close()


def still_scrubbing(qtbot, window, step: int = 3) -> None:
    """The window shows another record afterwards."""
    window.show_step(step)
    wait_shown(qtbot, window, step)
    assert shows_record(window, record_file(window.history.path, step))


def test_a_truncated_record_gives_a_message_and_the_picture_stays(qtbot, viewer):
    path = viewer.history.path / HISTORY_DIR / record_name(7)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    shown = record_file(viewer.history.path, 20)
    viewer.show_step(7)
    qtbot.waitUntil(lambda: viewer.message_bar.isVisible(), timeout=TIMEOUT_MS)
    assert "record of step 7" in viewer.message_label.text() and "damaged" in viewer.message_label.text()
    assert viewer.history.shown == 20 and shows_record(viewer, shown)
    assert viewer.timeline.position.text() == "step 7 of 30 · unreadable"
    QTest.keyClick(viewer, Qt.Key.Key_Right)  # the keys go on past it
    wait_shown(qtbot, viewer, 8)
    still_scrubbing(qtbot, viewer)


def test_a_record_of_another_shape_gives_a_message(qtbot, viewer, tmp_path):
    other = write_run(tmp_path / "wider", steps=2, config=SMALL.replace(hidden=12))
    shutil.copy(other / HISTORY_DIR / record_name(2), viewer.history.path / HISTORY_DIR / record_name(31))
    qtbot.waitUntil(lambda: 31 in viewer.timeline.steps, timeout=TIMEOUT_MS)  # listed at the next refresh
    viewer.show_step(31)
    qtbot.waitUntil(lambda: viewer.message_bar.isVisible(), timeout=TIMEOUT_MS)
    assert "was another run written into this folder?" in viewer.message_label.text()
    assert viewer.history.shown == 20
    still_scrubbing(qtbot, viewer)


def test_a_run_deleted_while_open_gives_a_message_and_the_window_goes_on(qtbot, viewer):
    shutil.rmtree(viewer.history.path)
    viewer.show_step(5)
    qtbot.waitUntil(lambda: viewer.message_bar.isVisible(), timeout=TIMEOUT_MS)
    assert "no longer exists" in viewer.message_label.text()
    qtbot.wait(1200)  # a refresh of the folder finds it gone too, and says so once, not every half second
    assert "no longer exists" in viewer.message_label.text()
    viewer.show_message("")
    qtbot.wait(1200)
    assert not viewer.message_bar.isVisible()
    viewer.select(Selection(0, 0, 3))  # the window still answers
    assert viewer.selection.unit == 3 and viewer.history.shown == 20
