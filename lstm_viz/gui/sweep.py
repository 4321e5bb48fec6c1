"""The sweep view: a sweep's final loss ÷ baseline against the swept value (the lag), one line per cell, on log
axes, with the dashed line under which a combination counts as solved. `lstm-viz open DIR` shows it in a window
(following a sweep still running), and `lstm-viz sweep` renders the same widget into DIR/sweep.png."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from lstm_viz.core.config import CELLS, ConfigError
from lstm_viz.core.runs import FINAL_LOSS_STEPS, atomic_write_bytes
from lstm_viz.core.sweep import SOLVED_RATIO, SWEEP_CSV, SweepTable, read_sweep
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.panels.plots import GREY, TEXT_COLOUR, Plot, coloured, new_graphics

PNG_SIZE = (960, 600)
LOG_SPREAD = 4.0  # a positive swept value is drawn on a log axis when its largest is at least this times its smallest
RELOAD_MS = 2000  # the window looks at sweep.csv this often, to follow a sweep still running


def cell_colour(cell: str) -> str:
    """A cell's colour, the same in every sweep (lstm blue, gru orange, rnn green, as a comparison of cells)."""
    return VARIANT_COLOURS[CELLS.index(cell) % len(VARIANT_COLOURS)] if cell in CELLS else GREY


def x_positions(labels: list[str]) -> tuple[dict[str, float], bool]:
    """Where each swept value goes on the x axis, and whether that axis is logarithmic: log10 of the values
    when they are positive numbers spread over a factor LOG_SPREAD or more, the values themselves when
    they are numbers, else their order (clip off, norm:1)."""
    try:
        numbers = {label: float(label) for label in labels}
    except ValueError:
        return {label: float(index) for index, label in enumerate(labels)}, False
    finite = [value for value in numbers.values() if math.isfinite(value)]
    if finite and min(finite) > 0 and max(finite) >= LOG_SPREAD * min(finite):
        return {label: math.log10(value) for label, value in numbers.items()}, True
    return numbers, False


def reference_line(ratio: float, text: str, pen, colour: str) -> pg.InfiniteLine:
    """A horizontal line at `ratio` on the log axis, labelled at its right end, under it."""
    options = {"position": 0.98, "color": colour, "anchors": [(1, 0), (1, 0)]}
    return pg.InfiniteLine(math.log10(ratio), angle=0, pen=pen, label=text, labelOpts=options)


