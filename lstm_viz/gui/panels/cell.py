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
TITLE_PX, NUMBER_PX = 21, 27  # scene units; the view scales the whole diagram to fit the panel
BOX_W, BOX_H = 120, 96
SCENE_W, SCENE_H = 920, 620
NARROW = 1.5  # a panel less than this many times as wide as tall puts the equations under the diagram
LSTM_GATES = (
    ("input_gate", "i", "σ"),
    ("forget_gate", "f", "σ"),
    ("cell_candidate", "g", "tanh"),
    ("output_gate", "o", "σ"),
)
WAITING = "waiting for the first probe of the model…"


def number(value: float) -> str:
    """A value as the panel shows it: 2 decimals from 0.1 to 1000, 3 from 0.01, else 3 significant digits in
    e-notation; a real minus sign."""
    if not math.isfinite(value):
        text = str(value)
    elif value == 0 or 0.1 <= abs(value) < 1000:
        text = f"{value:.2f}"
    elif 0.01 <= abs(value) < 0.1:
        text = f"{value:.3f}"
    else:
        text = f"{value:.2e}"
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
            track = QtCore.QRectF(x + 10, y + BOX_H - 24, BOX_W - 20, 14)
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
        size = self.number.boundingRect()
        bottom = self.rect.bottom() - (28 if self.scale else 10)
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
    """One cell type's picture: a scene built once; show(values, before) updates its numbers in place."""

    def __init__(self) -> None:
        self.scene = QtWidgets.QGraphicsScene(0, 0, SCENE_W, SCENE_H)
        self.scene.setBackgroundBrush(QtGui.QColor(BACKGROUND))
        self.boxes: dict[str, Box] = {}
        self.operations: dict[str, Operation] = {}

    def inputs(self, bus_right: float) -> None:
        """h_{t−1} and x_t at the bottom left, joined on a bus that feeds every gate."""
        self.boxes["hidden_prev"] = Box(self.scene, (70, 470), sub("h", "t−1"))
        self.boxes["input"] = Box(self.scene, (70, 570), sub("x", "t"))
        wire(self.scene, [(130, 470), (bus_right, 470)], arrow=False)
        wire(self.scene, [(130, 570), (160, 570), (160, 470)], arrow=False)

    def gate(self, name: str, centre_x: float, title: str, scale: str) -> None:
        """A gate box over the bus, fed from it."""
        self.boxes[name] = Box(self.scene, (centre_x, 330), title, scale)
        wire(self.scene, [(centre_x, 470), (centre_x, 330 + BOX_H / 2)])

    def show(self, values: dict[str, float] | None, before: str) -> None:
        """Numbers in every box (– without values); `before` names the previous step ('t−1' or 't+1')."""
        self.boxes["hidden_prev"].set_title(sub("h", before))
        for name, box in self.boxes.items():
            if name == "input":
                box.show(None if values is None else values.get("input", values["input_norm"]))
                box.set_title(sub("x", "t") if values is None or "input" in values else f"‖{sub('x', 't')}‖")
            else:
                box.show(None if values is None else values[name])


