"""Cell panel: one unit's cell at the selected timestep, drawn as the classic LSTM diagram (Hochreiter &
Schmidhuber 1997 with the forget gate of Gers et al. 2000, in the layout of Olah's "Understanding LSTM
Networks", 2015), with every number the trace holds for it put into the equations beside it, and the
backward pass at the same place below them.

LSTM: inputs x_t, h_{t−1}, c_{t−1}; gates i, f, g, o (each a coloured bar and its value, the colours of the
Gates panel); the products f·c_{t−1} and i·g; the outputs c_t = f·c_{t−1} + i·g and h_t = o·tanh(c_t).
Backward: ∂L/∂h_t, ∂L/∂c_t split into what comes from h_t and what comes back from the next step, and
f_t·∂L/∂c_t, the share of ∂L/∂c_t that flows on to c_{t−1} along the cell path.
GRU (torch's equations): r, z, n; h_t = (1 − z)·n + z·h_{t−1}; backward z_t·∂L/∂h_t, the share flowing on
to h_{t−1} directly. Vanilla RNN: h_t = φ(W x_t + U h_{t−1} + b) with the module's own nonlinearity φ, tanh
or relu (nn.RNN(nonlinearity="relu"), which the trace records), backward through φ only.

"Previous" is the step the direction read before: t−1 forward, t+1 backward (time runs forward in the
trace for both). At the first step read, the previous states are the initial zeros.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from lstm_viz.core.snapshot import Trace
from lstm_viz.gui.panels.base import TracePanel, where_suffix
from lstm_viz.gui.panels.gradients import NO_PROBE_LOSS
from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, GATE_COLORMAP
from lstm_viz.gui.panels.plots import GREY, ORANGE, SKY, TEXT_COLOUR, coloured
from lstm_viz.gui.state import Selection

BACKGROUND = "#000000"
BOX_PEN, WIRE_PEN = QtGui.QColor("#B0B0B0"), QtGui.QColor("#8A8A8A")
# Scene units. The view scales the diagram to fit its share of the panel, but never so far that text (TITLE_PX, the
# smallest in the scene) is drawn smaller than MIN_TEXT_PX on screen: a smaller panel scrolls the diagram (drag it).
TITLE_PX, NUMBER_PX = 22, 26
MIN_TEXT_PX = 11.5
COMFORTABLE_SCALE = 0.7  # TITLE_PX drawn at 15.4 px: the diagram grows no further while the equations want room
DIAGRAM_SHARE = 0.75  # of the panel's width or height, at most; the equations keep the rest
MIN_EQUATIONS_W = 320  # the equations beside the diagram need this width; otherwise they go under it
BOX_W, BOX_H = 124, 84
SCENE_W, SCENE_H = 826, 340
LEFT_X, CELL_Y, GATE_Y, BUS_Y = 64, 45, 262, 326  # the inputs' column, the cell line, the gates' row, the bus
LSTM_GATES = (
    ("input_gate", "i", "σ"),
    ("forget_gate", "f", "σ"),
    ("cell_candidate", "g", "tanh"),
    ("output_gate", "o", "σ"),
)
WAITING = "waiting for the first probe of the model…"


def number(value: float) -> str:
    """A value as the panel shows it: 2 decimals from 0.1 to 1000, 3 from 0.01, else 3 significant digits in
    e-notation with a bare exponent (3.40e−5, 1.20e3: short enough for a box); a real minus sign."""
    if not math.isfinite(value):
        text = str(value)
    elif value == 0 or 0.1 <= abs(value) < 1000:
        text = f"{value:.2f}"
    elif 0.01 <= abs(value) < 0.1:
        text = f"{value:.3f}"
    else:
        mantissa, exponent = f"{value:.2e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def factor(value: float) -> str:
    """number(value), in brackets when negative (a factor in a product)."""
    text = number(value)
    return f"({text})" if text.startswith("−") else text


# ---- the numbers ---------------------------------------------------------------------------------------
def cell_values(trace: Trace, selection: Selection) -> dict[str, float]:
    """Every number the panel shows for this selection (moved inside the trace), as floats.

    Gates and states are the trace's at (layer, direction, t, unit); `*_prev` the same unit's states at the
    step this direction read before (zeros at its first step); gradients only when the trace has them."""
    layers, directions, steps, units = trace[trace.names[0]].shape
    inside = selection.within(layers, directions, units, steps)
    layer, direction, t, unit = inside.layer, inside.direction, inside.timestep, inside.unit
    before = t + (1 if direction else -1)  # the step this direction read before t (forward time)
    after = t - (1 if direction else -1)
    has_before, has_after = 0 <= before < steps, 0 <= after < steps

    def at(name: str, step: int) -> float:
        return float(trace[name][layer, direction, step, unit])

    def previous(name: str) -> float:
        return at(name, before) if has_before else 0.0

    if layer == 0:
        layer_input = np.asarray(trace.lstm_input[t], dtype=np.float64)  # (F,)
    else:
        layer_input = np.asarray(trace["hidden"][layer - 1, :, t], dtype=np.float64).ravel()  # (D*H,)
    hidden_prev_vector = trace["hidden"][layer, direction, before] if has_before else np.zeros(units)  # (H,)
    values = {
        "timestep": float(t),
        "input_norm": float(np.linalg.norm(layer_input)),
        "input_size": float(len(layer_input)),
        "hidden_prev": previous("hidden"),
        "hidden_prev_norm": float(np.linalg.norm(np.asarray(hidden_prev_vector, dtype=np.float64))),
        "hidden": at("hidden", t),
    }
    if len(layer_input) == 1:
        values["input"] = float(layer_input[0])
    gradients = "grad_hidden" in trace.quantities
    if gradients:
        values["grad_hidden"] = at("grad_hidden", t)
    if trace.cell == "lstm":
        for name in ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell"):
            values[name] = at(name, t)
        values["cell_prev"] = previous("cell")
        values["forget_times_cell"] = values["forget_gate"] * values["cell_prev"]
        values["input_times_candidate"] = values["input_gate"] * values["cell_candidate"]
        values["tanh_cell"] = math.tanh(values["cell"])
        if gradients:
            values["grad_cell"] = at("grad_cell", t)
            values["grad_cell_from_hidden"] = (
                values["grad_hidden"] * values["output_gate"] * (1 - values["tanh_cell"] ** 2)
            )
            values["forget_next"] = at("forget_gate", after) if has_after else 0.0
            values["grad_cell_next"] = at("grad_cell", after) if has_after else 0.0
            values["grad_cell_from_next"] = values["forget_next"] * values["grad_cell_next"]
            values["grad_cell_to_prev"] = values["forget_gate"] * values["grad_cell"]
    elif trace.cell == "gru":
        for name in ("reset_gate", "update_gate", "candidate"):
            values[name] = at(name, t)
        values["keep_previous"] = values["update_gate"] * values["hidden_prev"]
        values["take_candidate"] = (1 - values["update_gate"]) * values["candidate"]
        if gradients:
            values["grad_hidden_to_prev"] = values["update_gate"] * values["grad_hidden"]
    elif gradients:  # rnn: φ'(pre-activation), from h_t = φ(pre-activation)
        relu = trace.nonlinearity == "relu"
        values["derivative"] = float(values["hidden"] > 0) if relu else 1 - values["hidden"] ** 2
        values["grad_pre_activation"] = values["derivative"] * values["grad_hidden"]
    return values


# ---- the diagram -----------------------------------------------------------------------------------------
def _font(pixels: int, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _colour(colormap: str, position: float) -> QtGui.QColor:
    return pg.colormap.get(colormap).map(min(max(position, 0.0), 1.0), mode="qcolor")


class Box:
    """A box with a title (HTML, subscripts allowed), a number, and for a gate a bar showing its value:
    0..1 from the left (sigmoid) or −1..1 from the middle (tanh), coloured as the Gates panel colours it."""

    def __init__(self, scene: QtWidgets.QGraphicsScene, centre: tuple[float, float], title: str, scale: str = ""):
        x, y = centre[0] - BOX_W / 2, centre[1] - BOX_H / 2
        self.rect = QtCore.QRectF(x, y, BOX_W, BOX_H)
        self.frame = scene.addRect(self.rect, QtGui.QPen(BOX_PEN, 2), QtGui.QBrush(QtGui.QColor("#161616")))
        self.title = scene.addText("", _font(TITLE_PX))
        self.title.setDefaultTextColor(QtGui.QColor(TEXT_COLOUR))
        self.set_title(title)
        self.number = scene.addSimpleText("–", _font(NUMBER_PX, bold=True))
        self.number.setBrush(QtGui.QColor("white"))
        self.scale = scale
        self.bar_back = self.bar = None
        if scale:
            track = QtCore.QRectF(x + 10, y + BOX_H - 20, BOX_W - 20, 12)
            self.bar_back = scene.addRect(
                track, QtGui.QPen(QtGui.QColor("#555555"), 1), QtGui.QBrush(QtGui.QColor("#2a2a2a"))
            )
            self.bar = scene.addRect(
                QtCore.QRectF(track.x(), track.y(), 0, track.height()), QtGui.QPen(QtCore.Qt.PenStyle.NoPen)
            )
        self._place_number()

    def set_title(self, title: str) -> None:
        if self.title.toHtml() and getattr(self, "_title", None) == title:
            return
        self._title = title
        self.title.setHtml(title)
        self.title.setPos(self.rect.center().x() - self.title.boundingRect().width() / 2, self.rect.y() - 2)

    def _place_number(self) -> None:
        """Centred over the bar; a long number (−3.00e−3) in a smaller font, down to TITLE_PX, to stay in the box."""
        self.number.setFont(_font(NUMBER_PX, bold=True))
        width = self.number.boundingRect().width()
        if width > BOX_W - 4:
            self.number.setFont(_font(max(TITLE_PX, math.floor(NUMBER_PX * (BOX_W - 4) / width)), bold=True))
        size = self.number.boundingRect()
        bottom = self.rect.bottom() - (22 if self.scale else 8)
        self.number.setPos(self.rect.center().x() - size.width() / 2, bottom - size.height())

    def show(self, value: float | None) -> None:
        self.number.setText("–" if value is None else number(value))
        self._place_number()
        if self.bar is None:
            return
        track = self.bar_back.rect()
        if value is None or not math.isfinite(value):
            self.bar.setRect(QtCore.QRectF(track.x(), track.y(), 0, track.height()))
            return
        if self.scale == "sigmoid":
            share = min(max(value, 0.0), 1.0)
            self.bar.setRect(QtCore.QRectF(track.x(), track.y(), share * track.width(), track.height()))
            self.bar.setBrush(_colour(GATE_COLORMAP, share))
        else:  # tanh: from the middle
            share = min(max(value, -1.0), 1.0)
            middle = track.center().x()
            width = share * track.width() / 2
            self.bar.setRect(QtCore.QRectF(min(middle, middle + width), track.y(), abs(width), track.height()))
            self.bar.setBrush(_colour(DIVERGING_COLORMAP, (share + 1) / 2))


class Operation:
    """A circle with ×, + or a function name, and optionally a value written beside it."""

    def __init__(self, scene, centre: tuple[float, float], symbol: str, label_at: tuple[float, float] | None = None):
        radius = 22 if len(symbol) <= 2 else 30
        self.circle = scene.addEllipse(
            centre[0] - radius, centre[1] - radius, 2 * radius, 2 * radius, QtGui.QPen(BOX_PEN, 2),
            QtGui.QBrush(QtGui.QColor("#2b2b2b")),
        )  # fmt: skip
        self.centre = centre
        self.symbol = scene.addSimpleText("", _font(TITLE_PX if len(symbol) > 2 else NUMBER_PX, bold=True))
        self.symbol.setBrush(QtGui.QColor("white"))
        self.set_symbol(symbol)
        self.label = None
        if label_at is not None:
            self.label = scene.addText("", _font(TITLE_PX))
            self.label.setDefaultTextColor(QtGui.QColor(TEXT_COLOUR))
            self.label.setPos(*label_at)

    def set_symbol(self, symbol: str) -> None:
        self.symbol.setText(symbol)
        size = self.symbol.boundingRect()
        self.symbol.setPos(self.centre[0] - size.width() / 2, self.centre[1] - size.height() / 2)

    def show(self, html_text: str) -> None:
        if self.label is not None:
            self.label.setHtml(html_text)


def wire(scene, points: list[tuple[float, float]], arrow: bool = True) -> None:
    """A line through `points`, with an arrowhead at the last one."""
    path = QtGui.QPainterPath(QtCore.QPointF(*points[0]))
    for point in points[1:]:
        path.lineTo(QtCore.QPointF(*point))
    scene.addPath(path, QtGui.QPen(WIRE_PEN, 2.5))
    if arrow:
        (x0, y0), (x1, y1) = points[-2], points[-1]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        head = QtGui.QPolygonF(
            [QtCore.QPointF(x1, y1), QtCore.QPointF(x1 - 12 * ux + 6 * uy, y1 - 12 * uy - 6 * ux),
             QtCore.QPointF(x1 - 12 * ux - 6 * uy, y1 - 12 * uy + 6 * ux)]
        )  # fmt: skip
        scene.addPolygon(head, QtGui.QPen(WIRE_PEN, 1), QtGui.QBrush(WIRE_PEN))


def sub(name: str, index: str) -> str:
    return f"{name}<sub>{index}</sub>"


class Diagram:
    """One cell type's picture: a scene built once; show(values, before) updates its numbers in place.

    The layout (scene units): the inputs in a column on the left (c_{t−1} or h_{t−1} on the cell line at the top,
    x_t level with the gates), the gates in a row with the bus that feeds them under it, the products and sums
    above them, the outputs in a column on the right."""

    def __init__(self) -> None:
        self.scene = QtWidgets.QGraphicsScene(0, 0, SCENE_W, SCENE_H)
        self.scene.setBackgroundBrush(QtGui.QColor(BACKGROUND))
        self.boxes: dict[str, Box] = {}
        self.operations: dict[str, Operation] = {}

    def inputs(self, bus_right: float, hidden_y: float) -> None:
        """h_{t−1} (at `hidden_y`) and x_t (level with the gates) on the left, joined on a bus under the gates."""
        self.boxes["hidden_prev"] = Box(self.scene, (LEFT_X, hidden_y), sub("h", "t−1"))
        self.boxes["input"] = Box(self.scene, (LEFT_X, GATE_Y), sub("x", "t"))
        riser = LEFT_X + BOX_W / 2 + 14
        if hidden_y == CELL_Y:  # on the cell line (GRU): down from its bottom, past x_t
            wire(self.scene, [(LEFT_X, CELL_Y + BOX_H / 2), (LEFT_X, 150), (riser, 150), (riser, BUS_Y)], arrow=False)
        else:
            wire(self.scene, [(LEFT_X + BOX_W / 2, hidden_y), (riser, hidden_y), (riser, BUS_Y)], arrow=False)
        wire(self.scene, [(LEFT_X, GATE_Y + BOX_H / 2), (LEFT_X, BUS_Y), (bus_right, BUS_Y)], arrow=False)

    def gate(self, name: str, centre_x: float, title: str, scale: str) -> None:
        """A gate box over the bus, fed from it."""
        self.boxes[name] = Box(self.scene, (centre_x, GATE_Y), title, scale)
        wire(self.scene, [(centre_x, BUS_Y), (centre_x, GATE_Y + BOX_H / 2)])

    def show(self, values: dict[str, float] | None, before: str) -> None:
        """Numbers in every box (– without values); `before` names the previous step ('t−1' or 't+1')."""
        self.boxes["hidden_prev"].set_title(sub("h", before))
        for name, box in self.boxes.items():
            if name == "input":
                box.show(None if values is None else values.get("input", values["input_norm"]))
                box.set_title(sub("x", "t") if values is None or "input" in values else f"‖{sub('x', 't')}‖")
            else:
                box.show(None if values is None else values[name])


OUT_X = SCENE_W - 4 - BOX_W / 2  # the outputs' column
GATE_XS = (212, 344, 476, 626)  # the gates' columns, left to right


class LstmDiagram(Diagram):
    def __init__(self) -> None:
        super().__init__()
        scene, top = self.scene, CELL_Y
        f_x, i_x, g_x, o_x = GATE_XS
        add_x, product_y, hidden_y = (i_x + g_x) / 2, 140, 182
        self.boxes["cell_prev"] = Box(scene, (LEFT_X, top), sub("c", "t−1"))
        self.boxes["cell"] = Box(scene, (OUT_X, top), sub("c", "t"))
        self.boxes["hidden"] = Box(scene, (OUT_X, hidden_y), sub("h", "t"))
        self.inputs(bus_right=o_x, hidden_y=165)
        gates = (("forget_gate", f_x, "forget", "f", "σ"), ("input_gate", i_x, "input", "i", "σ"),
                 ("cell_candidate", g_x, "cand.", "g", "tanh"), ("output_gate", o_x, "output", "o", "σ"))  # fmt: skip
        for name, x, word, letter, function in gates:
            self.gate(name, x, f"{word} {sub(letter, 't')}", "sigmoid" if function == "σ" else "tanh")
        self.operations["forget"] = Operation(scene, (f_x, top), "×", label_at=(f_x + 6, top + 26))
        self.operations["add"] = Operation(scene, (add_x, top), "+")
        self.operations["input"] = Operation(scene, (add_x, product_y), "×", label_at=(add_x + 28, top + 26))
        self.operations["tanh"] = Operation(scene, (o_x, 112), "tanh")
        self.operations["output"] = Operation(scene, (o_x, hidden_y), "×")
        right_of_box = LEFT_X + BOX_W / 2
        wire(scene, [(right_of_box, top), (f_x - 22, top)])
        wire(scene, [(f_x + 22, top), (add_x - 22, top)])
        wire(scene, [(add_x + 22, top), (OUT_X - BOX_W / 2, top)])
        wire(scene, [(f_x, GATE_Y - BOX_H / 2), (f_x, top + 22)])
        wire(scene, [(i_x, GATE_Y - BOX_H / 2), (i_x, product_y), (add_x - 22, product_y)])
        wire(scene, [(g_x, GATE_Y - BOX_H / 2), (g_x, product_y), (add_x + 22, product_y)])
        wire(scene, [(add_x, product_y - 22), (add_x, top + 22)])
        wire(scene, [(o_x, top), (o_x, 112 - 30)])
        wire(scene, [(o_x, 112 + 30), (o_x, hidden_y - 22)])
        wire(scene, [(o_x, GATE_Y - BOX_H / 2), (o_x, hidden_y + 22)])
        wire(scene, [(o_x + 22, hidden_y), (OUT_X - BOX_W / 2, hidden_y)])

    def show(self, values: dict[str, float] | None, before: str) -> None:
        super().show(values, before)
        self.boxes["cell_prev"].set_title(sub("c", before))
        if values is None:
            return
        self.operations["forget"].show(f"f·{sub('c', before)} = {number(values['forget_times_cell'])}")
        self.operations["input"].show(f"i·g = {number(values['input_times_candidate'])}")


class GruDiagram(Diagram):
    def __init__(self) -> None:
        super().__init__()
        scene, top = self.scene, CELL_Y
        z_x, r_x, n_x = GATE_XS[:3]
        product_y = 182
        self.boxes["hidden"] = Box(scene, (OUT_X, top), sub("h", "t"))
        self.inputs(bus_right=n_x, hidden_y=top)  # h_{t−1} on the memory line
        self.gate("update_gate", z_x, f"update {sub('z', 't')}", "sigmoid")
        self.gate("reset_gate", r_x, f"reset {sub('r', 't')}", "sigmoid")
        self.gate("candidate", n_x, f"cand. {sub('n', 't')}", "tanh")
        self.operations["keep"] = Operation(scene, (z_x, top), "×", label_at=(z_x + 6, top + 26))
        self.operations["add"] = Operation(scene, (n_x, top), "+")
        self.operations["one_minus"] = Operation(scene, (r_x, 140), "1−")
        self.operations["take"] = Operation(scene, (n_x, product_y), "×", label_at=(n_x + 10, 86))
        wire(scene, [(LEFT_X + BOX_W / 2, top), (z_x - 22, top)])
        wire(scene, [(z_x + 22, top), (n_x - 22, top)])
        wire(scene, [(n_x + 22, top), (OUT_X - BOX_W / 2, top)])
        wire(scene, [(z_x, GATE_Y - BOX_H / 2), (z_x, top + 22)])
        wire(scene, [(z_x, 140), (r_x - 30, 140)])  # z to 1 − z
        wire(scene, [(r_x + 30, 140), (n_x - 40, 140), (n_x - 40, product_y), (n_x - 22, product_y)])
        wire(scene, [(n_x, GATE_Y - BOX_H / 2), (n_x, product_y + 22)])
        wire(scene, [(n_x, product_y - 22), (n_x, top + 22)])
        wire(scene, [(r_x + BOX_W / 2, GATE_Y), (n_x - BOX_W / 2, GATE_Y)])  # r gates n's recurrent term

    def show(self, values: dict[str, float] | None, before: str) -> None:
        super().show(values, before)
        if values is None:
            return
        self.operations["keep"].show(f"z·{sub('h', before)} = {number(values['keep_previous'])}")
        self.operations["take"].show(f"(1−z)·n = {number(values['take_candidate'])}")


class RnnDiagram(Diagram):
    def __init__(self) -> None:
        super().__init__()
        scene = self.scene
        middle_x, out_y, function_y = GATE_XS[1], 110, 200
        self.boxes["hidden"] = Box(scene, (OUT_X, out_y), sub("h", "t"))
        self.inputs(bus_right=middle_x, hidden_y=165)
        self.operations["nonlinearity"] = Operation(scene, (middle_x, function_y), "tanh")
        wire(scene, [(middle_x, BUS_Y), (middle_x, function_y + 30)])
        wire(scene, [(middle_x, function_y - 30), (middle_x, out_y), (OUT_X - BOX_W / 2, out_y)])
        self.note = scene.addText("", _font(TITLE_PX))
        self.note.setDefaultTextColor(QtGui.QColor(GREY))
        self.note.setTextWidth(SCENE_W - 20)
        self.note.setPos(10, 0)
        self.set_nonlinearity("tanh")

    def set_nonlinearity(self, name: str) -> None:
        """Draw the module's own nonlinearity ('tanh' or 'relu')."""
        self.operations["nonlinearity"].set_symbol(name)
        self.note.setHtml(
            f"no gates, no cell state: all of h<sub>t−1</sub> passes through W<sub>hh</sub> and the {name}"
        )


