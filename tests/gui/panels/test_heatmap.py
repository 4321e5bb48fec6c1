"""The shared heatmap, driven with the mouse like a user would."""

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import Qt

from lstm_viz.gui.panels.heatmap import DIVERGING_COLORMAP, NAN_COLOUR, Heatmap, RowImage
from lstm_viz.gui.panels.plots import nice_limit


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
def test_clicking_a_cell_emits_its_timestep_and_unit(qtbot, shown_heatmap, pixel_position):
    view, heatmap, _ = shown_heatmap
    position = pixel_position(view, heatmap, timestep=7, unit=4)
    with qtbot.waitSignal(heatmap.cell_clicked, timeout=1000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert clicked.args == [7, 4]


def test_hovering_shows_unit_time_character_and_value(qtbot, shown_heatmap, pixel_position):
    view, heatmap, values = shown_heatmap
    qtbot.mouseMove(view.viewport(), pixel_position(view, heatmap, timestep=3, unit=2))
    qtbot.waitUntil(heatmap.hover_text.isVisible, timeout=1000)
    assert heatmap.hover_text.toPlainText() == f"unit 2, t=3 ('d'), value {values[3, 2]:.3g}"


def test_marker_sits_on_the_selected_unit(shown_heatmap):
    _, heatmap, _ = shown_heatmap
    heatmap.set_unit(5)
    assert heatmap.marker.value() == 5 and heatmap.marker_halo.value() == 5


def test_selected_timestep_is_a_vertical_line_on_its_column(shown_heatmap):
    _, heatmap, _ = shown_heatmap
    heatmap.set_selected(unit=2, timestep=9)
    marker = heatmap.plot.timestep_marker
    assert marker.angle == 90 and marker.value() == 9 and heatmap.marker.value() == 2


def rendered_pixels(item: pg.ImageItem, values: np.ndarray, levels) -> np.ndarray:
    """The colours `item` renders `values` (H, T) into, as (H, T) 0xAARRGGBB words."""
    item.setColorMap(DIVERGING_COLORMAP)
    item.setImage(values, levels=levels, autoLevels=False)
    item.render()
    image = item.qimage.convertToFormat(item.qimage.Format.Format_ARGB32)
    rows, columns = values.shape
    return np.array([[image.pixel(t, u) for t in range(columns)] for u in range(rows)], dtype=np.uint32)


def test_own_colour_lookup_draws_what_pyqtgraph_draws(qtbot):
    values = np.random.default_rng(1).normal(scale=0.7, size=(16, 40)).astype(np.float32)  # (H, T), some beyond ±1
    ours = rendered_pixels(RowImage(axisOrder="row-major"), values, (-1.0, 1.0))
    pyqtgraphs = rendered_pixels(pg.ImageItem(axisOrder="row-major"), values, (-1.0, 1.0))
    assert np.array_equal(ours, pyqtgraphs)


@pytest.mark.filterwarnings("error")  # pyqtgraph's own lookup warns "overflow encountered in cast" here
def test_huge_infinite_and_missing_values_take_the_end_colours_and_grey(qtbot):
    values = np.array([[3e38, np.inf, 1e9, 0.5], [-3e38, -np.inf, -1e9, np.nan]], dtype=np.float32)  # (H, T)
    pixels = rendered_pixels(RowImage(axisOrder="row-major"), values, (-0.01, 0.01))
    top, bottom = pixels[0, 0], pixels[1, 0]
    assert top != bottom and (pixels[0, :] == top).all()  # 0.5 is beyond +0.01 as much as +inf is
    assert (pixels[1, :3] == bottom).all() and pixels[1, 3] == NAN_COLOUR
    assert np.array_equal(rendered_pixels(RowImage(axisOrder="row-major"), values, (-5e38, 5e38))[:, 1], [top, bottom])


def test_the_selected_unit_is_marked_by_a_line_and_a_triangle_at_each_end_of_its_row(qtbot, shown_heatmap):
    view, heatmap, _ = shown_heatmap
    heatmap.set_data(np.zeros((12, 40), dtype=np.float32))  # 40 thin rows, all the colour of 0 (near white)
    heatmap.set_unit(20)
    qtbot.waitExposed(view)
    qtbot.wait(50)
    assert list(heatmap.marker_ends.data["x"]) == [-0.5, 11.5] and list(heatmap.marker_ends.data["y"]) == [20, 20]
    image = view.grab().toImage()
    vb = heatmap.plot.vb

    def marked_pixel_rows(timestep: float) -> int:
        """Pixel rows, across the image at `timestep`, that are not the colour of 0."""
        x = round(view.mapFromScene(vb.mapViewToScene(pg.Point(timestep, 0))).x())
        top, bottom = (round(view.mapFromScene(vb.mapViewToScene(pg.Point(0, y))).y()) for y in (-0.5, 39.5))
        background = image.pixelColor(x, top + 2)
        return sum(image.pixelColor(x, y) != background for y in range(top + 2, bottom - 6))  # not the ticks

    # Just inside each end of the row: a triangle over a dozen pixel rows; in the middle: the line.
    assert marked_pixel_rows(-0.4) >= 10 and marked_pixel_rows(11.4) >= 10
    assert 2 <= marked_pixel_rows(6) <= 4


@pytest.mark.parametrize(("timestep", "unit"), [(24, 8), (49, 15), (0, 0), (25, 15)])
def test_the_hover_read_out_is_whole_inside_the_panel_and_beside_the_pointer(qtbot, pixel_position, timestep, unit):
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    heatmap = Heatmap("test", DIVERGING_COLORMAP, levels=None)
    view.addItem(heatmap.plot)
    view.resize(420, 300)  # a dock of a small screen: the read-out is half as wide as the image
    heatmap.set_data(np.random.default_rng(1).normal(size=(50, 16)).astype(np.float32))
    view.show()
    pointer = pixel_position(view, heatmap, timestep=timestep, unit=unit)
    qtbot.mouseMove(view.viewport(), pointer)
    qtbot.waitUntil(heatmap.hover_text.isVisible, timeout=1000)
    assert heatmap.hover_text.toPlainText().startswith(f"unit {unit}, t={timestep},")
    shown = view.mapFromScene(heatmap.hover_text.sceneBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(shown), (shown, view.viewport().rect())
    assert not shown.contains(pointer)
