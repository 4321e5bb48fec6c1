"""The history of a run: records hold exactly the live probe, the budget and thinning rules, a writer
killed at any moment, following a run being written, bad input, forks and events."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lstm_viz import cli
from lstm_viz.core import history
from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.history import FIRST_STEPS, fork_trainer, open_run, record_name, steps_to_thin
from lstm_viz.core.trainer import Trainer

REPO = Path(__file__).resolve().parent.parent.parent
SMALL = RunConfig(task="sine", hidden=5, seq_len=12, batch=3, optimizer="sgd", lr=0.05, seed=3)
STEPS = 600
LIVE_CHANGES = {300: {"lr": 0.02}, 450: {"clip": "norm:1"}}  # applied after these steps
CAPTURED = (1, 37, FIRST_STEPS, 300, 450, STEPS)  # steps whose live probe the tests keep
BUDGET_MB = 1.3  # the first 100 records, the events and about 20 more


def live_state(trainer: Trainer) -> dict:
    """What the window would draw now (the trace of a fresh snapshot), and the weights: copies."""
    trace = trainer.snapshot().trace
    with torch.no_grad():
        probe_outputs = torch.from_numpy(np.array(trace.probe_output))[None]  # (1, T, O)
        view = trainer.task.view(trainer.model, probe_outputs, 1.0, torch.Generator())
    return {
        "trace": {name: np.array(values) for name, values in trace.arrays().items()},
        "weights": {name: value.detach().clone() for name, value in trainer.model.state_dict().items()},
        "view": view,
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One run recorded under a small budget: live changes of lr (step 300) and clipping (450), then at 600
    an lr of 1e4 without clipping, which makes plain SGD diverge a few steps later.

    Regular records are spaced by the budget alone here (not also by the writer's speed, which varies
    from machine to machine), so that the spacing can be asserted exactly."""
    path = tmp_path_factory.mktemp("recorded") / "run"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CHILD_DUTY", "RECORD_DUTY"):  # the writer's share of time that spaces records by speed
            if hasattr(history, name):
                patch.setattr(history, name, 1e9)
        trainer = Trainer(SMALL)
        writer = trainer.record_to(path, history_mb=BUDGET_MB, name="small")
        live = {}
        while trainer.step_count < STEPS:
            trainer.step()
            if trainer.step_count in LIVE_CHANGES:
                trainer.apply(trainer.config.replace(**LIVE_CHANGES[trainer.step_count]))
            if trainer.step_count in CAPTURED:
                live[trainer.step_count] = live_state(trainer)
        trainer.apply(trainer.config.replace(lr=1e4, clip="off"))
        while not trainer.step().diverged and trainer.step_count < STEPS + 50:
            pass
        live[trainer.step_count] = live_state(trainer)
        metrics = {name: values.copy() for name, values in trainer.metrics.as_columns().items()}
        trainer.finish_recording()
    return SimpleNamespace(path=path, writer=writer, live=live, metrics=metrics, diverged_at=trainer.diverged_at_step)


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    """A finished `lstm-viz train` run of another hidden size (7)."""
    path = tmp_path_factory.mktemp("other") / "run"
    arguments = ["--preset", "sine", "--hidden", "7", "--seq-len", "12", "--batch", "3", "--steps", "40"]
    assert cli.main(["train", *arguments, "--out", str(path)]) == 0
    return path


def as_float32(values: np.ndarray) -> np.ndarray:
    """Metrics are float32 values; metrics.csv keeps them exactly as such (9 significant digits)."""
    return np.asarray(values).astype(np.float32)


def copy_of(run_path: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_path, tmp_path / "copy"))


# ---- records hold the live probe ----------------------------------------------------------------
def test_each_record_holds_exactly_the_live_probe_and_weights_of_its_step(recorded):
    run = open_run(recorded.path)
    assert set(recorded.live) <= set(run.steps.tolist())
    for step, live in recorded.live.items():
        trace = run.trace(step)
        assert sorted(trace) == sorted(live["trace"]), step
        for name, values in live["trace"].items():
            assert trace[name].dtype == values.dtype == np.float32, name
            np.testing.assert_array_equal(trace[name], values, err_msg=f"{name} at step {step}")
        weights = run.weights(step)
        assert sorted(weights) == sorted(live["weights"])
        for name, values in live["weights"].items():
            assert torch.equal(weights[name], values), f"{name} at step {step}"
        snapshot = run.snapshot(step)
        assert snapshot.step == step and snapshot.trace.cell == "lstm"
        np.testing.assert_array_equal(snapshot.view["rollout"], live["view"]["rollout"], err_msg=f"step {step}")
    assert not torch.equal(run.weights(1)["layers.0.weight_hh_l0"], run.weights(450)["layers.0.weight_hh_l0"])


def test_recorded_states_are_what_torch_computes_from_the_recorded_weights(recorded):
    run = open_run(recorded.path)
    hidden_size = SMALL.hidden
    for step in (1, FIRST_STEPS, 450):
        weights, trace = run.weights(step), run.trace(step)
        lstm = torch.nn.LSTM(1, hidden_size, batch_first=True)
        lstm.load_state_dict({name.removeprefix("layers.0."): w for name, w in weights.items() if "layers.0." in name})
        head = torch.nn.Linear(hidden_size, 1)
        head.load_state_dict({"weight": weights["head.weight"], "bias": weights["head.bias"]})
        inputs = torch.from_numpy(trace["lstm_input"])[None]  # (1, T, 1)
        with torch.no_grad():
            hidden, (_, cell) = lstm(inputs)  # (1, T, H), cell (1, 1, H)
            outputs = head(hidden)  # (1, T, 1)
        np.testing.assert_allclose(trace["hidden"][0, 0], hidden[0].numpy(), atol=1e-5, err_msg=f"step {step}")
        np.testing.assert_allclose(trace["cell"][0, 0, -1], cell[0, 0].numpy(), atol=1e-5, err_msg=f"step {step}")
        np.testing.assert_allclose(trace["probe_output"], outputs[0].numpy(), atol=1e-5, err_msg=f"step {step}")
        # The forget gate at t=0, where h is 0: sigmoid(W_if x_0 + b_if + b_hf) (torch's gate order: i, f, g, o)
        rows = slice(hidden_size, 2 * hidden_size)
        bias = weights["layers.0.bias_ih_l0"][rows] + weights["layers.0.bias_hh_l0"][rows]
        forget = torch.sigmoid(weights["layers.0.weight_ih_l0"][rows] @ inputs[0, 0] + bias)
        np.testing.assert_allclose(trace["forget_gate"][0, 0, 0], forget.numpy(), atol=1e-6)


