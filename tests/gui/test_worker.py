"""The training worker on its own: commands in, snapshots out, no window."""

import time

import numpy as np
import pytest
import torch

from lstm_viz.core import trainer as trainer_module
from lstm_viz.core.config import RunConfig, load_preset
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui import worker as worker_module
from lstm_viz.gui.worker import WARNING_MARK, TrainingWorker, is_notice, is_warning

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
TIMEOUT_S = 20.0


class Reader:
    """Takes snapshots from a worker's mailbox, remembering the newest."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.worker = worker
        self.latest = None

    def until(self, condition, timeout: float = TIMEOUT_S):
        """The first new snapshot satisfying `condition`; fails the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snapshot = self.worker.mailbox.take()
            if snapshot is not None:
                self.latest = snapshot
                if condition(snapshot):
                    return snapshot
            time.sleep(0.005)
        pytest.fail(f"no snapshot met the condition within {timeout} s; last: {self._describe()}")

    def fresh(self):
        """A snapshot published after this call."""
        self.worker.mailbox.take()
        self.worker.request_snapshot()
        return self.until(lambda snapshot: True)

    def _describe(self) -> str:
        s = self.latest
        return "none" if s is None else f"step {s.step}, running {s.running}, message {s.message!r}"


@pytest.fixture
def worker():
    worker = TrainingWorker(SMALL)
    yield worker
    assert worker.stop(), "the worker thread did not end within 1 s"


@pytest.fixture
def reader(worker):
    reader = Reader(worker)
    reader.until(lambda snapshot: True)  # the first snapshot, published when the thread starts
    return reader


def test_first_snapshot_is_paused_at_step_zero_with_a_trace(worker):
    snapshot = Reader(worker).until(lambda snapshot: True)
    assert (snapshot.step, snapshot.running, snapshot.message) == (0, False, "")
    assert snapshot.trace is not None and snapshot.trace["hidden"].shape == (1, 1, SMALL.seq_len, SMALL.hidden)


def test_start_publishes_snapshots_while_the_step_count_grows(worker, reader):
    worker.start()
    first = reader.until(lambda snapshot: snapshot.running and snapshot.step > 0)
    later = reader.until(lambda snapshot: snapshot.step > first.step)
    assert later.running
    assert len(later.metrics["loss"]) == later.step
    np.testing.assert_array_equal(later.metrics["step"], np.arange(1, later.step + 1))


def test_a_snapshot_probed_while_training_goes_on_shows_the_weights_of_its_own_step(worker, reader):
    worker.start()
    published = reader.until(lambda snapshot: snapshot.running and snapshot.step >= 3)
    worker.pause()
    replay = Trainer(SMALL)  # the same seed and batches: the same weights, step for step
    for _ in range(published.step):
        replay.step()
    probe_inputs, _ = replay.task.probe()
    with torch.no_grad():
        expected_hidden, _ = replay.model.layers[0](replay.model.adapter(probe_inputs))  # (1, T, H), torch's nn.LSTM
    replay.step()
    with torch.no_grad():
        hidden_a_step_later, _ = replay.model.layers[0](replay.model.adapter(probe_inputs))  # (1, T, H)
    np.testing.assert_allclose(published.trace["hidden"][0, 0], expected_hidden[0].numpy(), atol=1e-5)
    assert not np.allclose(published.trace["hidden"][0, 0], hidden_a_step_later[0].numpy(), atol=1e-5)


def test_pause_stops_the_step_count_at_once(worker, reader):
    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 3)
    worker.pause()
    paused = reader.until(lambda snapshot: not snapshot.running)
    time.sleep(0.3)
    assert reader.fresh().step == paused.step
    assert worker.trainer.step_count == paused.step


def test_step_trains_exactly_one_step(worker, reader):
    worker.step()
    assert reader.until(lambda snapshot: snapshot.step > 0).step == 1
    worker.step()
    worker.step()
    assert reader.until(lambda snapshot: snapshot.step > 1).step in (2, 3)
    time.sleep(0.2)
    assert reader.fresh().step == 3


