"""The probe text as characters, each coloured by the selected unit's value there (LSTMVis, Strobelt et al. 2018).

A character model reads the probe one character per timestep: this view writes the characters out in
lines, as text, and paints the cell of each with the colour of h_t, c_t or a gate of the selected unit
at that timestep (a small combo chooses which), on the same colour scale as that quantity's heatmap.
Every character gets a cell of its own, as wide as the widest character of the probe: lines wrap at
the view's width, so every character stays legible whatever the number of units or timesteps (a long
probe scrolls). Hover a character for its value; click it to select its timestep everywhere (it is framed).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets
from PyQt6.QtCore import pyqtSignal

from lstm_viz.core.snapshot import Trace
from lstm_viz.gui.panels.heatmap import (
    DIVERGING_COLORMAP,
    GATE_COLORMAP,
    GATE_LEVELS,
    TANH_LEVELS,
    argb_table,
    colour_indices,
)
from lstm_viz.gui.panels.plots import GREY, TEXT_COLOUR, follow_scale, nice_limit, scaled, short_number, tick_font

FONT_POINTS = 12  # the characters, at font scale 1: as large as the task view's text
SCALE_POINTS = 8  # the colour scale's numbers, at font scale 1
CELL_PADDING = (3, 2)  # pixels around a character inside its cell: x, y
CELL_GAP = 2  # pixels between cells: neighbouring colours stay apart
MARGIN = 4  # pixels around the grid
MAX_SHOWN_LINES = 8  # lines the view grows to before it scrolls
SCALE_SIZE = (90, 26)  # pixels at font scale 1: the colour scale in the header
SIGMOID = (GATE_COLORMAP, GATE_LEVELS)
TANH = (DIVERGING_COLORMAP, TANH_LEVELS)
SYMMETRIC = (DIVERGING_COLORMAP, None)  # ±nice_limit of the layer's values, as the States panel's c_t heatmap
# cell type -> (trace name, combo label, (colour map, levels)) in the combo's order
QUANTITIES = {
    "lstm": (
        ("hidden", "h_t", TANH),
        ("cell", "c_t", SYMMETRIC),
        ("input_gate", "i_t", SIGMOID),
        ("forget_gate", "f_t", SIGMOID),
        ("cell_candidate", "g_t", TANH),
        ("output_gate", "o_t", SIGMOID),
    ),
    "gru": (
        ("hidden", "h_t", TANH),
        ("reset_gate", "r_t", SIGMOID),
        ("update_gate", "z_t", SIGMOID),
        ("candidate", "n_t", TANH),
    ),
    "rnn": (("hidden", "h_t", TANH),),
}
QUANTITY_TIP = (
    "What colours each character: the selected unit's hidden state h_t, cell state c_t, or a gate, at the "
    "timestep that reads the character. Click a unit in any heatmap to choose the unit."
)


def colour_table(colormap: str) -> np.ndarray:
    """(256,) 0xAARRGGBB words of a colour map, the table a heatmap of it paints with."""
    return argb_table(pg.colormap.get(colormap).getLookupTable(nPts=256))


def dark_on(backgrounds: np.ndarray) -> np.ndarray:
    """(n,) whether black ink (else white) reads on each 0xAARRGGBB colour of `backgrounds` (n,): a light one,
    by its relative luminance."""
    red, green, blue = ((backgrounds >> shift) & 0xFF for shift in (16, 8, 0))  # (n,) each
    return 0.299 * red + 0.587 * green + 0.114 * blue > 140


class CharacterGrid(QtWidgets.QWidget):
    """The characters in equal cells, line after line, each on its colour; it is as tall as its lines need
    at its width (heightForWidth)."""

    hovered = pyqtSignal(object)  # the timestep under the mouse, or None
    clicked = pyqtSignal(int)  # a character was clicked: its timestep

    def __init__(self) -> None:
        super().__init__()
        self.setFont(tick_font(FONT_POINTS))
        follow_scale(self)
        self.setMouseTracking(True)
        policy = QtWidgets.QSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.labels: tuple[str, ...] = ()
        self.colours = np.zeros(0, dtype=np.uint32)  # (T,) 0xAARRGGBB
        self.highlighted: int | None = None
        self._hovered: int | None = None
        self.read_out = ""  # what the character under the mouse is, drawn beside it (set by the owner on hovered)
        self.cell_size = QtCore.QSize(1, 1)

    def rescale(self, ratio: float) -> None:
        """The characters at the current font scale (plots.set_font_scale), their cells sized anew."""
        self.setFont(tick_font(FONT_POINTS))
        labels, self.labels = self.labels, ()
        self.set_characters(labels, self.colours)

    def set_characters(self, labels, colours: np.ndarray) -> None:
        labels = tuple(labels)
        if labels != self.labels:
            self.labels = labels
            metrics = self.fontMetrics()
            widest = max((metrics.horizontalAdvance(label) for label in labels), default=0)
            padding_x, padding_y = CELL_PADDING
            self.cell_size = QtCore.QSize(widest + 2 * padding_x, metrics.height() + 2 * padding_y)
            self.updateGeometry()
            self._fit_height()
        self.colours = colours
        self.update()

    def set_highlight(self, timestep: int | None) -> None:
        if timestep != self.highlighted:
            self.highlighted = timestep
            self.update()

    def set_read_out(self, text: str) -> None:
        """Show `text` beside the hovered character ("" hides it)."""
        if text != self.read_out:
            self.read_out = text
            self.update()

    # ---- geometry ------------------------------------------------------------------------
    def columns(self, width: int | None = None) -> int:
        """Characters per line at `width` (the widget's own by default)."""
        width = self.width() if width is None else width
        return max(1, (width - 2 * MARGIN + CELL_GAP) // (self.cell_size.width() + CELL_GAP))

    def lines(self, width: int | None = None) -> int:
        return -(-len(self.labels) // self.columns(width)) if self.labels else 0

    def line_height(self) -> int:
        return self.cell_size.height() + CELL_GAP

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return 2 * MARGIN + max(1, self.lines(width)) * self.line_height() - CELL_GAP

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(200, self.heightForWidth(max(self.width(), 200)))

    def cell_rect(self, timestep: int, columns: int | None = None) -> QtCore.QRect:
        """Where the character of `timestep` is drawn, in the widget's pixels (`columns`: self.columns(), if known)."""
        line, column = divmod(timestep, columns or self.columns())
        width, height = self.cell_size.width(), self.cell_size.height()
        return QtCore.QRect(MARGIN + column * (width + CELL_GAP), MARGIN + line * (height + CELL_GAP), width, height)

    def timestep_at(self, position: QtCore.QPointF) -> int | None:
        column_pitch, line_pitch = self.cell_size.width() + CELL_GAP, self.line_height()
        column, line = int((position.x() - MARGIN) // column_pitch), int((position.y() - MARGIN) // line_pitch)
        if not (0 <= column < self.columns() and line >= 0):
            return None
        timestep = line * self.columns() + column
        inside = self.cell_rect(timestep).contains(position.toPoint()) if timestep < len(self.labels) else False
        return timestep if inside else None

    def _fit_height(self) -> None:
        self.setMinimumHeight(self.heightForWidth(self.width()))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()

    # ---- painting and the mouse ------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        """Each character on its colour, in ink that stands out on it; the per-cell work is numpy's and Qt's
        (a names frame repaints a hundred cells)."""
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor("black"))
        flags = QtCore.Qt.AlignmentFlag.AlignCenter
        count = len(self.labels)
        colours = np.full(count, 0xFF000000, dtype=np.uint32)  # (T,) black where no colour is known
        known = min(count, len(self.colours))
        colours[:known] = self.colours[:known]
        black_ink = dark_on(colours)  # (T,)
        inks = {True: QtGui.QColor("black"), False: QtGui.QColor("white")}
        columns, exposed = self.columns(), event.rect()
        for timestep, (label, colour, black) in enumerate(zip(self.labels, colours.tolist(), black_ink.tolist())):
            rect = self.cell_rect(timestep, columns)
            if not rect.intersects(exposed):
                continue
            painter.fillRect(rect, QtGui.QColor.fromRgba(colour))
            painter.setPen(inks[black])
            painter.drawText(rect, flags, label)
        if self.highlighted is not None and 0 <= self.highlighted < len(self.labels):
            painter.setPen(QtGui.QPen(QtGui.QColor("white"), 2))
            painter.drawRect(self.cell_rect(self.highlighted).adjusted(-1, -1, 1, 1))
        if self.read_out and self._hovered is not None:
            self._paint_read_out(painter, self.cell_rect(self._hovered))
        painter.end()

    def _paint_read_out(self, painter: QtGui.QPainter, cell: QtCore.QRect) -> None:
        """The read-out in a dark box under the hovered character (over it near the bottom of what is in view),
        inside the visible part of the grid, as the heatmaps' hover read-out."""
        visible = self.visibleRegion().boundingRect()
        box = painter.fontMetrics().boundingRect(self.read_out).adjusted(-4, -2, 4, 2)
        box.moveTopLeft(QtCore.QPoint(cell.left(), cell.bottom() + 4))
        if box.bottom() > visible.bottom():
            box.moveBottom(cell.top() - 4)
        box.moveLeft(max(visible.left(), min(box.left(), visible.right() - box.width())))
        painter.fillRect(box, QtGui.QColor(20, 20, 20, 230))
        painter.setPen(QtGui.QColor(GREY))
        painter.drawRect(box)
        painter.setPen(QtGui.QColor("white"))
        painter.drawText(box, QtCore.Qt.AlignmentFlag.AlignCenter, self.read_out)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        timestep = self.timestep_at(event.position())
        if timestep != self._hovered:
            self._hovered = timestep
            self.hovered.emit(timestep)
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hovered = None
        self.hovered.emit(None)
        self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        timestep = self.timestep_at(event.position())
        if event.button() == QtCore.Qt.MouseButton.LeftButton and timestep is not None:
            self.clicked.emit(timestep)


class ColourScale(QtWidgets.QWidget):
    """A small horizontal colour bar with its two ends and middle labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.setFixedSize(*(scaled(pixels) for pixels in SCALE_SIZE))
        follow_scale(self)
        self.table = colour_table(GATE_COLORMAP)
        self.levels = GATE_LEVELS

    def rescale(self, ratio: float) -> None:
        self.setFixedSize(*(scaled(pixels) for pixels in SCALE_SIZE))

    def set_scale(self, table: np.ndarray, levels: tuple[float, float]) -> None:
        if table is not self.table or levels != self.levels:
            self.table, self.levels = table, levels
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QtGui.QPainter(self)
        bar = QtCore.QRect(0, 0, self.width(), self.height() * 2 // 5)
        gradient = QtGui.QLinearGradient(QtCore.QPointF(bar.left(), 0), QtCore.QPointF(bar.right(), 0))
        for stop in np.linspace(0.0, 1.0, 9):
            gradient.setColorAt(float(stop), QtGui.QColor.fromRgba(int(self.table[min(int(stop * 256), 255)])))
        painter.fillRect(bar, gradient)
        painter.setPen(QtGui.QColor(TEXT_COLOUR))
        painter.setFont(tick_font(SCALE_POINTS))
        low, high = self.levels
        text_box = QtCore.QRect(0, bar.bottom() + 1, self.width(), self.height() - bar.height() - 1)
        for value, alignment in ((low, "AlignLeft"), ((low + high) / 2, "AlignHCenter"), (high, "AlignRight")):
            painter.drawText(text_box, getattr(QtCore.Qt.AlignmentFlag, alignment), short_number(value))
        painter.end()


class FittingLabel(QtWidgets.QLabel):
    """A one-line label that shows the longest of its texts that fits its width (the first one in its tooltip),
    so that a narrow panel shortens the words rather than cutting them."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: tuple[str, ...] = ("",)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)

    def set_texts(self, *texts: str) -> None:
        """From the longest to the shortest."""
        self.texts = texts
        self.setToolTip(texts[0])
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        fitting = [text for text in self.texts if metrics.horizontalAdvance(text) <= self.contentsRect().width()]
        self.setText(fitting[0] if fitting else self.texts[-1])


class TextView(QtWidgets.QWidget):
    """The coloured probe text with its header: which quantity colours it (a combo), whose it is, the scale."""

    timestep_clicked = pyqtSignal(int)

    def __init__(self) -> None:
        super().__init__()
        self.quantity = QtWidgets.QComboBox()
        self.quantity.setToolTip(QUANTITY_TIP)
        self.quantity.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space and S stay the window's shortcuts
        self.caption = FittingLabel()
        self.caption.setStyleSheet(f"color: {TEXT_COLOUR}")
        self.scale = ColourScale()
        header = QtWidgets.QHBoxLayout()
        header.setContentsMargins(MARGIN, 2, MARGIN, 0)
        header.addWidget(self.quantity)
        header.addWidget(self.caption, 1)
        header.addSpacing(MARGIN)
        header.addWidget(self.scale)

        self.grid = CharacterGrid()
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setStyleSheet("QScrollArea { background: black; }")
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(header)
        column.addWidget(self.scroll)
        self.setStyleSheet("TextView { background: black; }")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground)

        self.cell_type = ""
        self.values = np.zeros(0)  # (T,) the selected unit's values of the chosen quantity
        self.where = ""  # "unit 3 · layer 2": whose values they are
        self._tables = {name: colour_table(name) for name in (GATE_COLORMAP, DIVERGING_COLORMAP)}
        self.levels = TANH_LEVELS
        self._trace: Trace | None = None
        self._selection = (0, 0, 0, "")
        self.quantity.activated.connect(lambda _: self._draw())
        self.grid.hovered.connect(self._show_hover)
        self.grid.clicked.connect(self.timestep_clicked)

    @property
    def quantity_name(self) -> str:
        """The trace name of the quantity that colours the characters."""
        return self.quantity.currentData() or "hidden"

    def set_cell_type(self, cell: str) -> None:
        """The combo's quantities for this cell type; the choice is kept where the new cell has it."""
        if cell == self.cell_type:
            return
        chosen = self.quantity.currentText()
        self.cell_type = cell
        self.quantity.clear()
        for name, label, _ in QUANTITIES[cell]:
            self.quantity.addItem(label, name)
        self.quantity.setCurrentIndex(max(self.quantity.findText(chosen), 0))

    def show_trace(self, trace: Trace, layer: int, direction: int, unit: int, where: str) -> None:
        """Colour the probe's characters by `unit` of this layer and direction (where: ' · layer 2' for titles)."""
        self.set_cell_type(trace.cell)
        self._trace, self._selection = trace, (layer, direction, unit, where)
        self._draw()

    def set_highlight(self, timestep: int | None) -> None:
        self.grid.set_highlight(timestep)

    def _draw(self) -> None:
        trace = self._trace
        if trace is None:
            return
        layer, direction, unit, where = self._selection
        name = self.quantity_name
        colormap, levels = next(scale for quantity, _, scale in QUANTITIES[trace.cell] if quantity == name)
        layer_values = trace[name][layer, direction]  # (T, H)
        if levels is None:
            limit = nice_limit(layer_values)
            levels = (-limit, limit)
        self.values = np.asarray(layer_values[:, unit])  # (T,)
        self.levels = levels
        table = self._tables[colormap]
        colours = table[colour_indices(self.values, levels, len(table))]  # (T,)
        colours[np.isnan(self.values)] = 0xFF808080  # grey, as in the heatmaps
        labels = trace.labels or tuple(str(t) for t in range(len(self.values)))
        self.grid.set_characters(labels, colours)
        self.scale.set_scale(table, levels)
        self.where = f"unit {unit}{where}"
        self.caption.set_texts(f"of {self.where} under each character", f"of {self.where}", f"of unit {unit}")

    def describe(self, timestep: int) -> str:
        """"t=4 'a': h_t of unit 3 = 0.734" for the character at `timestep`."""
        if not 0 <= timestep < len(self.values):
            return ""
        label = self.grid.labels[timestep]
        return f"t={timestep} '{label}': {self.quantity.currentText()} of {self.where} = {self.values[timestep]:.4g}"

    def _show_hover(self, timestep: int | None) -> None:
        self.grid.set_read_out("" if timestep is None else self.describe(timestep))

    def wanted_height(self, most: int) -> int:
        """The height that shows every line (header included), at most `most` pixels and MAX_SHOWN_LINES lines,
        at least one line."""
        lines = min(max(self.grid.lines(self.scroll.viewport().width()), 1), MAX_SHOWN_LINES)
        header = self.layout().itemAt(0).sizeHint().height() + self.layout().spacing()
        grid = 2 * MARGIN + lines * self.grid.line_height() - CELL_GAP
        one_line = 2 * MARGIN + self.grid.line_height()
        return header + max(min(grid, most - header), one_line)
