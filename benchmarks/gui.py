"""The main window while it trains: frames per second, GUI-thread stalls, startup time, memory growth.

In this process, offscreen, at H=128, T=200 with every panel:
- gui_fps: frames the app's own ~30 fps timer draws per second while the worker trains, when each
  timer tick finds a new snapshot (after every frame a new one is put in the mailbox);
- gui_max_redraw_fps: 1000 / ms of one full redraw (window.draw(new snapshot) + Qt painting it),
  back to back with the app's timer stopped, while the worker trains; gui_max_redraw_fps_cpu the same
  over the GUI thread's CPU ms of a redraw (its cost whatever the load: reported, the target is on wall);
- gui_stall_p99_ms: p99 lateness of a 10 ms timer in the GUI thread while the window trains and
  draws as it normally does (and, in the details, while it draws at 30 fps).
In fresh processes: startup_s (process start to the first drawn frame), rss_growth_mb and window_rss_mb_1m
(the window fed a million steps of metrics: a long run's history held in bounded memory).
Everything here is wall-clock time (but gui_max_redraw_fps_cpu); the load average is recorded next to each figure.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch  # before Qt, as the app does

from benchmarks import alternate, median_ratio, medians, timed_ms
from benchmarks.plotting import distinct_snapshots
from lstm_viz.core.config import RunConfig, load_preset
from lstm_viz.core.snapshot import frozen_array

HIDDEN, SEQ_LEN = 128, 200
WINDOW_SIZE = (1600, 900)  # the offscreen screen is 800x800; a laptop or projector is about this
STALL_TIMER_MS = 10
SNAPSHOTS = 8
WARMUP_STEPS = 3  # the worker trains before anything is measured


def open_window(config: RunConfig):
    from PyQt6.QtWidgets import QApplication

    from lstm_viz.gui.app import configure_pyqtgraph
    from lstm_viz.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_pyqtgraph()
    window = MainWindow(config)
    window.resize(*WINDOW_SIZE)
    window.show()
    return app, window


def pump(app, seconds: float) -> None:
    """Run the Qt event loop for `seconds` of wall time."""
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class StallTimer:
    """A 10 ms precise timer in the GUI thread; lateness of each tick beyond 10 ms."""

    def __init__(self) -> None:
        from PyQt6.QtCore import Qt, QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(STALL_TIMER_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def measure(self, app, seconds: float) -> dict:
        """Run the event loop for `seconds`; the lateness of every tick, in ms."""
        self.ticks = []
        self.timer.start()
        pump(app, seconds)
        self.timer.stop()
        return {"lateness": [max(0.0, 1000 * interval - STALL_TIMER_MS) for interval in np.diff(self.ticks)]}


def percentiles(lateness: list[float]) -> dict:
    """p50, p99 and max of sorted lateness values."""
    return {
        "p50_ms": lateness[len(lateness) // 2],
        "p99_ms": lateness[int(0.99 * (len(lateness) - 1))],
        "max_ms": lateness[-1],
        "ticks": len(lateness),
    }


def run(quick: bool) -> dict:
    seconds, repeats = (2.0, 2) if quick else (4.0, 4)
    config = RunConfig(task="sine", hidden=HIDDEN, seq_len=SEQ_LEN)
    snapshots = distinct_snapshots(config, SNAPSHOTS)
    app, window = open_window(config)
    try:
        details = in_window(app, window, snapshots, seconds, repeats)
    finally:
        window.close()
    details["long"] = fps_while_training(load_preset("adding-100").replace(seq_len=1000, hidden=256), 3 * seconds)
    details["big"] = fps_while_training(load_preset("names").replace(hidden=512), 2 * seconds)
    details["app_train"] = app_train_ratio(seconds=2.0, repeats=3 if quick else 6)
    figures = {
        "app_train_ratio": details["app_train"]["ratio"],
        "gui_fps_long": details["long"]["frames_per_s"],
        "gui_stall_p99_ms_long": details["long"]["p99_ms"],
        "gui_fps_big": details["big"]["frames_per_s"],
        "gui_fps": details["app_timer"]["frames_per_s"],
        "gui_max_redraw_fps": 1000 / details["back_to_back"]["frame_wall_ms"],
        "gui_max_redraw_fps_cpu": 1000 / details["back_to_back"]["frame_cpu_ms"],
        "gui_stall_p99_ms": details["normal"]["p99_ms"],
    }
    fresh = {
        "startup_s": ("startup", lambda: startup(runs=2 if quick else 5, screenshot_run=not quick)),
        "rss_growth_mb": ("rss", lambda: rss_growth(steps=600 if quick else 5000)),
        "window_rss_mb_1m": ("rss_1m", lambda: window_rss_1m(rows=1_000_000)),
    }
    for figure, (name, measure) in fresh.items():  # a crashed process loses its figure, not the section's
        try:
            figures[figure], details[name] = measure()
        except subprocess.SubprocessError as error:
            details[name] = {"error": f"{type(error).__name__}: {error}"}
    details["config"] = {"hidden": HIDDEN, "seq_len": SEQ_LEN, "window": WINDOW_SIZE}
    return {"figures": figures, "details": details}


def in_window(app, window, snapshots: list, seconds: float, repeats: int) -> dict:
    stall = StallTimer()
    worker = window.worker
    details = {}
    started = time.perf_counter()
    worker.start()
    while worker.trainer.step_count < WARMUP_STEPS:
        pump(app, 0.1)
    details["seconds_to_first_steps"] = time.perf_counter() - started

    # As the app runs (its timer draws what the worker publishes every ~100 ms), alternating
    # with the timer stopped: what drawing costs the training thread.
    phases = {"normal": [], "not_drawing": []}
    for _ in range(repeats):
        for phase, results in phases.items():
            (window.timer.start if phase == "normal" else window.timer.stop)()
            steps, load = worker.trainer.step_count, os.getloadavg()[0]
            results.append({**stall.measure(app, seconds), "load_average": load})
            results[-1]["worker_steps_per_s"] = (worker.trainer.step_count - steps) / seconds
    window.timer.start()
    for phase, results in phases.items():
        lateness = sorted(late for result in results for late in result.pop("lateness"))
        details[phase] = {**percentiles(lateness), "rounds": results}
    steps = {phase: [r["worker_steps_per_s"] for r in results] for phase, results in phases.items()}
    details["worker_steps_ratio_drawing_to_not"] = median_ratio(steps["normal"], steps["not_drawing"])

    details["app_timer"] = app_timer_fps(app, window, snapshots, repeats * seconds, stall)

    # Back to back, the app's timer stopped: one full redraw of a new snapshot and Qt painting it.
    window.timer.stop()
    details["back_to_back"] = redraw_ms(app, window, snapshots, seconds)
    long_run = [with_history(snapshot, HISTORY + 100 * index) for index, snapshot in enumerate(snapshots)]
    details[f"back_to_back_{HISTORY}_steps_history"] = redraw_ms(app, window, long_run, seconds)
    worker.pause()
    return details


def app_timer_fps(app, window, snapshots: list, seconds: float, stall: StallTimer) -> dict:
    """Frames/s of the app's own timer while the worker trains, when every tick finds a new snapshot (after each
    frame the next one is put in the mailbox), and the lateness of a 10 ms timer meanwhile."""
    worker = window.worker

    def feed() -> None:
        worker.mailbox.put(snapshots[feed.count % len(snapshots)])
        feed.count += 1

    feed.count = 0
    window.drawn.connect(feed)
    feed()
    frames, steps, load = feed.count, worker.trainer.step_count, os.getloadavg()[0]
    result = stall.measure(app, seconds)
    window.drawn.disconnect(feed)
    return {
        **percentiles(sorted(result.pop("lateness"))),
        "frames_per_s": (feed.count - frames) / seconds,
        "worker_steps_per_s": (worker.trainer.step_count - steps) / seconds,
        "load_average": load,
    }


def fps_while_training(config: RunConfig, seconds: float) -> dict:
    """app_timer_fps at `config` (its own window, training), with its back-to-back redraw time."""
    snapshots = distinct_snapshots(config, 3, steps_apart=1)
    app, window = open_window(config)
    stall = StallTimer()
    try:
        window.worker.start()
        while window.worker.trainer.step_count < snapshots[-1].step + 1:  # trained past the snapshots' steps
            pump(app, 0.1)
        details = app_timer_fps(app, window, snapshots, seconds, stall)
        window.timer.stop()
        details["back_to_back"] = redraw_ms(app, window, snapshots, seconds / 2)
        window.worker.pause()
    finally:
        window.close()
    details["config"] = {key: config.to_dict()[key] for key in ("task", "text", "hidden", "seq_len", "batch")}
    return details


def app_train_ratio(seconds: float, repeats: int) -> dict:
    """Steps/s of the window training and drawing at its normal rate ÷ a plain nn.LSTM loop alone (headless: the
    window's worker paused, the loop in this thread, no events handled), names H=128 T=100, in alternating rounds
    of `seconds` wall time each; both wall-clock, as a user feels it."""
    from benchmarks.training import PlainLoop

    config = load_preset("names").replace(seq_len=100)
    plain = PlainLoop(config)
    app, window = open_window(config)
    worker = window.worker
    frames = []
    window.drawn.connect(lambda: frames.append(time.perf_counter()))

    def window_round() -> float:
        worker.start()
        pump(app, 0.3)  # the worker is stepping again
        steps, drawn, started = worker.trainer.step_count, len(frames), time.perf_counter()
        pump(app, seconds)
        elapsed = time.perf_counter() - started
        window_round.frames_per_s.append((len(frames) - drawn) / elapsed)
        rate = (worker.trainer.step_count - steps) / elapsed
        worker.pause()
        pump(app, 0.2)  # the pause is taken between steps
        return rate

    def plain_round() -> float:
        steps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            plain.step()
            steps += 1
        return steps / (time.perf_counter() - started)

    window_round.frames_per_s = []
    load = os.getloadavg()[0]
    try:
        rounds = alternate({"window": window_round, "plain_lstm": plain_round}, repeats)
    finally:
        window.close()
    return {
        "ratio": median_ratio(rounds["window"], rounds["plain_lstm"]),
        "steps_per_s": rounds,
        "window_frames_per_s": window_round.frames_per_s,
        "round_seconds": seconds,
        "config": {key: config.to_dict()[key] for key in ("task", "text", "hidden", "seq_len", "batch")},
        "load_average": [load, os.getloadavg()[0]],
    }


def redraw_ms(app, window, snapshots: list, seconds: float) -> dict:
    load, frames = os.getloadavg()[0], []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        snapshot = snapshots[len(frames) % len(snapshots)]
        frames.append(timed_ms(lambda s=snapshot: (window.draw(s), app.processEvents())))
    wall_ms, cpu_ms = medians(frames)
    return {"frame_wall_ms": wall_ms, "frame_cpu_ms": cpu_ms, "frames": len(frames), "load_average": load}


HISTORY = 100_000


def with_history(snapshot, rows: int):
    """`snapshot` as if `rows` steps had been trained: metrics columns of that length (a long run's loss curve)."""
    generator = np.random.default_rng(0)
    steps = np.arange(1, rows + 1, dtype=float)
    metrics = {name: 0.01 + generator.random(rows) for name in snapshot.metrics}
    metrics.update(step=steps, loss=np.exp(-steps / rows * 5) + 0.05 * generator.random(rows), clipped=np.zeros(rows))
    return dataclasses.replace(snapshot, metrics={name: frozen_array(values) for name, values in metrics.items()})


# ---- fresh processes ------------------------------------------------------------------------
# `python -m lstm_viz --preset sine --steps 1` as the command runs it (cli.main() reading sys.argv), its first frame
# caught by wrapping MainWindow.draw as main_window is imported: importing it here, before main(), would time
# another startup than the real one.
FIRST_FRAME = """
import gc, importlib.abc, importlib.util, os, sys, time

class CatchFirstFrame(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "lstm_viz.gui.main_window":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            draw = module.MainWindow.draw

            def first_frame(window, snapshot, **options):
                draw(window, snapshot, **options)
                window.repaint()
                print(f"first frame: gc enabled {gc.isenabled()}, {gc.get_freeze_count()} objects frozen, at",
                      time.time(), flush=True)
                os._exit(0)

            module.MainWindow.draw = first_frame

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, CatchFirstFrame())
sys.argv = ["lstm-viz", "--preset", "sine", "--steps", "1"]
from lstm_viz.cli import main
main()
"""


def startup(runs: int, screenshot_run: bool) -> tuple[float, dict]:
    """Seconds from starting `python -m lstm_viz` to its first drawn frame (median of `runs`).

    The first frame is caught by wrapping MainWindow.draw: it paints the window, prints the time
    and exits. Alternating with it, `python -c "import torch"`: the floor no app using torch can
    beat on this machine. With screenshot_run, the wall time of the real `--steps 1 --screenshot`
    run (an upper bound: it also trains, waits for the layout and writes the PNG) is in the details.
    """
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

    def first_frame() -> tuple[float, float]:
        cpu_before, started = _children_cpu_seconds(), time.time()
        output = subprocess.run(
            [sys.executable, "-c", FIRST_FRAME], env=environment, check=True, capture_output=True, timeout=120
        ).stdout
        return float(output.split()[-1]) - started, _children_cpu_seconds() - cpu_before

    def import_torch() -> tuple[float, float]:
        cpu_before, started = _children_cpu_seconds(), time.time()
        subprocess.run([sys.executable, "-c", "import torch"], env=environment, check=True, timeout=120)
        return time.time() - started, _children_cpu_seconds() - cpu_before

    rounds = alternate({"first_frame": first_frame, "import_torch": import_torch}, runs)
    details = {
        name: {"wall_s": medians(samples)[0], "cpu_s": medians(samples)[1], "wall_s_each": [s[0] for s in samples]}
        for name, samples in rounds.items()
    }
    details["load_average"] = os.getloadavg()[0]
    if screenshot_run:
        screenshot = Path(tempfile.gettempdir()) / "lstm_viz_benchmark_startup.png"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lstm_viz", "--preset", "sine", "--steps", "1", "--screenshot", str(screenshot)],
            env=environment,
            check=True,
            capture_output=True,
            timeout=120,
        )
        details["screenshot_run_wall_s"] = time.perf_counter() - started
    return details["first_frame"]["wall_s"], details


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_growth(steps: int) -> tuple[float, dict]:
    """Resident memory growth of a fresh `python -m benchmarks.gui rss STEPS` (the sine preset, window drawing)."""
    details = {"steps_requested": steps, **in_fresh_process("rss", steps)}
    return details["growth_mb"], details


def in_fresh_process(measurement: str, count: int) -> dict:
    """The JSON that `python -m benchmarks.gui MEASUREMENT COUNT` prints last, offscreen."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.gui", measurement, str(count)],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    ).stdout
    return json.loads(output.splitlines()[-1])


def measure_rss(steps: int) -> dict:
    """In this (fresh) process: RSS after a warm-up, and after `steps` more training steps, the window drawing."""
    import psutil

    from lstm_viz.core.config import load_preset

    warmup = 200
    app, window = open_window(load_preset("sine"))
    frames = []
    window.drawn.connect(lambda: frames.append(1))
    window.worker.start()

    def step_count() -> int:
        return window.worker.trainer.step_count

    while step_count() < warmup:
        pump(app, 0.2)
    process = psutil.Process()
    rss_start, frames_start, started = process.memory_info().rss, len(frames), time.perf_counter()
    trajectory = []
    while step_count() < warmup + steps:
        pump(app, 1.0)
        trajectory.append((step_count(), process.memory_info().rss / 2**20))
    rss_end = process.memory_info().rss
    window.close()
    return {
        "steps": step_count() - warmup,
        "config": "preset sine",
        "warmup_steps": warmup,
        "rss_start_mb": rss_start / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "growth_mb": (rss_end - rss_start) / 2**20,
        "frames_drawn": len(frames) - frames_start,
        "seconds": time.perf_counter() - started,
        "trajectory_mb": trajectory[:: max(1, len(trajectory) // 20)],
    }


def window_rss_1m(rows: int = 1_000_000) -> tuple[float, dict]:
    """Resident memory growth of a fresh `python -m benchmarks.gui rss-fed ROWS`: the window fed `rows` steps."""
    details = in_fresh_process("rss-fed", rows)
    return details["growth_mb"], details


def measure_fed_rss(rows: int, block_rows: int = 10_000) -> dict:
    """In this (fresh) process: the sine preset's window, its worker paused; `rows` steps of metrics appended
    to its trainer's log in blocks (values like a run's: a falling loss with noise, random gradient norms),
    after each block a snapshot published and drawn. Training a million real steps would take hours; what
    the window holds and draws of them is the same. RSS before (after a few frames) and after."""
    import psutil

    from lstm_viz.core.config import load_preset

    app, window = open_window(load_preset("sine"))
    frames = []
    window.drawn.connect(lambda: frames.append(1))
    trainer, worker = window.worker.trainer, window.worker

    def publish_and_draw() -> None:
        drawn = len(frames)
        worker.request_snapshot()
        while len(frames) == drawn:
            pump(app, 0.02)

    for _ in range(3):
        publish_and_draw()
    process = psutil.Process()
    rss_start, started = process.memory_info().rss, time.perf_counter()
    generator = np.random.default_rng(0)
    columns = trainer.metrics.columns
    trajectory = []
    for start in range(0, rows, block_rows):
        steps = np.arange(start, start + block_rows) + 1.0  # (block,)
        block = generator.random((block_rows, len(columns)))  # (block, columns)
        block[:, columns.index("step")] = steps
        block[:, columns.index("loss")] = np.exp(-steps / rows * 5) + 0.05 * block[:, columns.index("loss")]
        block[:, columns.index("clipped")] = block[:, columns.index("clipped")] > 0.99
        trainer.metrics.extend(block)
        publish_and_draw()
        if start % (rows // 20) == 0:
            trajectory.append((start + block_rows, process.memory_info().rss / 2**20))
    rss_end = process.memory_info().rss
    window.timer.stop()
    window.worker.stop()
    return {
        "rows": rows,
        "config": f"preset sine, metrics fed in blocks of {block_rows} rows, a frame drawn after each",
        "rss_start_mb": rss_start / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "growth_mb": (rss_end - rss_start) / 2**20,
        "metrics_log_mb": trainer.metrics.nbytes / 2**20,
        "frames_drawn": len(frames),
        "seconds": time.perf_counter() - started,
        "trajectory_mb": trajectory,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__" and sys.argv[1:2] == ["rss"]:
    torch.set_num_threads(1)
    print(json.dumps(measure_rss(int(sys.argv[2]))))
elif __name__ == "__main__" and sys.argv[1:2] == ["rss-fed"]:
    torch.set_num_threads(1)
    print(json.dumps(measure_fed_rss(int(sys.argv[2]))), flush=True)
    os._exit(0)  # the figure is out: no Qt teardown (it crashed here once, after the measurement)