def test_the_last_record_of_a_finished_train_run_is_its_trace_npz(other_run):
    run = open_run(other_run)
    assert run.finished and not run.writer_alive
    assert run.steps[-1] == json.loads((other_run / "summary.json").read_text())["steps"] == 40
    trace = run.trace(run.steps[-1])
    with np.load(other_run / "trace.npz", allow_pickle=False) as final:
        assert sorted(trace) == sorted(final.files)
        for name in final.files:
            assert trace[name].dtype == final[name].dtype and trace[name].shape == final[name].shape, name
            np.testing.assert_array_equal(trace[name], final[name], err_msg=name)
    np.testing.assert_array_equal(run.steps[:FIRST_STEPS], np.arange(1, 41))  # every one of the first steps


# ---- budget and thinning --------------------------------------------------------------------------
FIRST = list(range(1, FIRST_STEPS + 1))
SIZE = 10


def thin(steps, protected=(), stride=1, budget=10**9):
    dropped, stride = steps_to_thin(list(steps), {step: SIZE for step in steps}, set(protected), stride, budget)
    return sorted(set(steps) - set(dropped)), stride


def test_records_under_the_budget_are_all_kept():
    steps = [*FIRST, *range(102, 301, 2)]
    assert thin(steps, stride=2) == (steps, 2)
    assert thin([], stride=4) == ([], 4)


def test_over_the_budget_the_stride_doubles_until_the_records_fit_evenly_spaced():
    steps = [*FIRST, *range(101, 301)]  # stride 1 so far
    events = {151, 253}
    # At stride 4: 100 first + 2 events + 50 multiples of 4 (104 ... 300) = 152 records; at stride 2: 202.
    kept, stride = thin(steps, events, budget=160 * SIZE)
    assert stride == 4
    assert kept == sorted([*FIRST, *events, *range(104, 301, 4)])
    assert len(kept) * SIZE <= 160 * SIZE
    # One record more than fits at stride 4: stride 8.
    kept, stride = thin(steps, events, budget=151 * SIZE)
    assert stride == 8 and kept == sorted([*FIRST, *events, *range(104, 301, 8), 300])  # 300: the newest


def test_the_first_steps_the_events_and_the_newest_are_kept_whatever_the_budget():
    steps = [*FIRST, *range(101, 302)]
    kept, stride = thin(steps, {150}, budget=50 * SIZE)  # the first 100 alone take twice the budget
    assert kept == [*FIRST, 150, 301]  # 301, the newest, is off every even stride
    assert stride > 301  # so no regular record would fit either


def test_records_off_the_stride_are_dropped_even_under_the_budget():
    """A newest record spared by an earlier thinning, or records made before the stride last doubled (the
    writer fell behind), would leave the history unevenly spaced."""
    kept, stride = thin([*FIRST, 104, 108, 110, 112], stride=4)  # 110 was the newest when the stride doubled
    assert (kept, stride) == ([*FIRST, 104, 108, 112], 4)
    kept, stride = thin([*FIRST, *range(101, 140), 144], {133}, stride=16)
    assert (kept, stride) == ([*FIRST, 112, 128, 133, 144], 16)