def test_step_while_running_pauses(worker, reader):
    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 2)
    worker.step()
    stepped = reader.until(lambda snapshot: not snapshot.running)
    time.sleep(0.3)
    assert reader.fresh().step == stepped.step


def test_apply_clip_mid_training_clips_every_later_step_without_restarting(worker, reader):
    worker.start()
    before = reader.until(lambda snapshot: snapshot.step >= 5)
    assert before.metrics["grad_norm"].max() > 0.01 * 10  # clipping at 0.01 will bite
    worker.apply(SMALL.replace(clip="norm:0.01"))
    applied = reader.until(lambda snapshot: str(snapshot.config.clip) == "norm:0.01")
    assert applied.step >= before.step  # no restart
    later = reader.until(lambda snapshot: snapshot.step >= applied.step + 10)
    after_apply = later.metrics["step"] > applied.step
    clipped_norms = later.metrics["grad_norm_clipped"][after_apply]
    assert np.all(clipped_norms <= 0.01 * (1 + 1e-5))
    norms = later.metrics["grad_norm"][after_apply]  # a step already under 0.01 is not clipped
    np.testing.assert_array_equal(later.metrics["clipped"][after_apply] == 1, norms > 0.01)
    assert np.mean(norms > 0.01) > 0.5  # and clipping bites on most
    np.testing.assert_array_equal(later.metrics["step"], np.arange(1, later.step + 1))


def test_apply_of_a_model_setting_starts_a_new_model(worker, reader):
    worker.step()
    worker.step()
    reader.until(lambda snapshot: snapshot.step == 2)
    worker.apply(SMALL.replace(hidden=12))
    snapshot = reader.until(lambda snapshot: snapshot.config.hidden == 12)
    assert snapshot.step == 0
    assert snapshot.trace["hidden"].shape[-1] == 12


def test_reset_restarts_at_step_zero_and_keeps_running(worker, reader):
    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 5)
    worker.pause()
    worker.reset(SMALL.replace(seed=3))
    snapshot = reader.until(lambda snapshot: snapshot.config.seed == 3)
    assert (snapshot.step, len(snapshot.metrics["loss"])) == (0, 0)

    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 3)
    worker.reset(SMALL)
    assert reader.until(lambda snapshot: snapshot.config.seed == 0).running


def test_bad_text_file_is_a_message_and_the_previous_task_keeps_training(worker, reader, tmp_path):
    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 2)
    missing = tmp_path / "missing.txt"
    worker.reset(SMALL.replace(task="chars", text=str(missing)))
    refused = reader.until(lambda snapshot: snapshot.message != "")
    assert str(missing) in refused.message and not is_notice(refused.message)
    assert "\n" not in refused.message
    assert refused.config.task == "sine" and refused.running
    later = reader.until(lambda snapshot: snapshot.step > refused.step + 3)
    assert later.config.task == "sine" and later.message == refused.message


def test_divergence_pauses_and_reports_the_step():
    worker = TrainingWorker(SMALL.replace(optimizer="sgd", lr=1e4))
    try:
        reader = Reader(worker)
        worker.start()
        diverged = reader.until(lambda snapshot: not snapshot.running and snapshot.step > 0)
        assert diverged.diverged_at_step is not None
        assert f"diverged at step {diverged.diverged_at_step} " in diverged.message
        assert np.isfinite(diverged.trace["hidden"]).all()  # the weights kept are the last finite ones
        assert diverged.step == diverged.diverged_at_step  # paused right at the diverging step
        time.sleep(0.3)
        assert reader.fresh().step == diverged.step
    finally:
        assert worker.stop()


