"""Training panel: loss, global gradient norm (before and after clipping) and gradient
norms per block against the training step, all on log axes.

Built for runs of 100k steps redrawn several times a second: the curves hold log10 of
the metrics (the axes label them as a log scale), computed only for the rows that are new
since the last update; pyqtgraph downsamples them to the screen ('peak' keeps spikes) and
clips them to the view; clip events are thinned to at most MAX_CLIP_MARKS markers.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from lstm_viz.core.curves import KEEP_ROWS, MetricsFile
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.gui.panels.base import Panel
from lstm_viz.gui.panels.plots import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    YELLOW,
    DeviceMarks,
    Plot,
    coloured,
    tick_font,
)

MAX_CLIP_MARKS = 500  # more clip events than this: one marker per bin of steps
MIN_STEP_SPAN = 10  # the step axis spans at least 0..10: whole steps, also at step 0
EMPTY_LOG_RANGE = (-1.0, 1.0)  # a plot with nothing in it yet shows 0.1 .. 10
GROUP_COLOURS = (SKY, ORANGE, GREEN, PURPLE, YELLOW, BLUE, VERMILLION, GREY)
EVENT_COLOURS = {"change": GREEN, "diverged": VERMILLION, "load": "#E8E8E8", "fork": "#E8E8E8"}  # "end" is not drawn
CURSOR_COLOUR = "#FFFFFF"


def block_group(block_name: str) -> str:
    """'l0.W_ih.f' and 'l1r.W_hh.f' -> 'W·f'; 'l0.b_ih' -> 'bias'; 'head.weight' -> 'head'."""
    parts = block_name.split(".")
    if parts[0] == "head":
        return "head"
    return "bias" if parts[1].startswith("b_") else "W·" + parts[2]


def group_blocks(block_names: tuple[str, ...]) -> dict[str, list[str]]:
    """Blocks per group: gate weights in the trainer's order, then biases, then the head."""
    groups: dict[str, list[str]] = {}
    for name in block_names:
        groups.setdefault(block_group(name), []).append(name)
    order = [g for g in groups if g.startswith("W·")] + [g for g in ("bias", "head") if g in groups]
    return {group: groups[group] for group in order}


