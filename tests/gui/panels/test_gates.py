"""Gates panel: the trace's exact gate values, on fixed scales, for each cell type."""

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from lstm_viz.gui.panels import GatesPanel
from lstm_viz.gui.panels.gates import SATURATION_VIEW
from lstm_viz.gui.panels.heatmap import GATE_LEVELS, TANH_LEVELS
from lstm_viz.gui.state import Selection

LSTM_GATES = ("input_gate", "forget_gate", "cell_candidate", "output_gate")
GRU_GATES = ("reset_gate", "update_gate", "candidate")
TANH_QUANTITIES = {"cell_candidate", "candidate", "hidden"}

PANEL = GatesPanel
PANEL_SIZE = (700, 500)


def shown_names(panel):
    return [name for _, name, _ in panel.shown]


def plots_in_layout(panel):
    return set(panel.graphics.ci.items)


def test_lstm_gates_show_the_exact_trace_values_on_fixed_levels(panel, make_snapshot):
    snapshot = make_snapshot(cell="lstm")
    panel.update_snapshot(snapshot)
    assert shown_names(panel) == list(LSTM_GATES)
    for heatmap, name, title in panel.shown:
        assert np.allclose(heatmap.image.image, snapshot.trace[name][0, 0].T)  # rows: units, columns: time
        levels = TANH_LEVELS if name in TANH_QUANTITIES else GATE_LEVELS
        assert tuple(heatmap.image.getLevels()) == levels == tuple(heatmap.colorbar.levels())
        assert heatmap.plot.titleLabel.text == title
    assert plots_in_layout(panel) == {heatmap.plot for heatmap in panel.heatmaps}


def test_switching_to_gru_and_rnn_reuses_the_same_items_for_their_quantities(panel, make_snapshot, scene_item_count):
    panel.update_snapshot(make_snapshot(cell="lstm"))
    images = [heatmap.image for heatmap in panel.heatmaps]
    time_plot = panel.time_plot

    gru = make_snapshot(cell="gru")
    panel.update_snapshot(gru)
    assert shown_names(panel) == list(GRU_GATES)
    assert plots_in_layout(panel) == {heatmap.plot for heatmap in panel.heatmaps[:3]}
    for heatmap, name, _ in panel.shown:
        assert np.allclose(heatmap.image.image, gru.trace[name][0, 0].T)
    assert tuple(panel.heatmaps[2].image.getLevels()) == TANH_LEVELS  # n_t is a tanh
    assert tuple(panel.heatmaps[0].image.getLevels()) == GATE_LEVELS

    rnn = make_snapshot(cell="rnn")
    panel.update_snapshot(rnn)
    assert shown_names(panel) == ["hidden"]
    assert plots_in_layout(panel) == {panel.heatmaps[0].plot}
    assert np.allclose(panel.heatmaps[0].image.image, rnn.trace["hidden"][0, 0].T)
    assert "no gates" in panel.heatmaps[0].plot.titleLabel.text

    panel.update_snapshot(make_snapshot(cell="lstm"))
    count = scene_item_count(panel)
    panel.update_snapshot(make_snapshot(steps=4, cell="lstm"))
    assert [heatmap.image for heatmap in panel.heatmaps] == images
    assert panel.time_plot is time_plot
    assert scene_item_count(panel) == count


def test_selection_picks_layer_and_direction_and_moves_the_unit_marker(panel, make_snapshot):
    snapshot = make_snapshot(task="adding", layers=2, bidirectional=True)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(1, 1, 5, timestep=3))
    for heatmap, name, _ in panel.shown:
        assert np.allclose(heatmap.image.image, snapshot.trace[name][1, 1].T)
        assert heatmap.marker.value() == 5 and heatmap.plot.timestep_marker.value() == 3
    assert "layer 2" in panel.heatmaps[0].plot.titleLabel.text and "backward" in panel.heatmaps[0].plot.titleLabel.text
    panel.set_selection(Selection(9, 9, 99, 999))  # beyond this model: the last layer, direction, unit, timestep
    assert panel.heatmaps[0].marker.value() == 7
    assert panel.heatmaps[0].plot.timestep_marker.value() == snapshot.trace["hidden"].shape[2] - 1


def test_time_plot_links_the_heatmaps_and_shows_characters_for_char_tasks(panel, make_snapshot):
    snapshot = make_snapshot(task="chars", text="names")
    panel.update_snapshot(snapshot)
    for heatmap in panel.heatmaps[1:]:
        assert heatmap.plot.getViewBox().linkedView(0) is panel.time_plot.getViewBox()
    steps = len(snapshot.trace.labels)
    assert panel.time_plot.getViewBox().viewRange()[0] == pytest.approx([-0.5, steps - 0.5])
    assert panel.heatmaps[3].axis.labels == snapshot.trace.labels


