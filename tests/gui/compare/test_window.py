"""The comparison window: one curve per run with that run's data, gradients through time and heatmaps of every
run, live settings to all runs or one, scrubbing moving every run to the same step, recorded runs opened
together, and runs of different tasks refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt

from lstm_viz import cli
from lstm_viz.core.compare import Comparison, parse_compare
from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.history import open_run
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.compare.gradients import gradient_norms
from lstm_viz.gui.compare.window import CompareWindow, open_compare_viewer
from lstm_viz.gui.compare.worker import CompareWorker
from lstm_viz.gui.panels.plots import font_scale, set_font_scale

SMALL = RunConfig(task="adding", hidden=6, seq_len=12, batch=4, seed=2)
TRAIN = ["train", "--preset", "adding-100", "--hidden", "6", "--seq-len", "12", "--batch", "4", "--steps", "8"]


def live_window(qtbot, tmp_path=None, steps=6, compare="cell=lstm,gru,rnn") -> CompareWindow:
    setting, variants = parse_compare(compare, SMALL)
    worker = CompareWorker(Comparison(setting, variants), runs_dir=tmp_path, name="adding")
    window = CompareWindow([v.label for v in variants], "adding: cell", worker=worker)
    qtbot.addWidget(window)
    worker.start(until_step=steps)
    qtbot.waitUntil(lambda: window.snapshots is not None and window.snapshots[0].step == steps
                    and not window.snapshots[0].running, timeout=20000)  # fmt: skip
    return window


def test_one_loss_curve_per_run_with_its_metrics_and_its_colour(qtbot):
    window = live_window(qtbot)
    trainers = window.worker.trainers
    assert [t.step_count for t in trainers] == [6, 6, 6]
    for index, trainer in enumerate(trainers):
        steps, loss = window.training.curve_data(index)
        metrics = trainer.metrics.as_columns()
        np.testing.assert_array_equal(steps, metrics["step"])
        np.testing.assert_allclose(loss, metrics["loss"], rtol=1e-9)
        _, norm = window.training.norm_curves[index].getData()
        np.testing.assert_allclose(10.0**norm, metrics["grad_norm"], rtol=1e-9)
        assert window.training.loss_curves[index].opts["pen"].color().name() == VARIANT_COLOURS[index].lower()
        assert window.training.baselines[index].value() == pytest.approx(np.log10(trainer.task.baseline_loss))
    legend = window.training.loss_plot.legend
    assert [label.text for _, label in legend.items] == ["lstm", "gru", "rnn"]


def test_gradients_through_time_of_every_run_and_the_cell_gradient_only_for_the_lstm(qtbot):
    window = live_window(qtbot)
    for index, snapshot in enumerate(window.snapshots):
        _, drawn = window.gradients.hidden_curves[index].getData()
        np.testing.assert_allclose(10.0**drawn, gradient_norms(snapshot.trace, "grad_hidden"), rtol=1e-6)
    assert [curve.isVisible() for curve in window.gradients.cell_curves] == [True, False, False]


def test_the_gradients_title_names_the_cell_gradient_only_when_an_lstm_is_compared(qtbot):
    assert "∂L/∂c_t" in live_window(qtbot, steps=1).gradients.plot.titleLabel.text
    window = live_window(qtbot, steps=1, compare="cell=gru,rnn")
    title = window.gradients.plot.titleLabel.text
    assert "‖∂L/∂h_t‖" in title and "c_t" not in title and "LSTM" not in title


def test_heatmaps_a_row_per_run_the_same_quantity_and_scale(qtbot):
    window = live_window(qtbot)
    panel = window.heatmaps
    panel.quantity.setCurrentText("c_t")
    rows = panel.rows()
    assert [name for name, _, _ in rows] == ["cell", "hidden", "hidden"]
    assert "GRU has no c_t" in rows[1][1]
    levels = {heatmap.levels for heatmap in panel.heatmaps}
    assert len(levels) == 1
    np.testing.assert_array_equal(panel.heatmaps[0].values, window.snapshots[0].trace["cell"][-1, 0])
    panel.quantity.setCurrentText("f_t")
    assert [name for name, _, _ in panel.rows()] == ["forget_gate", "update_gate", "hidden"]


def test_live_settings_go_to_every_run_or_to_the_one_picked(qtbot):
    window = live_window(qtbot)
    window.lr.setValue(0.002)
    window.clip.setText("norm:0.5")
    window.target.setCurrentIndex(3)  # rnn
    window.apply_settings()
    qtbot.waitUntil(lambda: window.worker.trainers[2].config.lr == 0.002, timeout=5000)
    assert [t.config.lr for t in window.worker.trainers] == [0.01, 0.01, 0.002]
    assert str(window.worker.trainers[2].config.clip) == "norm:0.5"
    window.target.setCurrentIndex(0)  # all
    window.apply_settings()
    qtbot.waitUntil(lambda: all(t.config.lr == 0.002 for t in window.worker.trainers), timeout=5000)


def test_scrubbing_moves_every_run_to_the_same_step(qtbot, tmp_path):
    window = live_window(qtbot, tmp_path, steps=8)
    qtbot.waitUntil(lambda: len(window.common_steps()) >= 8, timeout=20000)
    window.show_step(3)
    qtbot.waitUntil(lambda: window.shown_step == 3, timeout=5000)
    assert [s.step for s in window.snapshots] == [3, 3, 3]
    assert [s.trace.cell for s in window.snapshots] == ["lstm", "gru", "rnn"]
    assert window.training.shown[0].isVisible() and window.training.shown[0].value() == 3
    window.go_live()
    assert [s.step for s in window.snapshots] == [8, 8, 8]


def test_recorded_runs_open_together_aligned_by_step_listing_what_differs(qtbot, tmp_path):
    assert cli.main([*TRAIN, "--compare", "cell=lstm,rnn", "--out", str(tmp_path / "cmp")]) == 0
    runs = [open_run(tmp_path / "cmp" / cell) for cell in ("lstm", "rnn")]
    window = open_compare_viewer(runs)
    qtbot.addWidget(window)
    assert window.labels == ["cell lstm", "cell rnn"]
    assert "cell lstm / rnn" in window.windowTitle()
    window.refresh()  # the first frame: the newest step every run has
    assert [s.step for s in window.snapshots] == [8, 8]
    np.testing.assert_allclose(window.training.curve_data(1)[1], runs[1].metrics["loss"], rtol=1e-6)
    window.show_step(4)
    window.refresh()
    assert [s.step for s in window.snapshots] == [4, 4]


def test_runs_of_different_tasks_are_refused(tmp_path, capsys):
    assert cli.main([*TRAIN, "--out", str(tmp_path / "adding")]) == 0
    assert cli.main([*TRAIN, "--task", "sine", "--out", str(tmp_path / "sine")]) == 0
    with pytest.raises(ConfigError, match="runs of different tasks cannot be compared"):
        open_compare_viewer([open_run(tmp_path / "adding"), open_run(tmp_path / "sine")])
    capsys.readouterr()
    assert cli.main(["open", str(tmp_path / "adding"), str(tmp_path / "sine")]) == 2
    error = capsys.readouterr().err
    assert "runs of different tasks cannot be compared (adding / sine)" in error and error.count("\n") == 1
    assert cli.main(["open", *[str(tmp_path / "adding")] * 5]) == 2
    assert "5 runs given" in capsys.readouterr().err


def test_the_window_form_refuses_a_bad_compare_before_any_window(capsys):
    assert cli.main(["--preset", "sine", "--compare", "hidden=1,2,3,4,5"]) == 2
    assert "a comparison has 2 to 4 variants" in capsys.readouterr().err


NAMES = RunConfig(task="chars", text="names", hidden=6, seq_len=12, batch=4, seed=2)


def test_a_char_comparison_shows_each_runs_probe_text_coloured_by_its_own_trace(qtbot):
    setting, variants = parse_compare("cell=lstm,gru", NAMES)
    window = CompareWindow(
        [v.label for v in variants], "names: cell", worker=CompareWorker(Comparison(setting, variants))
    )
    qtbot.addWidget(window)
    window.show()
    window.worker.start(until_step=3)
    qtbot.waitUntil(lambda: window.snapshots is not None and window.snapshots[0].step == 3
                    and not window.snapshots[0].running, timeout=20000)  # fmt: skip
    task = window.task
    assert all(view.isVisible() for view in task.text_views)
    for unit in (0, 4):
        window.heatmaps.heatmaps[1].cell_clicked.emit(2, unit)  # a click on the second run's heatmap: unit, t = 2
        for index, (view, snapshot) in enumerate(zip(task.text_views, window.snapshots, strict=True)):
            trace = snapshot.trace
            np.testing.assert_array_equal(view.values, np.asarray(trace["hidden"])[-1, 0, :, unit])  # top layer
            assert view.grid.labels == tuple(trace.labels) and view.grid.highlighted == 2
            assert f"unit {unit} · {window.labels[index]}" in view.caption.text()
            logits = torch.tensor(np.asarray(trace.probe_output, dtype=np.float64))  # (T, V)
            targets = torch.tensor(np.asarray(trace.probe_target, dtype=np.int64))  # (T,)
            expected = torch.softmax(logits, dim=1)[torch.arange(len(targets)), targets].numpy()  # (T,)
            _, drawn = task.outputs[index].getData()
            np.testing.assert_allclose(drawn, expected, atol=1e-6)  # each run's p(next character)
    assert window.snapshots[1].trace.cell == "gru" and task.text_views[1].quantity.count() == 4  # h r z n
    window.close()


def test_the_comparisons_widgets_and_plots_follow_the_font_scale(qtbot):
    window = live_window(qtbot, steps=1)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    header, status, combo = window.header, window.status, window.heatmaps.quantity
    caption = window.task.text_views[0].caption  # coloured by a style sheet
    axis = window.training.loss_plot.getAxis("left")
    legend_label = window.training.loss_plot.legend.items[0][1]
    before = [widget.font().pointSizeF() for widget in (header, status, combo, caption)]
    tick_points, legend_size = axis.style["tickFont"].pointSizeF(), legend_label.opts["size"]
    try:
        qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)  # 1 -> 1.1
        assert font_scale() == 1.1
        set_font_scale(1.5)
        after = [widget.font().pointSizeF() for widget in (header, status, combo, caption)]
        assert after == pytest.approx([1.5 * points for points in before])
        assert axis.style["tickFont"].pointSizeF() == pytest.approx(1.5 * tick_points)
        assert float(legend_label.opts["size"].removesuffix("pt")) == pytest.approx(
            1.5 * float(legend_size.removesuffix("pt")), rel=0.01
        )
        qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # the default again
        assert font_scale() == 1.0 and header.font().pointSizeF() == pytest.approx(before[0])
    finally:
        set_font_scale(1.0)
        window.close()


def test_each_runs_words_say_something_for_every_task(qtbot):
    setting, variants = parse_compare("hidden=4,8", RunConfig(task="sine", hidden=4, seq_len=12, batch=4, seed=2))
    window = CompareWindow(
        [v.label for v in variants], "sine: hidden", worker=CompareWorker(Comparison(setting, variants))
    )
    qtbot.addWidget(window)
    window.worker.start(until_step=1)
    qtbot.waitUntil(lambda: window.snapshots is not None and not window.snapshots[0].running, timeout=20000)
    for label, snapshot in zip(window.labels, window.snapshots, strict=True):  # a sine's view has no numbers
        assert f"{label}: probe loss {snapshot.trace.loss:.4g}" in window.task.words.text()
    window.close()
