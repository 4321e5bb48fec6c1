"""lstm-viz train --compare: one ordinary run directory per variant, each what a single run with that setting
writes; bad --compare input is one line and exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_viz import cli
from lstm_viz.core.history import open_run

SMALL = ["--preset", "adding-100", "--hidden", "6", "--seq-len", "12", "--batch", "4", "--steps", "12"]


def test_each_variant_is_the_run_a_single_train_with_that_setting_writes(tmp_path, capsys):
    assert cli.main(["train", *SMALL, "--compare", "cell=lstm,rnn", "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "cell=lstm: 12 steps" in out and "cell=rnn: 12 steps" in out
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["lstm", "rnn"]
    for cell in ("lstm", "rnn"):
        assert cli.main(["train", *SMALL, "--cell", cell, "--out", str(tmp_path / f"single-{cell}")]) == 0
        compared, single = open_run(tmp_path / "cmp" / cell), open_run(tmp_path / f"single-{cell}")
        assert compared.config == single.config and compared.config.cell == cell
        assert compared.finished and list(compared.steps) == list(single.steps) == list(range(1, 13))
        assert set(compared.metrics) == set(single.metrics)
        for column, values in single.metrics.items():
            np.testing.assert_allclose(compared.metrics[column], values, rtol=1e-5, atol=1e-7, err_msg=column)
        summary = json.loads((tmp_path / "cmp" / cell / "summary.json").read_text())
        assert summary["steps"] == 12


def test_clip_values_name_folders_that_any_system_accepts(tmp_path):
    arguments = ["train", *SMALL, "--compare", "clip=off,norm:1", "--out", str(tmp_path / "cmp")]
    assert cli.main(arguments) == 0
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["norm-1", "off"]
    assert str(open_run(tmp_path / "cmp" / "norm-1").config.clip) == "norm:1"


@pytest.mark.parametrize(
    ("compare", "words"),
    [
        ("hidden=1,2,3,4,5", "5 values given; a comparison has 2 to 4 variants"),
        ("colour=red,blue", "cannot compare 'colour'"),
        ("cell=lstm,lstmm", "cell=lstmm is refused"),
    ],
)
def test_bad_compare_is_one_line_and_exit_2_and_writes_nothing(tmp_path, capsys, compare, words):
    assert cli.main(["train", *SMALL, "--compare", compare, "--out", str(tmp_path / "cmp")]) == 2
    error = capsys.readouterr().err
    assert words in error and error.count("\n") == 1 and "Traceback" not in error
    assert not (tmp_path / "cmp").exists()


def test_a_comparison_into_a_folder_holding_its_runs_is_exit_2_and_they_are_kept(tmp_path, capsys):
    assert cli.main(["train", *SMALL, "--compare", "cell=lstm,rnn", "--out", str(tmp_path / "cmp")]) == 0
    kept = (tmp_path / "cmp" / "rnn" / "metrics.csv").read_bytes()
    capsys.readouterr()
    assert cli.main(["train", *SMALL, "--compare", "cell=gru,rnn", "--steps", "2", "--out", str(tmp_path / "cmp")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"--out '{tmp_path / 'cmp' / 'rnn'}' already holds a run" in error
    assert not (tmp_path / "cmp" / "gru").exists() and (tmp_path / "cmp" / "rnn" / "metrics.csv").read_bytes() == kept


def test_lecture_mode_for_a_comparison_is_one_line_and_exit_2_not_a_normal_window(tmp_path, capsys):
    """A comparison window has no lecture mode; '--compare ... --lecture' opened one in normal mode, saying nothing."""
    assert cli.main(["--preset", "adding-100", "--compare", "cell=lstm,rnn", "--lecture"]) == 2
    assert capsys.readouterr().err == (
        "lstm-viz: error: --lecture is for one run's window; a comparison has none (Ctrl+plus enlarges its text)\n"
    )
    assert cli.main(["train", *SMALL, "--compare", "cell=lstm,rnn", "--out", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    assert cli.main(["open", str(tmp_path / "cmp" / "lstm"), str(tmp_path / "cmp" / "rnn"), "--lecture"]) == 2
    assert "--lecture is for one run's window" in capsys.readouterr().err


def test_compare_cannot_resume(tmp_path, capsys):
    assert cli.main(["train", *SMALL, "--compare", "cell=lstm,rnn", "--resume", "x.pt"]) == 2
    assert "cannot --resume" in capsys.readouterr().err
