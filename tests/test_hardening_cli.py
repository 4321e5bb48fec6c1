"""Hardening, headless: bad input is one line on stderr with exit 2, divergence exits 3 naming
the step on every preset, and run files survive their writer being killed mid-write.

Cases tests/test_cli.py already covers (missing, empty, binary and latin-1 texts, --hidden 0,
negative lr, bad clip, random-byte checkpoint, unwritable --out, another architecture, a
code-running checkpoint) are not repeated here.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_viz import cli
from lstm_viz.core.config import load_preset, preset_names
from lstm_viz.core.runs import read_metrics
from lstm_viz.core.trainer import CHECKPOINT_FORMAT, Trainer

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--hidden", "6", "--seq-len", "12", "--batch", "4", "--steps", "2"]


def write(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def sparse_file(tmp_path: Path, name: str, size: int) -> str:
    """A file of `size` bytes written in microseconds: its blocks are never allocated."""
    path = tmp_path / name
    with path.open("wb") as handle:
        handle.write(b"abc\n")
        handle.truncate(size)
    return str(path)


def fifo(tmp_path: Path) -> str:
    """A named pipe: opening it to read waits for a writer that never comes."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


def truncated_checkpoint(tmp_path: Path) -> str:
    buffer = io.BytesIO()
    torch.save(Trainer(load_preset("sine").replace(hidden=6, seq_len=12)).checkpoint(), buffer)
    return write(tmp_path, "truncated.pt", buffer.getvalue()[: len(buffer.getvalue()) * 2 // 3])


def checkpoint_with_bad_config(tmp_path: Path) -> str:
    checkpoint = Trainer(load_preset("sine").replace(hidden=6, seq_len=12)).checkpoint()
    checkpoint["config"]["hidden"] = -3
    path = tmp_path / "bad-config.pt"
    torch.save(checkpoint, path)
    return str(path)


CJK = "".join(chr(0x4E00 + index) for index in range(10_000))  # 10,000 distinct characters
BAD_INPUTS = {
    # text files
    "one-character text": (lambda tmp: ["--text", write(tmp, "a.txt", "a")], "has 1 character but seq_len 12"),
    "51 MB text": (lambda tmp: ["--text", sparse_file(tmp, "big.txt", 51 * 2**20)], "51.0 MB, over the 50 MB limit"),
    "10,000 distinct characters": (
        lambda tmp: ["--text", write(tmp, "cjk.txt", CJK)],
        "10000 distinct characters, over the cap of 256",
    ),
    "/dev/zero as text": (lambda tmp: ["--text", "/dev/zero"], "'/dev/zero' is not a regular file"),
    "named pipe as text": (lambda tmp: ["--text", fifo(tmp)], "fifo' is not a regular file"),
    "text name too long": (lambda tmp: ["--text", "x" * 300], "cannot read text file 'xxx"),
    # preset files
    "preset name too long": (lambda tmp: ["--preset", "x" * 300], "unknown preset 'xxx"),
    "preset path too long": (lambda tmp: ["--preset", "x" * 300 + ".json"], "File name too long"),
    "/dev/zero as preset": (lambda tmp: ["--preset", "/dev/zero"], "'/dev/zero' is not a regular file"),
    "named pipe as preset": (lambda tmp: ["--preset", fifo(tmp)], "fifo' is not a regular file"),
    "preset cut short": (lambda tmp: ["--preset", write(tmp, "p.json", '{"hidden": 8,')], "not valid JSON (line 1"),
    "preset nested 100,000 deep": (lambda tmp: ["--preset", write(tmp, "p.json", "[" * 100_000)], "nested too deeply"),
    "preset not an object": (lambda tmp: ["--preset", write(tmp, "p.json", "[16, 2]")], "must be a JSON object"),
    "preset not UTF-8": (lambda tmp: ["--preset", write(tmp, "p.json", b'{"task": "\xff"}')], "cannot read preset"),
    "preset unknown key": (lambda tmp: ["--preset", write(tmp, "p.json", '{"hiden": 8}')], "unknown setting 'hiden'"),
    "preset string for int": (lambda tmp: ["--preset", write(tmp, "p.json", '{"hidden": "8"}')], "whole number"),
    "preset float for int": (lambda tmp: ["--preset", write(tmp, "p.json", '{"batch": 8.0}')], "whole number, got 8.0"),
    "preset bool for int": (
        lambda tmp: ["--preset", write(tmp, "p.json", '{"layers": true}')],
        "whole number, got True",
    ),
    "preset clip object": (
        lambda tmp: ["--preset", write(tmp, "p.json", '{"clip": {"mode": "norm", "limit": 1}}')],
        "'limit'",
    ),
    "preset NaN lr": (lambda tmp: ["--preset", write(tmp, "p.json", '{"lr": NaN}')], "lr must be a finite number"),
    "preset layers 99": (lambda tmp: ["--preset", write(tmp, "p.json", '{"layers": 99}')], "layers must be between 1"),
    "preset momentum 1": (lambda tmp: ["--preset", write(tmp, "p.json", '{"momentum": 1}')], "momentum must be less"),
    "preset periods": (lambda tmp: ["--preset", write(tmp, "p.json", '{"sine_periods": [40, 10]}')], "sine_periods"),
    # command-line overrides out of range
    "--batch 10**9": (lambda tmp: ["--batch", str(10**9)], "batch must be between 1 and 4096"),
    "--seq-len 1": (lambda tmp: ["--seq-len", "1"], "seq_len must be between 2 and 5000"),
    "--layers 99": (lambda tmp: ["--layers", "99"], "layers must be between 1 and 8"),
    "--temperature 0": (lambda tmp: ["--temperature", "0"], "temperature must be greater than 0"),
    "--seed -1": (lambda tmp: ["--seed", "-1"], "seed must be between 0"),
    # checkpoints
    "truncated checkpoint": (
        lambda tmp: ["--resume", truncated_checkpoint(tmp)],
        "not an lstm_viz checkpoint or corrupt",
    ),
    "checkpoint name too long": (lambda tmp: ["--resume", "x" * 300], "cannot read checkpoint 'xxx"),
    "/dev/zero as checkpoint": (lambda tmp: ["--resume", "/dev/zero"], "'/dev/zero' is not a regular file"),
    "checkpoint with a bad config": (
        lambda tmp: ["--resume", checkpoint_with_bad_config(tmp)],
        "its config: hidden must be between 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, capsys, case):
    make_arguments, message = BAD_INPUTS[case]
    arguments = make_arguments(tmp_path)
    started = time.monotonic()
    code = cli.main(["train", *SMALL, *arguments, "--out", str(tmp_path / "run")])
    elapsed = time.monotonic() - started
    error = capsys.readouterr().err
    assert code == 2, error
    assert message in error
    assert error.startswith("lstm-viz: error: ") and error.count("\n") == 1  # one line, no traceback
    assert not (tmp_path / "run").exists()  # refused before anything started
    assert elapsed < 10, f"refusing took {elapsed:.1f} s"  # the 51 MB file is refused by its size, unread


def test_the_gui_form_refuses_a_bad_preset_before_opening_a_window(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lstm_viz", "--preset", write(tmp_path, "p.json", '{"hidden": 0}')],
        env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "lstm-viz: error: preset 'p': hidden must be between 1 and 2048, got 0\n"


def test_a_preset_saved_with_a_byte_order_mark_loads(tmp_path):
    path = write(tmp_path, "notepad.json", '\ufeff{"task": "sine", "hidden": 5}')
    assert load_preset(path).hidden == 5


def test_a_text_of_one_distinct_character_trains_with_a_zero_baseline(tmp_path, capsys):
    text = write(tmp_path, "a.txt", "a" * 200)
    assert cli.main(["train", *SMALL, "--text", text, "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["baseline_loss"] == 0.0 and np.isfinite(summary["final_loss"])
    assert "baseline 0:" in capsys.readouterr().out  # not "-0"


def test_a_step_too_big_for_memory_is_one_line_and_exit_2(tmp_path, capsys):
    """Each setting is in range, but one step would need 167 GB: a message, not a torch traceback."""
    arguments = ["--batch", "4096", "--seq-len", "5000", "--hidden", "2048", "--steps", "1"]
    assert cli.main(["train", *arguments, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("lstm-viz: error: not enough memory for a step of batch 4096") and error.count("\n") == 1
    assert "lower batch, seq_len or hidden" in error


# ---- divergence --------------------------------------------------------------------------
# Plain SGD without clipping at lr 1e3. Adam moves each weight by about lr a step and norm
# clipping caps the step at lr x threshold, so with either the weights only grow linearly and
# stay finite for these few steps. Cross-entropy (the chars, copy and digits presets) has gradients bounded
# by 1 per logit, so even plain SGD only grows them linearly: those presets do not diverge, and
# the test asserts that the run finishes with finite weights instead.
DIVERGE = ["--lr", "1000", "--optimizer", "sgd", "--clip", "off", "--steps", "30"]
DOES_NOT_DIVERGE = {name for name in preset_names() if load_preset(name).task in ("chars", "copy", "digits")}


@pytest.mark.parametrize("preset", preset_names())
def test_lr_1e3_on_each_preset_stops_on_the_diverging_step_with_finite_weights(tmp_path, capsys, preset):
    run = tmp_path / "run"
    code = cli.main(["train", "--preset", preset, *DIVERGE, "--out", str(run)])
    error = capsys.readouterr().err
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert all(torch.isfinite(weights).all() for weights in checkpoint["model"].values())
    metrics = read_metrics(run / "metrics.csv")
    summary = json.loads((run / "summary.json").read_text())
    if preset in DOES_NOT_DIVERGE:
        assert code == 0 and summary["diverged"] is False and summary["steps"] == 30
        assert np.isfinite(metrics["loss"]).all()
        return

    assert code == 3, error
    step = summary["diverged_at_step"]
    assert error == (
        f"lstm-viz: training diverged at step {step} (non-finite loss or gradient); last finite checkpoint kept in "
        f"{run}; try a lower --lr or --clip norm:1\n"
    )
    np.testing.assert_array_equal(metrics["step"], np.arange(1, step + 1))  # stopped on that step
    assert np.isfinite(metrics["loss"][: step - 1]).all() and np.isfinite(metrics["grad_norm"][: step - 1]).all()
    assert checkpoint["step"] == step

    # The kept weights are exactly those after step - 1, and step `step` is the first to blow up.
    replay = Trainer(load_preset(preset).replace(lr=1000.0, optimizer="sgd", clip="off", steps=30))
    assert not any(replay.step().diverged for _ in range(step - 1))
    for name, weights in replay.model.state_dict().items():
        torch.testing.assert_close(checkpoint["model"][name], weights, rtol=0, atol=0)
    assert replay.step().diverged


# ---- nothing lost: a writer killed mid-write ---------------------------------------------------
# A process that imports torch once (4 s here), then per line "VERSION DELAY" forks a writer that
# saves checkpoints VERSION, VERSION+1, ... to one path as fast as it can, SIGKILLs it after DELAY
# seconds and says "killed". Every tensor of checkpoint VERSION holds the number VERSION, so a
# file mixing two versions, or half of one, shows.
WRITER = """
import os, signal, sys, time
import torch
torch.set_num_threads(1)
from lstm_viz.core import runs
from lstm_viz.core.config import RunConfig
from lstm_viz.core.trainer import Trainer

trainer = Trainer(RunConfig(hidden=640, seq_len=2, batch=1))  # ~25 MB with Adam's state
trainer.step()

def save(version):
    with torch.no_grad():
        for parameter in trainer.parameters:
            parameter.fill_(version)
        for state in trainer.optimizer.state.values():
            state["exp_avg"].fill_(version)
    trainer.step_count = version
    runs.save_checkpoint(sys.argv[1], trainer)

save(0)
print("ready", flush=True)
for line in sys.stdin:
    version, delay = line.split()
    writer = os.fork()
    if writer == 0:
        version = int(version)
        while True:
            save(version)
            version += 1
    time.sleep(float(delay))
    os.kill(writer, signal.SIGKILL)
    os.waitpid(writer, 0)
    print("killed", flush=True)
"""


def test_a_checkpoint_writer_killed_at_random_moments_always_leaves_a_whole_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    # At least 8 kills at random moments, and more (up to 40) until one has landed mid-write: a write
    # is a fraction of the writer's time, so 8 kills all miss it now and then (1 run in ~10 here).
    min_rounds, max_rounds, previous_version, interrupted_writes = 8, 40, 0, 0
    delays = random.Random(7)
    try:
        assert writer.stdout.readline() == "ready\n"
        round_index = 0
        while round_index < min_rounds or (interrupted_writes == 0 and round_index < max_rounds):
            round_index += 1
            first_version, delay = 1000 * round_index, delays.uniform(0.1, 0.7)
            writer.stdin.write(f"{first_version} {delay}\n")
            writer.stdin.flush()
            assert writer.stdout.readline() == "killed\n"

            checkpoint = torch.load(path, weights_only=True)
            version = checkpoint["step"]
            assert checkpoint["format"] == CHECKPOINT_FORMAT
            assert version == previous_version or first_version <= version < first_version + 1000
            for name, weights in checkpoint["model"].items():
                assert torch.all(weights == version), f"{name} is not from version {version}"
            for state in checkpoint["optimizer"]["state"].values():
                assert torch.all(state["exp_avg"] == version)
            previous_version = version

            leftovers = [p for p in tmp_path.iterdir() if p.name != path.name]
            assert all(p.name.startswith(".checkpoint.pt.") and p.name.endswith(".tmp") for p in leftovers)
            interrupted_writes += bool(leftovers)
            for leftover in leftovers:
                leftover.unlink()
    finally:
        writer.kill()
        writer.wait()
    assert previous_version > 1000  # writes completed between kills
    assert interrupted_writes >= 1  # and some kills did land in the middle of one


# ---- lstm-viz open, and --history-mb: bad input ---------------------------------------------------
@pytest.fixture
def no_window(monkeypatch):
    """The window's entry points, standing in: a case that got as far as opening one shows here."""
    opened = []
    app = types.ModuleType("lstm_viz.gui.app")
    app.open_app = lambda run, step=None, screenshot=None, lecture=False: opened.append(("open", run, step)) or 0
    app.run_app = lambda config, **settings: opened.append(("run", config, settings)) or 0
    monkeypatch.setitem(sys.modules, "lstm_viz.gui", types.ModuleType("lstm_viz.gui"))
    monkeypatch.setitem(sys.modules, "lstm_viz.gui.app", app)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # no screen needed: no window opens
    return opened


def folder(tmp_path: Path, name: str, files: dict[str, str] | None = None) -> str:
    path = tmp_path / name
    path.mkdir()
    for file_name, content in (files or {}).items():
        (path / file_name).write_text(content)
    return str(path)


OPEN_BAD_INPUTS = {
    "a folder that is not a run": (lambda tmp: [folder(tmp, "empty")], "is not an lstm_viz run: it has no run.json"),
    "a run of lstm_viz 0.1": (
        lambda tmp: [folder(tmp, "old", {"metrics.csv": "step,loss\n1,0.5\n", "config.json": "{}"})],
        "(written before lstm_viz 0.2, which has no history)",
    ),
    "a file": (lambda tmp: [write(tmp, "run.txt", "x")], "run.txt' is a file, not a run directory"),
    "a missing folder": (lambda tmp: [str(tmp / "absent")], "absent' does not exist; give a run directory"),
    "a name too long": (lambda tmp: ["x" * 300], "xxxxxxxxxx"),
    "a newer format": (
        lambda tmp: [folder(tmp, "newer", {"run.json": '{"format": 99}'})],
        "was written by a newer lstm_viz (run format 99, this one reads 1); upgrade lstm_viz to open it",
    ),
    "run.json cut short": (lambda tmp: [folder(tmp, "cut", {"run.json": '{"format": 1,'})], "is damaged"),
    "run.json without a format": (
        lambda tmp: [folder(tmp, "unnumbered", {"run.json": '{"steps": 5}'})],
        "is not an lstm_viz run file (no format number)",
    ),
    "run.json a named pipe": (lambda tmp: [os.path.dirname(fifo_named(tmp, "run.json"))], "is not a regular file"),
}


def fifo_named(tmp_path: Path, name: str) -> str:
    path = tmp_path / "piped" / name
    path.parent.mkdir()
    os.mkfifo(path)
    return str(path)


def assert_one_line_exit_2(code: int, error: str, message: str) -> None:
    assert code == 2, error
    assert message in error
    assert error.startswith("lstm-viz: error: ") and error.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize("case", list(OPEN_BAD_INPUTS))
def test_opening_what_is_not_a_run_is_one_line_and_exit_2(tmp_path, capsys, no_window, case):
    make_arguments, message = OPEN_BAD_INPUTS[case]
    code = cli.main(["open", *make_arguments(tmp_path)])
    assert_one_line_exit_2(code, capsys.readouterr().err, message)
    assert no_window == []


@pytest.fixture(scope="module")
def recorded_runs(tmp_path_factory):
    """Two finished runs: one recorded (steps 1..120), one trained with --history-mb 0."""
    folder = tmp_path_factory.mktemp("runs")
    small = ["--hidden", "4", "--seq-len", "10", "--batch", "2"]
    assert cli.main(["train", *small, "--steps", "120", "--out", str(folder / "recorded")]) == 0
    assert cli.main(["train", *small, "--steps", "3", "--history-mb", "0", "--out", str(folder / "unrecorded")]) == 0
    return folder


def test_opening_a_step_that_was_not_recorded_names_the_nearest_one(recorded_runs, capsys, no_window):
    from lstm_viz.core.history import open_run

    run_dir = recorded_runs / "recorded"
    steps = open_run(run_dir).steps
    assert steps[0] == 1 and steps[-1] == 120
    for step, nearest in [(0, 1), (1000, 120), (-5, 1)]:
        code = cli.main(["open", str(run_dir), "--step", str(step)])
        message = f"has no record of step {step}; the nearest is --step {nearest}"
        assert_one_line_exit_2(code, capsys.readouterr().err, message)
    code = cli.main(["open", str(recorded_runs / "unrecorded"), "--step", "2"])
    assert_one_line_exit_2(code, capsys.readouterr().err, "has no history records (trained with --history-mb 0?)")
    assert no_window == []
    assert cli.main(["open", str(run_dir), "--step", "100"]) == 0  # a recorded step does open
    [(_, run, step)] = no_window
    assert step == 100 and run.path == run_dir


@pytest.mark.parametrize("budget", ["-1", "nan", "inf", "1e12"])
def test_a_bad_history_budget_is_refused_before_anything_starts(tmp_path, capsys, no_window, budget):
    out = tmp_path / "run"
    code = cli.main(["train", *SMALL, "--history-mb", budget, "--out", str(out)])
    assert_one_line_exit_2(code, capsys.readouterr().err, "--history-mb must be 0 (no history) or a positive number")
    assert not out.exists()  # no run directory made
    code = cli.main(["--history-mb", budget, "--runs", str(tmp_path / "runs")])
    assert_one_line_exit_2(code, capsys.readouterr().err, "--history-mb must be 0 (no history) or a positive number")
    assert no_window == []  # no window opened


# ---- numeric options: a value that is no number, or out of range, on every subcommand ----------------------
NUMERIC_OPTIONS = {  # subcommand -> its numeric options, each with "int" or "float"
    "": {"--steps": int, "--speed": float, "--history-mb": float},
    "train": {"--steps": int, "--history-mb": float},
    "open": {"--step": int},
    "sweep": {"--steps": int, "--history-mb": float},
}
SETTINGS = {"--hidden": int, "--layers": int, "--lr": float, "--batch": int, "--seq-len": int, "--seed": int}
SETTINGS |= {"--temperature": float}
PARSERS = {"": cli._gui_parser, "train": cli._train_parser, "open": cli._open_parser, "sweep": cli._sweep_parser}
REQUIRED = {"": [], "train": [], "open": ["some-run"], "sweep": ["--over", "seq_len=10,20", "--out", "sweep-out"]}


def numeric_cases() -> list[tuple[str, str, type]]:
    cases = []
    for command, options in NUMERIC_OPTIONS.items():
        options = options | (SETTINGS if command != "open" else {})
        cases += [(command, option, kind) for option, kind in options.items()]
    return cases


@pytest.mark.parametrize("command", list(PARSERS))
def test_every_option_with_a_type_is_a_numeric_option_listed_here(command):
    typed = {action.option_strings[0] for action in PARSERS[command]()._actions if action.type is not None}
    expected = NUMERIC_OPTIONS[command] | (SETTINGS if command != "open" else {})
    assert typed == set(expected)  # a new numeric option is tested below once it is listed


@pytest.mark.parametrize(("command", "option", "kind"), numeric_cases(), ids=lambda value: str(value))
@pytest.mark.parametrize("value", ["abc", "", "1,5", "0x10"])
def test_a_numeric_option_that_is_no_number_is_one_line_with_an_example_and_exit_2(
    tmp_path, capsys, no_window, monkeypatch, command, option, kind, value
):
    monkeypatch.chdir(tmp_path)
    code = cli.main([*filter(None, [command]), *REQUIRED[command], option, value])
    error = capsys.readouterr().err
    noun = "a whole number" if kind is int else "a number"
    assert_one_line_exit_2(code, error, f"lstm-viz: error: {option}: '{value}' is not {noun}; give e.g. {option} ")
    example = error.rstrip("\n").rsplit(" ", 1)[1]
    parsed = PARSERS[command]().parse_args([*REQUIRED[command], option, example])  # the example is a good value
    assert isinstance(getattr(parsed, option[2:].replace("-", "_")), kind)
    assert no_window == [] and list(tmp_path.iterdir()) == []  # nothing started


@pytest.mark.parametrize("value", ["1.5", "1e3"])
def test_a_fraction_for_a_whole_number_is_refused_as_such(capsys, value):
    assert cli.main(["train", "--steps", value]) == 2
    assert (
        capsys.readouterr().err
        == f"lstm-viz: error: --steps: '{value}' is not a whole number; give e.g. --steps 3000\n"
    )


OUT_OF_RANGE = {  # (command, arguments) -> the one line's message
    ("train", "--steps -5"): "steps must be between 0",
    ("train", "--hidden 0"): "hidden must be between 1 and 2048, got 0",
    ("train", "--lr -1"): "lr must be",
    ("train", "--history-mb -1"): "--history-mb must be 0 (no history) or a positive number",
    ("", "--hidden 0"): "hidden must be between 1 and 2048, got 0",
    ("", "--speed -1"): "--speed must be 1 to 10000 steps per second",
    ("", "--history-mb nan"): "--history-mb must be 0 (no history) or a positive number",
    ("sweep", "--steps -5"): "steps must be between 0",
    ("sweep", "--seq-len 1"): "seq_len must be between 2 and 5000",
    ("sweep", "--history-mb inf"): "--history-mb must be 0 (no history) or a positive number",
}


@pytest.mark.parametrize(("command", "arguments"), list(OUT_OF_RANGE))
def test_a_numeric_option_out_of_range_is_one_line_and_exit_2(tmp_path, capsys, no_window, monkeypatch, command,
                                                              arguments):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code = cli.main([*filter(None, [command]), *REQUIRED[command], *arguments.split()])
    assert_one_line_exit_2(code, capsys.readouterr().err, OUT_OF_RANGE[command, arguments])
    assert no_window == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "--bogus"], "unrecognized arguments: --bogus; see lstm-viz train --help"),
        (["train", "--cell", "foo"], "--cell: invalid choice: 'foo' (choose from 'lstm', 'gru', 'rnn')"),
        (["train", "--lr"], "--lr: expected one argument; see lstm-viz train --help"),
        (["sweep", "--steps", "5"], "the following arguments are required: --over, --out; see lstm-viz sweep --help"),
        (["open"], "the following arguments are required: RUN_DIR; see lstm-viz open --help"),
        (["--speed"], "--speed: expected one argument; see lstm-viz --help"),
    ],
)
def test_other_usage_errors_are_one_line_naming_the_help_and_exit_2(tmp_path, capsys, no_window, monkeypatch,
                                                                    arguments, message):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert_one_line_exit_2(cli.main(arguments), capsys.readouterr().err, message)
    assert no_window == [] and list(tmp_path.iterdir()) == []
