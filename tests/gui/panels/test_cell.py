"""The Cell panel's numbers against torch's own cells (nn.LSTMCell / GRUCell / RNNCell, float64) carrying the
trained model's weights, and autograd on the probe loss: not against the trace the panel reads."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt
from torch import nn

from lstm_viz.core.config import RunConfig
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.panels import CellPanel
from lstm_viz.gui.panels.cell import number
from lstm_viz.gui.state import Selection

PANEL = CellPanel
PANEL_SIZE = (1100, 420)
STEPS, HIDDEN = 10, 6
CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}
# (layer, direction, unit, timestep): the middle of the sequence, each direction's first step read (its previous
# states the initial zeros) and last step read (no next step to take a gradient from).
PLACES = [(1, 1, 2, 3), (0, 0, 5, 0), (0, 1, 1, STEPS - 1), (1, 0, 4, STEPS - 1), (0, 1, 3, 0)]
TOLERANCE = 1e-5


@pytest.fixture(scope="module", params=list(CELLS))
def trained(request):
    """A 2-layer bidirectional model of the cell type after 20 steps on the adding problem, and its snapshot."""
    config = RunConfig(task="adding", cell=request.param, hidden=HIDDEN, layers=2, bidirectional=True,
                       seq_len=STEPS, batch=8, seed=1)  # fmt: skip
    trainer = Trainer(config)
    for _ in range(20):
        trainer.step()
    return trainer, trainer.snapshot()


def torch_reference(trainer, place):
    """Replay the probe through torch cells in float64 and backpropagate the probe loss with autograd.

    Returns the values at `place` = (layer, direction, unit, t): the gates (from the cell's weights by torch's
    documented equations), the states the torch cell returned, their gradients, and the gradient along the
    path that skips the weights: ∂L/∂c_{t−1} through c_t only (LSTM: c_{t−1} enters step t as a separate leaf),
    ∂L/∂h_{t−1} through z_t·h_{t−1} only (GRU), ∂L/∂(pre-activation) (RNN)."""
    model = copy.deepcopy(trainer.model).double()
    inputs, targets = trainer.task.probe()
    layer_input = model.adapter(inputs.double() if inputs.is_floating_point() else inputs)[0]  # (T, F)
    chosen_layer, chosen_direction, unit, chosen_t = place
    found = {}
    for layer_index, layer in enumerate(model.layers):
        outputs_per_direction = []
        for direction, suffix in enumerate(model.direction_suffixes()):
            weights = {
                name: getattr(layer, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            cell = CELLS[model.cell](layer_input.shape[1], HIDDEN, dtype=torch.float64)
            with torch.no_grad():
                for name, value in weights.items():
                    getattr(cell, name).copy_(value)
            hidden = torch.zeros(1, HIDDEN, dtype=torch.float64)
            cell_state = torch.zeros(1, HIDDEN, dtype=torch.float64)
            outputs = [None] * STEPS
            for t in range(STEPS - 1, -1, -1) if direction else range(STEPS):
                x = layer_input[t][None]  # (1, F)
                here = (layer_index, direction, t) == (chosen_layer, chosen_direction, chosen_t)
                pre = x @ cell.weight_ih.T + cell.bias_ih, hidden @ cell.weight_hh.T + cell.bias_hh  # (1, G*H) each
                if model.cell == "lstm":
                    cell_in = cell_state.detach().requires_grad_(True) if here else cell_state
                    new_hidden, new_cell = cell(x, (hidden, cell_in))
                    if here:
                        i, f, g, o = (pre[0] + pre[1]).chunk(4, dim=1)
                        found.update(input_gate=i.sigmoid(), forget_gate=f.sigmoid(), cell_candidate=g.tanh(),
                                     output_gate=o.sigmoid(), cell_prev=cell_state, hidden_prev=hidden,
                                     cell=new_cell, cell_leaf=cell_in)  # fmt: skip
                        new_cell.retain_grad()
                    cell_state = new_cell
                elif model.cell == "gru":
                    new_hidden = cell(x, hidden)
                    if here:
                        (ir, iz, in_), (hr, hz, hn) = pre[0].chunk(3, dim=1), pre[1].chunk(3, dim=1)
                        reset, update = (ir + hr).sigmoid(), (iz + hz).sigmoid()
                        candidate = (in_ + reset * hn).tanh()
                        leaf = hidden.detach().requires_grad_(True)
                        rebuilt = (1 - update) * candidate + update * leaf  # torch's GRU equation, h_{t−1} a leaf
                        assert torch.allclose(rebuilt, new_hidden, atol=1e-12)  # GRUCell computes the same
                        new_hidden = rebuilt
                        found.update(reset_gate=reset, update_gate=update, candidate=candidate, hidden_prev=hidden,
                                     hidden_leaf=leaf)  # fmt: skip
                else:
                    new_hidden = cell(x, hidden)
                    if here:
                        pre_activation = pre[0] + pre[1]
                        pre_activation.retain_grad()
                        rebuilt = pre_activation.tanh()
                        assert torch.allclose(rebuilt, new_hidden, atol=1e-12)
                        new_hidden = rebuilt
                        found.update(pre_activation=pre_activation, hidden_prev=hidden)
                if here:
                    new_hidden.retain_grad()
                    found["hidden"] = new_hidden
                hidden = new_hidden
                outputs[t] = hidden[0]
            outputs_per_direction.append(torch.stack(outputs))  # (T, H)
        layer_input = torch.cat(outputs_per_direction, dim=1)  # (T, D*H)
    loss = trainer.task.loss(
        model.read_out(layer_input[None]), targets.double() if targets.is_floating_point() else targets
    )
    loss.backward()
    value = {name: float(tensor.detach()[0, unit]) for name, tensor in found.items() if not name.endswith("leaf")}
    value["grad_hidden"] = float(found["hidden"].grad[0, unit])
    if model.cell == "lstm":
        value["grad_cell"] = float(found["cell"].grad[0, unit])
        value["grad_cell_to_prev"] = float(found["cell_leaf"].grad[0, unit])
    elif model.cell == "gru":
        value["grad_hidden_to_prev"] = float(found["hidden_leaf"].grad[0, unit])
    else:
        value["grad_pre_activation"] = float(found["pre_activation"].grad[0, unit])
    return value


@pytest.mark.parametrize("place", PLACES, ids=lambda place: "layer{}-dir{}-unit{}-t{}".format(*place))
def test_the_panels_numbers_equal_torch_and_autograd(panel, trained, place):
    trainer, snapshot = trained
    layer, direction, unit, t = place
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(layer, direction, unit, t))
    reference = torch_reference(trainer, place)
    shown = panel.values
    assert shown["timestep"] == t
    for name, expected in reference.items():
        if name == "pre_activation":
            assert math.tanh(expected) == pytest.approx(shown["hidden"], abs=TOLERANCE)
            continue
        scale = max(1.0, abs(expected)) if not name.startswith("grad") else max(abs(expected), 1e-3)
        assert abs(shown[name] - expected) <= TOLERANCE * scale, (name, shown[name], expected)
    first_read = t == (STEPS - 1 if direction else 0)
    if first_read:  # the initial zeros
        assert shown["hidden_prev"] == 0.0 and shown.get("cell_prev", 0.0) == 0.0
    text = panel.forward.text() + panel.backward.text()
    if snapshot.trace.cell == "lstm":
        # c_t = f·c_{t−1} + i·g holds with the shown values; the gradient on to c_{t−1} is f_t·∂L/∂c_t
        assert shown["cell"] == pytest.approx(
            shown["forget_gate"] * shown["cell_prev"] + shown["input_gate"] * shown["cell_candidate"], abs=1e-6
        )
        assert shown["forget_times_cell"] + shown["input_times_candidate"] == pytest.approx(shown["cell"], abs=1e-6)
        assert shown["grad_cell"] == pytest.approx(shown["grad_cell_from_hidden"] + shown["grad_cell_from_next"],
                                                   rel=1e-4, abs=1e-9)  # fmt: skip
        equation = (f"{number(shown['forget_gate'])} × {_factor(shown['cell_prev'])} + {number(shown['input_gate'])}"
                    f" × {_factor(shown['cell_candidate'])} = <b>{number(shown['cell'])}</b>")  # fmt: skip
        assert equation in text
        assert f"= <b>{number(shown['grad_cell_to_prev'])}</b>" in text
    for name in ("hidden", "grad_hidden"):
        assert number(shown[name]) in text


def _factor(value):
    text = number(value)
    return f"({text})" if text.startswith("−") else text


def test_numbers_are_rounded_for_reading():
    assert number(0.96512) == "0.97" and number(-0.8) == "−0.80" and number(0.0123) == "0.012"
    assert number(-1.5e-5) == "−1.50e−5" and number(0.0) == "0.00" and number(float("inf")) == "inf"
    assert number(1234.5) == "1.23e3" and number(0.0099951) == "1.00e−2"  # a bare exponent, rounding as %.2e


def test_the_diagram_shows_the_same_numbers_and_gate_bars(panel, trained):
    trainer, snapshot = trained
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 2, 3))
    diagram = panel.diagrams[snapshot.trace.cell]
    for name, box in diagram.boxes.items():
        if name != "input":
            assert box.number.text() == number(panel.values[name])
        if box.scale == "sigmoid":  # the bar's length is the gate's value
            assert box.bar.rect().width() == pytest.approx(panel.values[name] * box.bar_back.rect().width())
    items = len(diagram.scene.items())
    panel.set_selection(Selection(1, 1, 4, 5))
    assert len(diagram.scene.items()) == items  # updated in place


def test_alt_arrows_step_the_cell_through_the_sequence(qtbot, trained):
    from lstm_viz.gui.main_window import MainWindow

    trainer, snapshot = trained
    window = MainWindow(snapshot.config)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # shortcuts reach the active window only
    window.timer.stop()  # the window's own worker draws nothing: the panels show this snapshot
    window.docks["Cell"].raise_()  # its tab on screen (a panel behind another tab draws when shown)
    window.draw(snapshot)
    window.select(Selection(1, 0, 3, 2))
    panel = window.panels["Cell"]
    assert panel.values["timestep"] == 2
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    hidden = snapshot.trace["hidden"]  # (L, D, T, H)
    assert panel.values["timestep"] == 3 and panel.values["hidden"] == float(hidden[1, 0, 3, 3])
    assert panel.values["hidden_prev"] == float(hidden[1, 0, 2, 3])
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert panel.values["timestep"] == 1 and "t = 1" in panel.heading.text()
    window.close()


def test_a_snapshot_without_trace_keeps_the_cell_and_a_run_without_gradients_says_so(panel, trained):
    import dataclasses

    trainer, snapshot = trained
    panel.update_snapshot(snapshot)
    panel.set_selection(Selection(0, 0, 1, 2))
    before = dict(panel.values)
    panel.update_snapshot(dataclasses.replace(snapshot, trace=None))
    assert panel.values == before
    trace = snapshot.trace
    quantities = {name: value for name, value in trace.quantities.items() if not name.startswith("grad")}
    panel.update_snapshot(dataclasses.replace(snapshot, trace=dataclasses.replace(trace, quantities=quantities)))
    assert "grad_hidden" not in panel.values and "probe_loss" in panel.backward.text()
    assert np.isclose(panel.values["hidden"], trace["hidden"][0, 0, 2, 1])


def test_a_recorded_relu_rnn_is_drawn_and_written_with_relu_and_its_numbers_equal_torch(panel, tmp_path):
    import lstm_viz
    from lstm_viz.core.history import open_run

    torch.manual_seed(3)
    module = nn.RNN(3, HIDDEN, nonlinearity="relu", bidirectional=True, batch_first=True)
    probe = torch.randn(1, STEPS, 3)  # (1, T, F)
    readout = torch.randn(2 * HIDDEN)  # (D*H,)

    def probe_loss(output):  # (1, T, D*H)
        return (output[0] @ readout.to(output.dtype)).pow(2).mean()

    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    with lstm_viz.Recorder(module, probe, probe_loss, tmp_path / "run", every_steps=1) as recorder:
        for _ in range(2):
            optimizer.zero_grad()
            loss = module(torch.randn(4, STEPS, 3))[0].pow(2).mean()
            loss.backward()
            recorder.step(loss)
            optimizer.step()
    run = open_run(tmp_path / "run")
    step = int(run.steps[-1])
    snapshot = run.snapshot(step)
    assert snapshot.trace.nonlinearity == "relu"
    # torch's reference: the recorded weights in a float64 nn.RNN(relu) for h_t; the same weights one step at a time
    # with each pre-activation retained, for autograd's ∂L/∂h_t and ∂L/∂(pre-activation), h_t = relu(pre-activation)
    weights = {key: value.double().requires_grad_(True) for key, value in run.weights(step).items()}
    reference = nn.RNN(3, HIDDEN, nonlinearity="relu", bidirectional=True, batch_first=True).double()
    reference.load_state_dict({key: value.detach() for key, value in weights.items()})
    with torch.no_grad():
        torch_output = reference(probe.double())[0][0]  # (T, D*H)
    x = probe[0].double()  # (T, F)
    hidden, pre_activation = {}, {}
    for direction, suffix in enumerate(("_l0", "_l0_reverse")):
        previous = torch.zeros(HIDDEN, dtype=torch.float64)  # (H,)
        for t in range(STEPS - 1, -1, -1) if direction else range(STEPS):
            pre = (weights[f"weight_ih{suffix}"] @ x[t] + weights[f"bias_ih{suffix}"]
                   + weights[f"weight_hh{suffix}"] @ previous + weights[f"bias_hh{suffix}"])  # (H,)  # fmt: skip
            pre.retain_grad()
            previous = hidden[direction, t] = torch.relu(pre)
            hidden[direction, t].retain_grad()
            pre_activation[direction, t] = pre
    output = torch.stack([torch.cat([hidden[0, t], hidden[1, t]]) for t in range(STEPS)])  # (T, D*H)
    assert torch.allclose(output, torch_output, atol=1e-12)  # the loop is torch's relu RNN
    probe_loss(output[None]).backward()
    panel.update_snapshot(snapshot)
    diagram = panel.diagrams["rnn"]
    assert diagram.operations["nonlinearity"].symbol.text() == "relu" and "the relu" in diagram.note.toPlainText()
    signs = set()
    for direction, unit, t in [(0, 1, 4), (1, 3, 2), (0, 5, STEPS - 1), (1, 0, 0), (0, 2, 7), (1, 4, 6)]:
        panel.set_selection(Selection(0, direction, unit, t))
        expected = float(hidden[direction, t][unit].detach())
        shown = panel.values
        for name, value in (("hidden", expected), ("grad_hidden", float(hidden[direction, t].grad[unit])),
                            ("grad_pre_activation", float(pre_activation[direction, t].grad[unit]))):  # fmt: skip
            scale = max(1.0, abs(value)) if name == "hidden" else max(abs(value), 1e-3)
            assert abs(shown[name] - value) <= TOLERANCE * scale, (name, shown[name], value)
        signs.add(expected > 0)
        forward, backward = panel.forward.text(), panel.backward.text()
        assert forward.startswith("<b>h<sub>t</sub></b> = relu(") and "tanh" not in forward + backward
        assert forward.endswith(f"= <b>{number(expected)}</b>")
        derivative = number(float(expected > 0))  # relu's: 1 where h_t > 0, else 0
        assert f"through the relu: [h<sub>t</sub> &gt; 0]·∂L/∂h<sub>t</sub> = {derivative} ×" in backward
        assert diagram.boxes["hidden"].number.text() == number(expected)
    assert signs == {True, False}  # both sides of the relu were checked
    # a tanh RNN after it: the same diagram goes back to tanh
    tanh_snapshot = dataclasses.replace(snapshot, trace=dataclasses.replace(snapshot.trace, nonlinearity="tanh"))
    panel.update_snapshot(tanh_snapshot)
    assert diagram.operations["nonlinearity"].symbol.text() == "tanh" and "= tanh(" in panel.forward.text()