DIAGRAMS = {"lstm": LstmDiagram, "gru": GruDiagram, "rnn": RnnDiagram}


class DiagramView(QtWidgets.QGraphicsView):
    """Shows a diagram's scene scaled to fit, but never with text smaller than MIN_TEXT_PX: below that the diagram
    keeps its scale and scrolls (drag it, or the scroll bars)."""

    def __init__(self) -> None:
        super().__init__()
        self.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QtGui.QColor(BACKGROUND))
        self.setDragMode(QtWidgets.QGraphicsView.DragMode.ScrollHandDrag)
        self.setMinimumSize(240, 80)  # as narrow as the panel was with the equations beside it

    def setScene(self, scene) -> None:  # noqa: N802 (Qt's name)
        super().setScene(scene)
        self.fit()

    def fit(self) -> None:
        if self.scene() is None:
            return
        rect = self.scene().sceneRect()
        scale = max(min(self.width() / rect.width(), self.height() / rect.height()), MIN_TEXT_PX / TITLE_PX)
        self.setTransform(QtGui.QTransform.fromScale(scale, scale))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit()


def split_for(width: float, height: float) -> tuple[bool, float]:
    """Where the equations go in a width x height panel, and the diagram's share of the panel: (below, pixels).

    The diagram takes what brings it to its largest scale up to COMFORTABLE_SCALE, but at most DIAGRAM_SHARE of
    the panel; the equations go beside it if that leaves them MIN_EQUATIONS_W and gives the diagram at least the
    scale it has with them below, else under it."""
    below = min(width / SCENE_W, DIAGRAM_SHARE * height / SCENE_H, COMFORTABLE_SCALE)
    beside = min(DIAGRAM_SHARE * width / SCENE_W, height / SCENE_H, COMFORTABLE_SCALE)
    scale_below, scale_beside = max(below, MIN_TEXT_PX / TITLE_PX), max(beside, MIN_TEXT_PX / TITLE_PX)
    if beside > below and width - SCENE_W * scale_beside >= MIN_EQUATIONS_W:
        return False, math.ceil(SCENE_W * scale_beside)
    scroll_bar = 0 if SCENE_W * scale_below <= width else QtWidgets.QApplication.style().pixelMetric(
        QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent
    )  # fmt: skip
    return True, min(math.ceil(SCENE_H * scale_below) + scroll_bar, DIAGRAM_SHARE * height)