def test_a_stalled_run_gets_a_warning_that_lasts_until_a_new_run(monkeypatch):
    """Adam at lr 1000 on the sine preset's model never diverges: it saturates and sits ten times above
    the baseline. The worker looks every few hundred steps (fewer here) and warns; it is no error."""
    monkeypatch.setattr(worker_module, "STALL_STEPS", 200)
    monkeypatch.setattr(worker_module, "STALL_CHECK_STEPS", 100)
    worker = TrainingWorker(RunConfig(hidden=16, seq_len=50, batch=32, lr=1000.0))
    try:
        reader = Reader(worker)
        worker.start()
        stalled = reader.until(lambda snapshot: snapshot.message != "", timeout=60.0)
        assert is_warning(stalled.message) and not is_notice(stalled.message) and stalled.running
        assert stalled.message.startswith(WARNING_MARK + "The loss has stayed above the no-memory baseline (0.0476)")
        assert "for 200 steps and " in stalled.message and "% of units are saturated" in stalled.message
        assert stalled.step >= 200
        assert stalled.diverged_at_step is None
        later = reader.until(lambda snapshot: snapshot.step >= stalled.step + 100, timeout=60.0)  # checked again
        assert later.message == stalled.message  # in the same words: the window shows it once
        worker.reset(SMALL)
        assert reader.until(lambda snapshot: snapshot.config == SMALL).message == ""
    finally:
        assert worker.stop()


def test_an_unexpected_error_becomes_a_message_and_the_thread_lives(worker, reader):
    def broken_step():
        raise RuntimeError("simulated failure")

    worker.trainer.step = broken_step
    worker.start()
    failed = reader.until(lambda snapshot: snapshot.message != "")
    assert "simulated failure" in failed.message and not failed.running
    assert worker.is_alive
    worker.reset(SMALL)  # a new trainer: training works again
    worker.start()
    assert reader.until(lambda snapshot: snapshot.step >= 2).message == ""


def test_checkpoint_saved_and_loaded_through_the_worker_continues_the_run(worker, reader, tmp_path):
    for _ in range(4):
        worker.step()
    path = tmp_path / "checkpoint.pt"
    worker.save_checkpoint(path)
    saved = reader.until(lambda snapshot: is_notice(snapshot.message))
    assert saved.step == 4 and path.is_file()
    worker.reset(SMALL.replace(hidden=12))
    reader.until(lambda snapshot: snapshot.config.hidden == 12)

    worker.load_checkpoint(path)
    loaded = reader.until(lambda snapshot: snapshot.config.hidden == SMALL.hidden)
    assert is_notice(loaded.message) and loaded.step == 4
    np.testing.assert_array_equal(loaded.metrics["loss"], saved.metrics["loss"])
    np.testing.assert_array_equal(loaded.trace["hidden"], saved.trace["hidden"])


def test_loading_a_file_that_is_no_checkpoint_keeps_the_run(worker, reader, tmp_path):
    worker.step()
    reader.until(lambda snapshot: snapshot.step == 1)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    worker.load_checkpoint(junk)
    refused = reader.until(lambda snapshot: snapshot.message != "")
    assert "junk.pt" in refused.message and not is_notice(refused.message)
    assert refused.step == 1


def test_stop_while_training_ends_the_thread_within_a_second():
    worker = TrainingWorker(SMALL)
    worker.start()
    Reader(worker).until(lambda snapshot: snapshot.step > 0)
    started = time.monotonic()
    assert worker.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0 and not worker.is_alive


def test_a_failing_probe_still_publishes_the_metrics_with_a_message(worker, reader, monkeypatch):
    def failing_probe(model, task):
        raise ValueError("simulated probe failure")

    monkeypatch.setattr(trainer_module, "probe_trace", failing_probe)  # fails on the capture thread
    worker.step()
    stepped = reader.until(lambda snapshot: snapshot.step == 1)
    assert stepped.trace is None and len(stepped.metrics["loss"]) == 1
    assert "simulated probe failure" in stepped.message and worker.is_alive


