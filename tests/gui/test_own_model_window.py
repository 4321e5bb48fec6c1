"""A run recorded from a user's own module (lstm_viz.Recorder) in the window: every panel its module type has,
'no probe loss given' without a probe loss, the task view only with a probe output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lstm_viz
from lstm_viz.core.history import open_run
from lstm_viz.gui.main_window import open_viewer
from lstm_viz.gui.panels.gradients import NO_PROBE_LOSS

LENGTH = 9


def record(out, **options):
    """Three steps of a 2-layer bidirectional GRU, every step recorded: the run directory."""
    torch.manual_seed(0)
    module = nn.GRU(2, 4, num_layers=2, bidirectional=True, batch_first=True)
    probe = torch.randn(1, LENGTH, 2)
    with lstm_viz.Recorder(module, probe, out=out, every_steps=1, **options) as recorder:
        for _ in range(3):
            module.zero_grad()
            loss = module(torch.randn(3, LENGTH, 2))[0].pow(2).mean()
            loss.backward()
            recorder.step(loss)
    return open_run(out)


@pytest.fixture
def viewer(qtbot):
    def show(run):
        window = open_viewer(run)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return show


def test_without_a_probe_loss_the_gradients_panel_says_so_and_the_task_view_is_hidden(viewer, tmp_path):
    window = viewer(record(tmp_path / "run"))
    gradients = window.panels["Gradients through time"]
    assert NO_PROBE_LOSS in gradients.time_plot.titleLabel.text and "no probe loss given" in NO_PROBE_LOSS
    assert not gradients.heatmap.plot.isVisible()
    states = window.panels["States"].trace
    assert states.cell == "gru" and states["hidden"].shape == (2, 2, LENGTH, 4)  # the newest record, step 3
    assert window.shown_snapshot.step == 3 and window.shown_snapshot.config.task == "own"
    assert not window.docks["Task view"].isVisible()
    assert window.docks["Gates"].isVisible() and window.docks["Training"].isVisible()


def test_with_a_probe_loss_and_output_every_panel_shows_the_record(viewer, tmp_path):
    run = record(
        tmp_path / "run",
        probe_loss=lambda output: output[:, -1].pow(2).sum(),
        probe_output=lambda output: output[0, :, :2],  # (T, 2): per timestep
    )
    window = viewer(run)
    trace = run.snapshot(3).trace
    gradients = window.panels["Gradients through time"]
    assert gradients.heatmap.plot.isVisible() and "‖∂L/∂h_t‖" in gradients.time_plot.titleLabel.text
    assert np.allclose(gradients.heatmap.image.image, trace["grad_hidden"][0, 0].T)
    task_view = window.panels["Task view"]
    assert window.docks["Task view"].isVisible()
    assert np.allclose(task_view.own_curves[1].yData, trace.probe_output[:, 1])


def test_the_controls_show_only_what_describes_the_recorded_module(viewer, tmp_path):
    window = viewer(record(tmp_path / "run", probe_loss=lambda output: output[:, -1].pow(2).sum()))
    controls = window.controls
    assert controls.setup_group.title() == "Your model (recorded)"
    assert not controls.live_group.isVisibleTo(window)  # lr, clipping: the script's, which the run does not hold
    form = controls.setup_group.layout()
    shown = [label for row, label in enumerate(controls.setup_rows) if form.isRowVisible(row)]
    assert shown == ["Cell", "Hidden units", "Layers", "Sequence length"]


def test_a_relu_rnn_is_written_with_relu_in_the_cell_panel_and_help_equations(qtbot, viewer, tmp_path):
    torch.manual_seed(0)
    module = nn.RNN(2, 4, nonlinearity="relu")
    with lstm_viz.Recorder(module, torch.randn(LENGTH, 2), out=tmp_path / "run", every_steps=1) as recorder:
        module(torch.randn(LENGTH, 3, 2))[0].pow(2).mean().backward()
        recorder.step(torch.tensor(0.0))
    window = viewer(open_run(tmp_path / "run"))
    window.show_equations()
    equations = window.equations.text()
    assert "nn.RNN, relu" in equations and "h<sub>t</sub> = relu(" in equations and "tanh" not in equations
    window.docks["Cell"].raise_()  # its tab on screen: a panel behind another tab draws when shown
    cell = window.panels["Cell"]
    qtbot.waitUntil(lambda: cell.forward.text().startswith("<b>h<sub>t</sub></b> = relu("))
    window.equations.close()
