"""Run files: atomic writes, checkpoints that load with weights_only=True and resume exactly."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstm_viz.core import runs
from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.trainer import Trainer

SMALL = RunConfig(task="sine", hidden=6, seq_len=12, batch=4, lr=0.01, seed=3)


def trained(config: RunConfig = SMALL, steps: int = 5) -> Trainer:
    trainer = Trainer(config)
    for _ in range(steps):
        trainer.step()
    return trainer


# ---- atomic writes ---------------------------------------------------------------------
def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    runs.atomic_write_bytes(path, b"new contents")
    assert path.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_the_next_write_removes_what_killed_writers_left_and_spares_live_ones(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)  # a process that has exited: its half-written file is garbage
    killed_writer = tmp_path / f".data.bin.{dead_pid}.0badf00d.tmp"
    live_writer = tmp_path / f".data.bin.{os.getpid()}.c0ffee00.tmp"  # could be writing right now
    other_file = tmp_path / f".other.bin.{dead_pid}.0badf00d.tmp"  # another file's: not ours to judge
    sibling = tmp_path / f".data.bin.20261129.{os.getpid()}.c0ffee00.tmp"  # a live writer of 'data.bin.20261129'
    unreadable = tmp_path / f".data.bin.{dead_pid}.deadbeef.tmp"  # a folder: cannot be unlinked
    for leftover in (killed_writer, live_writer, other_file, sibling):
        leftover.write_bytes(b"half")
    unreadable.mkdir()
    runs.atomic_write_bytes(tmp_path / "data.bin", b"whole")  # and the failed unlink does not fail the write
    kept = [live_writer.name, other_file.name, sibling.name, unreadable.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data.bin", *kept])
    assert (tmp_path / "data.bin").read_bytes() == b"whole"


def test_a_failed_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    path.write_text("old,complete\n")

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ConfigError, match="cannot write .*No space left on device"):
        runs.atomic_write_text(path, "new\n" * 1000)
    assert path.read_text() == "old,complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_a_run_directory_under_a_regular_file_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot create run directory"):
        runs.make_run_dir(blocker / "run")


# ---- the run files -------------------------------------------------------------------
def test_write_run_writes_every_file_with_the_documented_content(tmp_path):
    trainer = trained(SMALL.replace(task="adding", layers=2, bidirectional=True), steps=7)
    trace = probe_trace(trainer.model, trainer.task)
    runs.write_run(tmp_path, trainer, trace, steps_per_s=12.5, name="small")

    config = json.loads((tmp_path / "config.json").read_text())
    assert config["name"] == "small"
    assert set(config["versions"]) == {"lstm_viz", "torch", "numpy", "python"}
    assert RunConfig.from_dict(config) == trainer.config

    metrics = runs.read_metrics(tmp_path / "metrics.csv")
    assert list(metrics) == list(trainer.metrics.columns)
    assert "l1r.W_hh.f" in metrics  # per-block norms of the reverse direction of layer 1
    np.testing.assert_array_equal(metrics["step"], np.arange(1, 8))
    np.testing.assert_allclose(metrics["loss"], trainer.metrics.as_columns()["loss"], rtol=1e-7)

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["steps"] == 7
    assert summary["final_loss"] == pytest.approx(np.mean(metrics["loss"]), rel=1e-6)
    assert summary["baseline_loss"] == pytest.approx(trainer.task.baseline_loss)
    assert summary["probe_loss"] == pytest.approx(trace.loss)
    assert summary["diverged"] is False and summary["diverged_at_step"] is None
    assert summary["steps_per_s"] == 12.5

    with np.load(tmp_path / "trace.npz", allow_pickle=False) as arrays:
        assert arrays["hidden"].shape == (2, 2, 12, 6)
        assert arrays["grad_cell"].shape == (2, 2, 12, 6)
        assert arrays["grad_output"].shape == (12, 12)
        np.testing.assert_array_equal(arrays["forget_gate"], trace["forget_gate"])

    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 7


def test_final_loss_averages_the_last_hundred_finite_steps(tmp_path):
    trainer = trained(steps=104)
    losses = trainer.metrics.as_columns()["loss"]
    assert runs.summary(trainer, None, 0.0)["final_loss"] == pytest.approx(losses[4:].mean())


def test_summary_of_a_char_run_has_both_reference_losses(tmp_path):
    trainer = trained(RunConfig(task="chars", text="hihello", hidden=4, seq_len=6), steps=2)
    runs.write_run(tmp_path, trainer, probe_trace(trainer.model, trainer.task), steps_per_s=1.0)
    summary = json.loads((tmp_path / "summary.json").read_text())
    # hihello's one window: 'h' and 'l' each have two successors (ln 2 on 4 of 6 targets); targets i h e l l o
    assert summary["baseline_loss"] == pytest.approx(4 / 6 * math.log(2))
    assert summary["baseline_name"] == "no memory (next char given this one)"
    assert summary["no_input_loss"] == pytest.approx(-(4 / 6 * math.log(1 / 6) + 2 / 6 * math.log(2 / 6)))
    assert runs.summary(trained(), None, 0.0)["no_input_loss"] is None  # sine has no such line


# ---- checkpoints ---------------------------------------------------------------------
def test_resuming_from_a_saved_checkpoint_continues_exactly(tmp_path):
    uninterrupted = trained(steps=8)
    continued_losses = [uninterrupted.step().loss for _ in range(5)]

    path = tmp_path / "checkpoint.pt"
    runs.save_checkpoint(path, trained(steps=8))
    resumed = runs.restore_trainer(runs.load_checkpoint(path), path=path)
    assert resumed.step_count == 8
    assert [resumed.step().loss for _ in range(5)] == continued_losses


LIVE_CHANGES = {2: {"lr": 0.003}, 3: {"clip": "norm:0.05"}}  # applied before these steps


def train_with_live_changes(trainer: Trainer, until_step: int) -> Trainer:
    while trainer.step_count < until_step:
        changes = LIVE_CHANGES.get(trainer.step_count + 1)
        if changes:
            trainer.apply(trainer.config.replace(**changes))
        trainer.step()
    return trainer


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
@pytest.mark.parametrize("resume_at", [0, 1])
def test_every_optimizer_resumes_bit_exactly_through_live_changes(tmp_path, optimizer, resume_at):
    config = SMALL.replace(optimizer=optimizer)
    uninterrupted = train_with_live_changes(Trainer(config), until_step=4)
    path = tmp_path / "checkpoint.pt"
    runs.save_checkpoint(path, train_with_live_changes(Trainer(config), until_step=resume_at))
    resumed = train_with_live_changes(runs.restore_trainer(runs.load_checkpoint(path), path=path), until_step=4)

    expected_metrics, metrics = uninterrupted.metrics.as_columns(), resumed.metrics.as_columns()
    assert expected_metrics["clipped"][-1] == 1.0  # the change of clipping did act
    for name, column in expected_metrics.items():
        np.testing.assert_array_equal(metrics[name], column, err_msg=name)
    for expected, weights in zip(uninterrupted.parameters, resumed.parameters, strict=True):
        assert torch.equal(weights, expected)
    expected_groups, groups = uninterrupted.optimizer.param_groups, resumed.optimizer.param_groups
    assert [{**group, "params": None} for group in groups] == [{**group, "params": None} for group in expected_groups]


def test_a_checkpoint_with_sgds_momentum_in_rmsprop_resumes_without_it():
    """Older versions wrote SGD's momentum (0.9) into RMSprop's groups, and saved it."""
    checkpoint = trained(SMALL.replace(optimizer="rmsprop"), steps=1).checkpoint()
    checkpoint["optimizer"]["param_groups"][0]["momentum"] = 0.9
    resumed = runs.restore_trainer(checkpoint, path="x.pt")
    assert resumed.optimizer.param_groups[0]["momentum"] == 0
    assert np.isfinite(resumed.step().loss)


def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(code_running_checkpoint):
    path, marker = code_running_checkpoint
    with pytest.raises(ConfigError, match="not a safe checkpoint"):
        runs.load_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is real: an unsafe load does run it
    assert marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not an lstm_viz checkpoint or corrupt"),
        (os.urandom(2000), "not an lstm_viz checkpoint or corrupt"),
        ("torch-dict", "not an lstm_viz checkpoint or corrupt .*format tag"),
        ("truncated", "not an lstm_viz checkpoint or corrupt"),
    ],
)
def test_damaged_or_foreign_checkpoints_are_one_line_config_errors(tmp_path, content, message):
    path = tmp_path / "checkpoint.pt"
    if content == "torch-dict":
        torch.save({"weights": torch.zeros(3)}, path)
    elif content == "truncated":
        buffer = io.BytesIO()
        torch.save(trained(steps=1).checkpoint(), buffer)
        path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as error:
        runs.load_checkpoint(path)
    assert "\n" not in str(error.value)


def test_a_missing_checkpoint_says_so(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        runs.load_checkpoint(tmp_path / "nothing.pt")


def test_weights_that_do_not_match_their_config_are_refused(tmp_path):
    checkpoint = trained(SMALL.replace(hidden=9), steps=1).checkpoint()
    checkpoint["config"] = SMALL.to_dict()  # claims 6 units, holds 9
    with pytest.raises(ConfigError, match="not an lstm_viz checkpoint or corrupt"):
        runs.restore_trainer(checkpoint, path="x.pt")


def test_a_checkpoint_of_another_architecture_is_refused_for_this_config():
    checkpoint = trained(steps=1).checkpoint()
    with pytest.raises(ConfigError, match="different model: hidden 6"):
        runs.restore_trainer(checkpoint, SMALL.replace(hidden=7), path="x.pt")
