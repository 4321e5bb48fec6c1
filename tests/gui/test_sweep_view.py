"""The sweep view: one line per cell through its (lag, final loss / baseline) points, log axes where the lags
spread, the solved line at a tenth of the baseline; the PNG rendered from the same widget; the window follows
sweep.csv as it grows and says what is in it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PyQt6 import QtGui

from lstm_viz.core.sweep import read_sweep
from lstm_viz.gui.compare import VARIANT_COLOURS
from lstm_viz.gui.sweep import SweepView, SweepWindow, render_png, x_positions

HEADER = "cell,lag,steps,final_loss,baseline,ratio,solved,diverged_at_step,run\n"
ROWS = {  # (cell, lag): final loss, the baseline 1/6
    ("lstm", 10): 0.0002, ("rnn", 10): 0.19, ("lstm", 50): 0.0009, ("rnn", 50): 0.2,
    ("lstm", 200): 0.16, ("rnn", 200): float("nan"),
}  # fmt: skip


def write_sweep(folder, rows=ROWS, steps=3000):
    lines = [HEADER]
    for (cell, lag), loss in rows.items():
        ratio = loss * 6
        solved = "yes" if ratio < 0.1 else "no"
        value = "" if math.isnan(loss) else f"{loss:.6g}"
        ratio_text = "" if math.isnan(loss) else f"{ratio:.6g}"
        lines.append(f"{cell},{lag},{steps},{value},0.166667,{ratio_text},{solved},,seq_len-{lag}-cell-{cell}\n")
    (folder / "sweep.csv").write_text("".join(lines))
    return folder


def test_one_line_per_cell_through_its_points_on_log_axes(qtbot, tmp_path):
    view = SweepView()
    qtbot.addWidget(view)
    view.show_table(read_sweep(write_sweep(tmp_path)))
    assert set(view.curves) == {"lstm", "rnn"}
    x, ratio = view.curve_points("lstm")
    np.testing.assert_allclose(x, np.log10([10, 50, 200]))  # log x: the lags spread over a factor 20
    np.testing.assert_allclose(ratio, [0.0012, 0.0054, 0.96], rtol=1e-4)
    x, ratio = view.curve_points("rnn")
    np.testing.assert_allclose(x, np.log10([10, 50, 200]))
    np.testing.assert_allclose(ratio[:2], [1.14, 1.2], rtol=1e-4)
    assert np.isnan(ratio[2])  # no loss: a gap, not a point
    assert view.curves["lstm"].opts["pen"].color().name() == VARIANT_COLOURS[0].lower()
    assert view.curves["rnn"].opts["pen"].color().name() == VARIANT_COLOURS[2].lower()
    assert view.solved_line.value() == pytest.approx(-1.0)  # log10(0.1)
    assert view.baseline_line.value() == pytest.approx(0.0)
    ticks = view.plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ["10", "50", "200"]
    assert "after 3000 steps" in view.plot.titleLabel.text and "lstm" in view.plot.titleLabel.text
    low, high = view.plot.vb.viewRange()[1]
    assert low < math.log10(0.0012) and high > math.log10(1.2)  # every point and both reference lines in view


def test_x_positions_are_logarithmic_only_where_that_is_sensible():
    assert x_positions(["10", "20", "50"]) == ({"10": 1.0, "20": math.log10(20), "50": math.log10(50)}, True)
    assert x_positions(["10", "20"]) == ({"10": 10.0, "20": 20.0}, False)  # a factor 2: linear
    assert x_positions(["-1", "0", "1"]) == ({"-1": -1.0, "0": 0.0, "1": 1.0}, False)
    assert x_positions(["off", "norm:1"]) == ({"off": 0.0, "norm:1": 1.0}, False)


def test_the_png_is_the_view_rendered_at_its_size_and_not_blank(qtbot, tmp_path):
    view = SweepView()
    qtbot.addWidget(view)
    view.show_table(read_sweep(write_sweep(tmp_path)))
    render_png(view, tmp_path / "sweep.png", size=(800, 500))
    image = QtGui.QImage(str(tmp_path / "sweep.png"))
    assert (image.width(), image.height()) == (800, 500)
    blue = QtGui.QColor(VARIANT_COLOURS[0])
    pixels = [image.pixelColor(x, y) for x in range(0, 800, 2) for y in range(0, 500, 2)]
    assert len({pixel.rgb() for pixel in pixels}) > 20  # text, lines, dots: not one colour
    assert sum(pixel.rgb() == blue.rgb() for pixel in pixels) > 50  # the lstm line is drawn


def test_the_window_follows_the_csv_as_a_sweep_adds_rows(qtbot, tmp_path):
    first = dict(list(ROWS.items())[:2])
    window = SweepWindow(write_sweep(tmp_path, first))
    qtbot.addWidget(window)
    assert len(window.view.curve_points("lstm")[0]) == 1
    assert "2 combinations finished" in window.statusBar().currentMessage()
    assert "lstm 1 of 1, rnn 0 of 1" in window.statusBar().currentMessage()
    write_sweep(tmp_path)
    window._seen = None  # as if the file's time had changed
    window.reload()
    assert len(window.view.curve_points("lstm")[0]) == 3
    assert "6 combinations finished" in window.statusBar().currentMessage()