def test_a_character_checkpoint_loaded_over_a_sine_run_names_no_text_the_sine_run_lacks(worker, reader, tmp_path):
    path = tmp_path / "names.pt"
    worker.reset(SMALL.replace(task="chars", text="names"))
    reader.until(lambda snapshot: snapshot.config.task == "chars")
    worker.save_checkpoint(path)
    reader.until(lambda snapshot: is_notice(snapshot.message))
    worker.reset(SMALL)  # sine, whose config holds the unused default text 'hihello'
    reader.until(lambda snapshot: snapshot.config.task == "sine")
    worker.load_checkpoint(path)
    loaded = reader.until(lambda snapshot: snapshot.config.task == "chars")
    assert "Its model differs: task 'chars' (was: 'sine');" in loaded.message
    assert "hihello" not in loaded.message and "text" not in loaded.message.split("differs")[1]


def test_each_run_is_recorded_in_a_folder_named_after_its_preset_or_else_its_task(tmp_path):
    from lstm_viz.core.config import load_preset

    exploding = TrainingWorker(load_preset("exploding").replace(steps=7), runs_dir=tmp_path, history_mb=0)
    try:
        exploding.reset(load_preset("exploding").replace(hidden=5))  # no preset any more: named after its task
        deadline = time.time() + 30
        while len(list(tmp_path.iterdir())) < 2 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        exploding.stop()
    names = sorted(path.name.rsplit("-", 2)[0] for path in tmp_path.iterdir())
    assert names == ["exploding", "sine"]


# ---- clipping turned on after the weights blew up -------------------------------------------------------------
EXPLODING_OFF = load_preset("exploding").replace(clip="off", seq_len=100)  # its raw gradients reach 1e4 and more


def test_turning_clipping_on_after_an_unclipped_explosion_warns_reset_or_fork():
    worker = TrainingWorker(EXPLODING_OFF)
    try:
        reader = Reader(worker)
        for _ in range(3):
            worker.step()
        exploded = reader.until(lambda snapshot: snapshot.step == 3)
        assert exploded.metrics["grad_norm_clipped"].max() >= 1e3  # the blow-up went into the weights
        worker.apply(EXPLODING_OFF.replace(clip="norm:1"))
        warned = reader.until(lambda snapshot: snapshot.config.clip.mode == "norm")
        assert is_warning(warned.message)
        assert warned.message.startswith(
            WARNING_MARK + "Clipping was changed after the weights already blew up: Reset or Fork to compare ("
        )
        worker.apply(EXPLODING_OFF.replace(clip="norm:1", lr=0.005))  # not a clipping change: the warning goes
        assert reader.until(lambda snapshot: snapshot.config.lr == 0.005).message == ""
    finally:
        assert worker.stop()


def test_changing_clipping_of_a_run_that_never_blew_up_says_nothing():
    worker = TrainingWorker(EXPLODING_OFF.replace(clip="norm:1"))  # clipped from the first step
    try:
        reader = Reader(worker)
        for _ in range(3):
            worker.step()
        reader.until(lambda snapshot: snapshot.step == 3)
        worker.apply(EXPLODING_OFF.replace(clip="norm:0.5"))
        changed = reader.until(lambda snapshot: snapshot.config.clip.threshold == 0.5)
        assert changed.message == "" and changed.metrics["grad_norm"].max() >= 1e3  # raw norms were huge, clipped
    finally:
        assert worker.stop()


def test_a_throttled_worker_waits_without_burning_the_processor(worker, reader):
    worker.set_speed(2)
    worker.start()
    reader.until(lambda snapshot: snapshot.step >= 1)
    worker_clock = time.pthread_getcpuclockid(worker._thread.ident)  # the training thread's processor time
    started_cpu, started, first = time.clock_gettime(worker_clock), time.monotonic(), worker.trainer.step_count
    time.sleep(1.5)
    cpu = time.clock_gettime(worker_clock) - started_cpu
    steps = worker.trainer.step_count - first
    assert cpu < 0.5 * (time.monotonic() - started)  # waiting, not spinning (a busy loop would use it all)
    assert 1 <= steps <= 6  # about 1.5 s x 2 steps/s
    with pytest.raises(ValueError, match="speed must be 1 to 10000"):
        worker.set_speed(0)