# pyqtgraph delivers a click on release, so QTest sees the press "not accepted" and warns; the
# second message is the one tests/gui/conftest.py ignores (a closer mark replaces its mark).
@pytest.mark.qt_log_ignore(
    "Mouse event .* not accepted by receiving widget", "This plugin does not support propagateSizeHints"
)
def test_clicking_a_cell_selects_its_unit_and_timestep_in_every_heatmap(qtbot, panel, make_snapshot, pixel_position):
    panel.update_snapshot(make_snapshot())
    panel.show()
    heatmap, view = panel.heatmaps[1], panel.graphics
    position = pixel_position(view, heatmap, timestep=10, unit=6)
    qtbot.mouseMove(view.viewport(), position)  # as a user does: point, read the value, click
    qtbot.waitUntil(heatmap.hover_text.isVisible, timeout=1000)
    assert heatmap.hover_text.toPlainText().startswith("unit 6, t=10,")
    with qtbot.waitSignal(panel.selection_requested, timeout=1000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert clicked.args == [Selection(0, 0, unit=6, timestep=10)]
    assert [h.marker.value() for h in panel.heatmaps] == [6] * 4
    assert [h.plot.timestep_marker.value() for h in panel.heatmaps] == [10] * 4


def test_a_snapshot_without_trace_keeps_the_last_drawing(panel, make_snapshot):
    snapshot = make_snapshot()
    panel.update_snapshot(snapshot)
    panel.update_snapshot(type(snapshot)(**{**snapshot.__dict__, "trace": None}))
    assert np.allclose(panel.heatmaps[1].image.image, snapshot.trace["forget_gate"][0, 0].T)


def test_saturation_view_counts_each_units_saturated_timesteps(panel, make_snapshot):
    snapshot = make_snapshot(steps=30, layers=2)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(1, 0, 3))
    panel.view_choice.setCurrentText(SATURATION_VIEW)
    assert panel.saturation_graphics.isVisibleTo(panel) and not panel.graphics.isVisibleTo(panel)
    shown = {title: plot for plot, _, title in panel.sigmoid_gates}
    assert list(shown) == ["input gate i_t", "forget gate f_t", "output gate o_t"]  # the sigmoid gates
    for plot, name, _ in panel.sigmoid_gates:
        gate = snapshot.trace[name][1, 0]  # (T, H)
        steps, units = gate.shape
        shut = [sum(1 for t in range(steps) if gate[t, u] < 0.1) / steps for u in range(units)]
        open_ = [sum(1 for t in range(steps) if gate[t, u] > 0.9) / steps for u in range(units)]
        x, y = plot.points.getData()
        assert np.allclose(x, shut) and np.allclose(y, open_)
        ring_x, ring_y = plot.selected.getData()
        assert (ring_x[0], ring_y[0]) == (shut[3], open_[3])
    later = make_snapshot(steps=60, layers=2)  # live: the next snapshot moves the points
    panel.update_snapshot(later)
    x, _ = panel.sigmoid_gates[1][0].points.getData()
    assert np.allclose(x, (later.trace["forget_gate"][1, 0] < 0.1).mean(axis=0))


def test_a_vanilla_rnn_has_no_saturation_choice_over_its_one_title(panel, make_snapshot):
    """exploding at 1024x768: the Heatmaps/Saturation box lay over 'hidden state h_t (a vanilla RNN has no gates)',
    for a view that has nothing to show without sigmoid gates."""
    panel.update_snapshot(make_snapshot())
    panel.view_choice.setCurrentText(SATURATION_VIEW)  # chosen for the LSTM, then the cell changes
    rnn = make_snapshot(cell="rnn")
    panel.update_snapshot(rnn)
    assert panel.view_choice.isHidden() and panel.view_choice.currentText() == "Heatmaps"
    assert panel.graphics.isVisibleTo(panel) and not panel.saturation_graphics.isVisibleTo(panel)
    assert np.allclose(panel.heatmaps[0].image.image, rnn.trace["hidden"][0, 0].T)  # its h_t drawn
    panel.update_snapshot(make_snapshot())  # an LSTM again: the choice is back
    assert not panel.view_choice.isHidden() and panel.graphics.isVisibleTo(panel)


@pytest.mark.qt_log_ignore(
    "Mouse event .* not accepted by receiving widget", "This plugin does not support propagateSizeHints"
)
def test_clicking_a_saturation_point_selects_its_unit(qtbot, panel, make_snapshot):
    # GRU on sine after 30 steps: some update gates' points lie apart from the others (at 3 steps all are at 0, 0)
    panel.update_snapshot(make_snapshot(steps=30, cell="gru", task="sine", lr=0.03))
    panel.view_choice.setCurrentText(SATURATION_VIEW)
    panel.show()
    view = panel.saturation_graphics
    qtbot.waitExposed(view)
    plot = panel.sigmoid_gates[1][0]  # the update gate
    x, y = plot.points.getData()
    places = list(zip(x.tolist(), y.tolist(), strict=True))
    alone = [unit for unit, place in enumerate(places) if places.count(place) == 1 and place != places[0]]
    assert alone, places  # a point no other unit's (nor the selected unit 0's ring) lies on
    unit = alone[-1]
    last = []

    def settled():  # the shown view's layout moves in the first event-loop turns
        last.append(plot.points.mapToScene(QPointF(x[unit], y[unit])))
        return len(last) > 1 and last[-1] == last[-2]

    qtbot.waitUntil(settled, timeout=2000)
    position = view.mapFromScene(last[-1])
    assert view.viewport().rect().contains(position)
    with qtbot.waitSignal(panel.selection_requested, timeout=1000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert clicked.args[0].unit == unit and panel.selected.unit == unit
    assert plot.selected.getData()[0][0] == x[unit] and plot.selected.getData()[1][0] == y[unit]  # ringed
