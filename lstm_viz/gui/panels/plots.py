"""Shared pieces of the panels' plots: colours and fonts, an axis of timesteps (or the probe's
characters), a log-scale axis, a styled plot whose auto-range moves in round steps, a fast bold curve.

What keeps a frame of all panels at H=128, T=200 cheap (each measured):
- axes and titles are painted from cached pixmaps until they change, and the auto-range snaps
  to round bounds, so ticks change only when the data leaves them;
- an axis keeps the pictures of the last ranges it showed (RecallingAxis): round bounds recur;
- panels apply the auto-range after new data, before painting: a range that moves while the
  view paints makes Qt paint the whole panel a second time;
- each view repaints whole (FullViewportUpdate), not the union of changed regions;
- grid lines are opaque and under the curves (Qt draws lines with alpha several times slower);
- 2 px curves are four 1 px antialiased strokes (a 2 px antialiased stroke costs ~5x more).

The font scale (set_font_scale: Ctrl+plus / Ctrl+minus, lecture mode) resizes every plot's fonts,
fixed sizes and line widths in place, and the application's widget font; plots made later start at the
current scale.
"""

from __future__ import annotations

import contextlib
import math
import re
import weakref
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets, sip

TITLE_POINTS = 11
TITLE_HEIGHT = 22  # pixels for one line of title at scale 1 (pyqtgraph reserves 30)
LOG_LABEL_PIXELS = 22  # vertical room one log-axis label needs at scale 1
TEXT_COLOUR = "#DDDDDD"
LABEL_POINTS = 11  # axis labels ("unit", "loss")
TICK_POINTS = 10
LEFT_AXIS_WIDTH = 58  # fixed, so that the time axes of a panel's plots line up; fits "1e-20" beside the label
MIN_VIEW_HEIGHT = 26  # a plot's data area is at least this tall at scale 1: room for two labelled y ticks
COLORBAR_WIDTH = 66  # fixed; plots without a colour bar reserve as much space
GRID_ALPHA = 0.3
CACHED = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
PIXMAP_CACHE_KB = 64 * 1024

# Okabe-Ito: distinguishable with colour-blindness and on a projector.
ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
GREY = "#9A9A9A"
TIMESTEP_MARKER_COLOUR = (255, 255, 255, 170)  # the selected timestep's vertical line


_font_scale = [1.0]  # one for the whole application: every window's plots
_scaled_items: weakref.WeakSet = weakref.WeakSet()  # what follows the scale: Plots, heatmaps, read-outs
_unscaled_font: list[QtGui.QFont] = []  # the application's font before any scale (unscaled_font)


def font_scale() -> float:
    return _font_scale[0]


def unscaled_font() -> QtGui.QFont:
    """The application's widget font at font scale 1 (taken before the first change of scale)."""
    if not _unscaled_font:
        _unscaled_font.append(QtGui.QFont(QtWidgets.QApplication.font()))
    return QtGui.QFont(_unscaled_font[0])


def set_font_scale(scale: float) -> None:
    """Scale every plot's fonts, fixed sizes and line widths (1: as designed), in place, and the widgets' font
    of every window (the application's: controls, labels, menus, the comparison window's too)."""
    old = _font_scale[0]
    if scale == old:
        return
    font = unscaled_font()
    font.setPointSizeF(font.pointSizeF() * scale)
    QtWidgets.QApplication.setFont(font)  # the windows opened later
    for window in QtWidgets.QApplication.topLevelWidgets():  # and those open now: the application's font alone
        if not sip.isdeleted(window):  # does not reach them everywhere (not under pytest-qt, where no exec() runs)
            window.setFont(font)
    for widget in QtWidgets.QApplication.allWidgets():  # a widget with a style sheet keeps the font it had when
        if not sip.isdeleted(widget) and widget.styleSheet():  # the sheet was set (a coloured label, the note):
            widget.setStyleSheet(widget.styleSheet())  # set it again (one deleted on the way is left out)
    _font_scale[0] = scale
    for item in list(_scaled_items):
        if _deleted(item):  # a closed window's plot that Python has yet to collect
            _scaled_items.discard(item)
        else:
            item.rescale(scale / old)


def _deleted(item) -> bool:
    """Whether the Qt object of `item` (or of its plot, for a heatmap) is gone."""
    parts = (item, item.__dict__.get("plot"))
    return any(isinstance(part, sip.simplewrapper) and sip.isdeleted(part) for part in parts)


def follow_scale(item) -> None:
    """`item.rescale(ratio)` is called whenever the font scale changes (held weakly)."""
    _scaled_items.add(item)


def scaled(pixels: float) -> int:
    """A size in pixels at the current font scale."""
    return round(pixels * font_scale())


def tick_font(points: float = TICK_POINTS) -> QtGui.QFont:
    """A font of `points` at scale 1, at the current font scale."""
    font = QtGui.QFont()
    font.setPointSizeF(points * font_scale())
    return font


def label_style() -> dict:
    return {"font-size": f"{LABEL_POINTS * font_scale():.3g}pt", "color": TEXT_COLOUR}


