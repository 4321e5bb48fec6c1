"""Task view: each task's picture shows the probe's exact values and the view extras."""

import dataclasses

import numpy as np
import torch

from lstm_viz.gui.panels import TaskViewPanel
from lstm_viz.gui.panels.task_view import TEXT_LINES
from lstm_viz.gui.state import Selection

PANEL = TaskViewPanel


def test_sine_shows_input_target_prediction_and_the_free_running_rollout(panel, make_snapshot):
    snapshot = make_snapshot(task="sine")
    panel.update_snapshot(snapshot)
    trace, view = snapshot.trace, snapshot.view
    assert np.allclose(panel.input_curve.yData, trace.probe_input[:, 0])
    assert np.allclose(panel.target_curve.yData, trace.probe_target[:, 0])
    assert np.allclose(panel.prediction_curve.yData, trace.probe_output[:, 0])
    start = view["rollout_start"]
    assert np.array_equal(panel.rollout_curve.xData, np.arange(start, len(view["rollout"])))
    assert np.allclose(panel.rollout_curve.yData, view["rollout"][start:])
    assert panel.rollout_line.isVisible() and not panel.probability_curve.isVisible()


def test_chars_shows_next_char_probability_and_the_text_coloured_by_the_selected_unit(panel, make_snapshot):
    snapshot = make_snapshot(task="chars", text="names")
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 4))
    trace = snapshot.trace
    probabilities = torch.softmax(torch.from_numpy(np.array(trace.probe_output)).double(), dim=-1)  # (T, V)
    expected = probabilities[torch.arange(len(trace.probe_target)), torch.from_numpy(np.array(trace.probe_target))]
    assert np.allclose(panel.probability_curve.yData, expected.numpy())
    # The characters written out under the plot, coloured by the selected unit's h_t (test_text_view.py: exactly).
    assert np.array_equal(panel.text_view.values, trace["hidden"][0, 0][:, 4])
    assert panel.time_plot.time_axis.labels == trace.labels == panel.text_view.grid.labels
    assert snapshot.view["sample"].split(",")[0] in panel.text.text()
    assert f"{100 * snapshot.view['new_share']:.0f}%" in panel.text.text()
    assert not panel.text_view.isHidden() and panel.strip.plot not in panel.graphics.ci.items


def test_adding_marks_the_two_numbers_and_shows_target_and_prediction(panel, make_snapshot):
    snapshot = make_snapshot(task="adding")
    panel.update_snapshot(snapshot)
    trace, view = snapshot.trace, snapshot.view
    assert np.array_equal(panel.marked_points.xData, view["marked_positions"])
    assert np.allclose(panel.marked_points.yData, view["marked_values"])
    assert np.allclose(panel.output_curve.yData, trace.probe_output[:, 0])
    assert np.allclose(panel.target_line.yData, view["target"])
    assert f"{view['target']:.3f}" in panel.text.text() and f"{view['prediction']:.3f}" in panel.text.text()


def test_switching_tasks_keeps_the_time_plot_and_shows_only_that_tasks_items(panel, make_snapshot, scene_item_count):
    time_plot = panel.time_plot
    panel.update_snapshot(make_snapshot(task="chars", text="names"))
    panel.update_snapshot(make_snapshot(task="sine"))
    assert panel.time_plot is time_plot
    assert set(panel.graphics.ci.items) == {time_plot}
    assert panel.prediction_curve.isVisible() and not panel.probability_curve.isVisible()
    assert panel.time_plot.time_axis.labels is None
    count = scene_item_count(panel)
    panel.update_snapshot(make_snapshot(steps=4, task="sine"))
    assert scene_item_count(panel) == count


def test_a_long_sample_without_spaces_wraps_instead_of_widening_the_panel(panel, make_snapshot):
    snapshot = make_snapshot(task="chars", text="hihello", seq_len=5)
    spaceless = "hiehlloihhel" * 30  # what a hihello model samples: 360 characters, no space
    panel.update_snapshot(dataclasses.replace(snapshot, view={**snapshot.view, "sample": spaceless}))
    panel.resize(400, 300)
    panel.show()
    assert spaceless in panel.text.toPlainText()  # all of it
    assert panel.minimumSizeHint().width() < 400 and panel.sizeHint().width() < 700
    lines = panel.text.document().size().height() / panel.text.fontMetrics().lineSpacing()
    assert lines > 5  # wrapped over several lines, which scroll in the text's fixed height
    assert panel.text.height() == TEXT_LINES["chars"] * panel.text.fontMetrics().lineSpacing() + 8


