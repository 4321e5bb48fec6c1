"""The shared plot pieces: number helpers, the steady auto-range, the time and log axes."""

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt

from lstm_viz.gui.panels.plots import (
    LOG_LABEL_PIXELS,
    LogAxis,
    TimeAxis,
    TimePlot,
    nice_limit,
    round_bounds,
    short_number,
)


@pytest.mark.parametrize(
    ("values", "limit"),
    [([0.0123, -0.004], 0.02), ([3.0], 5.0), ([-1.0, 0.5], 1.0), ([0.0, 0.0], 1.0), ([np.nan, 7e-9], 1e-8)],
)
def test_nice_limit_of_a_few_values_is_the_next_1_2_5_step_at_or_above_the_largest(values, limit):
    assert nice_limit(np.array(values)) == pytest.approx(limit)


def test_nice_limit_lets_the_top_percent_of_magnitudes_saturate():
    def with_runaways(count: int) -> np.ndarray:
        return np.concatenate([np.linspace(-0.9, 0.9, 1000 - count), np.full(count, -50.0)])

    assert nice_limit(with_runaways(5)) == 1.0  # not 50: five runaway cells don't wash out the other 995
    assert nice_limit(with_runaways(20)) == 50.0  # 2% of the values: they set the scale


def test_short_number_keeps_axis_labels_short():
    assert [short_number(v) for v in (0.0006, 0.01, 1.0, 250.0, 2e-12, 3e5)] == [
        "6e-4",
        "0.01",
        "1",
        "250",
        "2e-12",
        "3e5",
    ]


@pytest.mark.parametrize(
    ("low", "high"), [(-1.07, 1.02), (0.0, 0.93), (2.81, 2.84), (-30.0, -30.0), (0.0, 0.0), (1.0, 5003.0)]
)
def test_round_bounds_cover_the_data_with_a_round_step_and_little_waste(low, high):
    bottom, top = round_bounds(low, high)
    assert bottom <= low <= high < top and (bottom < low or low == 0 == bottom)  # never negative if low is not
    span = max(high - low, 1e-9)
    step = next(s for s in (10.0**k * m for k in range(-12, 12) for m in (1, 2, 5)) if s >= span / 10)
    assert math.isclose(bottom / step, round(bottom / step), abs_tol=1e-6)
    assert math.isclose(top / step, round(top / step), abs_tol=1e-6)
    if high > low:
        assert top - bottom <= 1.5 * (high - low)


@pytest.fixture
def shown_plot(qtbot):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    plot = TimePlot(left="value")
    view.addItem(plot)
    view.resize(500, 300)
    curve = plot.plot()
    plot.show_timesteps(50, None)
    view.show()
    qtbot.waitExposed(view)
    return view, plot, curve


def test_the_auto_range_stays_put_while_the_data_moves_inside_it(qtbot, shown_plot):
    _, plot, curve = shown_plot
    timesteps = np.arange(50)
    wave = np.sin(timesteps / 5)
    curve.setData(timesteps, wave)
    qtbot.wait(20)
    first = plot.viewRange()[1]
    assert first[0] < -1 < 1 < first[1] <= 1.5
    axis = plot.getAxis("left")
    picture = axis.picture
    assert picture is not None
    curve.setData(timesteps, 0.97 * wave + 0.01)  # the next frame, a little different
    qtbot.wait(20)
    assert plot.viewRange()[1] == first
    assert axis.picture is picture  # ticks and labels were not drawn again
    curve.setData(timesteps, 3 * wave)  # leaves the range: it grows
    qtbot.wait(20)
    assert plot.viewRange()[1][0] < -3 < 3 < plot.viewRange()[1][1]
    curve.setData(timesteps, 0.1 * wave)  # much smaller: it shrinks
    qtbot.wait(20)
    assert plot.viewRange()[1][1] - plot.viewRange()[1][0] < 0.5


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


def test_a_long_title_does_not_widen_its_plot(qapp):
    plot = TimePlot()
    plot.set_title("short")
    narrow = plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
    plot.set_title("a very long title that would push the plots out of a narrow dock " * 3)
    assert plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() == narrow < 200


def log_ticks(low: float, high: float, size: int) -> list[str]:
    axis = LogAxis("left")
    axis.setLogMode(False, True)
    (_, values), *_ = axis.tickValues(low, high, size)
    gaps = np.diff(values) * size / (high - low)  # pixels between neighbouring labels
    assert np.all(gaps >= LOG_LABEL_PIXELS), (low, high, size, values)
    return axis.tickStrings(values, 1, None)


def test_log_axis_labels_as_many_round_values_as_fit(qapp):
    many_decades = log_ticks(-30.0, 0.5, size=100)  # 30 decades in 100 px: every 10th power of ten
    assert many_decades == ["1e-30", "1e-20", "1e-10", "1"]
    low, high = np.log10(0.015), np.log10(0.085)  # less than a decade, lots of room: 0.02 .. 0.08
    assert log_ticks(low, high, size=400) == ["0.02", "0.03", "0.04", "0.05", "0.06", "0.07", "0.08"]
    assert log_ticks(low, high, size=50) == ["0.02", "0.05"]  # room for two: 1-2-5 steps
    assert log_ticks(np.log10(2.79), np.log10(2.86), size=60) == ["2.8", "2.85"]  # no round value: even steps


@pytest.mark.parametrize("size", [40, 60, 90, 140, 250])
@pytest.mark.parametrize(("low", "high"), [(-0.55, 0.46), (-3.0, 1.0), (-1.2, 0.1), (-12.0, -2.0)])
def test_log_axis_labels_never_overlap_and_at_least_two_show(qapp, low, high, size):
    assert len(log_ticks(low, high, size)) >= 2