# ---- the equations ---------------------------------------------------------------------------------------
def equations(
    cell: str, values: dict[str, float], before: str, after: str, nonlinearity: str = "tanh"
) -> tuple[str, str]:
    """(forward, backward) as HTML lines with this unit's numbers put in (`nonlinearity`: a vanilla RNN's)."""
    n, f = number, factor
    if cell == "lstm":
        c_prev, h_prev = sub("c", before), sub("h", before)
        forward = [
            *(
                f"{sub(letter, 't')} = {function}({sub('W', letter)}·[{h_prev}, {sub('x', 't')}] + {sub('b', letter)})"
                f" = {n(values[name])}"
                for name, letter, function in LSTM_GATES
            ),
            f"<b>c<sub>t</sub></b> = f<sub>t</sub>·{c_prev} + i<sub>t</sub>·g<sub>t</sub> = "
            f"{f(values['forget_gate'])} × {f(values['cell_prev'])} + {f(values['input_gate'])} × "
            f"{f(values['cell_candidate'])} = <b>{n(values['cell'])}</b>",
            f"<b>h<sub>t</sub></b> = o<sub>t</sub>·tanh(c<sub>t</sub>) = {f(values['output_gate'])} × "
            f"tanh({n(values['cell'])}) = <b>{n(values['hidden'])}</b>",
        ]
        if "grad_hidden" not in values:
            return "<br>".join(forward), coloured(NO_PROBE_LOSS, GREY)
        c_after = sub("c", after)
        backward = [
            f"∂L/∂h<sub>t</sub> = <b>{n(values['grad_hidden'])}</b>",
            f"∂L/∂c<sub>t</sub> = ∂L/∂h<sub>t</sub>·o<sub>t</sub>·(1 − tanh²c<sub>t</sub>) + "
            f"{sub('f', after)}·∂L/∂{c_after} = {n(values['grad_cell_from_hidden'])} + "
            f"{f(values['forget_next'])} × {f(values['grad_cell_next'])} = <b>{n(values['grad_cell'])}</b>",
            coloured(
                f"on to {c_prev} through the forget gate: f<sub>t</sub>·∂L/∂c<sub>t</sub> = "
                f"{f(values['forget_gate'])} × {f(values['grad_cell'])} = <b>{n(values['grad_cell_to_prev'])}</b>",
                ORANGE,
            ),
        ]
        return "<br>".join(forward), "<br>".join(backward)
    if cell == "gru":
        h_prev = sub("h", before)
        forward = [
            f"r<sub>t</sub> = σ(W<sub>ir</sub>x<sub>t</sub> + W<sub>hr</sub>{h_prev} + b<sub>r</sub>) = "
            f"{n(values['reset_gate'])}",
            f"z<sub>t</sub> = σ(W<sub>iz</sub>x<sub>t</sub> + W<sub>hz</sub>{h_prev} + b<sub>z</sub>) = "
            f"{n(values['update_gate'])}",
            f"n<sub>t</sub> = tanh(W<sub>in</sub>x<sub>t</sub> + b<sub>in</sub> + r<sub>t</sub>·(W<sub>hn</sub>{h_prev}"
            f" + b<sub>hn</sub>)) = {n(values['candidate'])}",
            f"<b>h<sub>t</sub></b> = (1 − z<sub>t</sub>)·n<sub>t</sub> + z<sub>t</sub>·{h_prev} = "
            f"(1 − {n(values['update_gate'])}) × {f(values['candidate'])} + {f(values['update_gate'])} × "
            f"{f(values['hidden_prev'])} = <b>{n(values['hidden'])}</b>",
        ]
        if "grad_hidden" not in values:
            return "<br>".join(forward), coloured(NO_PROBE_LOSS, GREY)
        backward = [
            f"∂L/∂h<sub>t</sub> = <b>{n(values['grad_hidden'])}</b>",
            coloured(
                f"on to {h_prev} directly: z<sub>t</sub>·∂L/∂h<sub>t</sub> = {f(values['update_gate'])} × "
                f"{f(values['grad_hidden'])} = <b>{n(values['grad_hidden_to_prev'])}</b> (the rest through the gates' "
                "weights)",
                SKY,
            ),
        ]
        return "<br>".join(forward), "<br>".join(backward)
    h_prev = sub("h", before)
    forward = [
        f"<b>h<sub>t</sub></b> = {nonlinearity}(W<sub>ih</sub>x<sub>t</sub> + W<sub>hh</sub>{h_prev} + b) = "
        f"<b>{n(values['hidden'])}</b>"
    ]
    if "grad_hidden" not in values:
        return "<br>".join(forward), coloured(NO_PROBE_LOSS, GREY)
    derivative = "[h<sub>t</sub> &gt; 0]" if nonlinearity == "relu" else "(1 − h<sub>t</sub>²)"
    backward = [
        f"∂L/∂h<sub>t</sub> = <b>{n(values['grad_hidden'])}</b>",
        f"through the {nonlinearity}: {derivative}·∂L/∂h<sub>t</sub> = {f(values['derivative'])} × "
        f"{f(values['grad_hidden'])} = <b>{n(values['grad_pre_activation'])}</b>",
        coloured(f"on to {h_prev} only through W<sub>hh</sub><sup>T</sup>: no path that skips the weights", SKY),
    ]
    return "<br>".join(forward), "<br>".join(backward)


