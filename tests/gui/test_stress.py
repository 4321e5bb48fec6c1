"""Thread stress: hundreds of random user commands at random short intervals on the real window
must not crash, deadlock or warn, and the window must end in the state the last command asked
for; closing it mid-training ends the process at once."""

from __future__ import annotations

import faulthandler
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstm_viz.core import runs
from lstm_viz.core.config import RunConfig
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.main_window import MainWindow
from lstm_viz.gui.state import Selection

REPO = Path(__file__).resolve().parents[2]
SMALL = RunConfig(hidden=8, seq_len=20, batch=8)
COMMANDS = 300
SEED = 1234
TIMEOUT_MS = 20000
WATCHDOG_S = 120  # a deadlock dumps every thread's stack and ends the run instead of hanging it


def choose(combo, value) -> None:
    """Pick `value` in a combo box as a user would (activated is emitted for user choices only)."""
    index = combo.findData(value)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def choose_text(combo, text: str) -> None:
    index = combo.findText(text)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


@pytest.fixture
def files(tmp_path):
    """A good and a bad text, a good and a corrupt checkpoint, and a place to save to."""
    good_text = tmp_path / "poem.txt"
    good_text.write_text("the quick brown fox jumps over the lazy dog\n" * 20)
    bad_text = tmp_path / "binary.txt"
    bad_text.write_bytes(b"\0\1\2" * 50)
    trainer = Trainer(SMALL.replace(cell="gru", hidden=6))
    trainer.step()
    good_checkpoint = tmp_path / "gru.pt"
    runs.save_checkpoint(good_checkpoint, trainer)
    corrupt_checkpoint = tmp_path / "corrupt.pt"
    corrupt_checkpoint.write_bytes(good_checkpoint.read_bytes()[:5000])
    return {
        "texts": [str(good_text), str(bad_text)],
        "checkpoints": [str(good_checkpoint), str(corrupt_checkpoint)],
        "save": str(tmp_path / "saved.pt"),
    }


def user_commands(window: MainWindow, files: dict) -> dict:
    """name -> action(rng): what a user can do, each through the widget or menu handler they would use."""
    controls = window.controls
    return {
        "start / pause": lambda rng: controls.start_pause.click(),
        "start": lambda rng: window.worker.start(),
        "pause": lambda rng: window.worker.pause(),
        "step": lambda rng: controls.step_button.click(),
        "reset": lambda rng: controls.reset_button.click(),
        "clipping": lambda rng: (
            choose(controls.clip_mode, rng.choice(["off", "norm", "value"])),
            controls.clip_threshold.setValue(rng.choice([0.1, 1.0, 5.0])),
        ),
        "learning rate": lambda rng: controls.lr.setValue(rng.choice([1e-3, 1e-2, 3e-2])),
        "cell": lambda rng: choose(controls.cell, rng.choice(["lstm", "gru", "rnn"])),
        "hidden": lambda rng: controls.hidden.setValue(rng.randint(2, 16)),
        "layers": lambda rng: controls.layers.setValue(rng.randint(1, 2)),
        "bidirectional": lambda rng: controls.bidirectional.setChecked(rng.random() < 0.5),
        "sequence length": lambda rng: controls.seq_len.setValue(rng.choice([6, 12, 20])),
        "task": lambda rng: choose(controls.task, rng.choice(["sine", "chars", "adding"])),
        "preset": lambda rng: choose_text(controls.preset, rng.choice(["sine", "hihello"])),
        "unit": lambda rng: window.panels["States"].selection_requested.emit(
            Selection(unit=rng.randint(0, 20), timestep=rng.randint(0, 30))
        ),
        "open text": lambda rng: window.open_text(rng.choice(files["texts"])),
        "load checkpoint": lambda rng: window.load_checkpoint(rng.choice(files["checkpoints"])),
        "save checkpoint": lambda rng: window.save_checkpoint(files["save"]),
    }


def wait_for(qtbot, window, condition):
    qtbot.waitUntil(lambda: window.last_snapshot is not None and condition(window.last_snapshot), timeout=TIMEOUT_MS)
    return window.last_snapshot


