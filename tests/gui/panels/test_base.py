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