class CellPanel(TracePanel):
    """The selected unit's cell at the selected timestep: diagram, equations with its numbers, backward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.box.removeWidget(self.graphics)
        self.graphics.hide()  # the diagram is a QGraphicsView of its own: it scales as a whole
        self.diagrams = {cell: make() for cell, make in DIAGRAMS.items()}
        self.view = DiagramView()
        self.heading = QtWidgets.QLabel(WAITING)
        self.forward = QtWidgets.QLabel()
        self.backward = QtWidgets.QLabel()
        for label in (self.heading, self.forward, self.backward):
            label.setWordWrap(True)
            label.setTextFormat(QtCore.Qt.TextFormat.RichText)
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backward_title = QtWidgets.QLabel("<b>backward</b> (L: the probe's loss)")
        text = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(text)
        column.setContentsMargins(8, 4, 8, 4)
        for widget in (self.heading, self.forward, self.backward_title, self.backward):
            column.addWidget(widget)
        column.addStretch(1)
        text.setObjectName("equations")
        text.setStyleSheet(f"#equations {{ background: {BACKGROUND}; }} QLabel {{ color: {TEXT_COLOUR}; }}")
        self.text_area = QtWidgets.QScrollArea()
        self.text_area.setWidget(text)
        self.text_area.setWidgetResizable(True)
        self.text_area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.text_area.setMinimumHeight(40)  # two lines of equations, the rest scrolls: the panel fits a 2 x 2 grid
        self.split = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.TopToBottom)
        self.split.setContentsMargins(0, 0, 0, 0)
        self.split.addWidget(self.view)
        self.split.addWidget(self.text_area)
        self.box.addLayout(self.split, stretch=1)
        self.values: dict[str, float] = {}
        self.kind = "lstm"
        self.arrange("lstm")

    def arrange(self, cell: str) -> None:
        self.view.setScene(self.diagrams[cell].scene)
        self.diagrams[cell].show(None, "t−1")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The equations under the diagram or beside it, and the diagram's share of the panel (split_for)."""
        super().resizeEvent(event)
        width, height = self.width(), self.height()
        below, diagram = split_for(width, height)
        Direction = QtWidgets.QBoxLayout.Direction  # noqa: N806 (Qt's enum)
        self.split.setDirection(Direction.TopToBottom if below else Direction.LeftToRight)
        self.split.setStretch(0, round(diagram))
        self.split.setStretch(1, round((height if below else width) - diagram))

    def draw(self) -> None:
        trace = self.trace
        layers, directions, steps, units = trace[trace.names[0]].shape
        inside = self.selected.within(layers, directions, units, steps)
        self.values = values = cell_values(trace, inside)
        backward_direction = inside.direction == 1
        before, after = ("t+1", "t−1") if backward_direction else ("t−1", "t+1")
        first = inside.timestep == (steps - 1 if backward_direction else 0)
        if self.kind == "rnn":
            self.diagrams["rnn"].set_nonlinearity(trace.nonlinearity)
        self.diagrams[self.kind].show(values, before)
        label = trace.labels[inside.timestep] if trace.labels and inside.timestep < len(trace.labels) else None
        char = f" ('{label}')" if label is not None else ""
        start = f" · first step read: {sub('h', before)}{', c' if self.kind == 'lstm' else ''} = 0" if first else ""
        suffix = where_suffix(layers, directions, inside.layer, inside.direction)
        self.heading.setText(
            f"<b>unit {inside.unit}, t = {inside.timestep}</b>{char}{suffix}{start}<br>"
            + coloured(
                f"‖x<sub>t</sub>‖ = {number(values['input_norm'])} ({int(values['input_size'])} inputs), "
                f"‖{sub('h', before)}‖ = {number(values['hidden_prev_norm'])}",
                GREY,
            )  # fmt: skip
        )
        forward, backward = equations(self.kind, values, before, after, trace.nonlinearity)
        self.forward.setText(forward)
        self.backward.setText(backward)