def test_a_run_over_its_budget_keeps_the_first_steps_events_last_and_evenly_spaced_records(recorded):
    run = open_run(recorded.path)
    steps = run.steps.tolist()
    last = recorded.diverged_at
    assert STEPS < last < STEPS + 50  # it did diverge
    events = {event.step for event in run.events}
    assert events == {300, 450, STEPS, last}
    assert steps[:FIRST_STEPS] == FIRST and steps[-1] == last and events <= set(steps)
    assert steps == recorded.writer.recorded_steps  # what the writer kept is what is on disk

    sizes = {step: (recorded.path / "history" / record_name(step)).stat().st_size for step in steps}
    budget = BUDGET_MB * 1e6
    protected = set(FIRST) | events
    assert sum(sizes[step] for step in protected) + 10 * max(sizes.values()) < budget  # room for regular ones
    assert sum(sizes.values()) <= budget
    stride = recorded.writer.stride
    regular = [step for step in steps if step not in protected]
    # Every multiple of the stride after the first steps, and nothing else: evenly spaced, no gaps ...
    assert regular == [step for step in range(stride, last, stride) if step > FIRST_STEPS and step not in events]
    assert len(regular) >= 5
    # ... and as dense as the budget allows: at half that stride they would not fit.
    denser = [step for step in range(stride // 2, last, stride // 2) if step > FIRST_STEPS and step not in events]
    assert sum(sizes[step] for step in protected) + len(denser) * min(sizes.values()) > budget
    assert not [p.name for p in (recorded.path / "history").iterdir() if p.name.endswith(".tmp")]


def test_no_history_with_a_budget_of_zero_and_the_metrics_and_events_still_written(tmp_path):
    trainer = Trainer(SMALL)
    trainer.record_to(tmp_path, history_mb=0)
    for _ in range(5):
        trainer.step()
    trainer.apply(trainer.config.replace(lr=0.01))
    trainer.finish_recording()
    assert not (tmp_path / "history").exists()
    run = open_run(tmp_path)
    assert len(run.steps) == 0 and run.finished
    np.testing.assert_array_equal(run.metrics["step"], np.arange(1, 6))
    np.testing.assert_array_equal(as_float32(run.metrics["loss"]), as_float32(trainer.metrics.as_columns()["loss"]))
    assert [(event.step, event.kind) for event in run.events] == [(5, "change")]
    with pytest.raises(ConfigError, match="has no record of step 5"):
        run.trace(5)


# ---- events ---------------------------------------------------------------------------------------
def test_live_changes_and_divergence_are_events_with_a_record_of_that_step(recorded):
    run = open_run(recorded.path)
    events = run.events
    assert [(event.step, event.kind) for event in events] == [
        (300, "change"),
        (450, "change"),
        (STEPS, "change"),
        (recorded.diverged_at, "diverged"),
    ]
    assert events[0].text == "lr 0.05 → 0.02"
    assert events[1].text == "clip off → norm:1"
    assert re.fullmatch(r"clip norm:1 → off, lr 0\.02 → 10000(\.0)?", events[2].text), events[2].text
    # Each event's record holds the settings from then on.
    assert (run.snapshot(300).config.lr, str(run.snapshot(300).config.clip)) == (0.02, "off")
    assert (run.snapshot(450).config.lr, str(run.snapshot(450).config.clip)) == (0.02, "norm:1")
    assert run.snapshot(FIRST_STEPS).config.lr == 0.05
    # Divergence (a non-finite loss, gradient or update): its record holds the last finite weights.
    assert run.metrics["step"][-1] == recorded.diverged_at  # training stopped there
    assert all(torch.isfinite(weights).all() for weights in run.weights(recorded.diverged_at).values())
    assert run.snapshot(recorded.diverged_at).diverged_at_step == recorded.diverged_at


# ---- forks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("step", [37, 450])
def test_a_fork_continues_from_exactly_the_recorded_weights(recorded, step):
    run = open_run(recorded.path)
    fork = fork_trainer(run, step)
    assert fork.step_count == step
    with np.load(recorded.path / "history" / record_name(step), allow_pickle=False) as record:  # read on its own
        parameters = dict(fork.model.named_parameters())
        assert sorted(parameters) == sorted(key.removeprefix("weights/") for key in record.files if "weights/" in key)
        for name, parameter in parameters.items():
            np.testing.assert_array_equal(parameter.detach().numpy(), record[f"weights/{name}"], err_msg=name)
        assert json.loads(str(record["config"]))["lr"] == fork.config.lr
    assert fork.config.lr == (0.05 if step < 300 else 0.02)
    for name, values in fork.metrics.as_columns().items():  # the steps up to the fork, as trained
        np.testing.assert_array_equal(as_float32(values), as_float32(recorded.metrics[name][:step]), err_msg=name)
    for name, values in fork.snapshot().trace.arrays().items():  # the same weights probe the same
        np.testing.assert_array_equal(values, run.trace(step)[name], err_msg=name)

    assert not fork.optimizer.state  # a fresh optimizer
    results = [fork.step() for _ in range(3)]
    assert [result.step for result in results] == [step + 1, step + 2, step + 3]
    assert all(np.isfinite(result.loss) and not result.diverged for result in results)
    assert fork.metrics.rows == step + 3
    assert not torch.equal(fork.model.head.weight, run.weights(step)["head.weight"])  # it learns on


def test_a_fork_of_a_record_that_cannot_be_had_is_a_config_error(recorded):
    run = open_run(recorded.path)
    nearest = int(run.steps[abs(run.steps - 101).argmin()])
    assert nearest != 101
    with pytest.raises(ConfigError, match=f"has no record of step 101 .*; the nearest recorded step is {nearest}$"):
        fork_trainer(run, 101)


# ---- a writer killed at any moment ----------------------------------------------------------------
# A process that imports torch once, then per line "DELAY" forks a writer that restarts the run in
# RUN_DIR (Trainer.record_to, as a second `lstm-viz train --out RUN_DIR` does) and then, step after step,
# appends metrics and an event and writes a record of about 4 MB (history.write_record, as the history
# writer does), SIGKILLs it DELAY seconds after it started stepping, and says "killed". Every record's
# weights hold its step number, so a record mixing two steps, or half of one, shows.
RECORDER = """
import os, signal, sys, time
from pathlib import Path
import numpy as np
import torch
torch.set_num_threads(1)
from lstm_viz.core import history
from lstm_viz.core.config import RunConfig
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.trainer import Trainer

run_dir = Path(sys.argv[1])
Trainer(RunConfig(task="sine", hidden=4, seq_len=10, batch=2)).step()  # the first step imports more of torch
print("ready", flush=True)
for line in sys.stdin:
    started, started_writer = os.pipe()
    writer = os.fork()
    if writer == 0:
        trainer = Trainer(RunConfig(task="sine", hidden=4, seq_len=10, batch=2))
        trainer.record_to(run_dir, history_mb=0)  # run.json, metrics and events; the records are written below
        (run_dir / "history").mkdir(exist_ok=True)
        os.write(started_writer, b"s")
        while True:
            trainer.step()
            step = trainer.step_count
            trainer.run_writer.append_metrics(trainer.metrics, force=True)
            trainer.run_writer.event(step, "change", f"step {step}")
            weights = {"big": np.full((1000, 1000), step, np.float32)}
            history.write_record(run_dir / "history", step, probe_trace(trainer.model, trainer.task), {}, weights, "")
    os.read(started, 1)
    time.sleep(float(line))
    os.kill(writer, signal.SIGKILL)
    os.waitpid(writer, 0)
    print("killed", flush=True)
"""
TEMPORARY = re.compile(r"\.step-\d{9}\.npz\.\d+\.tmp")


def test_a_history_writer_killed_at_random_moments_leaves_a_readable_history(tmp_path):
    run_dir = tmp_path / "run"
    recorder = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    # At least 6 kills at random moments, and more (up to 40) until one has landed in the middle of writing
    # a record (its temporary file is there): the sign that the kills do hit writes.
    min_rounds, max_rounds, interrupted_writes, recorded_steps = 6, 40, 0, 0
    delays = random.Random(11)
    leftovers: list[str] = []
    try:
        assert recorder.stdout.readline() == "ready\n"
        round_index = 0
        while round_index < min_rounds or (interrupted_writes == 0 and round_index < max_rounds):
            round_index += 1
            recorder.stdin.write(f"{delays.uniform(0.05, 0.4)}\n")
            recorder.stdin.flush()
            assert recorder.stdout.readline() == "killed\n"

            names = [path.name for path in (run_dir / "history").iterdir()]
            assert not set(leftovers) & set(names)  # the restarted writer cleared the last round's leftovers
            leftovers = [name for name in names if name.startswith(".")]
            assert all(TEMPORARY.fullmatch(name) for name in leftovers), leftovers
            assert len(leftovers) <= 1
            interrupted_writes += bool(leftovers)

            run = open_run(run_dir)
            assert not run.finished and not run.writer_alive
            steps = run.steps
            np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))  # a prefix of the schedule
            for step in steps:
                trace = run.trace(step)
                assert trace["hidden"].shape == (1, 1, 10, 4)
                assert torch.all(run.weights(step)["big"] == step), f"record {step} is not all of step {step}"
            written = len(steps)
            recorded_steps += written
            metrics, events = run.metrics, run.events
            np.testing.assert_array_equal(metrics["step"], np.arange(1, len(metrics["step"]) + 1))
            assert written <= len(metrics["step"]) <= written + 1  # at most the record being written is lost
            assert np.isfinite(metrics["loss"]).all()
            assert [event.step for event in events] == list(range(1, len(events) + 1))
            assert written <= len(events) <= len(metrics["step"])
    finally:
        recorder.kill()
        recorder.wait()
    assert recorded_steps > 0  # records were written between kills
    assert interrupted_writes >= 1  # and some kills did land in the middle of one

    # A line being appended when the writer died is left out.
    with open(run_dir / "metrics.csv", "a") as metrics_file:
        metrics_file.write("99999,0.5")
    with open(run_dir / "events.csv", "a") as events_file:
        events_file.write("99999,chan")
    run = open_run(run_dir)
    assert 99999 not in run.metrics["step"] and 99999 not in [event.step for event in run.events]

    # A writer started again in the same folder starts a clean run.
    trainer = Trainer(RunConfig(task="sine", hidden=4, seq_len=10, batch=2))
    trainer.record_to(run_dir, history_mb=0)
    assert list((run_dir / "history").iterdir()) == []
    run.refresh()
    assert len(run.steps) == 0 and len(run.metrics["step"]) == 0 and run.events == []
    trainer.finish_recording()


