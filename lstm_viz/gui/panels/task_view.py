"""Task view: what the network does with the probe sequence, in the task's own terms.

sine:   input, target and prediction over t, and the free-running rollout (the net fed its
        own predictions from rollout_start on).
chars:  the probability the net gives each actual next character; the probe text written out, each
        character coloured by the selected unit's h_t, c_t or a gate (text_view.TextView); a sample at the
        set temperature.
adding: the input values with the two marked ones highlighted, the net's output at every
        step against the target (only the last step counts).
copy:   the probability the net gives the right output at each step (blank, then the 10 symbols after
        the delimiter ▶), the selected unit's h_t (and tanh c_t) under the inputs, and the probe's input,
        target and output (argmax) symbols under each other, each output green if right, red if not.
digits: the probe image, its rows lit in turn in the order the directions read them (one row per
        timestep), the class probabilities, and the test set's confusion matrix (every evaluation).
own:    a run recorded from your own module (lstm_viz.Recorder): what its probe_output= gave, over t
        if it is per timestep (T, O), else as numbers; without probe_output the dock is hidden.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from lstm_viz.core.config import OWN_TASK
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.core.tasks.copy import BLANK, COPY_LENGTH, symbol_label
from lstm_viz.gui.panels.base import TracePanel
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, TANH_LEVELS, Heatmap
from lstm_viz.gui.panels.plots import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    SKY,
    TEXT_COLOUR,
    VERMILLION,
    YELLOW,
    BoldCurve,
    Plot,
    TimePlot,
    coloured,
    follow_scale,
    font_scale,
    tick_font,
)
from lstm_viz.gui.panels.text_view import TextView

DASHED = QtCore.Qt.PenStyle.DashLine


TEXT_LINES = {"sine": 2, "adding": 3, "chars": 3, "copy": 5, "digits": 3, OWN_TASK: 2}  # fixed height, in lines
TEXT_MARGINS = (8, 4, 8, 4)  # left, top, right, bottom
TEXT_POINTS = 12  # the text under the plots, at font scale 1
NEWLINE = coloured("⏎", GREY)  # a sample's newlines, as the probe's axis shows them: no line breaks
OWN_COLOURS = (SKY, ORANGE, GREEN, YELLOW, BLUE, VERMILLION)  # the first outputs of a recorded module, over t
RIGHT, WRONG = GREEN, VERMILLION  # a copied symbol, a class
SWEEP_MS = 600  # digits: the lit row moves on to the next timestep this often
CLASSES = 10


def class_ticks(cell_pixels: float, label_pixels: float) -> list[list[tuple[int, str]]]:
    """An axis's class numbers, every k-th (k of 1, 2, 5, 10) so that they stand at least label_pixels apart."""
    every = next((k for k in (1, 2, 5) if k * cell_pixels >= label_pixels), CLASSES)
    return [[(value, str(value)) for value in range(0, CLASSES, every)]]


def target_probability(trace) -> np.ndarray:
    """(T,) the probability the net gives the target at each timestep of the probe (a class task: chars' next
    character, copy's right output), the softmax of its output."""
    logits = np.asarray(trace.probe_output, dtype=np.float64)  # (T, V)
    logits = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # (T, V)
    targets = np.asarray(trace.probe_target).astype(np.int64)  # (T,)
    return probabilities[np.arange(len(targets)), targets]


