"""examples/: each script runs (shortened) and what it writes opens in the window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PyQt6.QtGui import QImage

from lstm_viz.core.history import open_run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# One torch thread each: two spinning OpenMP threads on a busy 2-core machine make these small steps 10x slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}


def test_own_model_trains_its_classifier_with_the_recorder_and_the_run_opens_in_the_window(tmp_path):
    out, screenshot = tmp_path / "own-model", tmp_path / "own-model.png"
    script = subprocess.run(
        [sys.executable, str(EXAMPLES / "own_model.py"), "--steps", "30", "--out", str(out)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert script.returncode == 0, script.stderr
    assert f"lstm-viz open {out}" in script.stdout and "step 30: loss" in script.stdout
    run = open_run(out)
    assert run.finished and run.steps[0] == 0 and run.steps[-1] == 30  # the weights before and after training
    assert run.metrics["step"].tolist() == list(range(1, 31)) and np.isfinite(run.metrics["grad_norm"]).all()
    assert "l1r.W_hh.f" in run.block_names  # 2 layers, bidirectional
    trace = run.snapshot(30).trace
    assert trace["grad_cell"].shape == (2, 2, 40, 32) and np.isfinite(trace["grad_cell"]).all()
    assert trace.probe_output.shape == (3,) and abs(float(trace.probe_output.sum()) - 1) < 1e-5  # probabilities

    window = subprocess.run(
        [sys.executable, "-m", "lstm_viz", "open", str(out), "--screenshot", str(screenshot)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert window.returncode == 0, window.stderr
    image = QImage(str(screenshot))
    assert image.width() > 600 and image.height() > 400
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 100  # panels drawn, not a blank window


def test_own_model_refuses_a_bad_step_count_in_one_line():
    script = subprocess.run(
        [sys.executable, str(EXAMPLES / "own_model.py"), "--steps", "0"], env=ENV, capture_output=True, text=True
    )
    assert script.returncode == 2 and "--steps: must be at least 1, got 0" in script.stderr
    assert "Traceback" not in script.stderr
