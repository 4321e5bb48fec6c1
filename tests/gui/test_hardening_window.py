"""Hardening, in the window: bad input arrives the way a user sends it (File > Open text,
File > Load / Save checkpoint, the preset menu, the setting widgets), the message shows in the
message bar and the previous run keeps training; divergence pauses with a message and Reset
recovers; a checkpoint saved while training resumes exactly.

One window serves the whole module (opening one costs about a second); before each test it is
put back to training SMALL.
"""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest
import torch

from lstm_viz.core import config as config_module
from lstm_viz.core import runs
from lstm_viz.core.config import MAX_BATCH, MAX_HIDDEN, MAX_LAYERS, MAX_SEQ_LEN, RunConfig
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.controls import ControlsPanel
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.worker import is_notice

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_MS = 20000


@pytest.fixture(scope="module")
def shared_window(qapp):
    window = MainWindow(SMALL)
    window.show()
    yield window
    window.close()
    assert not window.worker.is_alive


def wait_for(qtbot, window, condition, timeout=TIMEOUT_MS):
    """The first drawn snapshot satisfying `condition`."""
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=timeout)
    return window.last_snapshot


@pytest.fixture
def window(shared_window, qtbot):
    """The shared window training SMALL, with the message bar hidden."""
    if shared_window.last_snapshot is None or shared_window.last_snapshot.config != SMALL:
        shared_window.worker.reset(SMALL)
    shared_window.worker.start()
    wait_for(
        qtbot, shared_window, lambda snapshot: snapshot.config == SMALL and snapshot.running and snapshot.step >= 2
    )
    shared_window.show_message("")
    return shared_window


def refused_and_still_training(qtbot, window, expected: str, from_snapshot: bool = True):
    """The message bar shows an error containing `expected`, and SMALL goes on training."""
    if from_snapshot:
        refused = wait_for(qtbot, window, lambda snapshot: expected in snapshot.message)
        assert not is_notice(refused.message) and "\n" not in refused.message
        assert refused.config == SMALL and refused.running
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=TIMEOUT_MS)
    shown = window.message_label.text()
    assert expected in shown and not is_notice(shown) and "\n" not in shown
    assert window.controls.config == SMALL  # the controls show what is running, not the refused change
    assert window.controls.task.currentData() == "sine" and window.controls.hidden.value() == SMALL.hidden
    now = window.last_snapshot.step
    later = wait_for(qtbot, window, lambda snapshot: snapshot.step >= now + 3)
    assert later.config == SMALL and later.running
    assert expected in window.message_label.text()  # the message stays until the user does something else


# ---- bad text files: File > Open text… -------------------------------------------------------
def sparse_file(path, size):
    with path.open("wb") as handle:
        handle.write(b"abc\n")
        handle.truncate(size)


