"""lstm-viz open on runs whose records cannot be shown: one line on stderr and exit 2, before a window opens.
(What is no run at all, a newer format and a missing folder: tests/test_hardening_cli.py.)"""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest

from lstm_viz import cli
from lstm_viz.core.history import HISTORY_DIR, record_name

SMALL = ["--hidden", "4", "--seq-len", "10", "--batch", "2"]


@pytest.fixture
def no_window(monkeypatch):
    """open_app standing in: a case that got as far as opening the window shows here."""
    opened = []
    app = types.ModuleType("lstm_viz.gui.app")
    app.open_app = lambda run, step=None, screenshot=None, lecture=False: opened.append((run, step)) or 0
    monkeypatch.setitem(sys.modules, "lstm_viz.gui", types.ModuleType("lstm_viz.gui"))
    monkeypatch.setitem(sys.modules, "lstm_viz.gui.app", app)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # no screen needed: no window opens
    return opened


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Finished runs: 'recorded' (steps 1..20), 'wider' (another hidden size), 'unrecorded' (--history-mb 0)."""
    folder = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *SMALL, "--steps", "20", "--out", str(folder / "recorded")]) == 0
    assert cli.main(["train", *SMALL, "--hidden", "6", "--steps", "2", "--out", str(folder / "wider")]) == 0
    assert cli.main(["train", *SMALL, "--steps", "2", "--history-mb", "0", "--out", str(folder / "unrecorded")]) == 0
    return folder


def one_line_exit_2(code: int, error: str, message: str) -> None:
    assert code == 2, error
    assert error.startswith("lstm-viz: error: ") and error.count("\n") == 1  # one line, no traceback
    assert message in error, error


def copy(runs: Path, tmp_path: Path, name: str = "recorded") -> Path:
    return Path(shutil.copytree(runs / name, tmp_path / name))


def truncate(run_dir: Path, step: int) -> None:
    path = run_dir / HISTORY_DIR / record_name(step)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_truncated_record_to_show_is_one_line_and_exit_2(runs, tmp_path, capsys, no_window):
    run_dir = copy(runs, tmp_path)
    truncate(run_dir, 20)  # the last: what open shows without --step
    code = cli.main(["open", str(run_dir)])
    one_line_exit_2(code, capsys.readouterr().err, "the record of step 20 in")
    truncate(run_dir, 7)
    code = cli.main(["open", str(run_dir), "--step", "7"])
    one_line_exit_2(code, capsys.readouterr().err, "the record of step 7 in")
    assert no_window == []
    assert cli.main(["open", str(run_dir), "--step", "8"]) == 0  # the others still open
    assert [step for _, step in no_window] == [8]


def test_a_record_of_another_shape_is_one_line_and_exit_2(runs, tmp_path, capsys, no_window):
    run_dir = copy(runs, tmp_path)
    shutil.copy(runs / "wider" / HISTORY_DIR / record_name(2), run_dir / HISTORY_DIR / record_name(21))
    code = cli.main(["open", str(run_dir)])
    one_line_exit_2(code, capsys.readouterr().err, "was another run written into this folder?")
    assert no_window == []


def test_a_run_without_records_is_one_line_and_exit_2(runs, capsys, no_window):
    code = cli.main(["open", str(runs / "unrecorded")])
    one_line_exit_2(code, capsys.readouterr().err, "has no history records to show")
    assert no_window == []


def test_a_deleted_history_folder_is_one_line_and_exit_2(runs, tmp_path, capsys, no_window):
    run_dir = copy(runs, tmp_path)
    shutil.rmtree(run_dir / HISTORY_DIR)
    code = cli.main(["open", str(run_dir)])
    one_line_exit_2(code, capsys.readouterr().err, "has no history records to show")
    assert no_window == []