# ---- following a run that `lstm-viz train` is writing -------------------------------------------
def start_training(out: Path) -> subprocess.Popen:
    arguments = ["--preset", "sine", "--hidden", "4", "--seq-len", "10", "--batch", "2", "--steps", "1000000"]
    return subprocess.Popen(
        [sys.executable, "-m", "lstm_viz", "train", *arguments, "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )


def wait_for(condition, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def refreshed(run):
    run.refresh()
    return run


def opened(path: Path):
    try:
        return open_run(path)
    except ConfigError:  # not started yet
        return None


def test_open_run_follows_a_run_being_written_and_tells_a_finished_writer_from_a_killed_one(tmp_path):
    followed, killed = tmp_path / "followed", tmp_path / "killed"
    processes = {followed: start_training(followed), killed: start_training(killed)}
    try:
        run = wait_for(lambda: opened(followed), "run.json")
        assert run.writer_alive and not run.finished
        wait_for(lambda: len(refreshed(run).steps) >= 3, "the first records")
        seen, rows = len(run.steps), len(run.metrics["step"])
        wait_for(lambda: len(refreshed(run).steps) > seen and len(run.metrics["step"]) > rows, "more records")
        np.testing.assert_array_equal(run.steps[:seen], np.arange(1, seen + 1))
        assert run.trace(1)["hidden"].shape == (1, 1, 10, 4)  # records read while the run goes on
        assert run.writer_alive and not run.finished

        # Ctrl-C in the terminal (the whole process group): the run stops after the step and ends properly.
        os.killpg(processes[followed].pid, signal.SIGINT)
        assert processes[followed].wait(timeout=90) == 130, processes[followed].stderr.read()
        run.refresh()
        assert run.finished and not run.writer_alive
        summary = json.loads((followed / "summary.json").read_text())
        assert run.steps[-1] == summary["steps"] == run.metrics["step"][-1]
        trace = run.trace(run.steps[-1])
        with np.load(followed / "trace.npz", allow_pickle=False) as final:
            assert sorted(trace) == sorted(final.files)
            for name in final.files:
                np.testing.assert_array_equal(trace[name], final[name], err_msg=name)

        # kill -9 of the process group: the writer is gone, the run not finished, what is there opens.
        run = wait_for(lambda: opened(killed), "run.json")
        wait_for(lambda: len(refreshed(run).steps) >= 5, "the first records")
        time.sleep(random.uniform(0.0, 0.3))
        os.killpg(processes[killed].pid, signal.SIGKILL)
        processes[killed].wait(timeout=30)
        run.refresh()
        assert not run.writer_alive and not run.finished
        steps = run.steps
        first = steps[steps <= FIRST_STEPS]
        np.testing.assert_array_equal(first, np.arange(1, len(first) + 1))  # a prefix of the schedule
        for step in steps:
            assert run.trace(step)["cell"].shape == (1, 1, 10, 4)
        metrics = run.metrics["step"]
        np.testing.assert_array_equal(metrics, np.arange(1, len(metrics) + 1))
        assert run.events == []
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# ---- bad input --------------------------------------------------------------------------------------
def test_what_is_not_a_run_is_a_one_line_config_error(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "metrics.csv").write_text("step,loss\n1,0.5\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "run.json").write_text('{"format": 1,')
    cases = {
        tmp_path / "empty": "is not an lstm_viz run: it has no run.json",
        tmp_path / "old": "is not an lstm_viz run (written before lstm_viz 0.2, which has no history)",
        tmp_path / "file.txt": "is a file, not a run directory",
        tmp_path / "absent": "does not exist",
        tmp_path / "damaged": "run.json' is damaged",
    }
    for path, message in cases.items():
        with pytest.raises(ConfigError) as error:
            open_run(path)
        assert message in str(error.value) and "\n" not in str(error.value), path


def test_a_run_of_a_newer_format_is_refused(recorded, tmp_path):
    path = copy_of(recorded.path, tmp_path)
    meta = json.loads((path / "run.json").read_text())
    (path / "run.json").write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(ConfigError, match=r"newer lstm_viz \(run format 99, this one reads 1\); upgrade"):
        open_run(path)


@pytest.mark.parametrize("damage", ["truncated", "empty", "random bytes"])
def test_a_damaged_record_is_a_config_error_and_the_others_still_open(recorded, tmp_path, damage):
    path = copy_of(recorded.path, tmp_path)
    record = path / "history" / record_name(50)
    content = record.read_bytes()
    record.write_bytes(
        {"truncated": content[: len(content) // 2], "empty": b"", "random bytes": os.urandom(999)}[damage]
    )
    run = open_run(path)
    assert 50 in run.steps
    with pytest.raises(ConfigError, match="the record of step 50 in .* is damaged") as error:
        run.trace(50)
    assert "\n" not in str(error.value)
    for step in (49, 51, run.steps[-1]):
        np.testing.assert_array_equal(run.trace(step)["hidden"], open_run(recorded.path).trace(step)["hidden"])


def test_a_record_of_another_model_is_a_config_error_naming_the_mismatch(recorded, other_run, tmp_path):
    path = copy_of(recorded.path, tmp_path)
    assert 111 not in open_run(path).steps
    shutil.copy(other_run / "history" / record_name(5), path / "history" / record_name(111))
    run = open_run(path)
    assert 111 in run.steps
    assert run.trace(99)["hidden"].shape == (1, 1, 12, 5)
    with pytest.raises(ConfigError) as error:
        run.trace(111)
    assert "the record of step 111" in str(error.value)
    assert "is of another model (hidden states (1, 1, 12, 7)" in str(error.value)
    assert "(layers, directions, T, units) = (1, 1, 12, 5)" in str(error.value)
    assert run.trace(run.steps[-1])["hidden"].shape == (1, 1, 12, 5)  # the others still open
    first_read = open_run(path)  # the foreign record read first is still the one blamed
    with pytest.raises(ConfigError, match="the record of step 111"):
        first_read.trace(111)
    assert first_read.trace(99)["hidden"].shape == (1, 1, 12, 5)


def test_a_run_deleted_while_open_is_a_config_error(recorded, tmp_path):
    path = copy_of(recorded.path, tmp_path)
    run = open_run(path)
    assert run.trace(1)["hidden"].shape == (1, 1, 12, 5)
    shutil.rmtree(path)
    for read in (run.refresh, lambda: run.trace(2), lambda: run.weights(3), lambda: run.snapshot(4)):
        with pytest.raises(ConfigError, match="no longer exists"):
            read()


def test_metrics_are_read_as_they_grow_whole_rows_only_and_again_when_the_file_is_replaced(tmp_path, monkeypatch):
    from lstm_viz.core import history

    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,0.5\n2,0.25\n3,0.")  # a row being written
    reader = history.MetricsReader(path, ["step", "loss"])
    assert reader.read()["loss"].tolist() == [0.5, 0.25]
    parsed = []
    parse = history.parse_rows
    monkeypatch.setattr(history, "parse_rows", lambda data, *rest: parsed.append(data) or parse(data, *rest))
    with open(path, "a") as file:
        file.write("125\n4,0.0625\n")
    assert reader.grown()
    assert reader.read()["step"].tolist() == [1, 2, 3, 4]
    assert reader.read()["loss"].tolist() == [0.5, 0.25, 0.125, 0.0625]
    assert parsed == [b"3,0.125\n4,0.0625\n"]  # only the rows appended since the last read
    assert not reader.grown()
    replacement = tmp_path / "new.csv"
    replacement.write_text("step,loss\n1,9\n")
    os.replace(replacement, path)  # a resumed run's metrics rewritten whole
    assert reader.grown()
    assert reader.read()["loss"].tolist() == [9.0]


def test_each_record_holds_the_probe_text_live_at_its_step(tmp_path):
    """A probe text typed at step 3 and another at step 6: the records before, between and after show the probe
    of their time (its length, T, changing with it), exactly as the live trace did; an event's record, like its
    settings, the probe from then on."""
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=6, seq_len=16, batch=2, seed=1))
    trainer.record_to(tmp_path / "run")
    live = {}
    for step, probe_text in ((2, None), (3, "\nanna\n"), (6, "\nzoe\nmaria\n"), (9, None)):
        while trainer.step_count < step:
            trainer.step()
        if probe_text is not None:
            trainer.apply(trainer.config.replace(probe_text=probe_text))
        live[step] = trainer.snapshot(with_view=False).trace
    trainer.finish_recording()
    run = open_run(tmp_path / "run")
    assert len(live[2].labels) == 16  # the names' own window
    assert run.snapshot(5).trace.labels == tuple("⏎anna") and run.snapshot(5).config.probe_text == "\nanna\n"
    assert live[9].labels == tuple("⏎zoe⏎maria")
    for step in (2, 3, 6, 9):
        recorded = run.snapshot(step).trace
        assert recorded.labels == live[step].labels, step
        assert np.array_equal(recorded["hidden"], live[step]["hidden"]), step
        assert np.array_equal(recorded["grad_hidden"], live[step]["grad_hidden"]), step
    assert [event.kind for event in run.events] == ["change", "change"]


# ---- metrics.csv: appended, never rewritten --------------------------------------------------------
def short_memory_metrics(monkeypatch, keep: int = 8) -> None:
    """Trainers built from now on keep only their newest 8..16 rows in memory, as a run longer than
    curves.KEEP_ROWS does: the older rows are then in metrics.csv alone. Rows are appended at every step (a
    fold drops rows older than 8 steps, which a flush every METRICS_FLUSH_S would not have written yet)."""
    from lstm_viz.core import trainer as trainer_module
    from lstm_viz.core.curves import MetricsLog

    monkeypatch.setattr(trainer_module, "MetricsLog", lambda columns: MetricsLog(columns, keep=keep))
    monkeypatch.setattr(history, "METRICS_FLUSH_S", 0.0)


def test_a_run_resumed_into_its_directory_keeps_its_rows_byte_for_byte_and_appends(tmp_path, monkeypatch):
    short_memory_metrics(monkeypatch)
    trainer = Trainer(SMALL)
    trainer.record_to(tmp_path, history_mb=0)
    for _ in range(40):
        trainer.step()
    checkpoint = trainer.checkpoint()  # step 40; the trainer itself holds only its newest rows
    assert len(checkpoint["metrics"]["step"]) < 40
    for _ in range(10):  # steps 41..50 reach the file, then the run dies: they will be trained again
        trainer.step()
    trainer.run_writer.append_metrics(trainer.metrics, force=True)
    uninterrupted = (tmp_path / "metrics.csv").read_bytes().splitlines(keepends=True)  # header + 50 rows

    resumed = Trainer(SMALL)
    resumed.load_checkpoint(checkpoint)
    resumed.record_to(tmp_path, history_mb=0, event="load: resumed")
    for _ in range(5):
        resumed.step()
    resumed.finish_recording()
    # Rows 1..40 as they were, 41..45 trained again: the same seed gives the same rows.
    assert (tmp_path / "metrics.csv").read_bytes() == b"".join(uninterrupted[:46])

    # Elsewhere (another directory, or a file of another run) the file starts from the checkpoint's rows (those
    # of Trainer.checkpoint(): the trainer's newest; runs.save_checkpoint adds the older ones, see below).
    elsewhere = Trainer(SMALL)
    elsewhere.load_checkpoint(checkpoint)
    elsewhere.record_to(tmp_path / "elsewhere", history_mb=0)
    elsewhere.finish_recording()
    steps = open_run(tmp_path / "elsewhere").metrics["step"]
    np.testing.assert_array_equal(steps, checkpoint["metrics"]["step"].numpy())


def test_lstm_viz_train_longer_than_the_rows_in_memory_writes_every_row(tmp_path, monkeypatch):
    short_memory_metrics(monkeypatch)
    out = tmp_path / "run"
    settings = ["--preset", "sine", "--hidden", "4", "--seq-len", "8", "--steps", "60", "--history-mb", "0"]
    assert cli.main(["train", *settings, "--out", str(out)]) == 0
    np.testing.assert_array_equal(open_run(out).metrics["step"], np.arange(1, 61))
    first = (out / "metrics.csv").read_bytes()
    assert cli.main(["train", "--resume", str(out / "checkpoint.pt"), "--steps", "20", "--out", str(out)]) == 0
    np.testing.assert_array_equal(open_run(out).metrics["step"], np.arange(1, 81))
    assert (out / "metrics.csv").read_bytes().startswith(first)


# A process that appends metrics.csv through a RunWriter in blocks of 2000 rows (what a fast run writes in one
# flush) until it is SIGKILLed; row k holds loss k / 8, so a row mixing two, or cut short, shows. The log keeps
# argv[2] rows in memory: with 300, each block is folded in pieces, each written by the writer before it is.
APPENDER = """
import sys
import numpy as np
from lstm_viz.core.curves import MetricsLog
from lstm_viz.core.history import RunWriter
from lstm_viz.core.trainer import METRIC_COLUMNS

columns = METRIC_COLUMNS + tuple(f"block{index}" for index in range(12))
metrics = MetricsLog(columns, keep=int(sys.argv[2]))
writer = RunWriter(sys.argv[1], {}, metric_columns=columns, baseline_loss=1.0, baseline_name="-", history_mb=0,
                   metrics=metrics)
print("ready", flush=True)
while True:
    first = metrics.rows + 1
    steps = np.arange(first, first + 2000, dtype=float)  # (2000,)
    block = np.column_stack([steps, steps / 8, *[steps / 3 + index for index in range(len(columns) - 2)]])
    metrics.extend(block)
    writer.append_metrics(metrics, force=True)
"""


def test_a_metrics_writer_killed_at_random_moments_leaves_every_row_before_the_last_intact(tmp_path):
    delays = random.Random(5)
    for round_index in range(4):
        run_dir = tmp_path / f"run{round_index}"
        appender = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(run_dir), str(300 if round_index % 2 else 16_384)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            assert appender.stdout.readline() == "ready\n"
            time.sleep(delays.uniform(0.2, 1.0))
        finally:
            appender.send_signal(signal.SIGKILL)
            appender.wait()
        lines = (run_dir / "metrics.csv").read_text().split("\n")
        header, rows = lines[0], lines[1:-1]  # lines[-1]: after the final newline, "" or a row cut short
        assert header.split(",")[:2] == ["step", "loss"] and len(rows) > 2000  # killed while it was appending
        table = np.array([[float(value) for value in row.split(",")] for row in rows])  # (rows, 17)
        assert table.shape[1] == len(header.split(","))
        np.testing.assert_array_equal(table[:, 0], np.arange(1, len(rows) + 1))
        np.testing.assert_allclose(table[:, 1], table[:, 0] / 8, rtol=1e-9)
        np.testing.assert_allclose(table[:, 16], table[:, 0] / 3 + 14, rtol=1e-8)
        np.testing.assert_array_equal(open_run(run_dir).metrics["step"], table[:, 0])  # the reader agrees


def test_a_flush_of_more_rows_than_the_log_keeps_writes_every_row(tmp_path):
    from lstm_viz.core.curves import MetricsLog

    metrics = MetricsLog(("step", "loss"), keep=8)  # folds its oldest 8 rows whenever it holds 16
    writer = history.RunWriter(tmp_path, {}, metric_columns=metrics.columns, baseline_loss=1.0, baseline_name="-",
                               history_mb=0)  # fmt: skip
    written = 0
    for block in (10, 100, 1, 37, 500):  # each block is appended and folded before the writer flushes
        steps = np.arange(written + 1, written + block + 1, dtype=float)  # (block,)
        metrics.extend(np.column_stack([steps, steps / 8]))
        written += block
        writer.append_metrics(metrics, force=True)
        assert metrics.first_row > 0 or written < 16
        np.testing.assert_array_equal(open_run(tmp_path).metrics["step"], np.arange(1, written + 1))
    np.testing.assert_array_equal(open_run(tmp_path).metrics["loss"], np.arange(1, written + 1) / 8)
    writer.close()
    metrics.extend(np.zeros((50, 2)))  # a closed writer no longer appends what the log folds
    assert len(open_run(tmp_path).metrics["step"]) == written


# ---- a run resumed into its own directory keeps its history ------------------------------------------
def recorded_run_with_events(path: Path, steps: int) -> Trainer:
    """A run of `steps` steps recorded into `path` (records, a live change at step 110, checkpoint.pt)."""
    from lstm_viz.core import runs

    trainer = Trainer(SMALL)
    trainer.record_to(path, history_mb=50, name="small")
    while trainer.step_count < steps:
        trainer.step()
        if trainer.step_count == 110:
            trainer.apply(trainer.config.replace(lr=0.02))
    runs.write_run(path, trainer, trainer.probe(), 0.0, "small")
    trainer.finish_recording()
    return trainer


def history_bytes(path: Path) -> dict[int, bytes]:
    return {int(name[5:14]): (path / "history" / name).read_bytes() for name in os.listdir(path / "history")
            if record_name(int(name[5:14])) == name}  # fmt: skip


def test_a_run_resumed_into_its_directory_keeps_every_record_and_event_and_appends(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "CHILD_DUTY", 1e9)  # records spaced by the budget alone: all kept here
    out = tmp_path / "run"
    recorded_run_with_events(out, 130)
    before, events_before = history_bytes(out), open_run(out).events
    metrics_before = (out / "metrics.csv").read_bytes()
    assert sorted(before) == list(range(1, 131)) and [(e.step, e.kind) for e in events_before] == [(110, "change")]

    assert cli.main(["train", "--resume", str(out / "checkpoint.pt"), "--steps", "40", "--out", str(out)]) == 0
    after, run = history_bytes(out), open_run(out)
    assert all(after[step] == before[step] for step in before if step < 130)  # the records before, unchanged
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)  # of step 170 now
    assert checkpoint["step"] == 170
    for name, value in run.weights(170).items():
        assert torch.equal(value, checkpoint["model"][name]), name
    assert run.snapshot(130).step == 130  # the step resumed from, recorded again (its load event)
    assert sorted(after) == list(range(1, 171))  # and the new ones follow
    assert run.events[: len(events_before)] == events_before
    assert [(e.step, e.kind) for e in run.events[len(events_before) :]] == [(130, "load")]
    assert (out / "metrics.csv").read_bytes().startswith(metrics_before)
    np.testing.assert_array_equal(run.metrics["step"], np.arange(1, 171))


def wait_for_processes_with(marker: str) -> None:
    """Wait until no process has `marker` in its environment: a killed run's history writer (a child in a session
    of its own, which inherited it) writes the records it was sent, then ends."""

    def marked() -> bool:
        for environ in Path("/proc").glob("[0-9]*/environ"):
            with contextlib.suppress(OSError):
                if marker.encode() in environ.read_bytes():
                    return True
        return False

    wait_for(lambda: not marked(), f"the processes with {marker} to end")


def assert_kept_as_thinning_allows(before: dict, after: dict, events: list) -> None:
    """The records of the steps before the resume are as they were; those gone are only the ones thinning may drop
    (the resumed writer spaces its records by its speed too, and drops the older ones off its stride, as the run
    going on uninterrupted would have): the first FIRST_STEPS and the events' are all there."""
    assert all(after[step] == before[step] for step in before if step < 130 and step in after)
    assert set(range(1, FIRST_STEPS + 1)) | {event.step for event in events} <= set(after)


def test_a_resume_killed_at_random_moments_keeps_every_record_event_and_row_before_it(tmp_path, monkeypatch):
    out = tmp_path / "run"
    recorded_run_with_events(out, 130)
    before, events_before = history_bytes(out), open_run(out).events
    metrics_before = (out / "metrics.csv").read_bytes()
    resume = [sys.executable, "-m", "lstm_viz", "train", "--resume", str(out / "checkpoint.pt"), "--out", str(out)]
    delays = random.Random(7)
    for round_index in range(5):  # killed while starting, clearing the steps after 130, or training on
        marker = f"LSTM_VIZ_TEST_RESUME={os.getpid()}.{round_index}"
        environment = {**os.environ, "PYTHONPATH": str(REPO), marker.split("=")[0]: marker.split("=")[1]}
        process = subprocess.Popen([*resume, "--steps", "100000"], env=environment,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delays.uniform(2.5, 7.5))  # it starts writing ~3-5 s in, under load
        process.send_signal(signal.SIGKILL)
        process.wait()
        wait_for_processes_with(marker)
        after, run = history_bytes(out), open_run(out)
        assert_kept_as_thinning_allows(before, after, events_before)
        assert run.events[: len(events_before)] == events_before
        assert all(event.step >= 130 for event in run.events[len(events_before) :])
        assert (out / "metrics.csv").read_bytes().startswith(metrics_before)
    monkeypatch.setattr(history, "CHILD_DUTY", 1e9)  # the last resume, in this process, records every step
    assert cli.main([*resume[3:], "--steps", "20"]) == 0  # it waits for its records to be written
    after, run = history_bytes(out), open_run(out)
    assert_kept_as_thinning_allows(before, after, events_before)
    assert set(range(130, 151)) <= set(after) and max(after) == 150
    assert run.events == [*events_before, history.Event(130, "load", f"resumed from {out / 'checkpoint.pt'}")]
    np.testing.assert_array_equal(run.metrics["step"], np.arange(1, 151))


# ---- checkpoints and exports carry every step's metrics --------------------------------------------------
def reference_metrics(steps: int) -> dict[str, np.ndarray]:
    """The metrics of SMALL's first `steps` steps from a trainer that keeps them all in memory."""
    trainer = Trainer(SMALL)
    for _ in range(steps):
        trainer.step()
    assert trainer.metrics.first_row == 0
    return {name: values.copy() for name, values in trainer.metrics.as_columns().items()}


def test_a_checkpoint_of_a_run_longer_than_its_rows_in_memory_carries_every_step(tmp_path, monkeypatch):
    from lstm_viz.core import runs

    reference = reference_metrics(70)
    short_memory_metrics(monkeypatch)  # trainers keep 8..16 rows from here on
    trainer = Trainer(SMALL)
    trainer.record_to(tmp_path / "run", history_mb=0)
    for _ in range(70):
        trainer.step()
    assert trainer.metrics.first_row > 50  # the trainer holds only its newest rows
    runs.save_checkpoint(tmp_path / "saved.pt", trainer)
    checkpoint = torch.load(tmp_path / "saved.pt", weights_only=True)
    assert list(checkpoint["metrics"]) == list(reference)
    kept = trainer.metrics.first_row  # rows before it: metrics.csv's 9 significant digits; from it on: memory's
    for name, values in reference.items():  # every step, each value as the trainer computed it
        np.testing.assert_allclose(checkpoint["metrics"][name].numpy()[:kept], values[:kept], rtol=5e-9, err_msg=name)
        np.testing.assert_array_equal(checkpoint["metrics"][name].numpy()[kept:], values[kept:], err_msg=name)

    # Resumed into another directory, the new run's metrics.csv starts with every step of the old one.
    resumed = runs.restore_trainer(checkpoint)
    resumed.record_to(tmp_path / "elsewhere", history_mb=0, event="load: resumed")
    for _ in range(5):
        resumed.step()
    resumed.finish_recording()
    metrics = open_run(tmp_path / "elsewhere").metrics
    np.testing.assert_array_equal(metrics["step"], np.arange(1, 76))
    np.testing.assert_array_equal(as_float32(metrics["loss"][:70]), as_float32(reference["loss"]))
    trainer.finish_recording()


def test_lstm_viz_train_resumed_elsewhere_after_a_long_run_keeps_every_step(tmp_path, monkeypatch):
    short_memory_metrics(monkeypatch)
    settings = ["--preset", "sine", "--hidden", "4", "--seq-len", "8", "--steps", "60", "--history-mb", "0"]
    assert cli.main(["train", *settings, "--out", str(tmp_path / "run")]) == 0
    first = open_run(tmp_path / "run").metrics
    resume = ["train", "--resume", str(tmp_path / "run" / "checkpoint.pt"), "--steps", "20"]
    assert cli.main([*resume, "--out", str(tmp_path / "elsewhere")]) == 0
    metrics = open_run(tmp_path / "elsewhere").metrics
    np.testing.assert_array_equal(metrics["step"], np.arange(1, 81))
    for name, values in first.items():
        np.testing.assert_array_equal(metrics[name][:60], values, err_msg=name)


def test_whole_run_metrics_is_the_files_older_rows_then_the_kept_ones(tmp_path):
    header = "step,loss\n"
    (tmp_path / "metrics.csv").write_text(header + "".join(f"{step},{step / 4}\n" for step in range(1, 31)) + "31,0.")
    kept = {"step": np.array([25.0, 26.0]), "loss": np.array([-1.0, -2.0])}  # the newest rows, as held in memory
    whole = history.whole_run_metrics(tmp_path, kept)
    np.testing.assert_array_equal(whole["step"], np.arange(1, 27))
    np.testing.assert_array_equal(whole["loss"], [*(np.arange(1, 25) / 4), -1.0, -2.0])  # memory wins where both
    assert history.whole_run_metrics(tmp_path / "missing", kept) == kept
    assert history.whole_run_metrics(tmp_path, {"step": kept["step"], "other": kept["loss"]})["step"].tolist() == [
        25,
        26,
    ]
