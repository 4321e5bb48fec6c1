import tempfile

import pytest
import torch
from PyQt6.QtCore import QSettings

from lstm_viz.core.trainer import CHECKPOINT_FORMAT

# As in the app: these small models run fastest on one thread, and don't stall when the
# machine is busy (two spinning OpenMP threads on a loaded 2-core box cost up to 50x).
torch.set_num_threads(1)

# The window remembers its layout, lecture mode and font scale in QSettings: in tests, in a folder of their own,
# never the user's real settings, and emptied before each test (a window closed by one test must not lay out
# the next one's).
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="lstm_viz_settings_"))


@pytest.fixture(autouse=True)
def fresh_view_settings():
    QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "lstm_viz", "view").clear()


class CodeRunningPayload:
    """Unpickling this creates a file: what a malicious checkpoint does."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def code_running_checkpoint(tmp_path):
    """(a checkpoint file whose pickle creates a file when loaded unsafely, the path of that file)."""
    marker, path = tmp_path / "created-by-unpickling", tmp_path / "evil.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "config": {}, "payload": CodeRunningPayload(str(marker))}, path)
    return path, marker
