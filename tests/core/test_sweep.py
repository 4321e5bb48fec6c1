"""Sweeps: the grid (values x cells, the values outermost), a 2x2 sweep end to end whose sweep.csv agrees with
each run's own metrics.csv, resuming (finished runs kept, a stopped or killed one trained again, the same
numbers as an uninterrupted sweep), a finished run of other settings refused, bad input in one line."""

import csv
import json

import numpy as np
import pytest

from lstm_viz.core.compare import variant_grid
from lstm_viz.core.config import ConfigError, RunConfig, load_preset
from lstm_viz.core.history import open_run
from lstm_viz.core.runs import read_metrics
from lstm_viz.core.sweep import plan_sweep, read_sweep, run_sweep

SMALL = RunConfig(task="adding", hidden=6, seq_len=12, batch=4, seed=5)
ADDING_BASELINE = 1 / 6  # always answering 1: the variance of the sum of two U(0, 1) numbers


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_the_grid_is_every_value_by_every_cell_values_outermost_with_the_seed_and_steps():
    sweep = plan_sweep(SMALL, "seq_len=10,20,50", ["lstm", "rnn"], 40, "adding")
    assert sweep.setting == "seq_len" and sweep.axis == "lag" and sweep.values == ["10", "20", "50"]
    got = [(v.config.seq_len, v.config.cell) for v in sweep.variants]
    assert got == [(10, "lstm"), (10, "rnn"), (20, "lstm"), (20, "rnn"), (50, "lstm"), (50, "rnn")]
    for variant in sweep.variants:  # nothing else differs from the preset
        assert variant.config == SMALL.replace(seq_len=variant.config.seq_len, cell=variant.config.cell, steps=40)
    assert sweep.variants[1].label == "seq_len=10 cell=rnn"
    assert sweep.variants[1].folder_name == "seq_len-10-cell-rnn"
    assert [v.config.cell for v in plan_sweep(SMALL, "hidden=4,8", None, 5).variants] == ["lstm", "lstm"]


def test_the_grid_axes_share_compare_s_parsing():
    variants = variant_grid(load_preset("exploding"), [("--a", "clip", ["off", "norm:1"]), ("--b", "lr", ["1e-3"])])
    assert [v.label for v in variants] == ["clip=off lr=0.001", "clip=norm:1 lr=0.001"]
    assert str(variants[1].config.clip) == "norm:1" and variants[1].config.lr == 1e-3


