"""lstm-viz sweep: a 2x2 grid end to end (run directories, sweep.csv, sweep.png, one progress line), --seed,
resuming after kill -9 and after Ctrl-C, bad input in one line with exit 2, --help, and lstm-viz open DIR."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstm_viz import cli
from lstm_viz.core.runs import read_metrics

REPO = Path(__file__).resolve().parent.parent
SMALL = ["--preset", "adding-100", "--hidden", "6", "--batch", "4", "--history-mb", "0"]


def sweep(tmp_path, *arguments, out="lags"):
    return cli.main(["sweep", *SMALL, "--out", str(tmp_path / out), *arguments])


def rows(folder):
    with open(folder / "sweep.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_a_2x2_sweep_writes_runs_a_csv_a_png_and_one_progress_line(tmp_path, capsys):
    from PyQt6 import QtGui

    from lstm_viz.gui.sweep import PNG_SIZE

    assert sweep(tmp_path, "--over", "seq_len=10,20", "--cells", "lstm,rnn", "--steps", "15") == 0
    out, err = capsys.readouterr()
    folder = tmp_path / "lags"
    assert "4 combinations of 15 steps" in out and f"lstm-viz open {folder}" in out
    assert [(row["cell"], row["lag"]) for row in rows(folder)] == [("lstm", "10"), ("rnn", "10"), ("lstm", "20"),
                                                                   ("rnn", "20")]  # fmt: skip
    for row in rows(folder):
        losses = read_metrics(folder / row["run"] / "metrics.csv")["loss"]
        assert len(losses) == 15 and float(row["final_loss"]) == pytest.approx(losses.mean(), rel=1e-5)
    # one bar: a single line rewritten with \r, ending with the last combination's last step
    assert err.count("\n") == 1 and err.endswith("\n") and err.count("\r") >= 8
    assert "sweep 4/4 · seq_len=20 cell=rnn · step 15/15" in err.split("\r")[-1]
    image = QtGui.QImage(str(folder / "sweep.png"))
    assert (image.width(), image.height()) == PNG_SIZE
    colours = {image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}
    assert len(colours) > 20  # not blank


def test_a_sweep_on_its_own_writes_nothing_but_its_progress_to_stderr(tmp_path):
    """Qt's offscreen platform (sweep.png needs no screen) warned 'This plugin does not support
    propagateSizeHints()' into the middle of the progress line; in-process, pytest-qt swallows Qt's messages."""
    out = str(tmp_path / "l")
    arguments = ["sweep", *SMALL, "--over", "seq_len=10", "--cells", "rnn", "--steps", "2", "--out", out]
    environment = {key: value for key, value in os.environ.items() if key not in ("QT_QPA_PLATFORM", "DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "lstm_viz", *arguments], env={**environment, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0 and (tmp_path / "l" / "sweep.png").exists()
    lines = done.stderr.strip().splitlines()  # not a terminal: a line per update
    assert lines[-1] == "sweep 1/1 · seq_len=10 cell=rnn · step 2/2 · eta --"
    assert all(line.startswith("sweep 1/1 · ") for line in lines), done.stderr  # no Qt notice among them


def test_the_seed_is_honoured(tmp_path):
    for seed in ("0", "3"):
        assert sweep(tmp_path, "--over", "seq_len=10", "--cells", "gru", "--steps", "5", "--seed", seed,
                     out=f"seed{seed}") == 0  # fmt: skip
    run = "seq_len-10-cell-gru"
    assert json.loads((tmp_path / "seed3" / run / "config.json").read_text())["seed"] == 3
    losses = [read_metrics(tmp_path / f"seed{seed}" / run / "metrics.csv")["loss"] for seed in (0, 3)]
    assert not (losses[0] == losses[1]).all()


def start(tmp_path, steps: str) -> subprocess.Popen:
    arguments = ["sweep", *SMALL, "--over", "seq_len=10,12", "--cells", "rnn", "--steps", steps]
    return subprocess.Popen(
        [sys.executable, "-m", "lstm_viz", *arguments, "--out", str(tmp_path / "lags")],
        env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def wait_for_first_row(tmp_path, process):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (tmp_path / "lags" / "sweep.csv").exists() and len(rows(tmp_path / "lags")) == 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"the first combination did not finish: {process.communicate()}")


def test_a_sweep_killed_mid_combination_resumes_keeping_the_finished_one(tmp_path):
    process = start(tmp_path, "600")  # long enough to be killed in the second combination
    wait_for_first_row(tmp_path, process)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = tmp_path / "lags" / "seq_len-10-cell-rnn"
    kept = (finished / "metrics.csv").read_bytes(), (finished / "summary.json").stat().st_mtime_ns
    assert not (tmp_path / "lags" / "seq_len-12-cell-rnn" / "summary.json").exists()  # killed while training

    assert sweep(tmp_path, "--over", "seq_len=10,12", "--cells", "rnn", "--steps", "600") == 0
    assert ((finished / "metrics.csv").read_bytes(), (finished / "summary.json").stat().st_mtime_ns) == kept
    assert [row["lag"] for row in rows(tmp_path / "lags")] == ["10", "12"]
    assert len(read_metrics(tmp_path / "lags" / "seq_len-12-cell-rnn" / "metrics.csv")["loss"]) == 600


def test_ctrl_c_stops_after_a_step_and_says_how_to_resume(tmp_path):
    process = start(tmp_path, "600")
    wait_for_first_row(tmp_path, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "1 of 2 combinations finished and kept" in err and "run the same command again to resume" in err
    assert len(rows(tmp_path / "lags")) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--over", "colour=1,2"], "--over: cannot sweep over 'colour'"),
        (["--over", "seq_len=10,x"], "--over seq_len=x is refused"),
        (["--over", "seq_len=10", "--cells", "lstm,lsmt"], "--cells: unknown cell 'lsmt'"),
        (["--over", "seq_len=10", "--steps", "0"], "--steps must be a whole number of at least 1, got 0"),
        (["--over", "seq_len=10", "--cell", "gru"], "takes its cells from --cells"),
        (["--over", "seq_len=10", "--history-mb", "-1"], "--history-mb must be 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(tmp_path, capsys, arguments, words):
    assert sweep(tmp_path, *arguments) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "lags").exists()


def test_an_out_that_is_a_file_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "lags").write_text("not a folder")
    assert sweep(tmp_path, "--over", "seq_len=10") == 2
    err = capsys.readouterr().err
    assert "is a file; give a folder" in err and err.count("\n") == 1


def test_help_names_the_files_and_resuming(capsys):
    assert cli.main(["sweep", "--help"]) == 0
    out = capsys.readouterr().out
    for words in ("--over SETTING=V1,V2", "sweep.csv", "sweep.png", "mean of the last 100 steps", "solved",
                  "Run the same command again"):  # fmt: skip
        assert words in out


def test_open_shows_a_sweep_folder_and_its_screenshot(tmp_path, capsys):
    assert sweep(tmp_path, "--over", "seq_len=10,20", "--cells", "gru", "--steps", "3") == 0
    shot = tmp_path / "shot.png"
    assert cli.main(["open", str(tmp_path / "lags"), "--screenshot", str(shot)]) == 0
    assert shot.stat().st_size > 1000
    assert cli.main(["open", str(tmp_path / "lags"), "--step", "3"]) == 2
    assert "is a sweep" in capsys.readouterr().err
    assert cli.main(["open", str(tmp_path / "lags"), "--lecture"]) == 2  # not silently a normal window
    error = capsys.readouterr().err
    assert "--lecture" in error and "a sweep has none" in error and len(error.strip().splitlines()) == 1
