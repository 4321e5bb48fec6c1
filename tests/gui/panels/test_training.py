"""Training panel: curves equal the metrics columns, reference lines where they belong."""

import dataclasses
import math

import numpy as np
import pytest

from lstm_viz.core.config import RunConfig
from lstm_viz.core.curves import KEEP_ROWS
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.panels import TrainingPanel
from lstm_viz.gui.panels.training import MAX_CLIP_MARKS, clip_marks

PANEL = TrainingPanel


def group_norm(metrics, block_names, keep) -> np.ndarray:
    """Norm over the blocks `keep(name)` selects, straight from the metrics columns."""
    chosen = [name for name in block_names if keep(name)]
    assert chosen
    return np.sqrt(np.sum([metrics[name] ** 2 for name in chosen], axis=0))


def test_curves_equal_the_metrics_columns(panel, make_snapshot):
    snapshot = make_snapshot(steps=6, clip="norm:0.05")
    panel.update_snapshot(snapshot)
    metrics = snapshot.metrics
    assert np.array_equal(panel.loss_curve.xData, metrics["step"])
    assert np.allclose(10**panel.loss_curve.yData, metrics["loss"])  # curves hold log10, on a log axis
    assert np.allclose(10**panel.grad_curve.yData, metrics["grad_norm"])
    assert np.allclose(10**panel.clipped_grad_curve.yData, metrics["grad_norm_clipped"])
    assert np.array_equal(panel.clip_marks.xData, metrics["step"][metrics["clipped"] == 1])
    for plot in (panel.loss_plot, panel.grad_plot, panel.block_plot):
        assert plot.getAxis("left").logMode
        assert all(curve.opts["autoDownsample"] and curve.opts["clipToView"] for curve in plot.listDataItems())


def test_block_norms_group_gates_over_layers_and_update_incrementally(panel):
    trainer = Trainer(RunConfig(task="adding", hidden=8, seq_len=20, batch=8, layers=2, bidirectional=True))
    for _ in range(3):
        trainer.step()
    panel.update_snapshot(trainer.snapshot(with_trace=False))
    trainer.step()
    trainer.step()
    snapshot = trainer.snapshot(with_trace=False)
    panel.update_snapshot(snapshot)  # only the two new rows are computed
    names, metrics = snapshot.block_names, snapshot.metrics
    assert list(panel.block_curves) == ["W·i", "W·f", "W·g", "W·o", "bias", "head"]
    expected = {
        "W·f": group_norm(metrics, names, lambda n: ".W_" in n and n.endswith(".f")),
        "bias": group_norm(metrics, names, lambda n: ".b_" in n),
        "head": group_norm(metrics, names, lambda n: n.startswith("head.")),
    }
    for group, norms in expected.items():
        assert np.array_equal(panel.block_curves[group].xData, metrics["step"])
        assert np.allclose(10 ** panel.block_curves[group].yData, norms)

    restarted = Trainer(RunConfig(hidden=8, seq_len=20, batch=8, cell="gru"))
    restarted.step()
    snapshot = restarted.snapshot(with_trace=False)
    panel.update_snapshot(snapshot)  # fewer rows and other blocks: recomputed from scratch
    assert list(panel.block_curves) == ["W·r", "W·z", "W·n", "bias", "head"]
    norms = group_norm(snapshot.metrics, snapshot.block_names, lambda n: n.endswith(".z"))
    assert np.allclose(10 ** panel.block_curves["W·z"].yData, norms)


def test_clip_events_are_marked_at_their_steps_on_the_unclipped_norm(panel, make_snapshot):
    snapshot = make_snapshot(steps=6, clip="norm:0.05")
    clipped = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # some clipped, some not
    panel.update_snapshot(dataclasses.replace(snapshot, metrics={**snapshot.metrics, "clipped": clipped}))
    assert np.array_equal(panel.clip_marks.xData, snapshot.metrics["step"][[0, 3, 4]])
    assert np.allclose(10**panel.clip_marks.yData, snapshot.metrics["grad_norm"][[0, 3, 4]])


