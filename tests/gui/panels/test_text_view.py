"""The text view: the probe's characters coloured by the selected unit's values, exactly the model's, each legible."""

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PyQt6 import QtCore, QtGui, QtWidgets

from lstm_viz.core.config import RunConfig
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.panels import GatesPanel, StatesPanel, TaskViewPanel
from lstm_viz.gui.panels.plots import set_font_scale
from lstm_viz.gui.panels.text_view import SCALE_SIZE, TextView
from lstm_viz.gui.state import Selection

PANEL = TaskViewPanel
PROBE_TEXT = "\nmaria\nzoe\nanna"
ALPHABET = "\nabcdefghijklmnopqrstuvwxyz"  # the names' vocabulary in id order


@pytest.fixture(scope="module")
def trained():
    """A 2-layer names model after 10 steps, probing PROBE_TEXT: (trainer, snapshot)."""
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=6, layers=2, seq_len=16, batch=4, seed=4))
    for _ in range(10):
        trainer.step()
    trainer.apply(trainer.config.replace(probe_text=PROBE_TEXT))
    return trainer, trainer.snapshot()


def torch_reference(trainer, layer: int) -> dict[str, np.ndarray]:
    """Every step's gates and states of `layer` on PROBE_TEXT: nn.LSTM's outputs below it, the gates from the
    LSTM equations in float64, checked against nn.LSTM's output."""
    ids = torch.tensor([ALPHABET.index(char) for char in PROBE_TEXT[:-1]])  # (T,)
    layer_input = torch.nn.functional.one_hot(ids, len(ALPHABET)).double()  # (T, V)
    modules = []
    for weights in trainer.model.layers:
        module = torch.nn.LSTM(weights.input_size, weights.hidden_size).double()
        module.load_state_dict({name: value.double() for name, value in weights.state_dict().items()})
        modules.append(module)
    with torch.no_grad():
        for below in modules[:layer]:
            layer_input = below(layer_input)[0]  # (T, H)
        fused_hidden = modules[layer](layer_input)[0]  # (T, H)
        module = modules[layer]
        hidden, cell = torch.zeros(module.hidden_size, dtype=torch.float64), torch.zeros(module.hidden_size)
        rows = {name: [] for name in ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell", "hidden")}
        for x in layer_input:
            pre_activations = module.weight_ih_l0 @ x + module.weight_hh_l0 @ hidden  # (4H,)
            pre_activations = pre_activations + module.bias_ih_l0 + module.bias_hh_l0
            input_gate, forget_gate, candidate, output_gate = pre_activations.chunk(4)  # torch's order i|f|g|o
            gates = {
                "input_gate": torch.sigmoid(input_gate),
                "forget_gate": torch.sigmoid(forget_gate),
                "cell_candidate": torch.tanh(candidate),
                "output_gate": torch.sigmoid(output_gate),
            }
            cell = gates["forget_gate"] * cell + gates["input_gate"] * gates["cell_candidate"]
            hidden = gates["output_gate"] * torch.tanh(cell)
            for name, value in {**gates, "cell": cell, "hidden": hidden}.items():
                rows[name].append(value)
    reference = {name: torch.stack(values).numpy() for name, values in rows.items()}  # each (T, H)
    assert np.abs(reference["hidden"] - fused_hidden.numpy()).max() < 1e-9
    return reference


def choose_quantity(view: TextView, label: str) -> None:
    index = view.quantity.findText(label)
    assert index >= 0, label
    view.quantity.setCurrentIndex(index)
    view.quantity.activated.emit(index)


def heatmap_colours(heatmap, unit: int) -> np.ndarray:
    """The 0xAARRGGBB colours a heatmap paints along one unit's row."""
    heatmap.image.render()
    return np.asarray(heatmap.image._pixels[unit])  # (T,)


def test_each_character_is_coloured_by_the_selected_units_value_as_torch_computes_it(qtbot, trained):
    trainer, snapshot = trained
    trace = snapshot.trace
    panel = TaskViewPanel()
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(1, 0, 4))  # layer 2, unit 4
    gates, states = GatesPanel(), StatesPanel()
    for other in (gates, states):
        qtbot.addWidget(other)
        other.update_snapshot(snapshot)
        other.set_selection(Selection(1, 0, 4))
    heatmaps = {
        "i_t": gates.heatmaps[0], "f_t": gates.heatmaps[1], "g_t": gates.heatmaps[2], "o_t": gates.heatmaps[3],
        "c_t": states.cell_heatmap, "h_t": states.hidden_heatmap,
    }  # fmt: skip
    names = {"i_t": "input_gate", "f_t": "forget_gate", "g_t": "cell_candidate", "o_t": "output_gate"}
    names.update({"c_t": "cell", "h_t": "hidden"})
    reference = torch_reference(trainer, layer=1)
    view = panel.text_view
    offered = [view.quantity.itemText(i) for i in range(view.quantity.count())]
    assert offered == ["h_t", "c_t", "i_t", "f_t", "g_t", "o_t"]
    for label, heatmap in heatmaps.items():
        choose_quantity(view, label)
        assert np.abs(view.values - reference[names[label]][:, 4]).max() < 1e-5, label
        assert np.array_equal(view.grid.colours, heatmap_colours(heatmap, 4)), label  # the heatmap's colour scale
        low, high = view.levels
        expected = pg.colormap.get("viridis" if label in ("i_t", "f_t", "o_t") else "CET-D1A")  # the panels' maps
        rgb = expected.map(np.clip((reference[names[label]][:, 4] - low) / (high - low), 0, 1), mode="byte")[:, :3]
        drawn = np.stack([(view.grid.colours >> shift) & 0xFF for shift in (16, 8, 0)], axis=1).astype(int)
        assert np.abs(drawn - rgb.astype(int)).max() <= 8, label  # the colour map's colour, to a step of its table
    assert view.grid.labels == tuple("⏎maria⏎zoe⏎ann") == trace.labels
    assert "unit 4 · layer 2" in view.caption.text()


