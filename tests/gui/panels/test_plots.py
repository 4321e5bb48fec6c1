"""The shared plot pieces: number helpers, the steady auto-range, the time and log axes."""

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QFontMetrics

from lstm_viz.gui.panels.plots import (
    LOG_LABEL_PIXELS,
    MIN_VIEW_HEIGHT,
    TICK_POINTS,
    BoldCurve,
    LogAxis,
    Plot,
    TimeAxis,
    TimePlot,
    decade_bounds,
    new_graphics,
    nice_limit,
    round_bounds,
    short_number,
    tick_font,
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


def test_an_axis_paints_a_range_it_showed_before_from_the_picture_it_kept_then(qtbot, shown_plot):
    view, plot, curve = shown_plot
    timesteps = np.arange(50)
    wave = np.sin(timesteps / 5)
    axis = plot.getAxis("left")
    curve.setData(timesteps, wave)
    qtbot.wait(20)
    first_range, first_picture, first_image = plot.viewRange()[1], axis.picture, view.grab().toImage()
    curve.setData(timesteps, 30 * wave)  # another range, other ticks
    qtbot.wait(20)
    assert plot.viewRange()[1] != first_range and axis.picture is not first_picture
    curve.setData(timesteps, wave)  # back: the range shrinks to the first one
    qtbot.wait(20)
    assert plot.viewRange()[1] == first_range
    assert axis.picture is first_picture  # not laid out again
    assert view.grab().toImage() == first_image  # the same pixels as when first drawn
    axis.setTickFont(tick_font(2 * TICK_POINTS))  # another font: a kept picture would show the old one
    qtbot.wait(20)
    assert axis.picture is not first_picture
    curve.setData(timesteps, 30 * wave)
    qtbot.wait(20)
    curve.setData(timesteps, wave)
    qtbot.wait(20)
    assert plot.viewRange()[1] == first_range and axis.picture is not first_picture
    assert view.grab().toImage() != first_image


def test_a_grid_axis_bounds_follow_its_view_when_only_the_view_widens(qtbot, shown_plot):
    view, plot, curve = shown_plot
    curve.setData(np.arange(50), np.sin(np.arange(50) / 5))
    qtbot.wait(20)
    axis = plot.getAxis("left")  # its grid lines cross the view: its bounds cover the view
    before = axis.boundingRect()
    assert before.contains(axis.mapRectFromItem(plot.vb, plot.vb.boundingRect()))
    view.resize(800, 300)  # wider: the axis keeps its geometry, the view grows
    qtbot.waitUntil(lambda: plot.vb.width() > 600)
    after = axis.boundingRect()
    assert after.width() > before.width() + 250
    assert after.contains(axis.mapRectFromItem(plot.vb, plot.vb.boundingRect()))


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


# ---- log axes: whole decades, two powers of ten at any height ------------------------------------------------
@pytest.mark.parametrize(("low", "high"), [(-0.3, 0.2), (-2.7, -1.1), (-3.2, 8.0), (-29.0, 0.4)])
def test_decade_bounds_are_whole_powers_of_ten_around_the_data(low, high):
    bottom, top = decade_bounds(low, high)
    assert bottom == math.floor(bottom) and top == math.floor(top) and top - bottom >= 1
    assert bottom <= low and high <= top and top - bottom <= math.ceil(high) - math.floor(low) + 1


@pytest.mark.parametrize("size", [26, 40, 60, 100, 250, 600])
@pytest.mark.parametrize(("low", "high"), [(-3.0, 8.0), (-2.0, -1.0), (-30.0, 0.0), (-1.0, 1.0), (-4.0, 9.0)])
def test_a_log_axis_labels_two_powers_of_ten_and_the_highest_at_any_height(qapp, low, high, size):
    axis = LogAxis("left")
    axis.setLogMode(False, True)
    (_, values), *_ = axis.tickValues(low, high, size)
    powers = [value for value in values if value == round(value)]
    assert len(powers) >= 2 and max(values) == high  # an explosion to 1e8 reads 1e8
    assert axis.tickStrings([high], 1, None) == [short_number(10.0**high)]


def plot_in_view(qtbot, plot: Plot, height: int, width: int = 400) -> pg.GraphicsLayoutWidget:
    graphics = new_graphics()
    graphics.addItem(plot)
    graphics.resize(width, height)
    qtbot.addWidget(graphics)
    graphics.show()
    qtbot.waitExposed(graphics)
    qtbot.wait(50)
    return graphics


@pytest.mark.parametrize("view_height", [MIN_VIEW_HEIGHT, 60, 200])
def test_a_short_log_plot_of_an_explosion_labels_its_decades_from_1e8_down(qtbot, view_height):
    plot = Plot("loss", "training step", log_y=True)
    steps = np.arange(300)
    plot.plot(steps, np.linspace(-2.5, 7.9, 300))  # log10 of a loss from 0.003 to 8e7
    graphics = plot_in_view(qtbot, plot, height=view_height + 80)
    plot.settle()
    qtbot.wait(50)
    assert plot.vb.height() <= view_height + 12
    assert plot.viewRange()[1] == [-3.0, 8.0]  # whole decades
    labels = plot.getAxis("left").labelled_ticks()
    assert "1e8" in labels and len(labels) >= 2, labels
    graphics.close()


# ---- the hover read-out of line plots ------------------------------------------------------------------------
def test_hovering_a_line_plot_reads_out_the_nearest_data_point(qtbot):
    plot = Plot("loss", "training step", log_y=True)
    rng = np.random.default_rng(0)
    steps = np.arange(0, 400, 4)  # (100,)
    losses = 10.0 ** rng.uniform(-2, 1, size=100)  # (100,)
    curve = plot.plot(steps, np.log10(losses))
    plot.name_curve(curve, "loss")
    graphics = plot_in_view(qtbot, plot, height=300, width=500)
    plot.settle()
    qtbot.wait(50)
    for index in (3, 57, 99):
        point = plot.vb.mapViewToScene(QPointF(steps[index], math.log10(losses[index])))
        where = graphics.mapFromScene(point) + QPoint(1, -1)  # a pixel off the point: it snaps to it
        qtbot.wait(50)  # pyqtgraph drops mouse moves that come too fast
        qtbot.mouseMove(graphics.viewport(), where)
        read = f"training step {steps[index]} "
        qtbot.waitUntil(lambda read=read: plot.read_out_text.startswith(read), timeout=1000)
        assert plot.read_out_text == f"training step {steps[index]} · loss {losses[index]:.4g}"
        assert plot.read_out.isVisible() and plot.read_out.toPlainText() == plot.read_out_text


def test_the_read_out_picks_the_curve_nearest_the_mouse_and_names_timesteps_by_character(qtbot):
    plot = TimePlot("value")
    timesteps = np.arange(5)
    low, high = BoldCurve("#ffffff"), BoldCurve("#ffffff")
    for curve, values in ((low, timesteps * 0.0), (high, timesteps + 10.0)):
        plot.addItem(curve)
        curve.setData(timesteps, values)
    plot.name_curve(high, "h_t")
    plot.show_timesteps(5, "hello")
    graphics = plot_in_view(qtbot, plot, height=300)  # noqa: F841 (kept: the plot lives in it)
    assert plot.nearest_point(QPointF(2.2, 11.0))[0] is high
    assert plot.describe_point(high, 2.0, 12.0) == "timestep 2 ('l') · h_t 12"
    assert plot.describe_point(low, 4.0, 0.0) == "timestep 4 ('o') · value 0"  # an unnamed curve: the axis's name


def test_a_linked_time_axis_shows_the_same_timesteps_as_the_plot_it_follows_whatever_their_widths(qtbot):
    graphics = new_graphics()  # a narrow plot over the left of a wide one (lecture mode's gates over the task view)
    narrow, wide = TimePlot(), TimePlot()
    graphics.addItem(narrow, row=0, col=0)
    graphics.addItem(pg.GraphicsWidget(), row=0, col=1)
    graphics.addItem(wide, row=1, col=0, colspan=2)
    graphics.ci.layout.setColumnFixedWidth(1, 300)
    narrow.setXLink(wide)
    qtbot.addWidget(graphics)
    graphics.resize(500, 400)
    graphics.show()
    qtbot.waitExposed(graphics)
    assert narrow.vb.screenGeometry().width() < wide.vb.screenGeometry().width() / 2  # they overlap, unlike in size
    wide.setXRange(0, 50, padding=0)
    np.testing.assert_allclose(narrow.vb.viewRange()[0], [0, 50])  # not the wide plot's first pixels: t = 0..7
    narrow.setXRange(10, 20, padding=0)
    np.testing.assert_allclose(wide.vb.viewRange()[0], [10, 20])


@pytest.mark.parametrize("pixels", [45, 55, 80, 150, 600])
def test_timestep_numbers_never_touch_on_a_narrow_axis_at_a_large_font(qtbot, pixels):
    axis = TimeAxis()
    font = axis.style["tickFont"] or tick_font()
    font.setPointSizeF(15)  # lecture mode's tick labels
    axis.setTickFont(font)
    metrics = QFontMetrics(font)
    levels = axis.tickValues(-0.5, 49.5, pixels)  # a heatmap's 50 timesteps
    shown = levels[0][1] if len(levels) == 1 else sorted(v for _, values in levels for v in values)
    assert len(levels[0][1]) >= 2  # at least two numbers to read the axis by
    if len(levels) == 1:  # respaced: every pair of neighbours has room for both halves of their labels
        for left, right in zip(shown, shown[1:]):
            room = (right - left) * pixels / 50
            half_widths = (metrics.horizontalAdvance(f"{left:g}") + metrics.horizontalAdvance(f"{right:g}")) / 2
            assert room >= half_widths + 2, (pixels, shown)
    else:  # pyqtgraph's own: its major numbers were already apart
        spacing = levels[0][0] * pixels / 50
        assert spacing >= metrics.horizontalAdvance("50") + 6, (pixels, levels)
