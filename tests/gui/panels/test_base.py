"""What every panel shares: an SVG export of a panel keeps its text as text."""

import re

import pytest
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice
from PyQt6.QtGui import QPainter
from PyQt6.QtSvg import QSvgGenerator

from lstm_viz.gui.panels import GatesPanel, GradientsPanel, StatesPanel, TaskViewPanel, TrainingPanel


def svg_of(widget) -> str:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(widget.size())
    painter = QPainter(generator)
    widget.render(painter)
    painter.end()
    return bytes(data).decode("utf-8")


@pytest.mark.parametrize("kind", [GatesPanel, StatesPanel, GradientsPanel, TrainingPanel, TaskViewPanel])
def test_an_svg_export_has_the_axis_labels_as_text_though_the_screen_shows_them_cached(qtbot, make_snapshot, kind):
    panel = kind()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.update_snapshot(make_snapshot())
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab()  # painted on screen: the axes' pixmaps are cached
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg_of(panel))  # text elements, not pixels of text
    assert any("step" in text for text in texts)  # "timestep" or "training step", from an axis label


# ---- the probe's marked timesteps (the adding problem) on every plot against time ----------------------------
ADDING = {"task": "adding", "seq_len": 20}
TIME_PLOTS = {GatesPanel: 4, StatesPanel: 3, GradientsPanel: 2, TaskViewPanel: 1}  # per-timestep plots of an LSTM


def time_plots(panel) -> list:
    from lstm_viz.gui.panels.plots import TimePlot

    return [item for item in panel.graphics.scene().items() if isinstance(item, TimePlot)]


@pytest.mark.parametrize("kind", list(TIME_PLOTS))
def test_every_plot_against_time_points_at_the_adding_problems_two_marked_steps(qtbot, make_snapshot, kind):
    from lstm_viz.core.config import RunConfig
    from lstm_viz.core.tasks.adding import AddingTask

    panel = kind()
    qtbot.addWidget(panel)
    snapshot = make_snapshot(**ADDING)
    probe_inputs, _ = AddingTask(RunConfig(hidden=8, batch=8, **ADDING)).probe()  # (1, T, 2): value, marker
    expected = tuple(int(t) for t in probe_inputs[0, :, 1].nonzero().flatten())
    assert len(expected) == 2 and expected[0] < 10 <= expected[1]  # one in each half
    panel.update_snapshot(snapshot)
    plots = time_plots(panel)
    assert len(plots) == TIME_PLOTS[kind]
    assert all(plot.time_marks.timesteps == expected for plot in plots)
    panel.update_snapshot(make_snapshot())  # sine: nothing marked
    assert all(plot.time_marks.timesteps == () for plot in time_plots(panel))


def test_the_marks_are_orange_triangles_at_the_marked_steps_on_the_plots_edges(qtbot, make_snapshot):
    from PyQt6.QtCore import QPointF
    from PyQt6.QtGui import QColor

    from lstm_viz.gui.panels.plots import ORANGE

    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    snapshot = make_snapshot(**ADDING)
    panel.update_snapshot(snapshot)
    qtbot.wait(50)
    image = panel.graphics.grab().toImage()
    plot = panel.heatmaps[0].plot
    view = panel.graphics
    orange = QColor(ORANGE)

    def is_orange(x: int, y: int) -> bool:
        colour = image.pixelColor(x, y)
        return (
            abs(colour.red() - orange.red()) + abs(colour.green() - orange.green()) + abs(colour.blue() - orange.blue())
            < 60
        )

    box = plot.vb.sceneBoundingRect()
    for timestep in plot.time_marks.timesteps:
        x = round(view.mapFromScene(plot.vb.mapViewToScene(QPointF(timestep, 0))).x())
        bottom = round(view.mapFromScene(box.bottomLeft()).y())
        assert any(is_orange(x, bottom - dy) for dy in range(2, 6)), timestep
    between = (plot.time_marks.timesteps[0] + plot.time_marks.timesteps[1]) / 2 + 0.5
    x = round(view.mapFromScene(plot.vb.mapViewToScene(QPointF(between, 0))).x())
    bottom = round(view.mapFromScene(box.bottomLeft()).y())
    assert not any(is_orange(x, bottom - dy) for dy in range(2, 6))