def clip_marks(steps: np.ndarray, clipped: np.ndarray, limit: int = MAX_CLIP_MARKS) -> np.ndarray:
    """Indices of the clipped steps to mark: all of them, or the first of each of `limit` bins."""
    indices = np.flatnonzero(clipped > 0.5)
    if len(indices) <= limit:
        return indices
    first, last = steps[indices[0]], steps[indices[-1]]
    bins = ((steps[indices] - first) * (limit - 1) // max(last - first, 1)).astype(np.int64)
    _, first_in_bin = np.unique(bins, return_index=True)
    return indices[first_in_bin]


def _log_plot(left: str, bottom: str = "") -> Plot:
    """A plot for log10 values: its items plot log10 data, its value axis labels powers of ten."""
    plot = Plot(left, bottom, log_y=True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    return plot


def _curve(plot: pg.PlotItem, colour: str) -> pg.PlotDataItem:
    """Thousands of segments: no antialiasing, and downsampled to a bin per pixel (its minimum and
    maximum: 'peak' keeps spikes), which looks the same as all the points and draws 5x faster.
    log10 values are never huge: no clipping to the view's height, which would redo the curve
    whenever the y range moves."""
    return plot.plot(pen=pg.mkPen(colour, width=1), antialias=False, autoDownsampleFactor=1.0, dynamicRangeLimit=None)


def _reference_line(plot: pg.PlotItem, colour: str, style=QtCore.Qt.PenStyle.DashLine) -> pg.InfiniteLine:
    """A dashed horizontal line that the auto-range keeps in view; the plot's title names it in its colour
    (a label on the line would cover the curves of a short plot)."""
    line = pg.InfiniteLine(angle=0, pen=pg.mkPen(colour, width=1.5, style=style))
    plot.addItem(line)
    return line


def _place_on_log_axis(line: pg.InfiniteLine, value: float | None) -> bool:
    """Put the line at log10(value) and show it, if the value is positive and finite; else hide it."""
    shown = value is not None and value > 0 and math.isfinite(value)
    line.setValue(math.log10(value) if shown else 0.0)
    line.setVisible(shown)
    return shown


def event_label(kind: str, text: str) -> str:
    """The short label of an event on the step axis: the settings a change changed ('lr', 'lr, clip'), 'load',
    'fork'; none for a divergence (its own line is labelled)."""
    if kind == "change":
        return ", ".join(dict.fromkeys(re.findall(r"(?:^|, )([a-z_]+) ", text))) or "change"
    return "" if kind == "diverged" else kind


class StepMarks(DeviceMarks):
    """Dashed vertical lines across a plot at some steps (events), each in its colour, with a short label at the
    top that is left out where it would overlap the one before; hovering near a line shows its full text.
    Its marks: (step, colour, label, full text)."""

    HOVER_PIXELS = 5

    def __init__(self, labels: bool = True) -> None:
        super().__init__()
        self.labels = labels
        self.marks: list[tuple[int, str, str, str]] = []
        self.setAcceptHoverEvents(True)
        self.setZValue(5)  # over the curves

    def paint_marks(self, painter, device_x, box) -> None:
        painter.setFont(tick_font(9))
        metrics = QtGui.QFontMetricsF(painter.font())
        free_from = -math.inf  # labels are drawn left to right where they do not overlap
        for step, colour, label, _ in self.marks:
            x = device_x(step)
            if not box.left() - 1 <= x <= box.right() + 1:
                continue
            painter.setPen(pg.mkPen(colour, width=1, style=QtCore.Qt.PenStyle.DashLine))
            painter.drawLine(QtCore.QLineF(x, box.top(), x, box.bottom()))
            if self.labels and label and x + 3 >= free_from:
                painter.setPen(pg.mkPen(colour))
                painter.drawText(QtCore.QPointF(x + 3, box.top() + metrics.ascent() + 1), label)
                free_from = x + 3 + metrics.horizontalAdvance(label) + 6

    def text_near(self, step: float) -> str:
        """The full text of the marks within HOVER_PIXELS of `step` (in steps), or ""."""
        reach = self.HOVER_PIXELS * (self.pixelWidth() or 0.0)
        return "\n".join(text for mark_step, _, _, text in self.marks if abs(mark_step - step) <= reach)

    def hoverEvent(self, event) -> None:  # noqa: N802 (pyqtgraph's name)
        self.setToolTip("" if event.isExit() else self.text_near(event.pos().x()))


def log10_or_gap(values: np.ndarray) -> np.ndarray:
    """log10 of positive values; NaN (a gap in the curve) for 0, negative, NaN or inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values)
    logs[~np.isfinite(logs)] = np.nan
    return logs


class LogSeries:
    """log10 of per-step series, in buffers that grow with the run: an update computes only
    the rows appended since the last one (metrics only grow), or all after a reset."""

    def __init__(self) -> None:
        self.rows = 0
        self.last_step = None
        self.names: tuple[str, ...] = ()
        self._buffers: dict[str, np.ndarray] = {}

    def update(self, steps: np.ndarray, names: tuple[str, ...], series, restart: bool = False) -> dict[str, np.ndarray]:
        """`series(start)` -> {name: values of rows start..} for `names`; returns {name: log10 of all rows}.
        restart: these are another run's rows (all are computed, even if the same steps are there)."""
        rows = len(steps)
        appended = (
            not restart and names == self.names and 0 < self.rows <= rows and steps[self.rows - 1] == self.last_step
        )
        start = self.rows if appended else 0
        for name, values in series(start).items():
            buffer = self._buffers.get(name)
            if buffer is None or len(buffer) < rows:
                grown = np.empty(max(rows, min(max(1024, 2 * rows), 2 * KEEP_ROWS)))  # trainers keep ≤ 2 × KEEP_ROWS
                if start:
                    grown[:start] = buffer[:start]
                self._buffers[name] = buffer = grown
            buffer[start:rows] = log10_or_gap(values)
        self.rows, self.names = rows, names
        self.last_step = steps[-1] if rows else None
        return {name: self._buffers[name][:rows] for name in names}


DETAIL_STEPS = 20_000  # zoomed into the older steps with at most this many in view: their rows from metrics.csv


class OlderSteps:
    """A long run's steps before the ones its trainer keeps at full detail (core/curves.py): their min-max
    envelope as curves (a bucket's minimum at its first step, its maximum at its last: a spike stays in view),
    or, zoomed in to at most DETAIL_STEPS of them, the exact rows from the run's metrics.csv."""

    def __init__(self) -> None:
        self.envelope = None
        self.groups: dict[str, list[str]] = {}
        self.file: MetricsFile | None = None
        self._envelope_curves: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._detail: tuple[float, float, np.ndarray, dict[str, np.ndarray]] | None = None  # first, last, rows
        self._first_kept: float | None = None

    def set(self, envelope, groups: dict[str, list[str]], run_dir: str, new_run: bool) -> None:
        if envelope is not self.envelope or groups != self.groups:
            self.envelope, self.groups, self._envelope_curves = envelope, groups, None
        path = Path(run_dir) / "metrics.csv" if run_dir else None
        if new_run or (self.file.path if self.file else None) != path:
            self.file, self._detail = (MetricsFile(path) if path else None), None

    def _columns(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """log10 of the curves' columns (a group's norm from its blocks' norms: from their maxima, an upper
        bound; from their minima, a lower one), and 'clipped'."""
        curves = {name: log10_or_gap(columns[name]) for name in ("loss", "grad_norm", "grad_norm_clipped")}
        for group, names in self.groups.items():
            curves[group] = log10_or_gap(np.sqrt(sum(columns[name] ** 2 for name in names)))
        curves["clipped"] = columns["clipped"]
        return curves

    def _from_envelope(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if self._envelope_curves is None:
            envelope = self.envelope
            lows, highs = self._columns(envelope.minimum), self._columns(envelope.maximum)
            steps = np.stack([envelope.minimum["step"], envelope.maximum["step"]], axis=1).ravel()  # (2 buckets,)
            curves = {name: np.stack([lows[name], highs[name]], axis=1).ravel() for name in lows}
            curves["clipped"] = np.repeat(highs["clipped"], 2)  # a bucket with a clipped step: marked at its start
            curves["clipped"][1::2] = 0.0
            self._envelope_curves = steps, curves
        return self._envelope_curves

    def _wanted_range(self, view: tuple[float, float]) -> tuple[float, float] | None:
        """The older steps to read from metrics.csv for this view (None: the envelope will do)."""
        first, last = view
        if self.envelope is None or self.file is None or self._first_kept is None or first >= self._first_kept:
            return None
        if last - first > DETAIL_STEPS:
            return None
        span = last - first
        return max(first - span, 1.0), min(last + span, self._first_kept - 1)

    def _has_rows_for(self, view: tuple[float, float]) -> bool:
        """The rows read last cover the older steps in this view."""
        detail = self._detail
        return detail is not None and detail[0] <= view[0] and min(view[1], self._first_kept - 1) <= detail[1]

    def wants_redraw(self, view: tuple[float, float]) -> bool:
        if self._wanted_range(view) is None:
            return self._detail is not None
        return not self._has_rows_for(view)

    def curves(self, view: tuple[float, float], first_kept: float | None) -> tuple[np.ndarray | None, dict]:
        """(steps, name -> values) of the older steps to draw before the kept ones; (None, {}) if there are none."""
        self._first_kept = first_kept
        if self.envelope is None or not len(self.envelope):
            return None, {}
        steps, curves = self._from_envelope()
        wanted = self._wanted_range(view)
        if wanted is None:
            self._detail = None
            return steps, curves
        if not self._has_rows_for(view):
            rows = self.file.read_rows(*wanted)
            if not len(rows.get("step", ())):
                return steps, curves
            self._detail = (*wanted, rows["step"], self._columns(rows))
        first, last, detail_steps, detail = self._detail
        before, after = steps < first, steps > last  # envelope points outside the rows read
        return np.concatenate([steps[before], detail_steps, steps[after]]), {
            name: np.concatenate([values[before], detail[name], values[after]]) for name, values in curves.items()
        }


class TrainingPanel(Panel):
    """unit_clicked is never emitted and time_plot is None: the x axis is the training step."""

    def __init__(self) -> None:
        super().__init__()

        self.loss_plot = _log_plot("loss")
        self.loss_curve = _curve(self.loss_plot, SKY)
        self.baseline_line = _reference_line(self.loss_plot, YELLOW)
        self.no_input_line = _reference_line(self.loss_plot, GREY, style=QtCore.Qt.PenStyle.DotLine)  # fainter
        self.diverged_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(VERMILLION, width=1.5))
        self.diverged_line.label = pg.InfLineLabel(
            self.diverged_line, position=0.95, anchors=[(1, 0), (1, 0)], color=VERMILLION
        )
        self.diverged_line.label.setFont(tick_font())
        self.loss_plot.addItem(self.diverged_line, ignoreBounds=True)
        self.diverged_line.hide()

        self.grad_plot = _log_plot("‖∇‖")
        self.grad_curve = _curve(self.grad_plot, SKY)
        self.clipped_grad_curve = _curve(self.grad_plot, ORANGE)
        self.clip_marks = self.grad_plot.plot(
            pen=None, symbol="t", symbolSize=6, symbolPen=None, symbolBrush=pg.mkBrush(PURPLE)
        )
        for plot, curve, name in (
            (self.loss_plot, self.loss_curve, "loss"),
            (self.grad_plot, self.grad_curve, "‖∇‖ before clipping"),
            (self.grad_plot, self.clipped_grad_curve, "‖∇‖ after clipping"),
            (self.grad_plot, self.clip_marks, "‖∇‖ clipped"),
        ):
            plot.name_curve(curve, name)  # in the hover read-out
        self.threshold_line = _reference_line(self.grad_plot, YELLOW)

        self.block_plot = _log_plot("‖∇‖", bottom="training step")
        self.block_curves: dict[str, pg.PlotDataItem] = {}
        self.block_groups: dict[str, list[str]] = {}
        self.series = LogSeries()
        self._older = OlderSteps()  # a long run's steps before those kept at full detail
        self._kept: tuple | None = None  # (steps, name -> log10, clipped) of the steps kept at full detail
        self._drawn = None  # (rows, last step, block names) on the curves
        self._last_row = None  # (rows, step, loss) of the last row drawn: is the next snapshot the same run?

        # A task with a test set (digits): its accuracy every few steps, under the loss; laid out only for such a task.
        self.accuracy_plot = Plot("")  # in percent; its title says what it is (a short plot has no room for a label)
        self.accuracy_curve = self.accuracy_plot.plot(
            pen=pg.mkPen(GREEN, width=1.5), symbol="o", symbolSize=4, symbolPen=None, symbolBrush=pg.mkBrush(GREEN)
        )
        self.accuracy_plot.name_curve(self.accuracy_curve, "test accuracy %")
        self.accuracy_plot.getAxis("left").setTickSpacing(50, 10)  # a short plot: 0, 50, 100 and 10s where room
        self._accuracy_shown: bool | None = None

        self.plots = (self.loss_plot, self.accuracy_plot, self.grad_plot, self.block_plot)
        # The recorded step shown (not live) and the run's events: created once, moved and set in place.
        self.cursors = [pg.InfiniteLine(angle=90, pen=pg.mkPen(CURSOR_COLOUR, width=1.5)) for _ in self.plots]
        self.cursors[0].label = pg.InfLineLabel(
            self.cursors[0], position=0.04, anchors=[(0, 1), (0, 1)], color=CURSOR_COLOUR, fill=(0, 0, 0, 190)
        )
        self.cursors[0].label.setFont(tick_font())
        self.event_marks = [StepMarks(labels=plot is self.loss_plot) for plot in self.plots]
        for plot, cursor, marks in zip(self.plots, self.cursors, self.event_marks, strict=True):
            plot.addItem(marks, ignoreBounds=True)
            plot.addItem(cursor, ignoreBounds=True)
            cursor.hide()
        for plot in self.plots:
            if plot is not self.loss_plot:
                plot.setXLink(self.loss_plot)
            if plot is not self.block_plot:
                plot.hideAxis("bottom")  # the lowest plot's axis shows the steps; room for the curves
            plot.vb.min_span[0] = MIN_STEP_SPAN
        self.loss_plot.vb.sigXRangeChanged.connect(self._zoomed)
        self._show_accuracy(False)

    def _show_accuracy(self, shown: bool) -> None:
        """Lay the plots out one under the other, the test accuracy's under the loss if `shown`."""
        if shown == self._accuracy_shown:
            return
        self._accuracy_shown = shown
        self.graphics.ci.clear()
        layout = self.graphics.ci.layout
        for row, plot in enumerate(plot for plot in self.plots if shown or plot is not self.accuracy_plot):
            self.graphics.addItem(plot, row=row, col=0)
            layout.setRowStretchFactor(row, 3 if plot is self.loss_plot else 2)  # the loss matters most
        if not shown:
            layout.setRowStretchFactor(len(self.plots) - 1, 0)
        self.fit_minimum_height()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        metrics = snapshot.metrics
        steps = metrics["step"]  # (N,)
        groups = group_blocks(snapshot.block_names)
        if groups != self.block_groups:
            self._rebuild_block_curves(groups)

        plain = ("loss", "grad_norm", "grad_norm_clipped")

        def series(start: int) -> dict[str, np.ndarray]:
            columns = {name: metrics[name][start:] for name in plain}
            for group, names in groups.items():  # the norm of a group is the norm of its blocks' norms
                columns[group] = np.sqrt(sum(metrics[name][start:] ** 2 for name in names))
            return columns

        new_run = not self._continues_run(metrics)
        drawn = (len(steps), steps[-1] if len(steps) else None, snapshot.block_names)
        if new_run or drawn != self._drawn:  # paused: the same rows again, nothing to redraw (costly at 100k steps)
            self._drawn = drawn
            logs = self.series.update(steps, plain + tuple(groups), series, restart=new_run)  # name -> log10 (N,)
            self._older.set(snapshot.metrics_envelope, groups, snapshot.run_dir, new_run)
            self._kept = (steps, logs, metrics["clipped"])
            self._draw_curves()

        self._draw_accuracy(metrics)
        baseline, no_input = snapshot.baseline_loss, snapshot.no_input_loss
        has_baseline = _place_on_log_axis(self.baseline_line, baseline)
        has_no_input = _place_on_log_axis(self.no_input_line, no_input)
        short_name = snapshot.baseline_name.split(" (")[0]  # "no memory": the rest is in the tooltip
        baseline_name = f" · baseline {baseline:.3g}: {html.escape(short_name)}"
        self.loss_plot.setToolTip(f"baseline: {snapshot.baseline_name}" if has_baseline else "")
        self.loss_plot.set_title(
            "training loss"
            + (coloured(baseline_name, YELLOW) if has_baseline else "")
            + (coloured(f" · no input {no_input:.3g}", GREY) if has_no_input else "")
        )
        clip = snapshot.config.clip
        clipping = clip.mode == "norm"
        self.threshold_line.setValue(math.log10(clip.threshold) if clipping else 0.0)
        self.threshold_line.setVisible(clipping)
        threshold = coloured(f" · clip at {clip.threshold:g}", YELLOW) if clipping else ""
        self.grad_plot.set_title(
            f"gradient norm {coloured('before', SKY)} / {coloured('after clipping', ORANGE)}"
            f"{coloured(' ▼ clipped', PURPLE)}{threshold}"
        )
        diverged = snapshot.diverged_at_step
        if diverged is not None:
            self.diverged_line.setValue(diverged)
            self.diverged_line.label.setFormat(f"diverged at step {diverged}")
        self.diverged_line.setVisible(diverged is not None)
        for plot in self.plots:
            if new_run:  # after a reset, a new model or a loaded checkpoint: fit the axes to this run, not the last
                plot.vb.forget((0, MIN_STEP_SPAN), EMPTY_LOG_RANGE)
            plot.settle()

    def _draw_curves(self) -> None:
        """The curves: the steps before the kept ones (their envelope, or zoomed in, their rows from metrics.csv),
        then the kept steps at full detail."""
        if self._kept is None:
            return
        steps, logs, clipped = self._kept
        older_steps, older = self._older.curves(self.loss_plot.vb.viewRange()[0], steps[0] if len(steps) else None)
        if older_steps is not None:
            steps = np.concatenate([older_steps, steps])  # (older + N,)
            logs = {name: np.concatenate([older[name], values]) for name, values in logs.items()}
            clipped = np.concatenate([older["clipped"], clipped])
        self.loss_curve.setData(steps, logs["loss"])
        self.grad_curve.setData(steps, logs["grad_norm"])
        self.clipped_grad_curve.setData(steps, logs["grad_norm_clipped"])
        marks = clip_marks(steps, clipped)
        self.clip_marks.setData(steps[marks], logs["grad_norm"][marks])
        for group, curve in self.block_curves.items():
            curve.setData(steps, logs[group])

    def _zoomed(self) -> None:
        """The step range shown changed: older steps come from metrics.csv when few enough are in view."""
        if self._older.wants_redraw(self.loss_plot.vb.viewRange()[0]):
            self._draw_curves()

    def _draw_accuracy(self, metrics: dict[str, np.ndarray]) -> None:
        """The test accuracy at the steps it was measured (a metrics column, NaN on the other steps), if any."""
        accuracy = metrics.get("test_accuracy")
        self._show_accuracy(accuracy is not None)
        if accuracy is None:
            return
        measured = np.isfinite(accuracy)  # (N,)
        steps, percent = metrics["step"][measured], 100 * accuracy[measured]
        self.accuracy_curve.setData(steps, percent)
        last = f": {coloured(f'{percent[-1]:.1f}%', GREEN)} at step {steps[-1]:.0f}" if len(steps) else ""
        self.accuracy_plot.set_title(f"test accuracy{last}")

    def _continues_run(self, metrics: dict[str, np.ndarray]) -> bool:
        """Whether `metrics` go on from the rows drawn last (the last of them is still there, the same),
        rather than being another run's: a reset or a new model starts at step 0 again, and a loaded
        checkpoint has its own history, at the same steps or not."""
        steps, losses = metrics["step"], metrics["loss"]
        previous = self._last_row
        self._last_row = (len(steps), steps[-1], losses[-1]) if len(steps) else (0, None, None)
        if previous is None:
            return False
        rows, step, loss = previous
        if rows == 0:
            return True  # nothing drawn yet: nothing to forget
        row = int(np.searchsorted(steps, step))  # a long run drops its oldest rows: where that step is now
        return row < len(steps) and steps[row] == step and losses[row].tobytes() == loss.tobytes()

    def show_cursor(self, step: int | None) -> None:
        """A vertical line at the recorded step shown, or none (live)."""
        for cursor in self.cursors:
            if step is not None:
                cursor.setValue(step)
            cursor.setVisible(step is not None)
        if step is not None:
            self.cursors[0].label.setFormat(f"step {step}")

    def show_events(self, events) -> None:
        """Mark the run's events (history.Event: step, kind, text) on the step axis."""
        marks = [
            (event.step, EVENT_COLOURS[event.kind], event_label(event.kind, event.text), _event_text(event))
            for event in events
            if event.kind in EVENT_COLOURS
        ]
        for item in self.event_marks:
            item.set_marks(marks)

    def _rebuild_block_curves(self, groups: dict[str, list[str]]) -> None:
        for curve in self.block_curves.values():
            self.block_plot.removeItem(curve)
        self.block_groups = groups
        self.block_curves = {}
        names = []
        for index, group in enumerate(groups):
            colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
            self.block_curves[group] = _curve(self.block_plot, colour)
            self.block_plot.name_curve(self.block_curves[group], f"‖∇‖ of {group}")
            names.append(coloured(group, colour))
        self.block_plot.set_title("gradient norm per block: " + " ".join(names))


def _event_text(event) -> str:
    what = {"change": "changed", "diverged": "diverged", "load": "loaded", "fork": "forked"}.get(event.kind, event.kind)
    return f"step {event.step}: {what}" + (f": {event.text}" if event.text else "")