TEXTS = {
    "empty": (lambda path: path.write_bytes(b""), "is empty"),
    "binary": (lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" * 10), "looks binary (NUL byte at"),
    "not UTF-8": (lambda path: path.write_bytes("naïve café".encode("cp1252") * 10), "not valid UTF-8 (byte 0xef"),
    "one character": (lambda path: path.write_text("x"), "has 1 character but seq_len 20 needs at least 21"),
    "51 MB": (lambda path: sparse_file(path, 51 * 2**20), "51.0 MB, over the 50 MB limit"),
    "named pipe": (os.mkfifo, "is not a regular file"),  # reading it would block the worker for ever
    "10,000 distinct characters": (
        lambda path: path.write_text("".join(chr(0x4E00 + i) for i in range(10_000)), encoding="utf-8"),
        "10000 distinct characters, over the cap of 256",
    ),
}


@pytest.mark.parametrize("case", list(TEXTS))
def test_a_bad_text_file_is_a_message_and_the_previous_task_keeps_training(qtbot, window, tmp_path, case):
    make, expected = TEXTS[case]
    path = tmp_path / "text.txt"
    make(path)
    started = time.monotonic()
    window.open_text(str(path))
    refused = wait_for(qtbot, window, lambda snapshot: expected in snapshot.message)
    assert time.monotonic() - started < 10  # the 51 MB file is refused by its size, never read
    assert str(path) in refused.message and "still training the previous settings" in refused.message
    refused_and_still_training(qtbot, window, expected)


# ---- presets: the preset menu ------------------------------------------------------------------
PRESETS = {
    "malformed": ('{"task": "sine", "hidden": 8', "not valid JSON (line 1"),
    "unknown key": ('{"task": "sine", "hiden": 8}', "unknown setting 'hiden'"),
    "wrong type": ('{"task": "sine", "hidden": "8"}', "hidden must be a whole number, got '8'"),
    "out of range": ('{"task": "sine", "lr": -1}', "lr must be greater than 0, got -1"),
}


@pytest.mark.parametrize("case", list(PRESETS))
def test_a_preset_file_broken_while_the_app_runs_is_a_message(qtbot, window, tmp_path, monkeypatch, case):
    content, expected = PRESETS[case]
    (tmp_path / "sine.json").write_text(content)
    monkeypatch.setattr(config_module, "PRESET_DIR", tmp_path)
    preset = window.controls.preset
    index = preset.findText("sine")
    preset.setCurrentIndex(index)
    preset.activated.emit(index)  # the user picks "sine" in the preset menu
    assert expected in window.message_label.text()
    refused_and_still_training(qtbot, window, expected, from_snapshot=False)


def test_broken_preset_files_are_left_out_of_the_preset_menu(qtbot, tmp_path, monkeypatch):
    for name, (content, _) in PRESETS.items():
        (tmp_path / f"{name.replace(' ', '-')}.json").write_text(content)
    (tmp_path / "good.json").write_text('{"task": "adding", "hidden": 4}')
    monkeypatch.setattr(config_module, "PRESET_DIR", tmp_path)
    controls = ControlsPanel(SMALL)
    qtbot.addWidget(controls)
    assert [controls.preset.itemText(i) for i in range(controls.preset.count())] == ["good"]


# ---- settings out of range: the setting widgets ------------------------------------------------------
OUT_OF_RANGE = {
    "hidden 0": ("hidden", 0, "hidden must be between 1 and 2048, got 0", (1, MAX_HIDDEN)),
    "lr -1": ("lr", -1.0, "lr must be greater than 0, got -1", None),
    "batch 10**9": ("batch", 10**9, "batch must be between 1 and 4096, got 1000000000", (1, MAX_BATCH)),
    "seq_len 1": ("seq_len", 1, "seq_len must be between 2 and 5000, got 1", (2, MAX_SEQ_LEN)),
    "layers 99": ("layers", 99, "layers must be between 1 and 8, got 99", (1, MAX_LAYERS)),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_an_out_of_range_setting_is_a_message_and_nothing_restarts(qtbot, window, case):
    name, value, expected, bounds = OUT_OF_RANGE[case]
    widget = getattr(window.controls, name)
    if bounds is not None:  # what a user can type is what the core accepts
        assert (widget.minimum(), widget.maximum()) == bounds
    step_before = window.last_snapshot.step
    widget.valueChanged.emit(value)  # as if the widget had let the value through
    assert expected in window.message_label.text()
    assert widget.value() == getattr(SMALL, name)  # the widget shows the running value again
    refused_and_still_training(qtbot, window, expected, from_snapshot=False)
    assert window.last_snapshot.step > step_before  # no restart at step 0


# ---- checkpoints and output files: the File menu -------------------------------------------------------
def truncated(path):
    buffer = io.BytesIO()
    torch.save(Trainer(SMALL).checkpoint(), buffer)
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def with_bad_config(path):
    checkpoint = Trainer(SMALL).checkpoint()
    checkpoint["config"]["layers"] = 99
    torch.save(checkpoint, path)


CHECKPOINTS = {
    "truncated": (truncated, "not an lstm_viz checkpoint or corrupt"),
    "random bytes": (lambda path: path.write_bytes(np.random.default_rng(0).bytes(3000)), "or corrupt"),
    "a bad config": (with_bad_config, "its config: layers must be between 1 and 8, got 99"),
    "a directory": (lambda path: path.mkdir(), "is a directory"),
}


@pytest.mark.parametrize("case", list(CHECKPOINTS))
def test_a_bad_checkpoint_is_a_message_and_the_run_is_unchanged(qtbot, window, tmp_path, case):
    make, expected = CHECKPOINTS[case]
    path = tmp_path / "checkpoint.pt"
    make(path)
    window.load_checkpoint(str(path))
    refused = wait_for(qtbot, window, lambda snapshot: expected in snapshot.message)
    assert "the current run is unchanged" in refused.message
    refused_and_still_training(qtbot, window, expected)


def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_ran(qtbot, window, code_running_checkpoint):
    path, marker = code_running_checkpoint
    window.load_checkpoint(str(path))
    refused_and_still_training(qtbot, window, "not a safe checkpoint")
    assert "io.open" in window.message_label.text()  # what the payload asked for
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is real: an unsafe load does run it
    assert marker.exists()


def test_a_checkpoint_of_another_architecture_loads_with_its_own_settings(qtbot, window, tmp_path):
    """In the window a checkpoint brings its settings along (File > Load is "open this run")."""
    other = SMALL.replace(cell="gru", hidden=5, layers=2)
    trainer = Trainer(other)
    for _ in range(3):
        trainer.step()
    path = tmp_path / "gru.pt"
    runs.save_checkpoint(path, trainer)
    window.load_checkpoint(str(path))
    loaded = wait_for(qtbot, window, lambda snapshot: snapshot.config == other)
    assert loaded.step == 3 and not loaded.running and is_notice(loaded.message)
    assert loaded.trace["hidden"].shape == (2, 1, SMALL.seq_len, 5)
    assert (window.controls.cell.currentData(), window.controls.hidden.value()) == ("gru", 5)
    assert window.message_bar.isVisible() and "Loaded" in window.message_label.text()
    assert "cell 'gru' (was: 'lstm'), hidden 5 (was: 8), layers 2 (was: 1)" in loaded.message  # what differs


@pytest.mark.parametrize("save", ["checkpoint", "metrics"])
def test_saving_where_nothing_can_be_written_is_a_message_and_training_goes_on(qtbot, window, tmp_path, save):
    (tmp_path / "file").write_text("a regular file, not a folder")
    target = tmp_path / "file" / "out"  # root can write anywhere else, so use a path under a file
    if save == "checkpoint":
        window.save_checkpoint(str(target))
        refused_and_still_training(qtbot, window, "cannot write")
    else:
        window.export_metrics(str(target))
        refused_and_still_training(qtbot, window, "cannot write", from_snapshot=False)
    assert "Not a directory" in window.message_label.text()


def test_a_step_too_big_for_memory_pauses_with_a_message_and_reset_recovers(qtbot, window, capfd):
    def allocation_failure(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    window.worker.trainer.task.make_batch = allocation_failure  # what torch raises when a step does not fit
    stopped = wait_for(qtbot, window, lambda snapshot: "not enough memory" in snapshot.message)
    assert not stopped.running and window.message_bar.isVisible()
    assert "lower batch, seq_len or hidden" in window.message_label.text()
    assert "unexpected" not in stopped.message and "Traceback" not in capfd.readouterr().err
    window.message_bar.hide()
    window.worker.step()  # Step fails the same way, and says so again
    stepped = wait_for(qtbot, window, lambda snapshot: snapshot.commands_done == window.worker.commands_sent)
    assert "not enough memory" in stepped.message and stepped.step == stopped.step
    assert window.message_bar.isVisible() and window.worker.is_alive
    window.reset()
    window.worker.start()
    recovered = wait_for(qtbot, window, lambda snapshot: snapshot.running and snapshot.step >= 3)
    assert recovered.message == "" and not window.message_bar.isVisible()


# ---- divergence --------------------------------------------------------------------------------
def choose(combo, value) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. an overflow drawing the huge gradients
@pytest.mark.parametrize("task, cell", [("sine", "lstm"), ("adding", "gru"), ("sine", "rnn")])
def test_lr_1e3_diverges_pauses_with_a_message_and_reset_with_a_lower_lr_recovers(qtbot, window, task, cell):
    controls = window.controls
    choose(controls.task, task)
    choose(controls.cell, cell)
    choose(controls.optimizer, "sgd")
    wait_for(
        qtbot,
        window,
        lambda snapshot: (
            (snapshot.config.task, snapshot.config.cell, snapshot.config.optimizer) == (task, cell, "sgd")
            and snapshot.running
        ),
    )
    controls.lr.setValue(1000.0)

    diverged = wait_for(qtbot, window, lambda snapshot: snapshot.diverged_at_step is not None and not snapshot.running)
    assert diverged.step == diverged.diverged_at_step  # paused on the step it happened
    losses, grad_norms = diverged.metrics["loss"], diverged.metrics["grad_norm"]
    assert np.isfinite(losses[:-1]).all() and np.isfinite(grad_norms[:-1]).all()
    assert all(torch.isfinite(p).all() for p in window.worker.trainer.model.parameters())
    assert window.message_bar.isVisible() and not is_notice(window.message_label.text())
    assert f"diverged at step {diverged.step} " in window.message_label.text()
    assert controls.start_pause.text() == "Start"
    qtbot.wait(300)
    assert window.worker.trainer.step_count == diverged.step  # it stays paused

    controls.lr.setValue(0.01)
    wait_for(qtbot, window, lambda snapshot: snapshot.config.lr == 0.01)
    controls.reset_button.click()
    window.start_pause()
    recovered = wait_for(qtbot, window, lambda snapshot: snapshot.running and snapshot.step >= 10)
    assert recovered.diverged_at_step is None and np.isfinite(recovered.metrics["loss"]).all()
    assert not window.message_bar.isVisible()


# ---- nothing lost: saving while training ------------------------------------------------------------
def test_checkpoints_saved_while_training_resume_to_the_same_next_loss(qtbot, window, tmp_path):
    """Each save, taken between two steps of a running worker, holds one step's weights, optimizer
    state and batch generator: restored, its next step equals a fresh replay's step from scratch."""
    window.worker.reset(SMALL)  # a run with no history of other settings, to replay from scratch
    wait_for(qtbot, window, lambda snapshot: snapshot.step < 3 and snapshot.running)
    paths = []
    for index in range(3):
        step_now = window.last_snapshot.step
        wait_for(qtbot, window, lambda snapshot, step_now=step_now: snapshot.step >= step_now + 5 and snapshot.running)
        paths.append(tmp_path / f"checkpoint-{index}.pt")
        window.save_checkpoint(str(paths[-1]))
        wait_for(qtbot, window, lambda snapshot: f"to {paths[-1]}" in snapshot.message)
    assert window.last_snapshot.running  # saving did not pause training

    replay = Trainer(SMALL)
    for path in paths:
        checkpoint = runs.load_checkpoint(path)
        while replay.step_count < checkpoint["step"]:
            replay.step()
        for name, weights in replay.model.state_dict().items():
            torch.testing.assert_close(checkpoint["model"][name], weights, rtol=0, atol=0)
        resumed = runs.restore_trainer(checkpoint, path=path)
        next_loss = resumed.step().loss
        assert next_loss == replay.step().loss
        assert resumed.metrics.as_columns()["loss"].tolist() == replay.metrics.as_columns()["loss"].tolist()


def test_the_same_refused_change_twice_is_reported_and_undone_twice(qtbot, window, tmp_path):
    missing = str(tmp_path / "missing.txt")
    window.open_text(missing)
    refused_and_still_training(qtbot, window, "does not exist")
    window.message_bar.hide()  # the user closes the message with ✕, then tries again
    window.open_text(missing)
    assert window.controls.task.currentData() == "chars"  # for now the controls show the request
    refused_and_still_training(qtbot, window, "does not exist")


def test_a_refusal_overtaken_before_it_was_drawn_still_undoes_the_change(qtbot, window, tmp_path):
    """The GUI thread is busy (a slow frame) while the worker refuses a text and then runs a Step:
    the refusal's snapshot is replaced in the mailbox before it is drawn."""
    missing = str(tmp_path / "missing.txt")
    window.open_text(missing)
    time.sleep(0.5)  # no events: the worker refuses and publishes; nothing draws it
    window.worker.step()
    time.sleep(0.5)  # the step's snapshot replaces the refusal's
    stepped = wait_for(qtbot, window, lambda snapshot: not snapshot.running)
    assert stepped.config == SMALL
    qtbot.waitUntil(lambda: window.controls.config == SMALL, timeout=TIMEOUT_MS)
    assert window.controls.task.currentData() == "sine"