def rescale_item(item: QtWidgets.QGraphicsItem, ratio: float) -> None:
    """Widen the pen and enlarge the font of a plot item (a curve, a line, its label, a text) by `ratio`."""
    if isinstance(item, pg.PlotDataItem):
        for part in (item.curve, item.scatter):
            rescale_item(part, ratio)
        pen = item.opts.get("pen")
        if pen is not None:
            item.opts["pen"] = _wider(pg.mkPen(pen), ratio)
        if item.opts.get("symbolSize"):
            item.setSymbolSize(item.opts["symbolSize"] * ratio)
        return
    if isinstance(item, pg.PlotCurveItem):
        item.setPen(_wider(pg.mkPen(item.opts["pen"]), ratio))
    elif isinstance(item, pg.InfiniteLine):
        item.setPen(_wider(item.pen, ratio))
        label = getattr(item, "label", None)
        if isinstance(label, pg.TextItem):
            rescale_item(label, ratio)
    elif isinstance(item, pg.TextItem):
        font = item.textItem.font()
        font.setPointSizeF(font.pointSizeF() * ratio)
        item.setFont(font)
    elif isinstance(item, pg.BarGraphItem):
        pass  # bars are sized in data units
    elif hasattr(item, "rescale"):
        item.rescale(ratio)


def _wider(pen: QtGui.QPen, ratio: float) -> QtGui.QPen:
    wider = QtGui.QPen(pen)
    wider.setWidthF(max(pen.widthF(), 1.0) * ratio)
    return wider


def coloured(text: str, colour: str) -> str:
    """`text` in `colour`, for titles that double as legends."""
    return f'<span style="color:{colour}">{text}</span>'


def round_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (> 0)."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        if mantissa * 10.0**exponent >= value:
            return mantissa * 10.0**exponent
    return 10.0 ** (exponent + 1)


def nice_limit(values: np.ndarray, share: float = 0.99) -> float:
    """round_step of the magnitude that `share` of the finite values stay within: a symmetric colour
    scale that stays put from frame to frame and has round labels. The few values beyond it take the
    end colours (a handful of runaway cells would otherwise wash out all the others; hovering shows
    the exact value). 1 if nothing is finite and non-zero."""
    finite = np.abs(values[np.isfinite(values)])  # (n,)
    rank = math.ceil(share * (finite.size - 1))  # np.quantile's method="higher", without its overhead
    typical = float(np.partition(finite, rank)[rank]) if finite.size else 0.0
    return round_step(typical) if 0.0 < typical < float("inf") else 1.0


def round_bounds(low: float, high: float) -> tuple[float, float]:
    """[low, high] with a little margin, widened to multiples of a 1-2-5 step near a tenth of it
    (a single value: of a tenth of its magnitude, or of 1 around zero); not below 0 if low is not."""
    span = high - low if high - low > 1e-9 * max(abs(low), abs(high)) else max(abs(low), abs(high), 1.0)
    step = round_step(span / 10)
    margin = 0.02 * span
    bottom, top = math.floor((low - margin) / step) * step, math.ceil((high + margin) / step) * step
    if low >= 0 > bottom:  # data that is never negative (steps, probabilities): from 0 at the lowest
        bottom = 0.0
    return (bottom, top) if top > bottom else (bottom - step, top + step)


def decade_bounds(low: float, high: float) -> tuple[float, float]:
    """Whole powers of ten around log10 values low..high (with a little margin), at least one decade apart:
    a log axis shows a power of ten at each end."""
    margin = 0.01  # decades: a curve just under a power of ten does not touch the edge
    bottom, top = math.floor(low - margin), math.ceil(high + margin)
    return float(bottom), float(max(top, bottom + 1))


def short_number(value: float) -> str:
    """0.01 .. 9999 as they are, other magnitudes as 6e-4, 1e-12: fits a narrow axis."""
    if value == 0 or 0.01 <= abs(value) < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


LABEL_GAP = 2  # pixels at least between two characters on a time axis


def _label_strides():
    """1, 2, 3, 4, 5, then 10, 20, 50, 100...: every character where they fit, else as many as fit."""
    yield from (1, 2, 3, 4, 5)
    for exponent in range(1, 12):
        for mantissa in (1, 2, 5):
            yield mantissa * 10**exponent


class RecallingAxis(pg.AxisItem):
    """An axis that keeps the pictures of the last few ranges (and ticks) it showed and paints one of them again
    rather than laying out its ticks anew: round bounds make ranges recur (a colour bar going back and forth
    between ±0.01 and ±0.02, a log axis between two decades), and laying out an axis costs ~0.5 ms of a frame.
    A picture is kept for its range, ticks and bounding rectangle (which holds the view's for grid lines); any
    other change (size, font, pen, style, labels: pyqtgraph forgets the picture then) forgets them all."""

    KEPT_PICTURES = 8

    def __init__(self, *args, **kwargs) -> None:
        self._pictures: dict[tuple, QtGui.QPicture] = {}  # oldest first
        self._keyed_change = False  # a new range or ticks: the kept pictures stay valid
        self._rect_key: tuple | None = None  # the geometry of the axis and its view that _rect is for
        super().__init__(*args, **kwargs)

    @property
    def picture(self) -> QtGui.QPicture | None:
        return self._picture

    @picture.setter
    def picture(self, picture: QtGui.QPicture | None) -> None:
        if picture is None and not self._keyed_change:
            self._pictures.clear()
            self._rect_key = None
        self._picture = picture

    def boundingRect(self):  # noqa: N802 (Qt's name)
        """rect_for(), worked out again only when the axis or the view it draws grid lines over moved or changed
        size, or something that forgets the kept pictures changed (a font, a style): Qt asks for it several times
        whenever it paints the axis, even from its cached pixmap."""
        view = self.linkedView() if getattr(self, "grid", False) is not False else None
        key = (self.geometry().getRect(), view.geometry().getRect() if view is not None else None)
        if key != self._rect_key:
            self._rect_key, self._rect = key, self.rect_for()
        return QtCore.QRectF(self._rect)

    def rect_for(self) -> QtCore.QRectF:
        """The bounding rectangle, worked out."""
        return super().boundingRect()

    @contextlib.contextmanager
    def _keyed(self):
        """A change the kept pictures are keyed by (a range, ticks): pyqtgraph forgetting its picture meanwhile
        forgets only that one."""
        self._keyed_change = True
        try:
            yield
        finally:
            self._keyed_change = False

    def setRange(self, mn, mx):  # noqa: N802 (pyqtgraph's name)
        with self._keyed():
            super().setRange(mn, mx)

    def setTicks(self, ticks=None):  # noqa: N802
        with self._keyed():
            super().setTicks(ticks)

    def paint(self, p, opt, widget):
        rect = self.boundingRect()
        key = (tuple(self.range), repr(self._tickLevels), rect.x(), rect.y(), rect.width(), rect.height())
        if self.picture is None and key in self._pictures:
            self.picture = self._pictures.pop(key)
        # Laying out the ticks forgets the picture (_updateWidth) and may resize the axis, which forgets the
        # pictures then (resizeEvent).
        with self._keyed():
            super().paint(p, opt, widget)
        self._pictures.pop(key, None)
        self._pictures[key] = self.picture  # the newest last
        if len(self._pictures) > self.KEPT_PICTURES:
            del self._pictures[next(iter(self._pictures))]