@pytest.mark.parametrize("clip", ["norm:0.5", "value:0.5", "off"])
def test_the_clip_threshold_line_shows_only_for_norm_clipping(panel, make_snapshot, clip):
    snapshot = make_snapshot(clip=clip)
    panel.update_snapshot(snapshot)
    assert panel.threshold_line.isVisible() == (clip == "norm:0.5")
    assert ("clip at 0.5" in panel.grad_plot.titleLabel.text) == (clip == "norm:0.5")  # the title names the line
    if clip == "norm:0.5":
        assert panel.threshold_line.value() == pytest.approx(math.log10(0.5))  # the axis is log10


def test_baseline_and_divergence_lines(panel, make_snapshot):
    snapshot = make_snapshot()
    panel.update_snapshot(snapshot)
    assert panel.baseline_line.value() == pytest.approx(math.log10(snapshot.baseline_loss))
    short_name = snapshot.baseline_name.split(" (")[0]  # the title is short; the tooltip has all of the name
    assert f"baseline {snapshot.baseline_loss:.3g}: {short_name}" in panel.loss_plot.titleLabel.text
    assert snapshot.baseline_name in panel.loss_plot.toolTip()
    assert not panel.diverged_line.isVisible()
    panel.update_snapshot(dataclasses.replace(snapshot, diverged_at_step=2))
    assert panel.diverged_line.isVisible() and panel.diverged_line.value() == 2


def test_a_char_task_draws_its_no_input_line_under_the_baseline_title(panel, make_snapshot):
    snapshot = make_snapshot(task="chars", text="hihello", seq_len=6)
    panel.update_snapshot(snapshot)
    no_input = -(4 / 6 * math.log(1 / 6) + 2 / 6 * math.log(2 / 6))  # targets i h e l l o: 1.56
    assert panel.no_input_line.isVisible() and panel.no_input_line.value() == pytest.approx(math.log10(no_input))
    assert panel.baseline_line.value() == pytest.approx(math.log10(4 / 6 * math.log(2)))  # bigram: 0.462
    assert "baseline 0.462: no memory" in panel.loss_plot.titleLabel.text
    assert "no input 1.56" in panel.loss_plot.titleLabel.text
    panel.update_snapshot(make_snapshot())  # sine: no such line
    assert not panel.no_input_line.isVisible() and "no input" not in panel.loss_plot.titleLabel.text


def test_a_zero_or_nan_value_is_a_gap_in_the_log_curve(panel, make_snapshot):
    snapshot = make_snapshot(steps=6)
    loss = np.array(snapshot.metrics["loss"])
    loss[1], loss[3] = 0.0, np.nan  # e.g. a diverged step
    panel.update_snapshot(dataclasses.replace(snapshot, metrics={**snapshot.metrics, "loss": loss}))
    drawn = panel.loss_curve.yData
    assert np.isnan(drawn[[1, 3]]).all() and np.allclose(10 ** drawn[[0, 2, 4, 5]], loss[[0, 2, 4, 5]])


def test_many_clip_events_are_thinned_to_one_mark_per_bin():
    steps = np.arange(1, 100_001, dtype=float)
    clipped = (np.arange(100_000) % 3 == 0).astype(float)
    marks = clip_marks(steps, clipped)
    assert len(marks) <= MAX_CLIP_MARKS
    assert np.all(clipped[marks] == 1)
    assert marks[0] == 0 and steps[marks[-1]] > 0.99 * steps[-1]  # they span the whole run
    few = np.zeros(100)
    few[[3, 50, 99]] = 1
    assert clip_marks(steps[:100], few).tolist() == [3, 50, 99]


def view_ranges(panel) -> list:
    for plot in panel.plots:
        plot.settle()
    return [plot.viewRange() for plot in panel.plots]