def test_the_view_follows_the_selected_unit_and_layer(panel, trained):
    _, snapshot = trained
    panel.update_snapshot(snapshot)
    choose_quantity(panel.text_view, "h_t")
    for layer, unit in ((0, 1), (1, 5)):
        panel.set_selection(Selection(layer, 0, unit))
        assert np.array_equal(panel.text_view.values, snapshot.trace["hidden"][layer, 0][:, unit])
    panel.set_selection(Selection(0, 0, 2))
    choose_quantity(panel.text_view, "f_t")
    panel.set_selection(Selection(0, 0, 3))  # the choice of quantity stays
    assert np.array_equal(panel.text_view.values, snapshot.trace["forget_gate"][0, 0][:, 3])


def test_hovering_a_character_says_its_value(qtbot, panel, trained):
    _, snapshot = trained
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 2))
    view = panel.text_view
    choose_quantity(view, "c_t")
    hovered = []
    view.grid.hovered.connect(hovered.append)
    centre = QtCore.QPointF(view.grid.cell_rect(3).center())
    move = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        centre,
        QtCore.QPointF(view.grid.mapToGlobal(centre)),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(view.grid, move)
    assert hovered == [3]
    value = snapshot.trace["cell"][0, 0][3, 2]
    assert view.describe(3) == f"t=3 'r': c_t of unit 2 · layer 1 = {value:.4g}"
    assert view.grid.read_out == view.describe(3)  # drawn beside the character
    view.grid.leaveEvent(QtCore.QEvent(QtCore.QEvent.Type.Leave))
    assert hovered[-1] is None and view.grid.read_out == ""


@pytest.mark.parametrize("width", [320, 900])
def test_every_character_is_present_and_legible_at_512_units_and_200_steps(qtbot, width):
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=512, seq_len=200, batch=1))
    snapshot = trainer.snapshot()
    panel = TaskViewPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 511))
    grid = panel.text_view.grid
    qtbot.waitUntil(lambda: grid.width() > 0 and grid.height() >= grid.cell_rect(199).bottom())
    assert grid.labels == snapshot.trace.labels and len(grid.labels) == 200
    metrics = QtGui.QFontMetrics(grid.font())
    assert grid.font().pointSize() >= 10
    rects = [grid.cell_rect(t) for t in range(200)]
    for t, (rect, label) in enumerate(zip(rects, grid.labels, strict=True)):
        assert metrics.horizontalAdvance(label) <= rect.width() and metrics.height() <= rect.height(), t
        assert 0 <= rect.left() and rect.right() < grid.width() and rect.bottom() < grid.height(), t  # all there
        if t:
            assert not rect.intersects(rects[t - 1]), t  # reading order: left to right, line after line
            assert (rect.top(), rect.left()) > (rects[t - 1].top(), rects[t - 1].left()), t
    assert not any(rects[t].intersects(rects[u]) for t in range(200) for u in range(t + 1, min(t + 60, 200)))
    # The view scrolls to any of them: the last line is reachable.
    panel.text_view.scroll.ensureVisible(rects[199].center().x(), rects[199].center().y())
    viewport = panel.text_view.scroll.viewport()
    assert viewport.rect().contains(grid.mapTo(viewport, rects[199].center()))


