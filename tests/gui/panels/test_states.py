"""States panel: c_t and h_t heatmaps and the selected unit over time, equal to the trace."""

import numpy as np
import pytest

from lstm_viz.gui.panels import StatesPanel
from lstm_viz.gui.panels.heatmap import TANH_LEVELS
from lstm_viz.gui.state import Selection

PANEL = StatesPanel


def test_lstm_cell_and_hidden_heatmaps_equal_the_trace(panel, make_snapshot):
    snapshot = make_snapshot(steps=30)
    panel.update_snapshot(snapshot)
    trace = snapshot.trace
    cell, hidden = trace["cell"][0, 0], trace["hidden"][0, 0]  # (T, H)
    assert np.allclose(panel.cell_heatmap.image.image, cell.T)
    assert np.allclose(panel.hidden_heatmap.image.image, hidden.T)
    assert tuple(panel.hidden_heatmap.image.getLevels()) == TANH_LEVELS
    low, high = panel.cell_heatmap.image.getLevels()
    assert low == -high and np.abs(cell).max() <= high < 2.5 * np.abs(cell).max()  # symmetric, fits c_t


def test_line_plot_shows_the_selected_unit_and_the_most_active_others(panel, make_snapshot):
    snapshot = make_snapshot()
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 2))
    hidden, cell = snapshot.trace["hidden"][0, 0], snapshot.trace["cell"][0, 0]
    x, y = panel.hidden_curve.getData()
    assert np.array_equal(x, np.arange(len(hidden))) and np.allclose(y, hidden[:, 2])
    assert np.allclose(panel.cell_curve.getData()[1], cell[:, 2])
    by_activity = [u for u in np.argsort(-np.abs(hidden).mean(axis=0)) if u != 2][:3]
    assert panel.other_units == by_activity
    for unit, curve in zip(by_activity, panel.other_curves, strict=True):
        assert np.allclose(curve.getData()[1], hidden[:, unit])
    assert all(heatmap.marker.value() == 2 for heatmap in panel.heatmaps)
    assert "unit 2" in panel.time_plot.titleLabel.text


def test_gru_shows_h_only_with_the_same_items(panel, make_snapshot, scene_item_count):
    panel.update_snapshot(make_snapshot())
    curve, image = panel.hidden_curve, panel.hidden_heatmap.image
    gru = make_snapshot(cell="gru")
    panel.update_snapshot(gru)
    assert set(panel.graphics.ci.items) == {panel.hidden_heatmap.plot, panel.time_plot}
    assert not panel.cell_curve.isVisible()
    assert np.allclose(panel.hidden_heatmap.image.image, gru.trace["hidden"][0, 0].T)
    count = scene_item_count(panel)
    panel.update_snapshot(make_snapshot(steps=4, cell="gru"))
    assert panel.hidden_curve is curve and panel.hidden_heatmap.image is image
    assert scene_item_count(panel) == count


def test_heatmaps_follow_the_time_plot(panel, make_snapshot):
    panel.update_snapshot(make_snapshot())
    for heatmap in panel.heatmaps:
        assert heatmap.plot.getViewBox().linkedView(0) is panel.time_plot.getViewBox()
    assert panel.time_plot.getViewBox().viewRange()[0] == pytest.approx([-0.5, 19.5])