class TimeAxis(RecallingAxis):
    """A timestep axis; with labels (the probe's characters) its ticks show them: every one where the
    widest of them fits LABEL_GAP apart, else every k-th, recomputed on zoom and resize."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self.setStyle(hideOverlappingLabels=10)  # the first and last character may reach past the ends
        self.labels: tuple[str, ...] | None = None
        self._measured: tuple[tuple[str, ...] | None, str, int] = (None, "", 0)  # labels, font, label_pixels

    def set_labels(self, labels: Sequence[str] | None) -> None:
        labels = tuple(labels) if labels else None
        if labels != self.labels:
            self.labels = labels
            self.picture = None
            self.update()

    @property
    def label_pixels(self) -> int:
        """The widest label's width in the tick font, plus LABEL_GAP (measured once per labels and font)."""
        font = self.style["tickFont"] or tick_font()
        labels, font_key, pixels = self._measured
        if labels is not self.labels or font_key != font.key():
            metrics = QtGui.QFontMetrics(font)
            pixels = max(metrics.horizontalAdvance(label) for label in set(self.labels or ("",))) + LABEL_GAP
            self._measured = (self.labels, font.key(), pixels)
        return pixels

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        if not self.labels:
            return self._numbers_apart(super().tickValues(minVal, maxVal, size), minVal, maxVal, size)
        first, last = max(0, math.ceil(minVal)), min(len(self.labels) - 1, math.floor(maxVal))
        if last < first or size <= 0:
            return []
        pixels_per_step = size / max(maxVal - minVal, 1e-9)
        needed = self.label_pixels / pixels_per_step  # timesteps per label for labels not to overlap
        every = next(k for k in _label_strides() if k >= needed)
        return [(float(every), [float(t) for t in range(math.ceil(first / every) * every, last + 1, every)])]

    def _numbers_apart(self, levels, low: float, high: float, size: float):
        """pyqtgraph's timestep numbers, major ones only and every k-th (1-2-5) if they would touch: it spaces them
        by the axis's length alone, and a narrow heatmap at a large font showed '02040'."""
        if not levels or size <= 0 or high <= low:
            return levels
        metrics = QtGui.QFontMetrics(self.style["tickFont"] or tick_font())
        widest = max(metrics.horizontalAdvance(f"{value:g}") for value in (math.floor(low), math.ceil(high)))
        needed = (widest + 2 * LABEL_GAP) * (high - low) / size  # timesteps between two labels that do not touch
        spacing, _ = levels[0]
        if spacing >= needed:
            return levels
        first, last = math.ceil(low), math.floor(high)
        every = next(k for k in (*_label_strides(), 25, 250) if k >= max(needed, spacing) and k not in (3, 4))
        if first + every > last:  # one label: a stride of 5s, else any, that fits a second
            every = next((k for k in (5 * math.ceil(needed / 5), math.ceil(needed)) if first + k <= last), every)
        return [(float(every), [float(t) for t in range(math.ceil(first / every) * every, last + 1, every)])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if not self.labels:
            return super().tickStrings(values, scale, spacing)
        indices = [int(round(value)) for value in values]
        return [self.labels[i] if 0 <= i < len(self.labels) else "" for i in indices]


class ValueAxis(RecallingAxis):
    """A plot's value axis whose grid lines are opaque: their faded colours blended onto the black
    background beforehand (Qt draws lines with alpha several times slower; a plot whose range
    changes draws them anew), and whose labels at the very ends of the axis are drawn too, reaching
    half a line past them (pyqtgraph leaves out a label not wholly inside the axis: a short plot
    kept only the one in the middle)."""

    def rect_for(self) -> QtCore.QRectF:
        rect = super().rect_for()
        if self.orientation in ("left", "right"):
            half_line = QtGui.QFontMetricsF(self.style["tickFont"] or tick_font()).height() / 2 + 1
            rect = rect.adjusted(0, -half_line, 0, half_line)
        return rect

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph's name)
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        return axis, [(_on_black(pen), start, end) for pen, start, end in ticks], texts

    def labelled_ticks(self) -> list[str]:
        """The tick labels this axis draws now (for tests and read-outs)."""
        picture = QtGui.QPicture()
        painter = QtGui.QPainter(picture)
        try:
            specs = self.generateDrawSpecs(painter)
        finally:
            painter.end()
        return [text for _, _, text in specs[2]] if specs else []


def _on_black(pen: QtGui.QPen) -> QtGui.QPen:
    colour = pen.color()
    alpha = colour.alphaF()
    opaque = QtGui.QPen(pen)
    opaque.setColor(QtGui.QColor.fromRgbF(colour.redF() * alpha, colour.greenF() * alpha, colour.blueF() * alpha))
    return opaque


class LogAxis(ValueAxis):
    """A vertical log-scale axis (its values are log10) with as many short labels as fit a line apart:
    1..9, 1-2-5, 1-3 or 1 in each decade, or every 2nd, 5th, 10th... power of ten counted down from
    the highest in view (a 1e8 explosion reads 1e8); at least two powers of ten whenever two are in
    view, however short the axis; evenly spaced values when less than two are in view."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803
        if not self.logMode or not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return super().tickValues(minVal, maxVal, size)
        line = QtGui.QFontMetricsF(self.style["tickFont"] or tick_font()).height()
        label_pixels = max(scaled(LOG_LABEL_PIXELS), line)
        min_gap = label_pixels * (maxVal - minVal) / size  # in decades
        slack = 1e-6 * (maxVal - minVal)  # a view bound on a power of ten, give or take rounding

        def inside(values) -> list[float]:
            return sorted(float(v) for v in values if minVal - slack <= v <= maxVal + slack)

        def spaced(values: list[float]) -> bool:
            return len(values) >= 2 and all(b - a >= min_gap for a, b in zip(values, values[1:], strict=False))

        decades = range(math.floor(minVal), math.ceil(maxVal) + 1)
        candidates = [
            inside(d + math.log10(m) for d in decades for m in ms) for ms in (range(1, 10), (1, 2, 5), (1, 3))
        ]
        powers = inside(decades)  # the powers of ten in view
        every = max(1, int(round_step(min_gap)))
        candidates.append(powers[::-1][::every][::-1])  # counted down from the highest
        if len(powers) >= 2:  # at the least the lowest and the highest, whatever the height
            candidates.append([powers[0], powers[-1]])
            return [(None, next(values for values in candidates if spaced(values) or values == candidates[-1]))]
        low, high = 10.0**minVal, 10.0**maxVal  # within a decade: evenly spaced values, closest at the top
        step = round_step(min_gap * math.log(10) * high)
        candidates.append(
            inside(math.log10(k * step) for k in range(max(1, math.ceil(low / step)), int(high / step) + 1))
        )
        fitting = next((values for values in candidates if spaced(values)), None)
        if fitting is None:  # a short axis: the 1..9 values, skipping those too close to the last one kept
            fitting = []
            for value in candidates[0]:
                if not fitting or value - fitting[-1] >= min_gap:
                    fitting.append(value)
        return [(None, fitting)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802
        return [short_number(10.0**value * scale) for value in values]


class SteadyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range (and 'View All') covers the data with round bounds, grows as soon
    as the data leaves them and shrinks only when the data fills less than SHRINK_BELOW of them.
    min_span: the least span each axis's auto-range covers (10 training steps, not fractions of one)."""

    SHRINK_BELOW = 0.6
    hovered = QtCore.pyqtSignal(object)  # the mouse's place in view coordinates, or None when it leaves

    def __init__(self, log_y: bool = False) -> None:
        super().__init__()
        self._bounds: list[tuple[float, float] | None] = [None, None]
        self.min_span = [0.0, 0.0]
        self.log_y = log_y  # y holds log10 values: its bounds are whole decades, at least one apart

    def forget(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        """Start afresh for other data (a new run): show these ranges until data arrives, then auto-range
        to it, whatever the bounds of the data before. An axis linked to another view follows that one."""
        self._bounds = [None, None]
        free = [axis for axis in (self.XAxis, self.YAxis) if self.linkedView(axis) is None]
        ranges = {self.XAxis: {"xRange": x_range}, self.YAxis: {"yRange": y_range}}
        for axis in free:
            self.setRange(**ranges[axis], padding=0)
            self.enableAutoRange(axis)

    def hoverEvent(self, event) -> None:  # noqa: N802 (pyqtgraph's name)
        self.hovered.emit(None if event.isExit() else self.mapToView(event.pos()))

    def linkedViewChanged(self, view, axis) -> None:  # noqa: N802 (pyqtgraph's name)
        """A linked axis shows the range of the view it follows. (pyqtgraph lines up views that overlap on screen
        pixel by pixel instead: in lecture mode's 2 x 2 grid the narrow gate heatmaps above the Task view's wide
        plot showed t = 0..7 of 50.)"""
        if self.linksBlocked or view is None:
            return
        low, high = view.viewRange()[axis]
        view.blockLink(True)
        try:
            self.enableAutoRange(axis, False)
            self.setRange(**{"xRange" if axis == self.XAxis else "yRange": (low, high)}, padding=0)
        finally:
            view.blockLink(False)

    def suggestPadding(self, axis):  # noqa: N802 (pyqtgraph's names)
        return 0.0  # round_bounds() leaves the margin

    def itemBoundsChanged(self, item):  # noqa: N802 (pyqtgraph's name)
        """A new view range moves the group holding the items, which pyqtgraph takes for a change of their bounds
        and auto-ranges again when the view paints; an item's bounds in view coordinates do not depend on it."""
        if item is not self.childGroup:
            super().itemBoundsChanged(item)

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802, N803
        if self.log_y:
            # pyqtgraph widens the bounds by the curves' pixel padding, measured against the view's height: on a
            # short plot of many decades a decade or more, which would add one. A height of 0 turns that off
            # (x is padded against the width).
            self.height = lambda: 0
        try:
            bounds = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        finally:
            self.__dict__.pop("height", None)
        for axis, data in enumerate(bounds):
            if data is None or not all(math.isfinite(v) for v in data):
                continue
            wanted = decade_bounds(*data) if axis == 1 and self.log_y else round_bounds(*data)
            current = self._bounds[axis]
            span = self.min_span[axis]
            if wanted[1] - wanted[0] < span:  # from a multiple of the span: 0..10, not 0.5..10.5
                low = math.floor(wanted[0] / span) * span
                wanted = (low, max(wanted[1], low + span))
            inside = current is not None and current[0] <= wanted[0] and wanted[1] <= current[1]
            if not (inside and wanted[1] - wanted[0] >= self.SHRINK_BELOW * (current[1] - current[0])):
                self._bounds[axis] = wanted
            bounds[axis] = list(self._bounds[axis])
        return bounds


WORD_JOINER = "\u2060"  # no line break here, and nothing drawn
_TAG = re.compile(r"(<[^>]*>)")
_CHARACTER = re.compile(r"&#?\w+;|.", re.DOTALL)  # an entity (&lt;) is one character


def unbreakable_words(rich_text: str) -> str:
    """`rich_text` with a word joiner between neighbouring characters of every word, across tags: lines break
    only at spaces, never inside '‖∂L/∂h_t‖' (after its '/'), 'free-running' or 'W·i'."""
    joined, in_word = [], False
    for index, part in enumerate(_TAG.split(rich_text)):
        if index % 2:  # a tag
            joined.append(part)
            continue
        for character in _CHARACTER.findall(part):
            is_letter = not character.isspace()
            joined.append(WORD_JOINER + character if is_letter and in_word else character)
            in_word = is_letter
    return "".join(joined)


class TitleLabel(pg.LabelItem):
    """A plot title that never makes its plot wider and is never cut: longer than the plot is wide,
    it wraps onto more lines between words (inside a word, or a formula, only if it is wider than the plot
    on its own), centred, and the plot's title row grows to hold them."""

    def __init__(self, parent: Plot) -> None:
        self.plot = None
        super().__init__("", size=title_size(), color=TEXT_COLOUR, parent=parent)
        self.plot = parent
        self.item.setCacheMode(CACHED)
        option = QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QtGui.QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a word wider than the plot too
        self.item.document().setDefaultTextOption(option)
        self.item.document().setDocumentMargin(1)  # lines close together: two take little more room than one

    def setText(self, text, **args):  # noqa: N802 (pyqtgraph's name)
        """`text` shown with its words unbreakable; `self.text` stays `text`."""
        super().setText(unbreakable_words(text), **args)
        self.text = text

    def updateMin(self):  # noqa: N802 (pyqtgraph's name)
        super().updateMin()
        self.setMinimumWidth(0)
        height = self._sizeHint[QtCore.Qt.SizeHint.MinimumSize][1]
        self._sizeHint[QtCore.Qt.SizeHint.MinimumSize] = (0, height)

    def resizeEvent(self, event):  # noqa: N802
        self.wrap()
        super().resizeEvent(event)  # centres the text

    def wrap(self) -> None:
        """Wrap the text to the width there is (on one line if it fits); the plot makes room for its lines."""
        width = self.rect().width()
        self.item.setTextWidth(-1)
        if self.item.boundingRect().width() > width > 0:
            self.item.setTextWidth(width)
        self.item.update()  # its cached picture: a title moved by a new layout was sometimes not painted at all
        if self.plot is not None and not sip.isdeleted(self.plot.layout):  # not a plot being taken down
            self.plot.fit_title_row(self.item.boundingRect().height() if self.text else 0.0)

    def is_cut(self) -> bool:
        """Whether some of the text lies outside the title's place (it never should)."""
        text = self.mapRectFromItem(self.item, self.item.boundingRect())
        place = self.rect()
        return bool(self.text) and (text.width() > place.width() + 1 or text.height() > place.height() + 1)


def title_size() -> str:
    return f"{TITLE_POINTS * font_scale():.3g}pt"


def style_axis(axis: pg.AxisItem) -> None:
    """Readable tick labels in the text colour, no SI prefix, painted from a cached pixmap."""
    axis.setTickFont(tick_font())
    axis.setTextPen(pg.mkPen(TEXT_COLOUR))
    axis.enableAutoSIPrefix(False)  # "(x0.001)" next to a log axis only confuses
    axis.setCacheMode(CACHED)
    axis.label.setCacheMode(CACHED)


def restyle_axis(axis: pg.AxisItem) -> None:
    """The axis's tick font and label at the current font scale."""
    axis.setTickFont(tick_font())
    if axis.labelText:
        axis.setLabel(axis.labelText, **label_style())


class ReadOut(pg.TextItem):
    """A value read-out beside the mouse, over the whole panel (in a plot, the view would clip it): beside the
    point it describes, HOVER_GAP away so the pointer does not cover it, and whole inside the panel."""

    HOVER_GAP = 12  # pixels

    def __init__(self) -> None:
        super().__init__(color="w", fill=pg.mkBrush(20, 20, 20, 220), border=pg.mkPen(GREY))
        self.setFont(tick_font())
        self.setZValue(20)
        self.hide()
        follow_scale(self)

    def rescale(self, ratio: float) -> None:
        self.setFont(tick_font())

    def show_at(self, plot: pg.PlotItem, point: QtCore.QPointF, text: str) -> None:
        """Show `text` beside `point` (view coordinates of `plot`)."""
        scene = plot.scene()
        if scene is None:
            return
        if self.scene() is not scene:
            scene.addItem(self)
        self.setText(text)
        self.show()
        view = scene.views()[0]
        room = view.mapToScene(view.viewport().rect()).boundingRect()
        where = plot.vb.mapViewToScene(point)
        size = self.boundingRect().size()
        self.setPos(
            _beside(where.x(), size.width(), room.left(), room.right(), self.HOVER_GAP),
            _beside(where.y(), size.height(), room.top(), room.bottom(), self.HOVER_GAP),
        )


def _beside(position: float, length: float, low: float, high: float, gap: float) -> float:
    """Where a read-out of `length` starts along one axis: `gap` after `position`, or before it if
    it would pass `high`, and always between `low` and `high` if it fits there at all."""
    start = position + gap if position + gap + length <= high else position - gap - length
    return max(low, min(start, high - length))


class Plot(pg.PlotItem):
    """A panel's plot: readable fonts, a fixed-width left axis (time axes of stacked plots line
    up), a title that cannot widen it, a steady auto-range and a context menu with only the view
    actions (no 'Plot Options': turning log mode off there would misplace reference lines).
    Hovering a line plot reads out the data point nearest the mouse (x and value, from the data).

    log_y: the left axis labels the plotted values, which are log10 of the quantity, as powers
    of ten. colorbar_space: keep the right margin a heatmap's colour bar takes, so that the
    time axes of a panel's plots and heatmaps line up.
    """

    READ_OUT_REACH = 30  # pixels along x either side of the mouse in which the nearest point is looked for

    def __init__(
        self,
        left: str = "",
        bottom: str = "",
        log_y: bool = False,
        colorbar_space: bool = True,
        grid: bool = True,
        bottom_axis: pg.AxisItem | None = None,
    ) -> None:
        left_axis = LogAxis("left") if log_y else ValueAxis("left")
        axes = {"bottom": bottom_axis or RecallingAxis("bottom"), "left": left_axis}
        super().__init__(viewBox=SteadyViewBox(log_y), axisItems=axes)
        self.log_y = log_y
        self.title_height = scaled(TITLE_HEIGHT)
        self.layout.removeItem(self.titleLabel)
        self.titleLabel.setParentItem(None)
        self.titleLabel = TitleLabel(self)
        self.layout.addItem(self.titleLabel, 0, 1, 1, 5)  # over the view, right axis and colour bar
        self.layout.setRowFixedHeight(0, self.title_height)
        for name in ("left", "bottom"):
            style_axis(self.getAxis(name))
        for name in ("right", "top"):  # hidden, yet they would re-lay out their (empty) label on every range change
            self.getAxis(name).enableAutoSIPrefix(False)
        if log_y:
            self.getAxis("left").setLogMode(False, True)
        self.getAxis("left").setWidth(scaled(LEFT_AXIS_WIDTH))
        self.setLabel("left", left)
        self.setLabel("bottom", bottom)
        if grid:
            self.showGrid(x=False, y=True, alpha=GRID_ALPHA)
            self.getAxis("left").setZValue(self.vb.zValue() - 1)  # opaque grid lines: under the curves
        self.spacer = None
        if colorbar_space:
            self.spacer = pg.GraphicsWidget()
            self.spacer.setFixedWidth(scaled(COLORBAR_WIDTH))
            self.layout.addItem(self.spacer, 2, 5)
            self.layout.setColumnFixedWidth(4, 5)
        self.vb.setMinimumHeight(scaled(MIN_VIEW_HEIGHT))
        self.hideButtons()
        self.setMenuEnabled(False, enableViewBoxMenu=True)
        self.curve_names: dict = {}  # curve -> its name in the read-out (default: the value axis's label)
        self.read_out = ReadOut()
        self.read_out_text = ""
        self.vb.hovered.connect(self.read_value)
        follow_scale(self)

    def setLabel(self, axis, text=None, units=None, unitPrefix=None, **args):  # noqa: N802, N803 (pyqtgraph's names)
        """An axis label, in the panels' label style unless given another."""
        super().setLabel(axis, text, units, unitPrefix, **(args or label_style()))

    def set_title(self, title: str) -> None:
        """Set the title only when it changes (laying out a title is not free)."""
        if self.titleLabel.text != title:
            self.setTitle(title)
            self.titleLabel.wrap()

    def fit_title_row(self, text_height: float) -> None:
        """Make the title row as tall as its (wrapped) text, at least one line at the current scale."""
        height = max(scaled(TITLE_HEIGHT), math.ceil(text_height))
        if height != self.title_height:
            self.title_height = height
            self.titleLabel.setMaximumHeight(height)
            self.layout.setRowFixedHeight(0, height)
            for view in self.scene().views() if self.scene() is not None else []:
                panel = view.parentWidget()
                if hasattr(panel, "fit_minimum_height"):  # the panel's least height grows or shrinks with it
                    QtCore.QTimer.singleShot(0, panel.fit_minimum_height)

    def setTitle(self, title=None, **args):  # noqa: N802 (pyqtgraph's name)
        super().setTitle(title, **args)
        height = getattr(self, "title_height", scaled(TITLE_HEIGHT))  # pyqtgraph sets its own: 30
        self.titleLabel.setMaximumHeight(height)
        self.layout.setRowFixedHeight(0, height)

    def rescale(self, ratio: float) -> None:
        """Fonts, fixed sizes and line widths at the current font scale (set_font_scale)."""
        for name in ("left", "bottom"):
            restyle_axis(self.getAxis(name))
        self.getAxis("left").setWidth(scaled(LEFT_AXIS_WIDTH))
        if self.spacer is not None:
            self.spacer.setFixedWidth(scaled(COLORBAR_WIDTH))
        self.vb.setMinimumHeight(scaled(MIN_VIEW_HEIGHT))
        self.titleLabel.setText(self.titleLabel.text, size=title_size())
        self.titleLabel.wrap()
        for item in self.vb.childGroup.childItems():  # the curves and lines, in the auto-range or not
            rescale_item(item, ratio)
        if self.legend is not None:  # its names in the axis labels' size
            for _, label in self.legend.items:
                label.setText(label.text, size=label_style()["font-size"])

    def name_curve(self, curve, name: str) -> None:
        """What the read-out calls this curve's values."""
        self.curve_names[curve] = name

    def nearest_point(self, point: QtCore.QPointF):
        """(curve, x, y) of the shown data point nearest `point` on screen (view coordinates), among the points
        within READ_OUT_REACH pixels along x, or the nearest along x; None if no curve has data."""
        pixel_width, pixel_height = self.vb.viewPixelSize()
        if not (pixel_width > 0 and pixel_height > 0):
            return None
        best = None
        for curve in self.vb.addedItems:
            if not isinstance(curve, pg.PlotDataItem | pg.PlotCurveItem) or not curve.isVisible():
                continue
            xs, ys = curve.xData, curve.yData
            if xs is None or ys is None or len(xs) == 0:
                continue
            reach = self.READ_OUT_REACH * pixel_width
            first, last = np.searchsorted(xs, [point.x() - reach, point.x() + reach])  # x ascending (steps, timesteps)
            if last <= first:
                first = min(int(np.searchsorted(xs, point.x())), len(xs) - 1)
                first = first - 1 if first > 0 and point.x() - xs[first - 1] < xs[first] - point.x() else first
                last = first + 1
            near_x, near_y = xs[first:last], ys[first:last]
            distance = np.hypot((near_x - point.x()) / pixel_width, (near_y - point.y()) / pixel_height)
            distance[~np.isfinite(distance)] = np.inf
            index = int(np.argmin(distance))
            if np.isfinite(distance[index]) and (best is None or distance[index] < best[0]):
                best = (distance[index], curve, float(near_x[index]), float(near_y[index]))
        return best[1:] if best is not None else None

    def describe_point(self, curve, x: float, y: float) -> str:
        """'training step 120 · loss 0.0234': x as the axis names it, the value as it is (not its log)."""
        axis = self.getAxis("bottom")
        x_name = axis.labelText or "x"
        x_text = f"{x:.0f}" if float(x).is_integer() else f"{x:.4g}"
        labels = getattr(axis, "labels", None)
        if labels and float(x).is_integer() and 0 <= int(x) < len(labels):
            x_text += f" ('{labels[int(x)]}')"
        value = 10.0**y if self.log_y else y
        name = self.curve_names.get(curve) or self.getAxis("left").labelText or "value"
        return f"{x_name} {x_text} · {name} {value:.4g}"

    def read_value(self, point: QtCore.QPointF | None) -> None:
        """Read out the data point nearest the mouse, or hide the read-out (None: the mouse left)."""
        found = self.nearest_point(point) if point is not None else None
        if found is None:
            self.read_out_text = ""
            self.read_out.hide()
            return
        curve, x, y = found
        self.read_out_text = self.describe_point(curve, x, y)
        self.read_out.show_at(self, QtCore.QPointF(x, y), self.read_out_text)

    def settle(self) -> None:
        """Apply a pending auto-range now, after new data, rather than when the view paints: a range that changes
        while it paints makes Qt paint the whole panel a second time."""
        self.vb.prepareForPaint()

    def show_x_values(self, show: bool) -> None:
        """Only the lowest of a stack of x-linked plots needs x tick values and the x label."""
        axis = self.getAxis("bottom")
        axis.showLabel(show)
        axis.setStyle(showValues=show)


class DeviceMarks(pg.GraphicsObject):
    """Marks at some x values of a plot, painted in device pixels over its whole view (lines, triangles: a
    subclass's paint_marks), set with set_marks; one item for all of them."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: tuple | list = ()

    def set_marks(self, marks) -> None:
        if marks != self.marks:
            self.prepareGeometryChange()
            self.marks = marks
            self.update()

    def boundingRect(self):  # noqa: N802 (Qt's names)
        rect = self.viewRect()
        return rect.normalized() if rect is not None and self.marks else QtCore.QRectF()

    def viewRangeChanged(self):  # noqa: N802
        self.prepareGeometryChange()
        super().viewRangeChanged()

    def paint(self, painter, *_) -> None:
        rect = self.viewRect()
        if rect is None or not self.marks:
            return
        to_device = painter.transform()
        box = to_device.mapRect(rect.normalized())
        painter.save()
        painter.resetTransform()
        try:
            self.paint_marks(painter, lambda x: to_device.map(QtCore.QPointF(x, 0.0)).x(), box)
        finally:
            painter.restore()

    def paint_marks(self, painter: QtGui.QPainter, device_x, box: QtCore.QRectF) -> None:
        """Paint self.marks in device pixels: device_x(x) is a mark's x on the device, `box` the view there."""
        raise NotImplementedError


class TimeMarks(DeviceMarks):
    """Small triangles on the top and bottom edges of a plot pointing at some timesteps (the adding problem's two
    marked steps), over whatever the plot shows, which stays visible between them."""

    SIZE = 9  # pixels

    def __init__(self, colour: str = ORANGE) -> None:
        super().__init__()
        self.brush, self.pen = pg.mkBrush(colour), pg.mkPen("k", width=1)
        self.setZValue(15)  # over images, curves and the selected unit's marker

    @property
    def timesteps(self) -> tuple[int, ...]:
        return tuple(self.marks)

    def set_timesteps(self, timesteps) -> None:
        self.set_marks(tuple(int(t) for t in timesteps))

    def paint_marks(self, painter, device_x, box) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self.pen)
        painter.setBrush(self.brush)
        half = self.SIZE / 2
        for timestep in self.marks:
            x = device_x(timestep)
            if box.left() - 1 <= x <= box.right() + 1:
                for edge, tip in ((box.bottom(), box.bottom() - self.SIZE), (box.top(), box.top() + self.SIZE)):
                    corners = [QtCore.QPointF(x - half, edge), QtCore.QPointF(x + half, edge), QtCore.QPointF(x, tip)]
                    painter.drawPolygon(QtGui.QPolygonF(corners))


class TimePlot(Plot):
    """A plot against the probe's timesteps, labelled with its characters when it has them, with triangles
    on its edges at the probe's marked timesteps, if it has any (show_marked_timesteps)."""

    def __init__(self, left: str = "", **options) -> None:
        self.time_axis = TimeAxis("bottom")
        super().__init__(left, bottom="timestep", bottom_axis=self.time_axis, **options)
        self.steps = 0
        self.timestep_marker: pg.InfiniteLine | None = None  # the selected timestep, made on first use
        self.time_marks = TimeMarks()
        self.addItem(self.time_marks, ignoreBounds=True)

    def show_marked_timesteps(self, timesteps) -> None:
        """Point at these timesteps of the probe (none: no marks)."""
        self.time_marks.set_timesteps(timesteps)

    def mark_timestep(self, timestep: int) -> None:
        """A thin vertical line at the selected timestep (over images and curves, not part of the range)."""
        if self.timestep_marker is None:
            self.timestep_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(TIMESTEP_MARKER_COLOUR, width=1))
            self.timestep_marker.setZValue(15)
            self.addItem(self.timestep_marker, ignoreBounds=True)
        if self.timestep_marker.value() != timestep:
            self.timestep_marker.setPos(timestep)

    def show_timesteps(self, steps: int, labels: Sequence[str] | None) -> None:
        """Show (and allow zooming within) timesteps 0..steps-1, set again only when `steps` changes;
        linked time axes follow."""
        self.time_axis.set_labels(labels)
        if steps != self.steps:
            self.steps = steps
            self.vb.setLimits(xMin=-0.5, xMax=steps - 0.5)
            self.setXRange(-0.5, steps - 0.5, padding=0)