@pytest.mark.parametrize(
    ("over", "cells", "steps", "words"),
    [
        ("colour=1,2", ["lstm"], 5, "--over: cannot sweep over 'colour'"),
        ("seed=1,2", ["lstm"], 5, "cannot sweep over 'seed'"),
        ("seq_len=10,ten", ["lstm"], 5, "--over seq_len=ten is refused: seq_len must be a whole number"),
        ("seq_len=10,5", ["lstm"], 5, "--over seq_len=5 is refused: the adding problem needs seq_len between 10"),
        ("seq_len=10,10", ["lstm"], 5, "the value 10 is given twice"),
        ("seq_len=10,,20", ["lstm"], 5, "an empty value"),
        ("seq_len", ["lstm"], 5, "is not understood"),
        ("cell=lstm,rnn", ["lstm"], 5, "give the cells with --cells"),
        ("seq_len=10,20", ["lstm", "lstmm"], 5, "--cells: unknown cell 'lstmm'"),
        ("seq_len=10,20", ["lstm"], 0, "--steps must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_sweeps_are_one_line_errors(over, cells, steps, words):
    with pytest.raises(ConfigError, match=words) as caught:
        plan_sweep(SMALL, over, cells, steps)
    assert "\n" not in str(caught.value)


def test_a_2x2_sweep_writes_ordinary_runs_and_a_csv_that_agrees_with_their_metrics(tmp_path):
    sweep = plan_sweep(SMALL, "seq_len=10,16", ["lstm", "gru"], 130, "adding")
    rows, complete = run_sweep(sweep, tmp_path / "lags", history_mb=0)
    assert complete and len(rows) == 4
    table = read_csv(tmp_path / "lags" / "sweep.csv")
    assert list(table[0]) == ["cell", "lag", "steps", "final_loss", "baseline", "ratio", "solved",
                              "diverged_at_step", "run"]  # fmt: skip
    assert [(row["cell"], row["lag"]) for row in table] == [
        ("lstm", "10"),
        ("gru", "10"),
        ("lstm", "16"),
        ("gru", "16"),
    ]
    for row in table:
        run_dir = tmp_path / "lags" / row["run"]
        config = json.loads((run_dir / "config.json").read_text())
        assert (config["cell"], config["seq_len"], config["seed"], config["steps"]) == (
            row["cell"],
            int(row["lag"]),
            5,
            130,
        )
        losses = read_metrics(run_dir / "metrics.csv")["loss"]
        assert len(losses) == 130 and int(row["steps"]) == 130
        final_loss = losses[-100:].mean()  # the mean of the last 100 steps
        assert float(row["final_loss"]) == pytest.approx(final_loss, rel=1e-5)
        assert float(row["baseline"]) == pytest.approx(ADDING_BASELINE, rel=1e-5)
        assert float(row["ratio"]) == pytest.approx(final_loss / ADDING_BASELINE, rel=1e-5)
        assert row["solved"] == ("yes" if final_loss < 0.1 * ADDING_BASELINE else "no")
        assert row["diverged_at_step"] == ""
        assert open_run(run_dir).finished
    shown = read_sweep(tmp_path / "lags")
    assert shown.axis == "lag" and shown.cells == ["lstm", "gru"] and shown.steps == 130
    assert shown.values["gru"] == ["10", "16"]
    expected = [float(row["ratio"]) for row in table if row["cell"] == "gru"]
    np.testing.assert_allclose(shown.ratios["gru"], expected)


def test_a_solved_row_is_below_a_tenth_of_the_baseline(tmp_path):
    # an LSTM learns the adding problem over 10 steps in 600 steps: its mean loss falls far under 1/60
    config = SMALL.replace(hidden=32, lr=0.01, batch=32, clip="norm:1")
    rows, _ = run_sweep(plan_sweep(config, "seq_len=10", ["lstm"], 600), tmp_path / "s", history_mb=0)
    losses = read_metrics(tmp_path / "s" / rows[0].run / "metrics.csv")["loss"]
    assert losses[-100:].mean() < ADDING_BASELINE / 10
    assert rows[0].solved and read_csv(tmp_path / "s" / "sweep.csv")[0]["solved"] == "yes"


def test_a_stopped_sweep_resumes_keeping_what_finished_and_gives_the_uninterrupted_numbers(tmp_path):
    sweep = plan_sweep(SMALL, "seq_len=10,14", ["lstm", "rnn"], 20)
    seen = []

    def stop_in_the_third():
        return len(seen) > 0 and seen[-1].index == 3 and seen[-1].step >= 7

    rows, complete = run_sweep(sweep, tmp_path / "s", 0, stop_in_the_third, seen.append)
    assert not complete and [row.run for row in rows] == ["seq_len-10-cell-lstm", "seq_len-10-cell-rnn"]
    assert len(read_csv(tmp_path / "s" / "sweep.csv")) == 2
    stopped = json.loads((tmp_path / "s" / "seq_len-14-cell-lstm" / "summary.json").read_text())
    assert stopped["steps"] == 7  # its files are written, and it is not finished
    kept = {row.run: (tmp_path / "s" / row.run / "summary.json").stat().st_mtime_ns for row in rows}

    seen.clear()
    rows, complete = run_sweep(sweep, tmp_path / "s", 0, on_progress=seen.append)
    assert complete and len(rows) == 4
    assert sorted({progress.index for progress in seen}) == [3, 4]  # only the unfinished ones trained
    for run, mtime in kept.items():
        assert (tmp_path / "s" / run / "summary.json").stat().st_mtime_ns == mtime

    whole, _ = run_sweep(sweep, tmp_path / "whole", 0)
    assert [(r.run, r.final_loss) for r in whole] == pytest.approx([(r.run, r.final_loss) for r in rows])


def test_a_killed_combination_without_a_summary_is_trained_again(tmp_path):
    sweep = plan_sweep(SMALL, "seq_len=10,14", ["gru"], 15)
    first, _ = run_sweep(sweep, tmp_path / "s", 0)
    (tmp_path / "s" / first[1].run / "summary.json").unlink()  # as a kill -9 leaves it: no summary yet
    (tmp_path / "s" / "sweep.csv").unlink()
    seen = []
    again, complete = run_sweep(sweep, tmp_path / "s", 0, on_progress=seen.append)
    assert complete and {progress.index for progress in seen} == {2}
    assert again == first and len(read_csv(tmp_path / "s" / "sweep.csv")) == 2


def test_a_finished_run_of_other_settings_is_never_overwritten(tmp_path):
    run_sweep(plan_sweep(SMALL, "seq_len=10", ["rnn"], 5), tmp_path / "s", 0)
    before = (tmp_path / "s" / "seq_len-10-cell-rnn" / "metrics.csv").read_text()
    with pytest.raises(ConfigError, match="holds a finished run of other settings \\(steps 5 / 8\\)"):
        run_sweep(plan_sweep(SMALL, "seq_len=10", ["rnn"], 8), tmp_path / "s", 0)
    assert (tmp_path / "s" / "seq_len-10-cell-rnn" / "metrics.csv").read_text() == before


def test_reading_what_is_not_a_sweep_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_sweep(tmp_path)
    (tmp_path / "sweep.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="is not a sweep's csv"):
        read_sweep(tmp_path)