def copy_rows(trace) -> list[tuple[str, list[tuple[str, str]]]]:
    """The copy probe as three rows of (text, colour) cells: input, target and output (the argmax at each step;
    RIGHT where it is the target, WRONG where not). The gap's blanks are one cell "·×n" (n = T − 1 steps); in the
    output row it is RIGHT if every step of the gap is blank, else it says how many are not ("3 off")."""
    inputs = np.asarray(trace.probe_input, dtype=np.int64)  # (T+20,)
    targets = np.asarray(trace.probe_target, dtype=np.int64)  # (T+20,)
    outputs = np.asarray(trace.probe_output).argmax(axis=1)  # (T+20,)
    length = len(inputs)
    gap = slice(COPY_LENGTH, length - COPY_LENGTH - 1)  # the blanks between the symbols and the delimiter
    gap_steps = gap.stop - gap.start
    rows = []
    for name, values in (("input", inputs), ("target", targets), ("output", outputs)):

        def cell(t, values=values, name=name):
            colour = (RIGHT if outputs[t] == targets[t] else WRONG) if name == "output" else TEXT_COLOUR
            return symbol_label(int(values[t])), colour

        cells = [cell(t) for t in range(gap.start)]
        if gap_steps:
            gap_text = f"{symbol_label(BLANK)}×{gap_steps}"
            if name == "output":
                wrong = int((outputs[gap] != targets[gap]).sum())
                cells.append((gap_text, RIGHT) if not wrong else (f"{wrong} off", WRONG))
            else:
                cells.append((gap_text, GREY))
        cells += [cell(t) for t in range(gap.stop, length)]
        rows.append((name, cells))
    return rows


