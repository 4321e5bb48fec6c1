"""Real snapshots from small trainers, built once per session and shared by the panel tests."""

import pyqtgraph as pg
import pytest
from PyQt6.QtCore import QPointF

from lstm_viz.core.config import RunConfig
from lstm_viz.core.trainer import Trainer

# The app sets this globally (tests/gui/conftest.py too); the panels are written for it.
pg.setConfigOptions(imageAxisOrder="row-major")

SMALL = {"hidden": 8, "seq_len": 20, "batch": 8}


@pytest.fixture(scope="session")
def make_snapshot():
    """make_snapshot(steps=3, **settings) -> Snapshot of a small trainer after `steps` steps (cached)."""
    cache = {}

    def make(steps: int = 3, **settings):
        key = (steps, tuple(sorted(settings.items())))
        if key not in cache:
            trainer = Trainer(RunConfig(**{**SMALL, **settings}))
            for _ in range(steps):
                trainer.step()
            cache[key] = trainer.snapshot()
        return cache[key]

    return make


@pytest.fixture
def panel(qtbot, request):
    """A new panel of the test module's PANEL class (at its PANEL_SIZE, if it has one), closed after the test."""
    panel = request.module.PANEL()
    qtbot.addWidget(panel)
    if hasattr(request.module, "PANEL_SIZE"):
        panel.resize(*request.module.PANEL_SIZE)
    return panel


@pytest.fixture
def scene_item_count():
    """scene_item_count(panel): graphics items in the panel's scenes (the same after an update that creates none)."""
    return lambda panel: sum(len(view.scene().items()) for view in panel.findChildren(pg.GraphicsView))


@pytest.fixture
def pixel_position(qtbot):
    """pixel_position(view, heatmap, timestep, unit): where that heatmap cell's centre is on the view's
    viewport, once the shown view's layout has settled (it moves in the first event-loop turns after show)."""

    def position(view, heatmap, timestep, unit):
        qtbot.waitExposed(view)
        last = []

        def settled():
            rect = heatmap.image.sceneBoundingRect()
            same = bool(last) and rect == last[-1] and rect.width() > 0
            last.append(rect)
            return same

        qtbot.wait(50)
        qtbot.waitUntil(settled, timeout=2000)
        return view.mapFromScene(heatmap.image.mapToScene(QPointF(timestep + 0.5, unit + 0.5)))

    return position