class SweepView(QtWidgets.QWidget):
    """Final loss ÷ baseline against the swept value: a line with a dot per combination for each cell, the
    ratio on a log axis, a dashed line at SOLVED_RATIO and a dotted one at 1 (the no-memory baseline)."""

    def __init__(self) -> None:
        super().__init__()
        self.graphics = new_graphics()
        QtWidgets.QVBoxLayout(self).addWidget(self.graphics)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.plot = Plot(left="final loss ÷ baseline", bottom="lag", log_y=True, colorbar_space=False)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.graphics.addItem(self.plot)
        dashed, dotted = QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine
        self.solved_line = reference_line(SOLVED_RATIO, f"solved: below {SOLVED_RATIO:.0%} of the baseline",
                                          pg.mkPen("#EEEEEE", width=1.5, style=dashed), TEXT_COLOUR)  # fmt: skip
        self.baseline_line = reference_line(1.0, "baseline (no memory)", pg.mkPen(GREY, width=1, style=dotted), GREY)
        for line in (self.solved_line, self.baseline_line):
            self.plot.addItem(line, ignoreBounds=True)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.table: SweepTable | None = None

    def show_table(self, table: SweepTable) -> None:
        """Draw `table` (read_sweep's); a cell's curve is made the first time it appears, then updated."""
        self.table = table
        labels = list(dict.fromkeys(label for cell in table.cells for label in table.values[cell]))
        positions, log_x = x_positions(labels)
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(positions[label], label) for label in labels]])
        self.plot.setLabel("bottom", f"{table.axis} (log scale)" if log_x and len(labels) > 1 else table.axis)
        steps = f"after {table.steps} steps" if table.steps is not None else "at each run's end"
        averaged = min(FINAL_LOSS_STEPS, table.steps or FINAL_LOSS_STEPS)
        legend = "  ".join(coloured(f"━ {cell}", cell_colour(cell)) for cell in table.cells)
        self.plot.set_title(f"Final loss ÷ baseline {steps} (loss: the mean of the last {averaged} steps)  {legend}")
        shown_y = [math.log10(SOLVED_RATIO), 0.0]
        for cell in table.cells:
            x = np.array([positions[label] for label in table.values[cell]])  # (values,)
            ratio = table.ratios[cell]  # (values,)
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(np.isfinite(ratio) & (ratio > 0), np.log10(np.where(ratio > 0, ratio, 1.0)), np.nan)
            shown_y += [value for value in y if np.isfinite(value)]
            if cell not in self.curves:
                colour = cell_colour(cell)
                self.curves[cell] = pg.PlotDataItem(pen=pg.mkPen(colour, width=2.5), symbol="o", symbolSize=9,
                                                    symbolBrush=colour, symbolPen=colour)  # fmt: skip
                self.plot.addItem(self.curves[cell])
            self.curves[cell].setData(x, y, connect="finite")
        low, high = min(shown_y), max(shown_y)
        self.plot.setYRange(math.floor(low * 2) / 2 - 0.25, math.ceil(high * 2) / 2 + 0.25, padding=0)
        if positions:
            left, right = min(positions.values()), max(positions.values())
            margin = 0.08 * (right - left) if right > left else 0.5
            self.plot.setXRange(left - margin, right + margin, padding=0)

    def curve_points(self, cell: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, ratio) of a cell's line as drawn: x in the axis' units (log10 of the lag on a log axis)."""
        x, log_ratio = self.curves[cell].getData()
        return x, 10.0**log_ratio


def render_png(view: SweepView, path: str | Path, size: tuple[int, int] = PNG_SIZE) -> None:
    """The view, laid out at `size` without showing it on a screen, saved as a PNG (atomically)."""
    view.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(*size)
    view.show()
    QtWidgets.QApplication.processEvents()
    view.grab()  # the first pass lays out the plot; axes and title are drawn anew for that layout on the second
    view.plot.setTitle(view.plot.titleLabel.text)
    QtWidgets.QApplication.processEvents()
    image = view.grab()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ConfigError(f"cannot draw '{path}'")
    atomic_write_bytes(path, bytes(buffer.data()))
    view.hide()


def save_sweep_png(csv_path: str | Path, png_path: str | Path) -> None:
    """sweep.csv drawn as the sweep view into png_path (no window needed: set QT_QPA_PLATFORM=offscreen)."""
    from lstm_viz.gui.app import _application

    app = _application()  # kept while the view lives: a QApplication nobody holds is collected
    view = SweepView()
    view.show_table(read_sweep(csv_path))
    render_png(view, png_path)
    view.deleteLater()
    del app


class SweepWindow(QtWidgets.QMainWindow):
    """A sweep's view in a window, re-reading sweep.csv when it changes (a sweep still running is followed)."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.view = SweepView()
        self.setCentralWidget(self.view)
        self._seen = None
        self.reload()
        self._timer = QtCore.QTimer(self, interval=RELOAD_MS, timeout=self.reload)
        self._timer.start()

    def reload(self) -> None:
        path = self.folder / SWEEP_CSV
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return
        if stamp == self._seen:
            return
        try:
            table = read_sweep(path)
        except ConfigError as error:  # a damaged file: say so, keep what is shown
            self.statusBar().showMessage(str(error))
            return
        self._seen = stamp
        self.view.show_table(table)
        rows = sum(len(values) for values in table.values.values())
        solved = ", ".join(f"{cell} {int((table.ratios[cell] < SOLVED_RATIO).sum())} of {len(table.ratios[cell])}"
                           for cell in table.cells)  # fmt: skip
        self.setWindowTitle(f"lstm_viz sweep: {self.folder}")
        self.statusBar().showMessage(
            f"{rows} combinations finished · solved: {solved or 'none yet'} · "
            f"one run: lstm-viz open {self.folder / '<run>'} (the run column of {SWEEP_CSV})"
        )


def open_sweep_app(folder: str | Path, screenshot: Path | None = None) -> int:
    """A window on the sweep in `folder`; screenshot: save a PNG of the window once drawn, and quit."""
    import signal
    import threading

    from lstm_viz.gui.app import EXIT_INTERRUPTED, SCREENSHOT_DELAY_MS, _application, _save_and_exit

    app = _application()
    window = SweepWindow(folder)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: app.exit(EXIT_INTERRUPTED))
    window.resize(1000, 680)
    window.show()
    if screenshot is not None:
        QtCore.QTimer.singleShot(SCREENSHOT_DELAY_MS * 3, lambda: _save_and_exit(app, window, screenshot))
    try:
        return app.exec()
    finally:
        window.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
