"""Soak: the window training at full speed for a long time; memory and frame rate as JSON lines.

    python -m benchmarks.soak --minutes 20 --preset names [--every 60] [--out soak.jsonl]

Opens the real MainWindow (offscreen unless QT_QPA_PLATFORM or a display says otherwise; under
xvfb-run it paints for real), starts training and, at the start, every `--every` seconds and
at the end, prints one JSON object per line:

    t_s, step, steps_per_s, frames_per_s (drawn frames over the last interval), rss_mb (now),
    max_rss_mb (peak so far), load_avg (1 min), message (the window's message, if any)

The last line adds "summary": the first and last interval's rates and RSS, and their changes.
Not part of the test suite: a long run is the point.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import torch  # before Qt, as the app does


def rss_mb() -> float:
    """Resident set size now, from /proc (Linux); the peak where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return max_rss_mb()


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--preset", default="names")
    parser.add_argument("--every", type=float, default=60.0, metavar="SECONDS", help="seconds between lines")
    parser.add_argument("--out", help="also append the lines to this file")
    args = parser.parse_args(argv)

    if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    torch.set_num_threads(1)  # as run_app: the worker trains on one core, the GUI keeps the other
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from lstm_viz.core.config import load_preset
    from lstm_viz.gui.app import configure_pyqtgraph
    from lstm_viz.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_pyqtgraph()
    window = MainWindow(load_preset(args.preset))
    window.resize(1600, 900)
    window.show()
    frames = [0]
    window.drawn.connect(lambda: frames.__setitem__(0, frames[0] + 1))
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115 (closed below)

    started = time.perf_counter()
    previous = {"time": started, "frames": 0, "step": 0}
    lines: list[dict] = []

    def report() -> None:
        now = time.perf_counter()
        snapshot = window.last_snapshot
        step = snapshot.step if snapshot is not None else 0
        elapsed = max(now - previous["time"], 1e-9)
        line = {
            "t_s": round(now - started, 1),
            "step": step,
            "steps_per_s": round((step - previous["step"]) / elapsed, 1),
            "frames_per_s": round((frames[0] - previous["frames"]) / elapsed, 1),
            "rss_mb": round(rss_mb(), 1),
            "max_rss_mb": round(max_rss_mb(), 1),
            "load_avg": round(os.getloadavg()[0], 2),
            "message": snapshot.message if snapshot is not None else "",
        }
        previous.update(time=now, frames=frames[0], step=step)
        lines.append(line)
        emit(line)

    def emit(line: dict) -> None:
        text = json.dumps(line)
        print(text, flush=True)
        if out is not None:
            out.write(text + "\n")
            out.flush()

    def finish() -> None:
        report()
        window.close()  # stops the worker thread
        first, last = lines[1] if len(lines) > 2 else lines[0], lines[-1]  # lines[0] is the warm-up
        emit(
            {
                "summary": {
                    "preset": args.preset,
                    "minutes": round((time.perf_counter() - started) / 60, 2),
                    "steps": last["step"],
                    "first_interval": {k: first[k] for k in ("t_s", "steps_per_s", "frames_per_s", "rss_mb")},
                    "last_interval": {k: last[k] for k in ("t_s", "steps_per_s", "frames_per_s", "rss_mb")},
                    "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
                    "frames_per_s_change": round(last["frames_per_s"] - first["frames_per_s"], 1),
                    "worker_stopped_on_close": not window.worker.is_alive,
                }
            }
        )
        app.quit()

    warmup_s = min(5.0, args.every)  # the first line: once the window has drawn for a few seconds
    QTimer.singleShot(int(warmup_s * 1000), report)
    ticker = QTimer()
    ticker.timeout.connect(report)
    QTimer.singleShot(int(warmup_s * 1000), lambda: ticker.start(int(args.every * 1000)))
    QTimer.singleShot(int(args.minutes * 60 * 1000), finish)
    window.worker.start()
    app.exec()
    ticker.stop()
    if out is not None:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
