"""lstm-viz: the headless run directory, resume, one-line errors, divergence, Ctrl-C, the GUI form."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_viz import cli
from lstm_viz.core.runs import read_metrics
from lstm_viz.core.trainer import METRIC_COLUMNS, Trainer

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--preset", "sine", "--hidden", "6", "--seq-len", "12", "--batch", "4"]


def train(tmp_path, *arguments, out="run"):
    return cli.main(["train", *SMALL, "--out", str(tmp_path / out), *arguments])


# ---- the run directory -------------------------------------------------------------------
def test_train_writes_the_documented_files(tmp_path, capsys):
    assert train(tmp_path, "--steps", "6", "--task", "adding", "--layers", "2", "--bidirectional") == 0
    run = tmp_path / "run"
    documented = ["config.json", "metrics.csv", "summary.json", "checkpoint.pt", "trace.npz"]
    assert sorted(p.name for p in run.iterdir()) == sorted([*documented, "run.json", "events.csv", "history"])
    assert "6 steps" in capsys.readouterr().out

    config = json.loads((run / "config.json").read_text())
    assert (config["task"], config["hidden"], config["layers"], config["bidirectional"]) == ("adding", 6, 2, True)
    assert config["name"] == "sine"  # the preset, its task overridden
    assert set(config["versions"]) == {"lstm_viz", "torch", "numpy", "python"}

    metrics = read_metrics(run / "metrics.csv")
    assert tuple(metrics)[: len(METRIC_COLUMNS)] == METRIC_COLUMNS
    assert {"l0.W_ih.i", "l0.W_hh.f", "l1r.W_hh.o", "head.weight"} <= set(metrics)
    np.testing.assert_array_equal(metrics["step"], np.arange(1, 7))
    assert np.all(np.isfinite(metrics["grad_norm"])) and np.all(metrics["loss"] > 0)

    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["diverged"] is False and summary["diverged_at_step"] is None
    assert summary["final_loss"] == pytest.approx(metrics["loss"].mean(), rel=1e-6)
    assert summary["baseline_loss"] > 0 and summary["steps_per_s"] > 0

    with np.load(run / "trace.npz", allow_pickle=False) as trace:
        states = ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell", "hidden")
        for name in (*states, "grad_hidden", "grad_cell"):
            assert trace[name].shape == (2, 2, 12, 6), name  # (layers, directions, T, H)
        assert trace["lstm_input"].shape == trace["probe_input"].shape == (12, 2)  # values and markers
        assert trace["grad_output"].shape == (12, 12)
        assert trace["probe_output"].shape == (12, 1) and trace["probe_target"].shape == (1,)  # the sum, at the end


def test_trace_hidden_is_what_torch_computes_from_the_saved_weights(tmp_path):
    assert train(tmp_path, "--steps", "5") == 0
    weights = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    lstm = torch.nn.LSTM(1, 6, batch_first=True)
    lstm.load_state_dict(
        {name.removeprefix("layers.0."): value for name, value in weights.items() if "layers.0" in name}
    )
    head = torch.nn.Linear(6, 1)
    head.load_state_dict({"weight": weights["head.weight"], "bias": weights["head.bias"]})
    with np.load(tmp_path / "run" / "trace.npz") as trace:
        with torch.no_grad():
            hidden, _ = lstm(torch.from_numpy(trace["probe_input"])[None])  # (1, T, H)
        np.testing.assert_allclose(trace["hidden"][0, 0], hidden[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(trace["probe_output"], head(hidden)[0].detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("settings", [[], SMALL], ids=["checkpoint's settings", "same preset and settings"])
def test_resume_continues_exactly_where_the_run_stopped(tmp_path, settings):
    assert train(tmp_path, "--steps", "30", out="uninterrupted") == 0
    assert train(tmp_path, "--steps", "20", out="first") == 0
    resume = ["--resume", str(tmp_path / "first" / "checkpoint.pt"), "--steps", "10"]
    assert cli.main(["train", *settings, *resume, "--out", str(tmp_path / "resumed")]) == 0

    uninterrupted = read_metrics(tmp_path / "uninterrupted" / "metrics.csv")
    resumed = read_metrics(tmp_path / "resumed" / "metrics.csv")
    np.testing.assert_array_equal(resumed["step"], np.arange(1, 31))
    np.testing.assert_array_equal(resumed["loss"], uninterrupted["loss"])
    np.testing.assert_array_equal(resumed["grad_norm"], uninterrupted["grad_norm"])


def test_rmsprop_resumes_exactly(tmp_path, capsys):
    """It used to exit 1 with a KeyError: 'momentum_buffer' traceback (SGD's momentum written into RMSprop)."""
    assert train(tmp_path, "--optimizer", "rmsprop", "--steps", "2", out="uninterrupted") == 0
    assert train(tmp_path, "--optimizer", "rmsprop", "--steps", "1", out="first") == 0
    resume = ["train", "--resume", str(tmp_path / "first" / "checkpoint.pt"), "--steps", "1"]
    assert cli.main([*resume, "--out", str(tmp_path / "resumed")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    uninterrupted = read_metrics(tmp_path / "uninterrupted" / "metrics.csv")
    resumed = read_metrics(tmp_path / "resumed" / "metrics.csv")
    np.testing.assert_array_equal(resumed["loss"], uninterrupted["loss"])
    np.testing.assert_array_equal(resumed["grad_norm"], uninterrupted["grad_norm"])


def test_a_resumed_run_has_every_step_once_and_a_load_event_with_the_checkpoints_weights(tmp_path):
    from lstm_viz.core.history import open_run

    assert train(tmp_path, "--steps", "20", "--history-mb", "0", out="first") == 0
    checkpoint = tmp_path / "first" / "checkpoint.pt"
    assert cli.main(["train", "--resume", str(checkpoint), "--steps", "10", "--out", str(tmp_path / "resumed")]) == 0

    resumed = tmp_path / "resumed"
    lines = (resumed / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + 30 and [int(line.split(",")[0]) for line in lines[1:]] == list(range(1, 31))
    first = read_metrics(tmp_path / "first" / "metrics.csv")
    run = open_run(resumed)
    for name, values in first.items():  # the checkpoint's rows, as they were
        np.testing.assert_array_equal(run.metrics[name][:20], values, err_msg=name)
    [event] = run.events
    assert (event.step, event.kind) == (20, "load") and str(checkpoint) in event.text
    assert run.steps.tolist() == list(range(20, 31))  # the load, then every step (the first 100 all are)
    saved = torch.load(checkpoint, weights_only=True)["model"]
    weights = run.weights(20)
    assert sorted(weights) == sorted(saved)
    for name, values in saved.items():
        assert torch.equal(weights[name], values), name


def test_a_run_config_json_reruns_the_same_run(tmp_path):
    assert train(tmp_path, "--steps", "4", "--seed", "5") == 0
    rerun = ["train", "--preset", str(tmp_path / "run" / "config.json"), "--out", str(tmp_path / "rerun")]
    assert cli.main(rerun) == 0
    first, second = (read_metrics(tmp_path / name / "metrics.csv") for name in ("run", "rerun"))
    np.testing.assert_array_equal(first["loss"], second["loss"])


def test_a_killed_run_keeps_its_last_periodic_save(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "SAVE_EVERY_S", 0.0)  # save after every step
    monkeypatch.setattr(cli, "SAVES_AT_MOST_EVERY", 0)
    original_step = Trainer.step

    def step_then_die(trainer):
        if trainer.step_count == 4:
            raise MemoryError("killed")
        return original_step(trainer)

    monkeypatch.setattr(Trainer, "step", step_then_die)
    with pytest.raises(MemoryError):
        train(tmp_path, "--steps", "10")
    run = tmp_path / "run"
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 4
    assert len(read_metrics(run / "metrics.csv")["step"]) == 4
    assert (run / "config.json").exists() and not (run / "summary.json").exists()


def test_periodic_saves_take_at_most_a_twentieth_of_the_time_however_long_they_take(tmp_path, monkeypatch):
    """A long run's checkpoint reads its metrics.csv back (seconds per million steps): saves are spaced by their
    cost, each at least SAVES_AT_MOST_EVERY times its duration after the last."""
    from lstm_viz.core import runs

    monkeypatch.setattr(cli, "SAVE_EVERY_S", 0.0)
    saves = []  # (start, end) of each

    def slow_save(out_dir, trainer):
        started = time.perf_counter()
        time.sleep(0.005)
        saves.append((started, time.perf_counter()))

    monkeypatch.setattr(runs, "save_progress", slow_save)
    assert train(tmp_path, "--steps", "300") == 0
    periodic = saves[:-1]  # the last is write_run's, at the end
    assert 2 <= len(periodic) < 300
    for (start, end), (next_start, _) in zip(periodic, periodic[1:], strict=False):
        assert next_start - end >= cli.SAVES_AT_MOST_EVERY * (end - start)


def test_ctrl_c_stops_after_the_step_writes_the_files_and_exits_130(tmp_path, monkeypatch, capsys):
    original_step = Trainer.step

    def step_then_ctrl_c(trainer):
        result = original_step(trainer)
        if trainer.step_count == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(Trainer, "step", step_then_ctrl_c)
    assert train(tmp_path, "--steps", "50") == 130
    assert "interrupted at step 3" in capsys.readouterr().err
    run = tmp_path / "run"
    assert json.loads((run / "summary.json").read_text())["steps"] == 3
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


# ---- divergence --------------------------------------------------------------------------
def test_divergence_exits_3_naming_the_step_and_keeps_a_finite_checkpoint(tmp_path, capsys):
    assert train(tmp_path, "--optimizer", "sgd", "--lr", "1e4", "--steps", "200") == 3
    error = capsys.readouterr().err
    metrics = read_metrics(tmp_path / "run" / "metrics.csv")
    first_non_finite = int(metrics["step"][~np.isfinite(metrics["loss"]) | ~np.isfinite(metrics["grad_norm"])][0])
    assert len(metrics["step"]) == first_non_finite < 200  # stopped at the first divergence
    assert f"training diverged at step {first_non_finite} " in error
    assert str(tmp_path / "run") in error and "Traceback" not in error
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert all(torch.isfinite(weights).all() for weights in checkpoint["model"].values())
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["diverged_at_step"] == first_non_finite


def test_the_readmes_diverging_example_diverges(tmp_path, capsys):
    """README: `lstm-viz --preset sine --optimizer sgd --lr 1e3 --clip off` (Adam at lr 1000 does not diverge)."""
    example = ["train", "--preset", "sine", "--optimizer", "sgd", "--lr", "1e3", "--clip", "off", "--steps", "100"]
    assert cli.main([*example, "--out", str(tmp_path / "run")]) == 3
    diverged_at = json.loads((tmp_path / "run" / "summary.json").read_text())["diverged_at_step"]
    assert diverged_at <= 10 and f"training diverged at step {diverged_at} " in capsys.readouterr().err


# ---- bad input: one line, exit 2 ------------------------------------------------------------
def text_file(tmp_path, content: bytes) -> str:
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    return str(path)


BAD_INPUTS = {
    "unknown preset": (lambda tmp: ["--preset", "nope"], "unknown preset 'nope'"),
    "missing text": (lambda tmp: ["--text", str(tmp / "absent.txt")], "absent.txt' does not exist"),
    "empty text": (lambda tmp: ["--text", text_file(tmp, b"")], "is empty"),
    "binary text": (lambda tmp: ["--text", text_file(tmp, b"ab\0cd" * 20)], "looks binary"),
    "latin-1 text": (lambda tmp: ["--text", text_file(tmp, "café au lait".encode("latin-1") * 9)], "not valid UTF-8"),
    "short text": (lambda tmp: ["--text", text_file(tmp, b"abcdefgh"), "--seq-len", "20"], "needs at least 21"),
    "text for sine": (lambda tmp: ["--task", "sine", "--text", "names"], "--text is for the chars task"),
    "bidirectional next step": (lambda tmp: ["--bidirectional"], "refused for the sine task: its target at step t"),
    "bidirectional chars": (lambda tmp: ["--text", "names", "--bidirectional"], "refused for the chars task"),
    "zero hidden": (lambda tmp: ["--hidden", "0"], "hidden must be between 1"),
    "zero batch": (lambda tmp: ["--batch", "0"], "batch must be between 1"),
    "negative lr": (lambda tmp: ["--lr", "-0.1"], "lr must be greater than 0"),
    "nan lr": (lambda tmp: ["--lr", "nan"], "lr must be a finite number"),
    "negative steps": (lambda tmp: ["--steps", "-5"], "steps must be between 0"),
    "clip mode": (lambda tmp: ["--clip", "sometimes"], "clip 'sometimes' is not understood"),
    "clip number": (lambda tmp: ["--clip", "norm:abc"], "clip threshold 'abc' is not a number"),
    "clip negative": (lambda tmp: ["--clip", "norm:-1"], "clip threshold must be a positive number"),
    "missing checkpoint": (lambda tmp: ["--resume", str(tmp / "no.pt")], "no.pt' does not exist"),
    "corrupt checkpoint": (
        lambda tmp: ["--resume", text_file(tmp, os.urandom(500))],
        "not an lstm_viz checkpoint or corrupt",
    ),
    "not a number": (lambda tmp: ["--hidden", "many"], "--hidden: 'many' is not a whole number; give e.g. --hidden"),
    "probe text for sine": (lambda tmp: ["--probe-text", "hello"], "probe_text is for character models"),
    "probe text unknown": (lambda tmp: ["--text", "names", "--probe-text", "Anna!"], "does not know: '!', 'A'"),
    "probe text too long": (lambda tmp: ["--text", "names", "--probe-text", "a" * 201], "over the limit of 200"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    make_arguments, message = BAD_INPUTS[case]
    arguments = make_arguments(tmp_path)
    if "--resume" not in arguments:
        arguments = ["--hidden", "6", "--seq-len", "12", "--steps", "2", *arguments]
    assert cli.main(["train", *arguments, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert "error: " in error.splitlines()[-1]
    assert not (tmp_path / "run").exists()  # nothing was started


def test_an_output_directory_under_a_regular_file_is_exit_2(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli.main(["train", *SMALL, "--steps", "1", "--out", str(tmp_path / "file" / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("lstm-viz: error: cannot create run directory") and error.count("\n") == 1


def test_a_new_run_into_a_folder_holding_a_run_is_exit_2_and_the_run_is_kept(tmp_path, capsys):
    """'train --out DIR' of another preset into DIR replaced the run there (its history, checkpoint and metrics)."""
    assert train(tmp_path, "--steps", "3") == 0
    run = tmp_path / "run"
    kept = {path.relative_to(run): path.read_bytes() for path in sorted(run.rglob("*")) if path.is_file()}
    capsys.readouterr()
    assert cli.main(["train", "--preset", "hihello", "--steps", "1", "--out", str(run)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"--out '{run}' already holds a run" in error
    assert f"--resume {run / 'checkpoint.pt'} --out {run}" in error  # what to do to go on with it
    assert {path.relative_to(run): path.read_bytes() for path in sorted(run.rglob("*")) if path.is_file()} == kept
    assert train(tmp_path, "--steps", "2", "--resume", str(run / "checkpoint.pt")) == 0  # going on with it works
    assert json.loads((run / "summary.json").read_text())["steps"] == 5


def test_resuming_with_another_architecture_is_exit_2(tmp_path, capsys):
    assert train(tmp_path, "--steps", "2") == 0
    capsys.readouterr()
    checkpoint = str(tmp_path / "run" / "checkpoint.pt")
    assert cli.main(["train", "--resume", checkpoint, "--hidden", "7", "--out", str(tmp_path / "again")]) == 2
    assert "different model: hidden 6 (this run: 7)" in capsys.readouterr().err
    assert cli.main(["train", "--preset", "hihello", "--resume", checkpoint, "--out", str(tmp_path / "again")]) == 2
    assert "different model: task 'sine' (this run: 'chars')" in capsys.readouterr().err


def test_a_checkpoint_that_would_run_code_is_refused_by_resume(tmp_path, capsys, code_running_checkpoint):
    evil, marker = code_running_checkpoint
    assert cli.main(["train", "--resume", str(evil), "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert "not a safe checkpoint" in error and "Traceback" not in error
    assert not marker.exists()


# ---- the GUI form --------------------------------------------------------------------------
@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    app = types.ModuleType("lstm_viz.gui.app")
    app.lecture = []  # the lecture flag of each call

    def run_app(
        config, steps=None, screenshot=None, runs_dir=None, history_mb=None, lecture=False, speed=None, paused=False
    ):
        calls.append((config, steps, screenshot, runs_dir, history_mb, speed, paused))
        app.lecture.append(lecture)
        return 0

    app.run_app = run_app
    monkeypatch.setitem(sys.modules, "lstm_viz.gui", types.ModuleType("lstm_viz.gui"))
    monkeypatch.setitem(sys.modules, "lstm_viz.gui.app", app)
    return calls


def test_the_gui_form_hands_run_app_the_preset_with_overrides(tmp_path, fake_app):
    screenshot = str(tmp_path / "shot.png")
    assert (
        cli.main(
            ["--preset", "hihello", "--hidden", "5", "--clip", "norm:2", "--steps", "9", "--screenshot", screenshot]
        )
        == 0
    )
    [(config, steps, shot, runs_dir, history_mb, speed, paused)] = fake_app
    assert (config.task, config.text, config.hidden, str(config.clip)) == ("chars", "hihello", 5, "norm:2")
    assert (steps, shot, runs_dir, history_mb) == (9, screenshot, Path("runs"), None)
    assert (speed, paused) == (None, False)  # full speed, training at once


def test_the_gui_form_hands_run_app_the_speed_and_paused(fake_app):
    assert cli.main(["--speed", "5", "--paused"]) == 0
    assert fake_app[0][5:] == (5.0, True)


@pytest.mark.parametrize("speed", ["0", "0.5", "-3", "20000", "nan", "inf"])
def test_a_bad_speed_is_one_line_and_exit_2(fake_app, capsys, speed):
    assert cli.main(["--speed", speed]) == 2
    error = capsys.readouterr().err
    assert (
        error.startswith("lstm-viz: error: --speed must be 1 to 10000 steps per second, got ")
        and error.count("\n") == 1
    )
    assert fake_app == []


def test_a_speed_that_is_no_number_is_one_line_and_exit_2(fake_app, capsys):
    assert cli.main(["--speed", "fast"]) == 2
    assert capsys.readouterr().err == "lstm-viz: error: --speed: 'fast' is not a number; give e.g. --speed 100\n"


def test_train_probes_the_probe_text_and_the_window_gets_it(tmp_path, fake_app):
    """trace.npz (and the history) show the model on --probe-text: its characters in, the next ones as targets."""
    assert train(tmp_path, "--text", "names", "--steps", "3", "--probe-text", "\nzoe\nbo") == 0
    trace = np.load(tmp_path / "run" / "trace.npz")
    alphabet = "\nabcdefghijklmnopqrstuvwxyz"
    assert trace["probe_input"].tolist() == [alphabet.index(char) for char in "\nzoe\nb"]
    assert trace["probe_target"].tolist() == [alphabet.index(char) for char in "zoe\nbo"]
    assert trace["hidden"].shape == (1, 1, 6, 6)
    assert cli.main(["--preset", "names", "--probe-text", "\nanna\n"]) == 0
    assert fake_app[0][0].probe_text == "\nanna\n"


def test_the_gui_form_hands_run_app_where_runs_go_and_their_history_budget(tmp_path, fake_app):
    assert cli.main(["--runs", str(tmp_path / "mine"), "--history-mb", "50"]) == 0
    assert fake_app[0][3:5] == (tmp_path / "mine", 50.0)


def test_the_gui_form_opens_in_lecture_mode_only_when_asked(fake_app):
    assert cli.main(["--preset", "sine"]) == 0 and cli.main(["--preset", "sine", "--lecture"]) == 0
    assert sys.modules["lstm_viz.gui.app"].lecture == [False, True]


def test_the_gui_form_defaults_to_the_sine_preset(fake_app):
    assert cli.main([]) == 0
    assert fake_app[0][0].task == "sine" and fake_app[0][1:] == (None, None, Path("runs"), None, None, False)


def test_the_gui_form_reports_bad_input_before_opening_a_window(tmp_path, fake_app, capsys):
    assert cli.main(["--text", str(tmp_path / "absent.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert fake_app == []


LDD_WITH_TWO_MISSING = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-cursor.so.0 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f10)
\tlibxkbcommon-x11.so.0 => not found
"""


@pytest.mark.parametrize(
    ("display", "ldd_output", "message"),
    [
        (None, "", "DISPLAY is not set"),
        (":0", LDD_WITH_TWO_MISSING, "apt install libxcb-cursor0 libxkbcommon-x11-0)"),
    ],
)
def test_no_usable_screen_is_one_line_and_exit_1_not_a_qt_abort(
    monkeypatch, fake_app, capsys, display, ldd_output, message
):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)  # as on a desktop: Qt picks the platform itself
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if display is None:
        monkeypatch.delenv("DISPLAY", raising=False)
    else:
        monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setattr(cli.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, ldd_output, ""))
    assert cli.main([]) == 1
    error = capsys.readouterr().err
    assert message in error and error.startswith("lstm-viz: error: ") and error.count("\n") == 1
    assert fake_app == []  # no window was tried


def test_sonames_become_debian_package_names():
    assert [cli.debian_package(s) for s in ("libxcb-icccm.so.4", "libxkbcommon-x11.so.0", "libX11-xcb.so.1")] == [
        "libxcb-icccm4",
        "libxkbcommon-x11-0",
        "libx11-xcb1",
    ]


# ---- end to end, as a user runs it -------------------------------------------------------------
def run_module(*arguments, cwd):
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "lstm_viz", *arguments], cwd=cwd, env=environment, capture_output=True, text=True
    )


def test_python_m_lstm_viz_train_end_to_end(tmp_path):
    done = run_module("train", "--preset", "hihello", "--steps", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [run] = (tmp_path / "runs").iterdir()  # the default run directory: runs/PRESET-YYYYmmdd-HHMMSS
    assert run.name.startswith("hihello-") and (run / "trace.npz").exists()
    assert f"run files in {Path('runs') / run.name}" in done.stdout

    failed = run_module("train", "--text", "absent.txt", cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.startswith("lstm-viz: error: text file 'absent.txt' does not exist")
    assert failed.stderr.count("\n") == 1  # one line, no traceback


def test_the_window_starts_with_the_cyclic_collector_off_and_runs_with_it_on_startup_frozen(tmp_path, capsys):
    from benchmarks.gui import FIRST_FRAME  # `lstm-viz --preset sine --steps 1`, as the command runs it

    environment = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    started = subprocess.run([sys.executable, "-c", FIRST_FRAME], cwd=tmp_path, env=environment, capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert started.returncode == 0, started.stderr
    enabled, frozen = re.search(r"gc enabled (\w+), (\d+) objects frozen", started.stdout).groups()
    assert enabled == "True"  # at the first frame, the collector is on again
    assert int(frozen) > 10_000  # what startup loaded (torch, Qt, pyqtgraph): frozen, so it was off until then

    assert cli.main(["--no-such-option"]) == 2  # called in-process (tests, scripts): the collector left alone
    assert gc.isenabled()
    capsys.readouterr()


@pytest.mark.parametrize("command", [["train"], []], ids=["train", "window"])
def test_device_cuda_without_a_gpu_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, command):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main([*command, *SMALL, "--steps", "1", "--device", "cuda", "--out" if command else "--runs",
                     str(tmp_path / "run")]) == 2  # fmt: skip
    error = capsys.readouterr().err
    assert error == "lstm-viz: error: --device cuda: torch sees no CUDA GPU here (a CPU build, or no driver); " \
                    "use --device cpu\n"  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_device_auto_trains_on_the_cpu_without_a_gpu(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert train(tmp_path, "--steps", "3", "--device", "auto") == 0
    assert len(read_metrics(tmp_path / "run" / "metrics.csv")["step"]) == 3
