"""Gradients through time: the norms and the per-unit gradient equal the trace's."""

import dataclasses

import numpy as np

from lstm_viz.gui.panels import GradientsPanel
from lstm_viz.gui.panels.gradients import GRADIENT_FLOOR, NO_PROBE_LOSS
from lstm_viz.gui.state import Selection

PANEL = GradientsPanel


def test_lstm_norm_curves_and_cell_gradient_heatmap_equal_the_trace(panel, make_snapshot):
    snapshot = make_snapshot(layers=2)
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(1, 0, 3))
    grad_cell, grad_hidden = snapshot.trace["grad_cell"][1, 0], snapshot.trace["grad_hidden"][1, 0]  # (T, H)
    assert np.allclose(10**panel.cell_norm_curve.yData, np.linalg.norm(grad_cell, axis=-1))  # log10, on a log axis
    assert np.allclose(10**panel.hidden_norm_curve.yData, np.linalg.norm(grad_hidden, axis=-1))
    assert np.array_equal(panel.hidden_norm_curve.xData, np.arange(len(grad_cell)))
    assert panel.time_plot.getAxis("left").logMode
    assert np.allclose(panel.heatmap.image.image, grad_cell.T)
    low, high = panel.heatmap.image.getLevels()
    assert low == -high >= -2.5 * np.abs(grad_cell).max() and high >= np.abs(grad_cell).max()
    assert panel.heatmap.marker.value() == 3
    assert "‖∂L/∂h_t‖" in panel.time_plot.titleLabel.text and "layer 2" in panel.time_plot.titleLabel.text


def test_gru_shows_the_hidden_gradient_only(panel, make_snapshot, scene_item_count):
    panel.update_snapshot(make_snapshot())
    count = scene_item_count(panel)
    gru = make_snapshot(cell="gru")
    panel.update_snapshot(gru)
    grad_hidden = gru.trace["grad_hidden"][0, 0]
    assert not panel.cell_norm_curve.isVisible()
    assert np.allclose(10**panel.hidden_norm_curve.yData, np.linalg.norm(grad_hidden, axis=-1))
    assert np.allclose(panel.heatmap.image.image, grad_hidden.T)
    assert scene_item_count(panel) == count


def test_a_zero_gradient_is_drawn_at_the_floor_not_minus_infinity(panel, make_snapshot):
    snapshot = make_snapshot()
    grad_hidden = np.array(snapshot.trace["grad_hidden"])
    grad_hidden[0, 0, :5] = 0.0  # the first five timesteps: no gradient at all
    quantities = {**snapshot.trace.quantities, "grad_hidden": grad_hidden}
    panel.update_snapshot(
        dataclasses.replace(snapshot, trace=dataclasses.replace(snapshot.trace, quantities=quantities))
    )
    drawn = panel.hidden_norm_curve.yData  # log10 of the norms
    assert np.all(drawn[:5] == np.log10(GRADIENT_FLOOR)) and np.all(drawn[5:] > np.log10(GRADIENT_FLOOR))
    assert panel.floor_line.isVisible() and panel.floor_line.value() == -30  # the floor says what it is
    assert panel.floor_line.label.toPlainText().startswith("≤1e-30")
    panel.update_snapshot(snapshot)  # no norm at the floor: no line
    assert not panel.floor_line.isVisible()


def test_hovering_the_norms_says_the_loss_is_a_mean_and_what_that_means_for_clipping(panel, make_snapshot):
    panel.update_snapshot(make_snapshot())
    note = panel.time_plot.toolTip()
    assert "a mean" in note and "1/T" in note and "last step" in note  # over T steps; adding: its last step
    assert "min-char-rnn" in note and "value:0.2" in note


def test_a_recorded_run_without_a_probe_loss_says_so_instead_of_gradients(panel, make_snapshot):
    snapshot = make_snapshot()
    states = {name: values for name, values in snapshot.trace.quantities.items() if not name.startswith("grad_")}
    recorded = dataclasses.replace(snapshot, trace=dataclasses.replace(snapshot.trace, quantities=states))
    panel.update_snapshot(recorded)  # what a Recorder without probe_loss records
    assert "no probe loss given" in panel.time_plot.titleLabel.text and NO_PROBE_LOSS in panel.time_plot.titleLabel.text
    assert not panel.heatmap.plot.isVisible() and not panel.floor_line.isVisible()
    assert len(panel.hidden_norm_curve.getData()[0]) == len(panel.cell_norm_curve.getData()[0]) == 0
    panel.update_snapshot(snapshot)  # a trace with gradients draws them again
    assert panel.heatmap.plot.isVisible() and "‖∂L/∂h_t‖" in panel.time_plot.titleLabel.text
