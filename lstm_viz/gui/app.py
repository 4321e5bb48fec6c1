"""Start the application: torch first, then Qt; one window training `config` at once (run_app), or showing a
recorded run read-only (open_app)."""

from __future__ import annotations

import gc
import signal
import sys
import threading
import traceback
from pathlib import Path

import torch  # before the QApplication exists, as the design asks

from lstm_viz.core.config import ConfigError, RunConfig

EXIT_BAD_INPUT, EXIT_INTERRUPTED = 2, 130
SCREENSHOT_DELAY_MS = 100  # lets the layout settle after the last snapshot is drawn


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options every panel is written for: images are (rows, columns)."""
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")


def _application():
    torch.set_num_threads(1)  # the worker trains on one core; the GUI keeps the other
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("lstm_viz")
    configure_pyqtgraph()
    from PyQt6.QtCore import QTimer

    QTimer.singleShot(0, enable_gc_after_startup)  # the first thing the event loop does
    return app


def enable_gc_after_startup() -> None:
    """The collector, off while the window started (cli.main), on again; the ~300k objects of torch, Qt and
    pyqtgraph loaded meanwhile live as long as the app: frozen, so no full collection ever walks them."""
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()


def run_app(
    config: RunConfig,
    steps: int | None = None,
    screenshot: Path | None = None,
    runs_dir: Path | None = None,
    history_mb: float | None = None,
    lecture: bool = False,
    speed: float | None = None,
    paused: bool = False,
) -> int:
    """Open the window on `config` and train; the exit code.

    steps: pause after this many steps. screenshot: once `steps` (default 0) steps are
    trained and drawn, save a PNG of the whole window there and quit. runs_dir: every run
    trained in the window is recorded in a folder of its own under it (None: not recorded),
    with history_mb the size budget of its history. lecture: open in lecture mode. speed: at most this many
    steps a second (None: full speed). paused: open at step 0, paused, whatever `steps` says (Start trains).
    A screenshot is taken of the default layout (or lecture mode's), not the one remembered from the last
    launch, and remembers nothing.
    """
    app = _application()
    from PyQt6.QtCore import QTimer

    from lstm_viz.gui.main_window import MainWindow

    try:
        window = MainWindow(config, runs_dir=runs_dir, history_mb=history_mb, remember_view=screenshot is None,
                            speed=speed)  # fmt: skip
    except ConfigError as error:
        print(f"lstm-viz: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def report_bug(kind, error, trace) -> None:
        """A bug in a slot is printed and shown in the window; the app goes on."""
        traceback.print_exception(kind, error, trace)
        window.show_message(f"Internal error: {kind.__name__}: {error} (details on the terminal)")

    def interrupt(*_) -> None:
        app.exit(EXIT_INTERRUPTED)

    previous_hook = sys.excepthook
    sys.excepthook = report_bug
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupt)  # the window's 30 fps timer gives Python the chance to run it
    if lecture:
        window.set_lecture_mode(True)
    window.show()
    if screenshot is not None:
        target = 0 if paused else steps or 0

        def save_when_done() -> None:
            snapshot = window.last_snapshot
            if snapshot.running or (snapshot.step < target and not snapshot.message):
                return
            window.drawn.disconnect(save_when_done)
            QTimer.singleShot(SCREENSHOT_DELAY_MS, save)

        def save() -> None:
            _save_and_exit(app, window, screenshot)

        window.drawn.connect(save_when_done)
        if not paused:
            window.worker.start(until_step=target)
    elif not paused:
        window.worker.start(until_step=steps)
    try:
        code = app.exec()
    finally:
        window.close()  # stops the worker thread
        sys.excepthook = previous_hook
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return code


def _save_and_exit(app, window, screenshot: Path) -> None:
    saved = window.grab().save(str(screenshot))
    if not saved:
        print(f"lstm-viz: error: cannot save screenshot '{screenshot}'", file=sys.stderr)
    app.exit(0 if saved else EXIT_BAD_INPUT)


def open_app(run, step: int | None = None, screenshot: Path | None = None, lecture: bool = False) -> int:
    """Open the window on a recorded run (history.Run), read-only, at `step` or at its newest record,
    following it while its writer goes on; the exit code. screenshot: save a PNG of the window once
    that step is drawn, and quit (of the default layout, remembering nothing). lecture: in lecture mode."""
    app = _application()
    from PyQt6.QtCore import QTimer

    from lstm_viz.gui.main_window import open_viewer

    try:
        window = open_viewer(run, step, remember_view=screenshot is None)
    except ConfigError as error:
        print(f"lstm-viz: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    previous_hook = sys.excepthook

    def report_bug(kind, error, trace) -> None:
        traceback.print_exception(kind, error, trace)
        window.show_message(f"Internal error: {kind.__name__}: {error} (details on the terminal)")

    sys.excepthook = report_bug
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: app.exit(EXIT_INTERRUPTED))
    if lecture:
        window.set_lecture_mode(True)
    window.show()
    if screenshot is not None:  # the first frame is drawn already: let the layout settle, then save
        QTimer.singleShot(SCREENSHOT_DELAY_MS * 3, lambda: _save_and_exit(app, window, screenshot))
    try:
        code = app.exec()
    finally:
        window.close()
        sys.excepthook = previous_hook
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return code