class TextArea(QtWidgets.QTextEdit):
    """The text under the plots: a fixed number of lines whatever it says (a long or many-line
    sample scrolls; it never makes the panel taller or wider), wrapped at words or, in a word
    longer than the line ("hiehlloihhel..."), anywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space and S stay the window's shortcuts
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrapMode(QtGui.QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFont(tick_font(TEXT_POINTS))
        self.setStyleSheet(
            f"QTextEdit {{ background: black; color: {TEXT_COLOUR}; }}"
            " QScrollBar:vertical { background: #202020; width: 10px; }"
            " QScrollBar::handle:vertical { background: #707070; min-height: 16px; border-radius: 4px; }"
            " QScrollBar::add-line, QScrollBar::sub-line { height: 0; }"
        )
        self.document().setDocumentMargin(0)
        self.setViewportMargins(*TEXT_MARGINS)  # outside the scrolled text: no line shows half in them
        self._html = ""
        self.set_lines(1)
        follow_scale(self)

    def set_lines(self, lines: int) -> None:
        self.lines = lines
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        _, top, _, bottom = TEXT_MARGINS
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + top + bottom)

    def fill(self) -> None:
        """Take all the room the panel has (no plot above), at least a line."""
        self.lines = 0
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setMaximumHeight(QtWidgets.QWIDGETSIZE_MAX)
        _, top, _, bottom = TEXT_MARGINS
        self.setMinimumHeight(self.fontMetrics().lineSpacing() + top + bottom)

    def rescale(self, ratio: float) -> None:
        """The text at the current font scale, as many lines as before."""
        self.setFont(tick_font(TEXT_POINTS))
        if self.lines:
            self.set_lines(self.lines)
        else:
            self.fill()

    def text(self) -> str:
        """The text as last set (QLabel's name)."""
        return self._html

    def setText(self, rich_text: str) -> None:  # noqa: N802 (QLabel's name)
        """Show `rich_text`, at the same scroll position as before."""
        scrolled = self.verticalScrollBar().value()
        self._html = rich_text
        self.setHtml(rich_text)
        self.verticalScrollBar().setValue(scrolled)


class TaskViewPanel(TracePanel):
    """A click on the strip selects its timestep only: the strip's rows are quantities, not units."""

    def __init__(self) -> None:
        super().__init__()
        self.text_view = TextView()  # chars: the probe text coloured by the selected unit
        self.text_view.timestep_clicked.connect(lambda timestep: self.select(timestep=timestep))
        self.text_view.hide()
        self.box.addWidget(self.text_view)
        self.text = TextArea()
        self.box.addWidget(self.text)

        self.time_plot = TimePlot()
        plot = self.time_plot.plot
        # sine
        self.input_curve = plot(pen=pg.mkPen(GREY, width=1))
        self.target_curve = plot(pen=pg.mkPen(TEXT_COLOUR, width=1, style=DASHED))
        self.prediction_curve, self.rollout_curve = self._add(BoldCurve(SKY)), self._add(BoldCurve(ORANGE))
        self.rollout_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ORANGE, width=1, style=DASHED))
        self.time_plot.addItem(self.rollout_line, ignoreBounds=True)
        # adding
        self.values_curve = plot(pen=None, symbol="o", symbolSize=6, symbolPen=None, symbolBrush=pg.mkBrush(GREY))
        self.marked_points = plot(
            pen=None, symbol="o", symbolSize=13, symbolPen=pg.mkPen("w"), symbolBrush=pg.mkBrush(ORANGE)
        )
        self.output_curve = self._add(BoldCurve(SKY))
        self.final_point = plot(
            pen=None, symbol="o", symbolSize=13, symbolPen=pg.mkPen("w"), symbolBrush=pg.mkBrush(SKY)
        )
        self.target_line = plot(pen=pg.mkPen(YELLOW, width=1.5, style=DASHED))  # a curve: inside the auto-range
        # chars
        self.probability_curve = self._add(BoldCurve(SKY))
        self.probability_points = plot(pen=None, symbol="o", symbolSize=5, symbolPen=None, symbolBrush=pg.mkBrush(SKY))
        # copy: the probabilities of chars, and the delimiter
        self.delimiter_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(ORANGE, width=1, style=DASHED))
        self.time_plot.addItem(self.delimiter_line, ignoreBounds=True)
        # digits: their own plots, built when first shown (a fifth of the window's start-up otherwise)
        self.sweep: QtCore.QTimer | None = None
        # own
        self.own_curves = [self._add(BoldCurve(colour)) for colour in OWN_COLOURS]
        self._own_dock_hidden = False
        # h_t and tanh(c_t) share the -1..1 scale (c_t itself is unbounded and would wash h_t out);
        # a two-row strip is too short for a readable colour bar: its title names the scale's ends.
        self.strip = Heatmap(
            "", DIVERGING_COLORMAP, levels=TANH_LEVELS, row_names=("h_t", "tanh c_t"), colorbar=False, marker=False
        )
        colours = pg.colormap.get(DIVERGING_COLORMAP).map([0.0, 1.0], mode="qcolor")
        self.strip_scale = f"{coloured('−1', colours[0].name())} … {coloured('+1', colours[1].name())}"
        self.strip.plot.setLabel("left", "")
        row_axis = self.strip.plot.getAxis("left")
        row_axis.setTicks([[(0, "h"), (1, "tanh c")]])  # short: the axis is as narrow as the plot's above
        row_axis.setTickFont(tick_font(9))
        self.strip.plot.setXLink(self.time_plot)
        self.strip.cell_clicked.connect(lambda timestep, _row: self.select(timestep=timestep))
        self.strip.plot.getAxis("bottom").showLabel(False)  # its ticks are the characters: room for the rows
        self.strip.plot.setMinimumHeight(80)  # rows of at least ~15 px, for their names
        self.strip.plot.setMaximumHeight(150)
        self.items = {
            "sine": [self.input_curve, self.target_curve, self.prediction_curve, self.rollout_curve,
                     self.rollout_line],
            "adding": [self.values_curve, self.marked_points, self.output_curve, self.final_point,
                       self.target_line],
            "chars": [self.probability_curve, self.probability_points],
            "copy": [self.probability_curve, self.probability_points, self.delimiter_line],
            "digits": [],
            OWN_TASK: self.own_curves,
        }  # fmt: skip

    def _add(self, curve: BoldCurve) -> BoldCurve:
        self.time_plot.addItem(curve)
        return curve

    def kind_of(self, snapshot: Snapshot) -> str:
        return snapshot.config.task

    def arrange(self, task: str) -> None:
        self._own_dock_hidden = False
        self.graphics.show()
        shown = self.items[task]
        for items in self.items.values():
            for item in items:
                item.setVisible(any(item is other for other in shown))
        self.graphics.ci.clear()
        self.text.set_lines(TEXT_LINES[task])
        if task == "digits":
            if self.sweep is None:
                self._build_digits()
            for column, plot in enumerate((self.digit_plot, self.class_plot, self.confusion_plot)):
                self.graphics.addItem(plot, row=0, col=column)
            self.graphics.ci.layout.setColumnStretchFactor(1, 2)  # the image and the matrix keep their aspect
            self.sweep.start()
            return
        if self.sweep is not None:
            self.sweep.stop()
        self.graphics.addItem(self.time_plot, row=0, col=0)
        self.time_plot.show_x_values(task != "copy")  # copy: the strip below has the time axis
        self.text_view.setVisible(task == "chars")
        if task == "copy":
            self.graphics.addItem(self.strip.plot, row=1, col=0)
        if task in ("chars", "copy"):
            self.time_plot.enableAutoRange(y=False)
            self.time_plot.setYRange(0, 1, padding=0.05)
            self.time_plot.setLabel("left", "p")
            self.time_plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        else:
            self.time_plot.getAxis("left").setTicks(None)
            self.time_plot.enableAutoRange(y=True)
            self.time_plot.setLabel("left", "value")

    def draw(self) -> None:
        draws = {"sine": self._draw_sine, "chars": self._draw_chars, "adding": self._draw_adding}
        draws.update({"copy": self._draw_copy, "digits": self._draw_digits, OWN_TASK: self._draw_own})
        draws[self.kind]()
        self.time_plot.show_timesteps(len(self.trace.probe_input), self.trace.labels)
        self.time_plot.mark_timestep(self.selected_timestep())
        self.time_plot.settle()

    def _draw_sine(self) -> None:
        trace, view = self.snapshot.trace, self.snapshot.view
        timesteps = np.arange(len(trace.probe_output))
        self.input_curve.setData(timesteps, trace.probe_input[:, 0])
        self.target_curve.setData(timesteps, trace.probe_target[:, 0])
        self.prediction_curve.setData(timesteps, trace.probe_output[:, 0])
        has_rollout = "rollout" in view
        if has_rollout:
            start = int(view["rollout_start"])
            self.rollout_curve.setData(timesteps[start:], view["rollout"][start:])
            self.rollout_line.setValue(start - 0.5)
        self.rollout_curve.setVisible(has_rollout)
        self.rollout_line.setVisible(has_rollout)
        self.time_plot.set_title(
            coloured("input", GREY)
            + ", "
            + coloured("target (next value)", TEXT_COLOUR)
            + ", "
            + coloured("prediction", SKY)
            + (", " + coloured("free-running", ORANGE) if has_rollout else ""),
        )
        self._set_text(self._loss_text())

    def _draw_adding(self) -> None:
        trace, view = self.snapshot.trace, self.snapshot.view
        timesteps = np.arange(len(trace.probe_output))
        values = trace.probe_input[:, 0]  # (T,)
        marked = np.flatnonzero(trace.probe_input[:, 1] > 0.5)  # (2,)
        target = float(trace.probe_target.reshape(-1)[0])
        self.values_curve.setData(timesteps, values)
        self.marked_points.setData(marked, values[marked])
        self.output_curve.setData(timesteps, trace.probe_output[:, 0])
        self.final_point.setData([timesteps[-1]], [trace.probe_output[-1, 0]])
        self.target_line.setData([timesteps[0], timesteps[-1]], [target, target])
        self.time_plot.set_title(
            coloured("inputs", GREY)
            + ", "
            + coloured("● marked", ORANGE)
            + ", "
            + coloured("output at each t", SKY)
            + ", "
            + coloured("target", YELLOW),
        )
        prediction = float(view.get("prediction", trace.probe_output[-1, 0]))
        first, second = (float(values[t]) for t in marked[:2])
        self._set_text(
            f"target {first:.2f} + {second:.2f} = {coloured(f'{target:.3f}', YELLOW)}"
            f" · prediction (the last output) {coloured(f'{prediction:.3f}', SKY)}, off by {prediction - target:+.3f}"
            f" · {self._loss_text()}"
        )

    def _draw_chars(self) -> None:
        snapshot = self.snapshot
        trace, view = snapshot.trace, snapshot.view
        next_probability = target_probability(trace)  # (T,)
        timesteps = np.arange(len(next_probability))
        self.probability_curve.setData(timesteps, next_probability)
        self.probability_points.setData(timesteps, next_probability)
        self.time_plot.set_title("probability of the actual next character")
        layer, direction, unit, suffix = self.selection()
        self.text_view.show_trace(trace, layer, direction, unit, suffix)
        self.text_view.set_highlight(self.selected_timestep())
        self._fit_text_view()

        sample = html.escape(str(view.get("sample", ""))).replace("\n", NEWLINE)
        new_names = f", {100 * float(view['new_share']):.0f}% new names" if "new_share" in view else ""
        self._set_text(  # the loss first: a sample longer than the text's lines scrolls
            f"{self._loss_text()}<br>{coloured('sample', GREY)} at temperature {snapshot.config.temperature:g}"
            f'{new_names}: <span style="white-space: pre-wrap">{sample}</span>'
        )

    def _fit_text_view(self) -> None:
        """The text view as tall as its lines, up to a third of the panel (then it scrolls)."""
        if not self.text_view.isHidden():
            self.text_view.setFixedHeight(self.text_view.wanted_height(most=self.height() // 3))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_text_view()

    def fit_minimum_height(self) -> None:
        super().fit_minimum_height()
        self._fit_text_view()  # a new font scale: new line heights

    def _draw_strip(self, under: str) -> None:
        """The selected unit's h_t (and tanh c_t) under the probe's labels."""
        trace = self.snapshot.trace
        layer, direction, unit, suffix = self.selection()
        rows = [trace["hidden"][layer, direction][:, unit]]  # [(T,)]
        if trace.cell == "lstm":
            rows.append(np.tanh(trace["cell"][layer, direction][:, unit]))
        strip = np.stack(rows, axis=1)  # (T, rows)
        self.strip.set_data(strip, trace.labels)
        self.strip.plot.mark_timestep(self.selected_timestep())
        names = "h_t and tanh(c_t)" if trace.cell == "lstm" else "h_t"
        self.strip.plot.set_title(f"{names} of unit {unit}{suffix}, {self.strip_scale}, {under}")

    def _draw_copy(self) -> None:
        snapshot = self.snapshot
        trace, view = snapshot.trace, snapshot.view
        right_probability = target_probability(trace)  # (T+20,)
        timesteps = np.arange(len(right_probability))
        self.probability_curve.setData(timesteps, right_probability)
        self.probability_points.setData(timesteps, right_probability)
        self.delimiter_line.setValue(len(timesteps) - COPY_LENGTH - 1)
        self.time_plot.set_title(
            f"probability of the right output: blank, then after {coloured('▶', ORANGE)} the {COPY_LENGTH} symbols"
        )
        self._draw_strip("over t")
        rows = copy_rows(trace)
        widths = [max(len(cells[column][0]) for _, cells in rows) for column in range(len(rows[0][1]))]
        groups = {COPY_LENGTH, len(widths) - COPY_LENGTH - 1, len(widths) - COPY_LENGTH}  # gap, delimiter, outputs
        lines = [  # monospace, no wrapping: the columns line up (a narrow dock cuts the rows at its right edge)
            coloured(name.ljust(7), GREY)
            + "".join(
                (" " if column in groups else "") + coloured(html.escape(text.ljust(width)), colour)
                for column, ((text, colour), width) in enumerate(zip(cells, widths))
            )
            for name, cells in rows
        ]
        rows_html = "<br>".join(lines)
        style = f"font-family: monospace; font-size: {10 * font_scale():.3g}pt; white-space: pre"
        table = f'<div style="{style}">{rows_html}</div>'
        copied = ""
        if "symbol_accuracy" in view:
            share = 100 * float(view["symbol_accuracy"])
            sequences = view["sequences"]
            copied = f" · {coloured(f'{share:.0f}%', GREEN)} of the symbols right ({sequences} new sequences)"
        self._set_text(f"{table}{self._loss_text('')}{copied}")  # the rows first: a narrow dock scrolls the rest

    def _build_digits(self) -> None:
        """The digits view's three plots: the probe image, the class probabilities, the confusion matrix."""
        # Narrow value axes without labels (the titles say what the axes are): three plots share a dock's width.
        self.digit_plot = Plot("", colorbar_space=False, grid=False)
        self.digit_image = pg.ImageItem(axisOrder="row-major")
        paper = pg.ColorMap([0.0, 1.0], [(48, 48, 48), (255, 255, 255)])  # dark grey, not black: the image's edge shows
        self.digit_image.setLookupTable(paper.getLookupTable(nPts=256))
        self.digit_image.setLevels((0.0, 1.0))
        self.digit_plot.addItem(self.digit_image)
        self.digit_rows = []  # the row each direction reads at the swept timestep: forward, backward
        for colour in (SKY, ORANGE):
            rectangle = QtWidgets.QGraphicsRectItem(-0.5, -0.5, 8, 1)
            rectangle.setPen(pg.mkPen(colour, width=3))
            self.digit_plot.addItem(rectangle, ignoreBounds=True)
            self.digit_rows.append(rectangle)
        self.sweep_timestep = 0
        self.sweep = QtCore.QTimer(self)
        self.sweep.setInterval(SWEEP_MS)
        self.sweep.timeout.connect(self._advance_sweep)

        self.class_plot = Plot("", bottom="class", colorbar_space=False)
        self.class_bars = pg.BarGraphItem(x=np.arange(CLASSES), height=np.zeros(CLASSES), width=0.7, brush=SKY)
        self.class_plot.addItem(self.class_bars)
        self.class_plot.enableAutoRange(False)
        self.class_plot.setYRange(0, 1, padding=0.02)
        self.class_plot.setXRange(-0.6, CLASSES - 0.4, padding=0)

        self.confusion_plot = Plot("", bottom="predicted", colorbar_space=False, grid=False)
        self.confusion_image = pg.ImageItem(axisOrder="row-major")
        self.confusion_image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.confusion_plot.addItem(self.confusion_image)
        self.confusion_counts = []
        for true_class in range(CLASSES):
            for predicted in range(CLASSES):
                count = pg.TextItem("", color="w", anchor=(0.5, 0.5))
                count.setFont(tick_font(8))
                count.setPos(predicted, true_class)
                self.confusion_plot.addItem(count, ignoreBounds=True)
                self.confusion_counts.append(count)
        self._confusion_shown = None
        self.confusion_plot.vb.sigResized.connect(self._size_counts)
        for plot in (self.digit_plot, self.confusion_plot):
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.enableAutoRange(False)
        self.digit_plot.setRange(xRange=(-0.5, 7.5), yRange=(-0.5, 7.5), padding=0.02)
        self.confusion_plot.setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 9.5), padding=0.02)
        self.class_plot.getAxis("bottom").setTicks(class_ticks(1, 1))  # the confusion's: _size_counts
        self.digit_plot.getAxis("left").setTicks([[(row, str(row)) for row in range(8)]])
        for plot, width in ((self.digit_plot, 20), (self.class_plot, 30), (self.confusion_plot, 20)):
            plot.getAxis("left").setWidth(width)
        self.digit_plot.getAxis("bottom").setTicks([[(column, "") for column in range(8)]])

    def _advance_sweep(self) -> None:
        if self.kind == "digits" and self.snapshot is not None:
            self.sweep_timestep = (self.sweep_timestep + 1) % len(self.snapshot.trace.probe_input)
            self._place_sweep()

    def _place_sweep(self) -> None:
        """Light the row the forward direction reads at the swept timestep (and the backward one's)."""
        rows = len(self.snapshot.trace.probe_input)
        timestep = self.sweep_timestep % rows
        directions = self.snapshot.trace["hidden"].shape[1]
        for direction, rectangle in enumerate(self.digit_rows):
            row = rows - 1 - timestep if direction else timestep
            rectangle.setRect(-0.5, row - 0.5, self.snapshot.trace.probe_input.shape[1], 1)
            rectangle.setVisible(direction < directions)

    def _draw_digits(self) -> None:
        snapshot = self.snapshot
        trace, view = snapshot.trace, snapshot.view
        image = np.asarray(trace.probe_input, dtype=np.float32)  # (8 rows, 8 columns)
        self.digit_image.setImage(image, autoLevels=False)
        self.digit_image.setRect(QtCore.QRectF(-0.5, -0.5, image.shape[1], image.shape[0]))
        self._place_sweep()
        true_class = int(np.asarray(trace.probe_target).reshape(-1)[0])
        logits = np.asarray(trace.probe_output, dtype=np.float64).reshape(-1)  # (10,)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        predicted = int(probabilities.argmax())
        brushes = [pg.mkBrush(GREY)] * CLASSES
        brushes[true_class] = pg.mkBrush(RIGHT if predicted == true_class else YELLOW)
        if predicted != true_class:
            brushes[predicted] = pg.mkBrush(WRONG)
        self.class_bars.setOpts(height=probabilities, brushes=brushes)
        right = predicted == true_class
        verdict = coloured("right", RIGHT) if right else coloured(f"predicted {predicted}", WRONG)
        shown_class = coloured(str(true_class), RIGHT if right else YELLOW)
        self.class_plot.set_title(f"p(class): a {shown_class}, {verdict}")
        directions = trace["hidden"].shape[1]
        arrows = coloured("→", SKY) + (" " + coloured("←", ORANGE) if directions > 1 else "")
        self.digit_plot.set_title(f"row t {arrows}")
        accuracy = coloured("not evaluated yet", GREY)
        if "confusion" in view:
            self._draw_confusion(np.asarray(view["confusion"]))
            test_accuracy, majority = 100 * float(view["test_accuracy"]), 100 * float(view["majority_accuracy"])
            accuracy = (
                f"test accuracy {coloured(f'{test_accuracy:.1f}%', GREEN)} at step {view['evaluated_at_step']}"
                f" (always the majority class: {majority:.1f}%)"
            )
        self._set_text(
            f"{accuracy}<br>{coloured('probe', GREY)}: a {true_class}, p = {probabilities[true_class]:.3f};"
            f" predicted {predicted} (p = {probabilities[predicted]:.3f}) · {self._loss_text('no-input')}"
        )

    def _draw_confusion(self, confusion: np.ndarray) -> None:
        """The (10, 10) counts of the test set, true class by row; drawn again only when they change."""
        if self._confusion_shown is not None and np.array_equal(confusion, self._confusion_shown):
            return
        self._confusion_shown = confusion.copy()
        per_class = confusion.sum(axis=1, keepdims=True)  # (10, 1) test images of each class
        shares = confusion / np.maximum(per_class, 1)  # (10, 10): each row sums to 1
        self.confusion_image.setImage(shares.astype(np.float32), levels=(0.0, 1.0))
        self.confusion_image.setRect(QtCore.QRectF(-0.5, -0.5, CLASSES, CLASSES))
        for count, value, share in zip(self.confusion_counts, confusion.reshape(-1), shares.reshape(-1), strict=True):
            count.setText(str(int(value)) if value else "")
            count.setColor("k" if share > 0.6 else "w")
        self.confusion_plot.set_title("true × predicted")
        self._size_counts()

    def _size_counts(self) -> None:
        """The confusion counts in a font that fits a cell, or none where cells are too small for two digits; the
        class numbers on its axes every k-th where cells are too small for one each (lecture mode's 2 x 2 at
        1024x768: '0123456789' ran together, the rows' numbers lay on each other)."""
        cell_pixels = min(self.confusion_plot.vb.width(), self.confusion_plot.vb.height()) / CLASSES
        for name in ("left", "bottom"):
            axis = self.confusion_plot.getAxis(name)
            metrics = QtGui.QFontMetrics(axis.style["tickFont"] or tick_font())
            label_pixels = metrics.height() if name == "left" else 2 * metrics.horizontalAdvance("0")
            axis.setTicks(class_ticks(cell_pixels, label_pixels))
        points = int(min(10, cell_pixels * 0.45))
        for count in self.confusion_counts:
            count.setVisible(points >= 6)
            if points >= 6 and count.textItem.font().pointSize() != points:
                count.setFont(tick_font(points))

    def _draw_own(self) -> None:
        """A recorded module's probe output: (T, O) as curves over t (the first few), anything else as numbers."""
        trace = self.snapshot.trace
        output, length = np.asarray(trace.probe_output), len(trace.probe_input)
        if not output.size and not self._own_dock_hidden:  # no probe_output given: nothing to show
            self._own_dock_hidden = True
            if isinstance(self.parentWidget(), QtWidgets.QDockWidget):
                self.parentWidget().hide()  # View > Task view shows it again, saying why it is empty
        per_step = output.ndim == 2 and len(output) == length
        if self.graphics.isVisibleTo(self) != per_step:  # one output for the sequence: its numbers, no empty plot
            self.graphics.setVisible(per_step)
            if per_step:
                self.text.set_lines(TEXT_LINES[OWN_TASK])
            else:
                self.text.fill()
        shown = min(output.shape[1], len(OWN_COLOURS)) if per_step else 0
        for index, curve in enumerate(self.own_curves):
            curve.setVisible(index < shown)
            if index < shown:
                curve.setData(np.arange(length), output[:, index])
        names = ", ".join(coloured(f"output {index}", colour) for index, colour in zip(range(shown), OWN_COLOURS))
        more = f" (the first {len(OWN_COLOURS)} of {output.shape[1]})" if per_step and shown < output.shape[1] else ""
        self.time_plot.set_title("your model's probe output" + (f": {names}{more}" if per_step else ""))
        if "grad_hidden" in trace.quantities:
            loss = f"probe loss {coloured(f'{trace.loss:.4g}', VERMILLION)}"
        else:
            loss = coloured("no probe loss given", GREY)
        if not output.size:
            values = "no probe_output given to the Recorder"
        elif per_step:
            values = f"{length} steps × {output.shape[1]} outputs"
        else:
            shape = " × ".join(map(str, output.shape))
            numbers = " ".join(f"{value:.4g}" for value in output.reshape(-1)[:64])
            values = f"your model's probe output ({shape}, not one per timestep): {numbers}"
        self._set_text(f"{loss} · {values}")

    def _loss_text(self, baseline: str = "no-memory") -> str:
        snapshot = self.snapshot
        return (
            f"probe loss {coloured(f'{snapshot.trace.loss:.4g}', VERMILLION)}"
            f" · {baseline + ' ' if baseline else ''}baseline {snapshot.baseline_loss:.4g}"
        )

    def _set_text(self, text: str) -> None:
        """Set the text below the plots only when it changes (laying out rich text is not free)."""
        if self.text.text() != text:
            self.text.setText(text)
