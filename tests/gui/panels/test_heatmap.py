"""The shared heatmap, time axis and number helpers, driven with the mouse like a user would."""

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt

from lstm_viz.gui.panels.heatmap import (
    DIVERGING_COLORMAP,
    LOG_LABEL_PIXELS,
    Heatmap,
    LogAxis,
    TimeAxis,
    nice_limit,
    short_number,
)


@pytest.mark.parametrize(
    ("values", "limit"),
    [([0.0123, -0.004], 0.02), ([3.0], 5.0), ([-1.0, 0.5], 1.0), ([0.0, 0.0], 1.0), ([np.nan, 7e-9], 1e-8)],
)
def test_nice_limit_is_the_next_1_2_5_step_at_or_above_the_largest_magnitude(values, limit):
    assert nice_limit(np.array(values)) == pytest.approx(limit)


def test_short_number_keeps_axis_labels_short():
    assert [short_number(v) for v in (0.0006, 0.01, 1.0, 250.0, 2e-12, 3e5)] == [
        "6e-4",
        "0.01",
        "1",
        "250",
        "2e-12",
        "3e5",
    ]


def test_time_axis_shows_characters_every_kth_so_that_labels_do_not_overlap(qapp):
    axis = TimeAxis()
    labels = tuple("hello world, this is a probe text"[:30])
    axis.set_labels(labels)
    (spacing, values), *_ = axis.tickValues(-0.5, 29.5, size=600)  # 20 px per timestep: room for each
    assert spacing == 1 and values == list(range(30))
    (spacing, values), *_ = axis.tickValues(-0.5, 29.5, size=60)  # 2 px per timestep
    assert spacing in (5, 10) and values == list(range(0, 30, int(spacing)))
    assert axis.tickStrings([0.0, 4.0, 6.0], 1, 1) == ["h", "o", "w"]
    axis.set_labels(None)
    assert axis.tickStrings([0.0, 5.0], 1, 5) == ["0", "5"]


@pytest.fixture
def shown_heatmap(qtbot):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    heatmap = Heatmap("test", DIVERGING_COLORMAP, levels=None)
    view.addItem(heatmap.plot)
    view.resize(500, 400)
    values = np.random.default_rng(0).normal(size=(12, 6)).astype(np.float32)  # (T, H)
    heatmap.set_data(values, labels=tuple("abcdefghijkl"))
    view.show()
    return view, heatmap, values


def test_image_is_units_by_time_with_symmetric_levels(shown_heatmap):
    _, heatmap, values = shown_heatmap
    assert np.allclose(heatmap.image.image, values.T)
    limit = nice_limit(values)
    assert limit >= np.abs(values).max()
    assert tuple(heatmap.image.getLevels()) == (-limit, limit) == tuple(heatmap.colorbar.levels())


# pyqtgraph delivers a click on release, so QTest sees the press "not accepted" and warns; the
# second message is the one tests/gui/conftest.py ignores (a closer mark replaces its mark).
CLICK_WARNING = pytest.mark.qt_log_ignore(
    "Mouse event .* not accepted by receiving widget", "This plugin does not support propagateSizeHints"
)


@CLICK_WARNING
def test_clicking_a_unit_row_emits_that_unit(qtbot, shown_heatmap, pixel_position):
    view, heatmap, _ = shown_heatmap
    position = pixel_position(view, heatmap, timestep=7, unit=4)
    with qtbot.waitSignal(heatmap.unit_clicked, timeout=1000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert clicked.args == [4]


def test_hovering_shows_unit_time_character_and_value(qtbot, shown_heatmap, pixel_position):
    view, heatmap, values = shown_heatmap
    qtbot.mouseMove(view.viewport(), pixel_position(view, heatmap, timestep=3, unit=2))
    qtbot.waitUntil(heatmap.hover_text.isVisible, timeout=1000)
    assert heatmap.hover_text.toPlainText() == f"unit 2, t=3 ('d'), value {values[3, 2]:.3g}"


def test_marker_sits_on_the_selected_unit(shown_heatmap):
    _, heatmap, _ = shown_heatmap
    heatmap.set_unit(5)
    assert heatmap.marker.value() == 5 and heatmap.marker_halo.value() == 5


def test_a_long_title_does_not_widen_its_plot(qapp):
    heatmap = Heatmap("short")
    narrow = heatmap.plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
    heatmap.plot.setTitle("a very long title that would push the plots out of a narrow dock " * 3)
    assert heatmap.plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() == narrow < 200


def test_log_axis_labels_as_many_round_values_as_fit(qapp):
    axis = LogAxis("left")
    axis.setLogMode(False, True)
    (_, values), *_ = axis.tickValues(-30.0, 0.5, size=100)  # 30 decades in 100 px: every k-th power of ten
    assert 2 <= len(values) <= 100 // LOG_LABEL_PIXELS and all(float(v).is_integer() for v in values)
    low, high = np.log10(0.015), np.log10(0.085)  # less than a decade, lots of room: 0.02 .. 0.08
    (_, values), *_ = axis.tickValues(low, high, size=400)
    assert axis.tickStrings(values, 1, None) == ["0.02", "0.03", "0.04", "0.05", "0.06", "0.07", "0.08"]
    (_, values), *_ = axis.tickValues(low, high, size=50)  # room for two: 1-2-5 steps
    assert axis.tickStrings(values, 1, None) == ["0.02", "0.05"]
