"""Start a comparison window: training variants live (run_compare_app) or recorded runs (open_compare_app)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from lstm_viz.core.compare import Comparison, Variant
from lstm_viz.gui.app import EXIT_INTERRUPTED, SCREENSHOT_DELAY_MS, _application, _save_and_exit


def _exec(app, window, screenshot_when=None, screenshot: Path | None = None) -> int:
    from PyQt6.QtCore import QTimer

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: app.exit(EXIT_INTERRUPTED))
    screen = app.primaryScreen().availableGeometry()
    window.resize(min(1600, screen.width()), min(950, screen.height()))
    window.show()
    if screenshot is not None:
        def check() -> None:
            if screenshot_when():
                poll.stop()
                QTimer.singleShot(SCREENSHOT_DELAY_MS * 3, lambda: _save_and_exit(app, window, screenshot))

        poll = QTimer(window, interval=100, timeout=check)
        poll.start()
    try:
        return app.exec()
    finally:
        window.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run_compare_app(setting: str, variants: list[Variant], name: str, steps: int | None = None,
                    screenshot: Path | None = None, runs_dir: Path | None = None,
                    history_mb: float | None = None, speed: float | None = None,
                    paused: bool = False) -> int:  # fmt: skip
    """Train the variants in turns in one worker thread and show them side by side, at most `speed` steps/s
    (None: full speed), or open them at step 0, `paused`; the exit code."""
    app = _application()
    from lstm_viz.gui.compare.window import live_compare_window

    window = live_compare_window(Comparison(setting, variants), name, runs_dir, history_mb)
    worker = window.worker
    worker.set_speed(speed)
    target = 0 if paused else steps or 0
    if not paused:
        worker.start(until_step=target if screenshot is not None else steps)

    def done() -> bool:
        shown = window.snapshots
        return shown is not None and not shown[0].running and (
            worker.comparison.step_count >= target or worker.comparison.all_diverged
        )

    return _exec(app, window, done, screenshot)


def open_compare_app(runs: list, screenshot: Path | None = None) -> int:
    app = _application()
    from lstm_viz.gui.compare.window import open_compare_viewer

    window = open_compare_viewer(runs)
    return _exec(app, window, lambda: window.snapshots is not None, screenshot)