def test_the_text_has_a_fixed_height_per_task_whatever_the_sample_says(panel, make_snapshot):
    snapshot = make_snapshot(task="chars", text="names")
    heights = set()
    for sample in ("anna, bert", "word " * 200, "a\nb\n" * 40):
        panel.update_snapshot(dataclasses.replace(snapshot, view={**snapshot.view, "sample": sample}))
        heights.add(panel.text.height())
    assert len(heights) == 1
    assert "a⏎b⏎a⏎b" in panel.text.toPlainText()  # newlines as the probe's axis shows them, not line breaks
    panel.update_snapshot(make_snapshot(task="sine"))
    assert panel.text.height() < heights.pop()  # the sine text is one line of losses


def own_snapshot(snapshot, probe_output, with_gradients=True):
    """`snapshot` as a run recorded by lstm_viz.Recorder: task "own", the given probe output, no target."""
    trace = snapshot.trace
    quantities = {name: values for name, values in trace.quantities.items() if with_gradients or "grad" not in name}
    trace = dataclasses.replace(trace, quantities=quantities, probe_output=probe_output, probe_target=np.zeros(0))
    return dataclasses.replace(snapshot, config=snapshot.config.replace(task="own"), trace=trace)


def test_a_recorded_module_shows_its_probe_output_over_time_or_as_numbers(panel, make_snapshot):
    snapshot = make_snapshot(task="sine")
    length = len(snapshot.trace.probe_input)
    per_step = np.random.default_rng(0).normal(size=(length, 8)).astype(np.float32)  # (T, O): 8 outputs
    panel.update_snapshot(own_snapshot(snapshot, per_step))
    shown = [curve for curve in panel.own_curves if curve.isVisible()]
    assert len(shown) == len(panel.own_curves) == 6 and not panel.input_curve.isVisible()
    assert all(np.array_equal(curve.yData, per_step[:, index]) for index, curve in enumerate(shown))
    assert "the first 6 of 8" in panel.time_plot.titleLabel.text and "probe loss" in panel.text.text()
    panel.update_snapshot(own_snapshot(snapshot, np.array([0.25, 0.75], np.float32), with_gradients=False))
    assert not any(curve.isVisible() for curve in panel.own_curves)  # one output for the sequence: numbers
    assert "output (2, not one per timestep): 0.25 0.75" in panel.text.text()
    assert "no probe loss given" in panel.text.text()
    # no empty plot over t (README's own_model.py: a classifier's 3 class probabilities); the text takes its room
    assert not panel.graphics.isVisibleTo(panel) and panel.text.maximumHeight() > 10 * panel.text.minimumHeight()
    panel.update_snapshot(own_snapshot(snapshot, per_step))  # and gives it back
    assert panel.graphics.isVisibleTo(panel) and panel.text.maximumHeight() == panel.text.minimumHeight()
    assert all(curve.isVisible() for curve in panel.own_curves)
    panel.update_snapshot(own_snapshot(snapshot, np.zeros(0, np.float32)))
    assert "no probe_output given" in panel.text.text()