def test_the_axes_fit_each_new_run_as_a_panel_that_saw_only_it(qtbot, panel, make_snapshot):
    panel.update_snapshot(make_snapshot())  # the first snapshot: no run before it
    panel.update_snapshot(make_snapshot(steps=0))  # step 0: nothing trained yet
    (x_low, x_high), _ = view_ranges(panel)[0]
    assert (x_low, x_high) == (0, 10)  # whole steps, not 0.1 .. 0.9
    panel.update_snapshot(make_snapshot(steps=40, task="adding", lr=0.05))  # a long run, losses far from sine's
    panel.update_snapshot(make_snapshot(steps=0))  # Reset
    assert view_ranges(panel)[0][0] == [0, 10]
    for new_run in (make_snapshot(steps=3), make_snapshot(steps=40, seed=1)):  # a new model; a loaded checkpoint
        panel.update_snapshot(new_run)
        alone = TrainingPanel()
        qtbot.addWidget(alone)
        alone.update_snapshot(new_run)
        assert view_ranges(panel) == view_ranges(alone)
        assert np.allclose(10**panel.loss_curve.yData, new_run.metrics["loss"])
        (x_low, x_high), (y_low, y_high) = view_ranges(panel)[0]
        assert x_low <= 1 and new_run.step <= x_high <= max(10, 1.5 * new_run.step)
        shown = [*np.log10(new_run.metrics["loss"]), math.log10(new_run.baseline_loss)]
        assert y_low <= min(shown) and max(shown) <= y_high <= y_low + 2 * (max(shown) - min(shown)) + 0.5


def test_cursor_and_event_marks_are_set_in_place(panel, make_snapshot):
    from lstm_viz.core.history import Event
    from lstm_viz.gui.panels.training import event_label

    panel.resize(600, 400)
    panel.show()
    panel.update_snapshot(make_snapshot(steps=6))
    cursors, marks = list(panel.cursors), list(panel.event_marks)
    panel.show_cursor(4)
    assert all(cursor.isVisible() and cursor.value() == 4 for cursor in panel.cursors)
    assert panel.cursors[0].label.format == "step 4"
    panel.show_cursor(None)
    assert not any(cursor.isVisible() for cursor in panel.cursors)
    events = [
        Event(2, "change", "lr 0.01 → 0.02, clip Clip(mode='off', threshold=1.0) → Clip(mode='norm', threshold=1.0)"),
        Event(3, "diverged", "non-finite loss"),
        Event(5, "fork", "from runs/a at step 5"),
        Event(6, "end", ""),
    ]
    panel.show_events(events)
    labels = [(step, label) for step, _, label, _ in panel.event_marks[0].marks]
    assert labels == [(2, "lr, clip"), (3, ""), (5, "fork")]  # 'end' not drawn; a divergence has its own label
    assert panel.event_marks[0].text_near(5.0).startswith("step 5: forked: from runs/a")
    assert panel.cursors == cursors and panel.event_marks == marks  # the same items, moved and set anew
    assert event_label("change", "temperature 1 → 0.5") == "temperature" and event_label("load", "x.pt") == "load"
    panel.grab()  # the marks paint without a Qt warning


def test_a_task_with_a_test_set_gets_a_test_accuracy_plot_under_the_loss(panel, make_snapshot):
    plain = set(panel.graphics.ci.items)
    assert panel.accuracy_plot not in plain
    snapshot = make_snapshot(task="digits", steps=51)
    panel.update_snapshot(snapshot)
    accuracy, steps = snapshot.metrics["test_accuracy"], snapshot.metrics["step"]
    measured = np.isfinite(accuracy)
    assert steps[measured].tolist() == [1, 50]
    assert np.array_equal(panel.accuracy_curve.xData, steps[measured])
    assert np.allclose(panel.accuracy_curve.yData, 100 * accuracy[measured])  # percent
    assert f"{100 * accuracy[measured][-1]:.1f}%" in panel.accuracy_plot.titleLabel.text
    assert set(panel.graphics.ci.items) == plain | {panel.accuracy_plot}
    assert panel.graphics.ci.items[panel.accuracy_plot] == [(1, 0)]  # right under the loss
    panel.update_snapshot(make_snapshot(task="sine"))
    assert set(panel.graphics.ci.items) == plain


