"""Moving through a recorded run in the window: scrubbing rate and opening time, offscreen, in this process.

- scrub_fps: records drawn per second of wall time while the timeline asks for the next record as soon as
  the last one is drawn (a drag that moves at every frame), through the app's own frame timer and drawing
  budget: Run.snapshot (one record read) + every panel redrawn + Qt painting, at the `names` preset
  (H=128, T=32); back to back (timer stopped) in the details, with the record read alone.
- open_s: wall seconds from open_run on a 2000-record run to its first frame painted, Qt already up
  (median of several); a run of 20 000 steps (metrics.csv rows), and one of 100 000 in the details.

The runs are made quickly: a real `names` run of a few steps, whose last record is hard-linked under
2000 step names (the same bytes, no disk space), with metrics.csv rows written for every step.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch  # before Qt, as the app does

from benchmarks import medians, timed_ms
from lstm_viz.core.config import load_preset
from lstm_viz.core.history import HISTORY_DIR, open_run, record_name
from lstm_viz.core.trainer import Trainer

WINDOW_SIZE = (1600, 900)
RECORDS = 2000
STEPS_PER_RECORD = 10  # a 2000-record run of 20 000 steps


def run(quick: bool) -> dict:
    from PyQt6.QtWidgets import QApplication

    from lstm_viz.gui.app import configure_pyqtgraph

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_pyqtgraph()
    folder = Path(tempfile.mkdtemp(prefix="lstm_viz_bench_history_"))
    try:
        source = real_run(folder / "names", steps=12)
        details = {"scrub": scrub(app, source, seconds=2.0 if quick else 5.0)}
        runs = {rows: long_run(source, folder / f"run-{rows}", RECORDS, rows) for rows in (20_000, 100_000)}
        details["open"] = {
            f"{rows}_steps": open_times(app, path, repeats=3 if quick else 7) for rows, path in runs.items()
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "scrub_fps": details["scrub"]["app_timer"]["records_per_s"],
        "open_s": details["open"]["20000_steps"]["wall_s"],
    }
    return {"figures": figures, "details": details}


def real_run(run_dir: Path, steps: int) -> Path:
    """A finished run of the names preset, every step recorded."""
    trainer = Trainer(load_preset("names"))
    trainer.record_to(run_dir, name="names")
    for _ in range(steps):
        trainer.step()
    trainer.finish_recording()
    return run_dir


def long_run(source: Path, run_dir: Path, records: int, rows: int) -> Path:
    """`source`'s files, its last record hard-linked as `records` records spread over `rows` steps."""
    history = run_dir / HISTORY_DIR
    history.mkdir(parents=True)
    for name in ("run.json", "config.json", "events.csv"):
        shutil.copy(source / name, run_dir / name)
    last = source / HISTORY_DIR / record_name(int(open_run(source).steps[-1]))
    for step in np.linspace(1, rows, records).astype(int):
        os.link(last, history / record_name(int(step)))
    header = (source / "metrics.csv").read_text().splitlines()[0]
    generator = np.random.default_rng(0)
    table = generator.random((rows, header.count(",") + 1)) + 0.01  # (rows, columns)
    table[:, 0] = np.arange(1, rows + 1)
    np.savetxt(run_dir / "metrics.csv", table, fmt="%.9g", delimiter=",", header=header, comments="")
    return run_dir


def pump(app, seconds: float) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def scrub(app, run_dir: Path, seconds: float) -> dict:
    from lstm_viz.gui.main_window import open_viewer

    run = open_run(run_dir)
    window = open_viewer(run, step=int(run.steps[0]))
    window.resize(*WINDOW_SIZE)
    window.show()
    pump(app, 0.5)
    steps = [int(step) for step in run.steps]
    try:
        # The app's timer and budget: the next record is asked for as soon as the last is drawn.
        def next_record() -> None:
            next_record.count += 1
            window.show_step(steps[next_record.count % len(steps)])

        next_record.count = 0
        window.drawn.connect(next_record)
        next_record()
        load = os.getloadavg()[0]
        started, first = time.perf_counter(), next_record.count
        pump(app, seconds)
        drawn = next_record.count - first
        app_timer = {"records_per_s": drawn / (time.perf_counter() - started), "load_average": load}
        window.drawn.disconnect(next_record)

        # Back to back, the timer stopped: ask, draw at once, paint.
        window.timer.stop()
        frames = []
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            step = steps[len(frames) % len(steps)]
            frames.append(timed_ms(lambda s=step: (window.show_step(s), window.refresh(), app.processEvents())))
        wall_ms, cpu_ms = medians(frames)
        reads = [timed_ms(lambda s=step: run.snapshot(s)) for step in steps for _ in range(3)]
        read_wall_ms, read_cpu_ms = medians(reads)
    finally:
        window.close()
    return {
        "app_timer": app_timer,
        "back_to_back": {
            "frame_wall_ms": wall_ms,
            "frame_cpu_ms": cpu_ms,
            "records_per_s": 1000 / wall_ms,
            "records_per_cpu_s": 1000 / cpu_ms,  # what an idle machine would draw back to back
        },
        "snapshot_read": {"wall_ms": read_wall_ms, "cpu_ms": read_cpu_ms},
        "record_bytes": (run_dir / HISTORY_DIR / record_name(steps[-1])).stat().st_size,
        "preset": "names",
        "window": WINDOW_SIZE,
    }


def open_times(app, run_dir: Path, repeats: int) -> dict:
    """Wall seconds from open_run to the first frame painted (the window shown and painted once)."""
    from lstm_viz.gui.main_window import open_viewer

    samples = []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.thread_time()
        window = open_viewer(open_run(run_dir))
        window.resize(*WINDOW_SIZE)
        window.show()
        window.repaint()
        samples.append((time.perf_counter() - started, time.thread_time() - cpu))
        assert window.history.shown is not None
        window.close()
        app.processEvents()
    return {
        "wall_s": statistics.median(wall for wall, _ in samples),
        "cpu_s": statistics.median(cpu for _, cpu in samples),
        "records": RECORDS,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(run(quick="--quick" in sys.argv))