class LstmDiagram(Diagram):
    def __init__(self) -> None:
        super().__init__()
        scene, top = self.scene, 80
        self.boxes["cell_prev"] = Box(scene, (70, top), sub("c", "t−1"))
        self.boxes["cell"] = Box(scene, (850, top), sub("c", "t"))
        self.boxes["hidden"] = Box(scene, (850, 250), sub("h", "t"))
        self.inputs(bus_right=700)
        gates = (("forget_gate", 240, "forget", "f", "σ"), ("input_gate", 370, "input", "i", "σ"),
                 ("cell_candidate", 500, "cand.", "g", "tanh"), ("output_gate", 700, "output", "o", "σ"))  # fmt: skip
        for name, x, word, letter, function in gates:
            self.gate(name, x, f"{word} {sub(letter, 't')}", "sigmoid" if function == "σ" else "tanh")
        self.operations["forget"] = Operation(scene, (240, top), "×", label_at=(250, top + 20))
        self.operations["add"] = Operation(scene, (435, top), "+")
        self.operations["input"] = Operation(scene, (435, 190), "×", label_at=(447, 150))
        self.operations["tanh"] = Operation(scene, (700, 160), "tanh")
        self.operations["output"] = Operation(scene, (700, 250), "×")
        wire(scene, [(130, top), (218, top)])
        wire(scene, [(262, top), (413, top)])
        wire(scene, [(457, top), (790, top)])
        wire(scene, [(240, 330 - BOX_H / 2), (240, top + 22)])
        wire(scene, [(370, 330 - BOX_H / 2), (370, 190), (413, 190)])
        wire(scene, [(500, 330 - BOX_H / 2), (500, 190), (457, 190)])
        wire(scene, [(435, 168), (435, top + 22)])
        wire(scene, [(700, top), (700, 130)])
        wire(scene, [(700, 190), (700, 228)])
        wire(scene, [(700, 330 - BOX_H / 2), (700, 272)])
        wire(scene, [(722, 250), (790, 250)])

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
        scene, top = self.scene, 80
        self.boxes["hidden"] = Box(scene, (850, top), sub("h", "t"))
        self.inputs(bus_right=560)
        self.gate("update_gate", 240, f"update {sub('z', 't')}", "sigmoid")
        self.gate("reset_gate", 400, f"reset {sub('r', 't')}", "sigmoid")
        self.gate("candidate", 560, f"cand. {sub('n', 't')}", "tanh")
        self.operations["keep"] = Operation(scene, (240, top), "×", label_at=(252, top + 20))
        self.operations["add"] = Operation(scene, (560, top), "+")
        self.operations["one_minus"] = Operation(scene, (400, 200), "1−")
        self.operations["take"] = Operation(scene, (560, 200), "×", label_at=(590, 150))
        wire(scene, [(100, 470 - BOX_H / 2 - 2), (100, 180), (140, 180), (140, top), (218, top)])  # h_{t−1} on top
        wire(scene, [(262, top), (538, top)])
        wire(scene, [(582, top), (790, top)])
        wire(scene, [(240, 330 - BOX_H / 2), (240, top + 22)])
        wire(scene, [(240, 240), (320, 240), (320, 200), (370, 200)])  # z to 1 − z
        wire(scene, [(430, 200), (538, 200)])
        wire(scene, [(560, 330 - BOX_H / 2), (560, 222)])
        wire(scene, [(560, 178), (560, top + 22)])
        wire(scene, [(400 + BOX_W / 2, 330), (560 - BOX_W / 2, 330)])  # r gates n's recurrent term

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
        self.boxes["hidden"] = Box(scene, (850, 200), sub("h", "t"))
        self.inputs(bus_right=460)
        self.operations["nonlinearity"] = Operation(scene, (460, 300), "tanh")
        wire(scene, [(460, 470), (460, 330)])
        wire(scene, [(460, 270), (460, 200), (790, 200)])
        self.note = scene.addText("", _font(TITLE_PX))
        self.note.setDefaultTextColor(QtGui.QColor(GREY))
        self.note.setPos(200, 30)
        self.set_nonlinearity("tanh")

    def set_nonlinearity(self, name: str) -> None:
        """Draw the module's own nonlinearity ('tanh' or 'relu')."""
        self.operations["nonlinearity"].set_symbol(name)
        self.note.setHtml(
            f"no gates, no cell state: all of h<sub>t−1</sub> passes through W<sub>hh</sub> and the {name}"
        )


DIAGRAMS = {"lstm": LstmDiagram, "gru": GruDiagram, "rnn": RnnDiagram}


class DiagramView(QtWidgets.QGraphicsView):
    """Shows a diagram's scene scaled to fit, whatever the panel's size."""

    def __init__(self) -> None:
        super().__init__()
        self.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QtGui.QColor(BACKGROUND))
        self.setMinimumSize(160, 110)

    def setScene(self, scene) -> None:  # noqa: N802 (Qt's name)
        super().setScene(scene)
        self.fit()

    def fit(self) -> None:
        if self.scene() is not None:
            self.fitInView(self.scene().sceneRect(), QtCore.Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit()


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
        self.split = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        self.split.setContentsMargins(0, 0, 0, 0)
        self.split.addWidget(self.view, stretch=5)
        self.split.addWidget(self.text_area, stretch=3)
        self.box.addLayout(self.split, stretch=1)
        self.values: dict[str, float] = {}
        self.kind = "lstm"
        self.arrange("lstm")

    def arrange(self, cell: str) -> None:
        self.view.setScene(self.diagrams[cell].scene)
        self.diagrams[cell].show(None, "t−1")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        narrow = self.width() < NARROW * self.height()
        self.split.setDirection(
            QtWidgets.QBoxLayout.Direction.TopToBottom if narrow else QtWidgets.QBoxLayout.Direction.LeftToRight
        )

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