class BoldCurve(pg.PlotCurveItem):
    """A line 2 px wide: four antialiased 1 px strokes half a pixel apart, which look like one
    antialiased 2 px stroke and draw ~5x faster (Qt strokes wide antialiased pens slowly)."""

    OFFSETS = ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5))  # device pixels at font scale 1

    def __init__(self, colour: str) -> None:
        super().__init__(pen=pg.mkPen(colour, width=font_scale()), antialias=True)

    def pixelPadding(self):  # noqa: N802 (pyqtgraph's name)
        return super().pixelPadding() + font_scale()

    def paint(self, painter, option, widget):
        if self.xData is None or len(self.xData) == 0:
            return
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self.opts["pen"])
        path = self.getPath()
        to_device = painter.transform()
        spread = self.opts["pen"].widthF()  # the strokes' width: 1 px at scale 1, as far apart
        for dx, dy in self.OFFSETS:
            painter.setTransform(to_device * QtGui.QTransform.fromTranslate(dx * spread, dy * spread))
            painter.drawPath(path)
        painter.setTransform(to_device)


def new_graphics() -> pg.GraphicsLayoutWidget:
    """A panel's plot area: dark, with little space between plots (docks can be small)."""
    # The cached axis pictures of all panels take ~5 MB at 1920x1080, 4x that on a HiDPI screen:
    # more than Qt's default 10 MB cache, which would then redraw them every frame.
    QtGui.QPixmapCache.setCacheLimit(max(QtGui.QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
    graphics = pg.GraphicsLayoutWidget()
    # Every frame changes nearly every item: repainting the whole view is cheaper (~15% per frame
    # at H=128, T=200) than Qt's bookkeeping of the smallest changed region.
    graphics.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
    graphics.ci.setContentsMargins(2, 2, 2, 2)
    graphics.ci.layout.setSpacing(2)
    return graphics