# ---- long runs: older steps as a min-max envelope, zoomed in as the rows of metrics.csv ----------------------------
def long_run_snapshot(trainer: Trainer, rows: int, spike_at: int) -> object:
    """`trainer`'s snapshot with `rows` steps of metrics (fed in blocks, as if trained), one loss spike of 1000."""
    from lstm_viz.core.curves import MetricsLog

    log = MetricsLog(trainer.metrics.columns)
    generator = np.random.default_rng(0)
    for start in range(0, rows, 100_000):
        block = 0.5 + 0.1 * generator.random((min(100_000, rows - start), len(log.columns)))  # (rows, columns)
        block[:, 0] = np.arange(start, start + len(block)) + 1  # steps
        block[:, log.columns.index("clipped")] = 0
        if start <= spike_at < start + len(block):
            block[spike_at - start, 1] = 1000.0  # one step's loss
        log.extend(block)
    snapshot = trainer.snapshot(with_trace=False)
    return dataclasses.replace(snapshot, metrics=log.as_columns(), metrics_envelope=log.envelope())


def test_a_million_steps_draw_as_a_bounded_envelope_that_keeps_a_single_spike(panel):
    trainer = Trainer(RunConfig(task="sine", hidden=4, seq_len=8, batch=2))
    snapshot = long_run_snapshot(trainer, 1_000_000, spike_at=345_678)
    panel.update_snapshot(snapshot)
    steps, losses = panel.loss_curve.xData, panel.loss_curve.yData
    assert len(steps) <= 2 * (4096 + 1) + 2 * KEEP_ROWS  # not a million points
    assert steps[0] == 1 and steps[-1] == 1_000_000 and np.all(np.diff(steps) >= 0)
    assert losses.max() == pytest.approx(3.0)  # log10 1000: the spike's bucket
    assert steps[np.argmax(losses)] >= 345_679 > steps[np.argmax(losses) - 1]  # drawn at the spike's bucket
    assert np.nanmax(losses[losses < 2]) <= math.log10(0.6)


def test_zooming_into_older_steps_shows_the_exact_rows_of_metrics_csv(panel, tmp_path, monkeypatch):
    from lstm_viz.core.curves import MetricsLog
    from lstm_viz.core.runs import read_metrics
    from lstm_viz.gui.panels import training

    monkeypatch.setattr(training, "DETAIL_STEPS", 100)  # 300 steps in view: the envelope; 100 or fewer: the rows

    trainer = Trainer(RunConfig(task="sine", hidden=4, seq_len=8, batch=2, clip="norm:0.5"))
    trainer.metrics = MetricsLog(trainer.metrics.columns, keep=64, buckets=8)  # 300 steps: a long run
    trainer.record_to(tmp_path / "run", history_mb=0)
    for _ in range(300):
        trainer.step()
    trainer.run_writer.append_metrics(trainer.metrics, force=True)
    snapshot = dataclasses.replace(trainer.snapshot(with_trace=False), run_dir=str(tmp_path / "run"))  # as the worker
    assert snapshot.metrics["step"][0] > 100 and snapshot.metrics_envelope is not None
    panel.update_snapshot(snapshot)
    assert len(panel.loss_curve.xData) < 300 - 20  # older steps: their envelope
    written = read_metrics(tmp_path / "run" / "metrics.csv")
    panel.loss_plot.setXRange(40, 70, padding=0)
    steps, losses = panel.loss_curve.xData, panel.loss_curve.yData
    shown = (steps >= 40) & (steps <= 70)
    in_file = (written["step"] >= 40) & (written["step"] <= 70)
    np.testing.assert_array_equal(steps[shown], written["step"][in_file])
    np.testing.assert_array_equal(steps[shown], np.arange(40, 71))  # every row (all reach metrics.csv)
    np.testing.assert_allclose(10 ** losses[shown], written["loss"][in_file], rtol=1e-12)
    grad = 10 ** panel.grad_curve.yData[shown]
    np.testing.assert_allclose(grad, written["grad_norm"][in_file], rtol=1e-12)
    marks = panel.clip_marks.xData
    clipped_in_file = written["step"][in_file & (written["clipped"] == 1)]
    np.testing.assert_array_equal(marks[(marks >= 40) & (marks <= 70)], clipped_in_file)
    panel.loss_plot.setXRange(0, 300, padding=0)  # zoomed out: the envelope again
    assert len(panel.loss_curve.xData) < 300 - 20
    trainer.finish_recording()