def test_time_axis_labels_every_character_where_the_width_allows_and_never_overlap(qtbot, trained):
    """The heatmaps' character labels: all of them once each has its widest label's room, a share of them
    below that, and never one over the next."""
    _, snapshot = trained
    gates = GatesPanel()
    qtbot.addWidget(gates)
    gates.update_snapshot(snapshot)
    axis = gates.heatmaps[2].plot.getAxis("bottom")  # the bottom row's, which shows the characters
    steps = len(snapshot.trace.labels)
    for width, every_one in ((1400, True), (420, False)):
        gates.resize(width, 400)
        gates.show()
        qtbot.waitExposed(gates)
        qtbot.wait(20)  # the new width laid out
        picture = QtGui.QPicture()
        painter = QtGui.QPainter(picture)
        _, _, texts = axis.generateDrawSpecs(painter)
        painter.end()
        drawn = sorted(texts, key=lambda text: text[0].left())
        assert {text for _, _, text in drawn} <= set(snapshot.trace.labels)
        assert (len(drawn) == steps) == every_one, (width, len(drawn))
        for (left, _, _), (right, _, _) in zip(drawn, drawn[1:]):
            assert left.right() <= right.left(), (width, left, right)


def test_the_selected_timestep_is_framed_and_clicking_a_character_selects_its_timestep(qtbot, panel, trained):
    _, snapshot = trained
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(1, 0, 3, timestep=6))
    grid = panel.text_view.grid
    assert grid.highlighted == 6
    with qtbot.waitSignal(panel.selection_requested) as request:
        qtbot.mouseClick(grid, QtCore.Qt.MouseButton.LeftButton, pos=grid.cell_rect(9).center())
    assert request.args == [Selection(1, 0, 3, timestep=9)]  # the unit and layer stay
    assert grid.highlighted == 9
    qtbot.mouseClick(grid, QtCore.Qt.MouseButton.LeftButton, pos=grid.cell_rect(9).bottomRight() + QtCore.QPoint(1, 1))
    assert grid.highlighted == 9  # between two cells: no character, nothing selected


def test_the_characters_follow_the_font_scale(qtbot, panel, trained):
    _, snapshot = trained
    panel.update_snapshot(snapshot)
    grid = panel.text_view.grid
    width, points = grid.cell_rect(0).width(), grid.font().pointSizeF()
    set_font_scale(2.0)
    try:
        assert grid.font().pointSizeF() == 2 * points and grid.cell_rect(0).width() > 1.6 * width
        assert panel.text_view.scale.width() == 2 * SCALE_SIZE[0]
    finally:
        set_font_scale(1.0)
    assert grid.cell_rect(0).width() == width


def test_a_narrow_view_shortens_its_caption_rather_than_cutting_it(qtbot):
    view = TextView()
    qtbot.addWidget(view)
    texts = ("of unit 12 · layer 2, forward → under each character", "of unit 12 · layer 2, forward →", "of unit 12")
    view.caption.set_texts(*texts)
    view.show()
    shown = []
    for width in (1200, 420, 380, 330, 300):
        view.resize(width, 200)
        qtbot.wait(20)
        caption = view.caption
        fitting = [text for text in texts if caption.fontMetrics().horizontalAdvance(text) <= caption.width()]
        assert fitting and caption.text() == fitting[0], width  # the longest that fits: nothing cut
        shown.append(caption.text())
    assert shown[0] == texts[0] and shown[-1] != texts[0] and len(set(shown)) >= 2
    assert view.caption.toolTip() == texts[0]  # the whole caption, always
