"""GUI tests run offscreen on a laptop-sized screen, with single-threaded torch, and fail on any Qt warning."""

import json
import os
import tempfile
from pathlib import Path

import pytest
import torch

from lstm_viz.gui.app import configure_pyqtgraph

# Set before the QApplication exists; the offscreen screen is 800x600 unless told otherwise.
SCREEN = {"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768, "logicalDpi": 96, "logicalBaseDpi": 96}
_screen_file = Path(tempfile.mkdtemp(prefix="lstm_viz_tests_")) / "screen.json"
_screen_file.write_text(json.dumps({"screens": [SCREEN]}))
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen_file}"

torch.set_num_threads(1)  # as in the app: training on one core leaves one for the GUI and pytest
configure_pyqtgraph()

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """A Qt warning (a QPainter misuse, a bad signal connection...) fails the GUI test that caused it."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            # The offscreen platform cannot resize windows to size hints; a real screen can.
            item.add_marker(pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"))