def test_copy_shows_the_right_outputs_probability_and_input_target_output_coloured_by_correctness(panel, make_snapshot):
    from lstm_viz.gui.panels.task_view import RIGHT, WRONG, copy_rows

    snapshot = make_snapshot(task="copy", seq_len=6, steps=3)
    trace = snapshot.trace
    logits = np.array(trace.probe_output, dtype=np.float64)  # (26, 9)
    targets = trace.probe_target.astype(np.int64)  # (26,)
    logits[:, 0] = 5.0  # the blank everywhere...
    logits[21, 3] = 9.0  # ...but a 3 at step 21 (right only if that symbol is a 3) and at step 12 of the gap
    logits[12, 3] = 9.0
    trace = dataclasses.replace(trace, probe_output=logits.astype(np.float32))
    panel.update_snapshot(dataclasses.replace(snapshot, trace=trace))
    probabilities = torch.softmax(torch.from_numpy(logits), dim=-1)[torch.arange(26), torch.from_numpy(targets)]
    assert np.allclose(panel.probability_curve.yData, probabilities.numpy())
    assert panel.delimiter_line.isVisible() and panel.delimiter_line.value() == 15  # T+9
    assert panel.strip.plot in panel.graphics.ci.items and panel.text_view.isHidden()  # chars only
    rows = dict(copy_rows(trace))
    inputs = [int(v) for v in trace.probe_input]
    assert [text for text, _ in rows["input"]] == [str(s) for s in inputs[:10]] + ["·×5", "▶"] + ["·"] * 10
    assert [text for text, _ in rows["target"]] == ["·"] * 10 + ["·×5", "·"] + [str(s) for s in inputs[:10]]
    outputs = rows["output"]
    assert outputs[10] == ("1 off", WRONG)  # the gap's 5 blanks: one is not
    predicted = logits.argmax(axis=1)
    for cell, t in zip(outputs[11:], range(15, 26), strict=True):  # the delimiter's step, then the 10 outputs
        assert cell == ("·" if predicted[t] == 0 else str(predicted[t]), RIGHT if predicted[t] == targets[t] else WRONG)
    assert "·×5" in panel.text.toPlainText() and "of the symbols right" in panel.text.toPlainText()


def test_the_confusion_matrix_numbers_its_classes_every_kth_where_cells_are_small(panel, make_snapshot, qtbot):
    """Lecture mode's 2 x 2 at 1024x768 drew the matrix ~90 px wide at 16.5 pt: '0123456789' ran together."""
    from PyQt6 import QtGui

    from lstm_viz.gui.panels.task_view import class_ticks

    assert class_ticks(30, 20) == [[(value, str(value)) for value in range(10)]]
    assert class_ticks(9, 20) == [[(0, "0"), (5, "5")]] and class_ticks(2, 20) == [[(0, "0")]]
    panel.update_snapshot(make_snapshot(task="digits", bidirectional=True, steps=5))
    for size, every in (((1200, 500), 1), ((330, 200), 5)):
        panel.resize(*size)
        panel.show()
        qtbot.wait(50)
        vb = panel.confusion_plot.vb
        cell_pixels = min(vb.width(), vb.height()) / 10
        left = panel.confusion_plot.getAxis("left")
        line = QtGui.QFontMetrics(left.style["tickFont"]).height()
        (ticks,) = left._tickLevels
        assert [value for value, _ in ticks] == list(range(0, 10, every)), (size, cell_pixels, line)
        assert every * cell_pixels >= line  # the numbers on the rows never lie on each other


def test_digits_shows_the_probe_image_its_rows_in_reading_order_the_class_probabilities_and_the_confusion(
    panel, make_snapshot
):
    snapshot = make_snapshot(task="digits", bidirectional=True, steps=5)
    panel.update_snapshot(snapshot)
    trace, view = snapshot.trace, snapshot.view
    assert set(panel.graphics.ci.items) == {panel.digit_plot, panel.class_plot, panel.confusion_plot}
    assert np.array_equal(panel.digit_image.image, trace.probe_input)  # (8 rows, 8 pixels), row 0 at the top
    probabilities = torch.softmax(torch.from_numpy(np.array(trace.probe_output[0], dtype=np.float64)), dim=0)
    assert np.allclose(panel.class_bars.opts["height"], probabilities.numpy())
    confusion = view["confusion"]
    shares = confusion / confusion.sum(axis=1, keepdims=True)
    assert np.allclose(panel.confusion_image.image, shares)
    assert [item.toPlainText() for item in panel.confusion_counts] == [str(v) if v else "" for v in confusion.ravel()]
    assert f"{100 * view['test_accuracy']:.1f}%" in panel.text.text()
    # The lit rows: at timestep t the forward direction reads row t, the backward one row 7 - t.
    panel.sweep_timestep = 2
    panel._place_sweep()
    forward, backward = panel.digit_rows
    assert forward.rect().center().y() == 2 and backward.rect().center().y() == 5 and backward.isVisible()
    assert panel.sweep.isActive()
    panel.update_snapshot(make_snapshot(task="sine"))  # another task: the digits plots go, the sweep stops
    assert set(panel.graphics.ci.items) == {panel.time_plot} and not panel.sweep.isActive()