def settled_snapshot(qtbot, window):
    """The first drawn snapshot that includes every command sent so far."""
    return wait_for(qtbot, window, lambda snapshot: snapshot.commands_done == window.worker.commands_sent)


def next_drawn_snapshot(qtbot, window):
    window.worker.request_snapshot()  # a paused worker publishes one too
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT_MS):
        pass
    return window.last_snapshot


def test_300_random_commands_at_random_moments(qtbot, files):
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    try:
        window = MainWindow(SMALL)
        qtbot.addWidget(window)
        window.show()
        wait_for(qtbot, window, lambda snapshot: True)
        messages = set()
        window.drawn.connect(lambda: messages.add(window.last_snapshot.message))
        commands = user_commands(window, files)
        rng = random.Random(SEED)
        names = sorted(commands)
        done = []
        for _ in range(COMMANDS):
            name = rng.choice(names)
            commands[name](rng)
            done.append(name)
            qtbot.wait(rng.randint(0, 30))
        assert set(done) == set(names)  # every kind of command was sent
        assert not [message for message in messages if "unexpected error" in message or "Could not" in message]
        assert any("binary.txt' looks binary" in message for message in messages)  # refusals were shown
        assert window.worker.is_alive

        # Let the last refusals arrive, so the controls show what runs; then: hidden 12 and Reset.
        settled_snapshot(qtbot, window)
        assert window.controls.config == window.last_snapshot.config
        window.controls.hidden.setValue(12)
        window.controls.reset_button.click()
        expected = window.controls.config
        assert expected.hidden == 12
        reset = wait_for(qtbot, window, lambda snapshot: snapshot.config == expected and snapshot.step <= 1)
        assert reset.trace is not None and reset.trace["hidden"].shape[-1] == 12
        assert window.worker.trainer.model.hidden_size == 12
        assert settled_snapshot(qtbot, window).config == expected
        assert next_drawn_snapshot(qtbot, window).config == expected  # and it stays so
        assert window.controls.hidden.value() == 12

        # Then: train, and pause; the step count stands still.
        window.worker.start()
        wait_for(qtbot, window, lambda snapshot: snapshot.running and snapshot.step >= 3)
        window.worker.pause()
        paused = wait_for(qtbot, window, lambda snapshot: not snapshot.running)
        qtbot.wait(300)
        assert next_drawn_snapshot(qtbot, window).step == paused.step == window.worker.trainer.step_count
        assert window.controls.start_pause.text() == "Start"

        window.close()
        assert not window.worker.is_alive
    finally:
        faulthandler.cancel_dump_traceback_later()


# The app as a user starts it (python -m lstm_viz), closed from inside once it has trained a while.
CLOSE_WHILE_TRAINING = """
import sys, time
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication
from lstm_viz import cli
from lstm_viz.gui.main_window import MainWindow

app = QApplication(sys.argv[:1])

def close_when_training():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
    snapshot = windows[0].last_snapshot if windows else None
    if snapshot is None or not snapshot.running or snapshot.step < 20:
        return
    timer.stop()
    print(f"closing at step {snapshot.step} {time.time()}", flush=True)
    windows[0].close()

timer = QTimer()
timer.timeout.connect(close_when_training)
timer.start(50)
sys.argv = ["lstm-viz", "--preset", "names", "--hidden", "32", "--runs", sys.argv[1]]
cli.main()
"""


def test_closing_the_window_mid_training_ends_the_process_within_two_seconds(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen(
        [sys.executable, "-c", CLOSE_WHILE_TRAINING, str(tmp_path / "runs")],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = app.communicate(timeout=90)
    finally:
        app.kill()
    ended = time.time()
    assert app.returncode == 0, stderr
    closing = [line for line in stdout.splitlines() if line.startswith("closing at step")]
    assert closing, stdout + stderr
    closed_at = float(closing[0].split()[-1])
    assert ended - closed_at < 2.0, f"the process took {ended - closed_at:.1f} s to end after the window closed"
    assert "QThread: Destroyed" not in stderr and "Traceback" not in stderr
