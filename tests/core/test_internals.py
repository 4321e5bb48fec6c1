"""The probe's internals against torch's own modules and autograd."""

import numpy as np
import pytest
import torch
from torch import nn

from lstm_viz.core.config import RunConfig
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks.base import Task
from lstm_viz.core.trainer import Trainer

STEPS, FEATURES, OUTPUTS, HIDDEN = 17, 3, 2, 6
ARCHITECTURES = [(1, False), (2, False), (1, True), (2, True)]


class RandomProbeTask(Task):
    """A fixed random probe with an MSE loss on every step: every timestep gets a gradient."""

    name, input_size, output_size, baseline_loss, baseline_name = "random", FEATURES, OUTPUTS, 1.0, "-"

    def __init__(self, steps: int = STEPS) -> None:
        generator = torch.Generator().manual_seed(3)
        self.inputs = torch.randn(1, steps, FEATURES, generator=generator)  # (1, T, F)
        self.targets = torch.randn(1, steps, OUTPUTS, generator=generator)  # (1, T, O)

    def make_batch(self, batch_size, generator):
        return self.inputs.expand(batch_size, -1, -1), self.targets.expand(batch_size, -1, -1)

    def probe(self):
        return self.inputs, self.targets

    def loss(self, outputs, targets):
        return ((outputs - targets) ** 2).mean()


def random_probe_model(task: RandomProbeTask, **settings):
    """The app's model sized for `task`. Its config names the adding task only because RunConfig refuses
    bidirectional models for next-step tasks (sine, chars); the batches and probe are `task`'s."""
    return build_model(RunConfig(task="adding", hidden=HIDDEN, **settings), task)


def fused_reference(model) -> nn.Module:
    """One multi-layer torch module holding the model's weights (what training would use)."""
    first = model.layers[0]
    reference = type(first)(
        FEATURES, HIDDEN, num_layers=len(model.layers), batch_first=True, bidirectional=first.bidirectional
    )
    with torch.no_grad():
        for index, layer in enumerate(model.layers):
            for name, value in layer.named_parameters():
                getattr(reference, name.replace("_l0", f"_l{index}")).copy_(value)
    return reference


def unrolled_reference(model, task):
    """Float64 step-by-step replay; returns loss and per (layer, direction, t) hidden/cell tensors."""
    inputs, targets = task.probe()
    layer_input = model.adapter(inputs)[0].double().requires_grad_(True)  # (T, F)
    steps = layer_input.shape[0]
    hidden_size = model.hidden_size
    hidden_at, cell_at = {}, {}
    for layer_index, layer in enumerate(model.layers):
        direction_outputs = []
        for direction, suffix in enumerate(model.direction_suffixes()):
            weight_ih, weight_hh, bias_ih, bias_hh = (
                getattr(layer, f"{name}_l0{suffix}").detach().double()
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
            hidden = torch.zeros(hidden_size, dtype=torch.float64)
            cell = torch.zeros(hidden_size, dtype=torch.float64)
            outputs = [None] * steps
            for t in range(steps - 1, -1, -1) if direction else range(steps):
                from_input = weight_ih @ layer_input[t] + bias_ih  # (G*H,)
                from_hidden = weight_hh @ hidden + bias_hh  # (G*H,)
                if model.cell == "lstm":
                    input_gate, forget_gate, candidate, output_gate = (from_input + from_hidden).chunk(4)
                    cell = forget_gate.sigmoid() * cell + input_gate.sigmoid() * candidate.tanh()
                    cell.retain_grad()
                    hidden = output_gate.sigmoid() * cell.tanh()
                    cell_at[layer_index, direction, t] = cell
                elif model.cell == "gru":
                    reset_gate = (from_input[:hidden_size] + from_hidden[:hidden_size]).sigmoid()
                    update_gate = (
                        from_input[hidden_size : 2 * hidden_size] + from_hidden[hidden_size : 2 * hidden_size]
                    ).sigmoid()
                    candidate = (from_input[2 * hidden_size :] + reset_gate * from_hidden[2 * hidden_size :]).tanh()
                    hidden = (1 - update_gate) * candidate + update_gate * hidden
                else:
                    hidden = (from_input + from_hidden).tanh()
                hidden.retain_grad()
                hidden_at[layer_index, direction, t] = hidden
                outputs[t] = hidden
            direction_outputs.append(torch.stack(outputs))  # (T, H)
        layer_input = torch.cat(direction_outputs, dim=1)  # (T, D*H)
    head_weight, head_bias = model.head.weight.detach().double(), model.head.bias.detach().double()
    if model.readout == "final":  # a classifier: the forward direction's last output, the backward one's first
        layer_input = torch.cat([layer_input[-1:, :hidden_size], layer_input[:1, hidden_size:]], dim=1)  # (1, D*H)
    outputs = layer_input @ head_weight.T + head_bias  # (T, O), or (1, O)
    loss = task.loss(outputs[None], targets.double() if targets.is_floating_point() else targets)
    loss.backward()
    return loss, hidden_at, cell_at


def gathered(tensors: dict, layers: int, directions: int) -> np.ndarray:
    """(layers, directions, T, H) array of the gradients autograd left in `tensors`."""
    steps = 1 + max(t for _, _, t in tensors)
    return np.array(
        [
            [[tensors[layer, d, t].grad.numpy() for t in range(steps)] for d in range(directions)]
            for layer in range(layers)
        ]
    )


def relative_error(values: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(values - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers,bidirectional", ARCHITECTURES)
def test_states_equal_the_fused_module(cell, layers, bidirectional):
    task = RandomProbeTask()
    model = random_probe_model(task, cell=cell, layers=layers, bidirectional=bidirectional)
    trace = probe_trace(model, task)
    directions = 2 if bidirectional else 1
    with torch.no_grad():
        output, final_state = fused_reference(model)(task.inputs)  # (1, T, D*H)
    final_hidden = final_state[0] if cell == "lstm" else final_state  # (L*D, 1, H)
    top_hidden = np.concatenate(list(trace["hidden"][-1]), axis=-1)  # (T, D*H)
    assert np.abs(top_hidden - output[0].numpy()).max() < 1e-5
    for layer in range(layers):
        for direction in range(directions):
            last = 0 if direction else -1  # the reverse direction ends at t = 0
            expected = final_hidden[layer * directions + direction, 0].numpy()
            assert np.abs(trace["hidden"][layer, direction, last] - expected).max() < 1e-5
            if cell == "lstm":
                expected_cell = final_state[1][layer * directions + direction, 0].numpy()
                assert np.abs(trace["cell"][layer, direction, last] - expected_cell).max() < 1e-5
    with torch.no_grad():
        assert trace.loss == pytest.approx(float(task.loss(model(task.inputs)[0], task.targets)), rel=1e-5)


@pytest.mark.parametrize("layers,bidirectional", ARCHITECTURES)
def test_lstm_gates_rebuild_hidden_and_cell(layers, bidirectional):
    task = RandomProbeTask()
    model = random_probe_model(task, layers=layers, bidirectional=bidirectional)
    trace = probe_trace(model, task)
    gates = [trace[name] for name in ("input_gate", "forget_gate", "output_gate")]
    assert all(((g > 0) & (g < 1)).all() for g in gates)
    cell_prev = np.zeros_like(trace["cell"])
    cell_prev[:, 0, 1:] = trace["cell"][:, 0, :-1]
    if bidirectional:  # the reverse direction's previous step is t + 1
        cell_prev[:, 1, :-1] = trace["cell"][:, 1, 1:]
    rebuilt_cell = trace["forget_gate"] * cell_prev + trace["input_gate"] * trace["cell_candidate"]
    assert np.abs(rebuilt_cell - trace["cell"]).max() < 1e-5
    assert np.abs(trace["output_gate"] * np.tanh(trace["cell"]) - trace["hidden"]).max() < 1e-5


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers,bidirectional", ARCHITECTURES)
def test_gradients_through_time_equal_autograd(cell, layers, bidirectional):
    task = RandomProbeTask()
    model = random_probe_model(task, cell=cell, layers=layers, bidirectional=bidirectional)
    trace = probe_trace(model, task)
    loss, hidden_at, cell_at = unrolled_reference(model, task)
    directions = 2 if bidirectional else 1
    assert relative_error(trace["grad_hidden"], gathered(hidden_at, layers, directions)) < 1e-5
    if cell == "lstm":
        assert relative_error(trace["grad_cell"], gathered(cell_at, layers, directions)) < 1e-5
    assert trace.loss == pytest.approx(float(loss.detach()), rel=1e-5)


def test_grad_output_is_the_direct_gradient_of_the_loss():
    task = RandomProbeTask()
    model = random_probe_model(task, bidirectional=True)
    trace = probe_trace(model, task)
    with torch.no_grad():
        top = model.run(task.inputs)[2][-1]  # (1, T, 2H)
    top.requires_grad_(True)
    task.loss(model.head(top), task.targets).backward()
    assert relative_error(trace.grad_output, top.grad[0].numpy()) < 1e-5
    # The top layer's total gradient includes the direct one plus what flows back in time.
    assert not np.allclose(trace["grad_hidden"][-1, 0], trace.grad_output[:, :HIDDEN], atol=1e-6)


def test_trace_is_an_immutable_copy():
    task = RandomProbeTask()
    model = build_model(RunConfig(hidden=HIDDEN), task)
    trace = probe_trace(model, task)
    before = trace["forget_gate"].copy()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    assert np.array_equal(trace["forget_gate"], before)
    with pytest.raises(ValueError):
        trace["forget_gate"][0, 0, 0, 0] = 0.5
    assert trace["forget_gate"].shape == (1, 1, STEPS, HIDDEN)
    assert trace.lstm_input.shape == (STEPS, FEATURES)


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(task="sine", hidden=5, seq_len=12),
        RunConfig(task="chars", text="hihello", seq_len=6, hidden=5, layers=2),
        RunConfig(task="adding", seq_len=12, hidden=5, bidirectional=True),
        RunConfig(task="copy", seq_len=3, hidden=5, layers=2, bidirectional=True),
        RunConfig(task="digits", hidden=5, layers=2, bidirectional=True),
        RunConfig(task="digits", hidden=5),
    ],
    ids=["sine-mse", "hihello-cross-entropy", "adding-last-step", "copy", "digits-final-states", "digits-forward"],
)
def test_gradients_equal_autograd_on_each_tasks_loss(config):
    from lstm_viz.core.tasks import make_task

    task = make_task(config)
    model = build_model(config, task)
    trace = probe_trace(model, task)
    loss, hidden_at, cell_at = unrolled_reference(model, task)
    directions = 2 if config.bidirectional else 1
    assert relative_error(trace["grad_hidden"], gathered(hidden_at, config.layers, directions)) < 1e-5
    assert relative_error(trace["grad_cell"], gathered(cell_at, config.layers, directions)) < 1e-5
    assert trace.loss == pytest.approx(float(loss.detach()), rel=1e-5)
    assert np.array_equal(trace.lstm_input, model.adapter(task.probe()[0])[0].numpy())


@pytest.mark.filterwarnings("error")
def test_a_model_whose_gradients_overflow_is_probed_without_warnings():
    """SGD at lr 1e3 on the adding problem: the weights stay finite but grow until the gradients
    through time overflow float32 (inf, then inf * 0 = NaN). The probe says so in its numbers, not by
    a numpy warning (which the window would show as a failed probe), and the forward pass is exact."""
    trainer = Trainer(RunConfig(task="adding", cell="gru", optimizer="sgd", lr=1000.0, hidden=8, seq_len=20, batch=8))
    while trainer.diverged_at_step is None and trainer.step_count < 60:
        trainer.step()
    assert trainer.diverged_at_step is not None
    trace = probe_trace(trainer.model, trainer.task)
    assert not np.isfinite(trace["grad_hidden"]).all()  # this model does overflow
    probe_inputs, _ = trainer.task.probe()
    with torch.no_grad():
        output, _ = trainer.model.layers[0](trainer.model.adapter(probe_inputs))  # (1, T, H): the fused nn.GRU
    assert np.isfinite(trace["update_gate"]).all() and np.abs(trace["hidden"][0, 0] - output[0].numpy()).max() < 1e-5


NEW_PRESETS = ("digits", "copy-20", "copy-20-rnn", "copy-100", "adding-200", "chrono-adding-200")


@pytest.mark.parametrize("preset", NEW_PRESETS)
def test_the_internals_of_issue_15s_presets_equal_the_fused_module_and_autograd(preset):
    """Each preset's own model (cell, layers, directions, units, forget bias; the classifier's readout) after 10
    training steps: the top layer's h_t equals the fused module's output, the gradients through time a float64
    unrolled replay's."""
    from lstm_viz.core.config import load_preset

    trainer = Trainer(load_preset(preset))
    for _ in range(10):
        trainer.step()
    model, task, config = trainer.model, trainer.task, trainer.config
    trace = probe_trace(model, task)
    probe_inputs, _ = task.probe()
    with torch.no_grad():
        top = model.run(probe_inputs)[2][-1][0]  # (T, D*H) from torch's fused layers
    assert np.abs(np.concatenate(list(trace["hidden"][-1]), axis=-1) - top.numpy()).max() < 1e-5
    loss, hidden_at, cell_at = unrolled_reference(model, task)
    directions = 2 if config.bidirectional else 1
    assert relative_error(trace["grad_hidden"], gathered(hidden_at, config.layers, directions)) < 1e-5
    if config.cell == "lstm":
        assert relative_error(trace["grad_cell"], gathered(cell_at, config.layers, directions)) < 1e-5
    assert trace.loss == pytest.approx(float(loss.detach()), rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_a_long_sequence_stays_exact_to_its_first_step(cell):
    """T=1000, both directions: the states follow the fused module to the end, and the gradients through time
    equal autograd's all the way back. Chrono initialisation keeps the LSTM's gradient at t=0 within a few decades
    of its largest, so its first steps are compared on their own scale, not hidden under the last steps' values."""
    steps = 1000
    task = RandomProbeTask(steps=steps)
    settings = {"forget_bias": f"chrono:{steps}"} if cell == "lstm" else {}
    model = random_probe_model(task, cell=cell, bidirectional=True, **settings)
    trace = probe_trace(model, task)
    with torch.no_grad():
        output, _ = fused_reference(model)(task.inputs)  # (1, T, 2H)
    assert np.abs(np.concatenate(list(trace["hidden"][-1]), axis=-1) - output[0].numpy()).max() < 1e-5
    loss, hidden_at, cell_at = unrolled_reference(model, task)
    names_and_references = [("grad_hidden", gathered(hidden_at, 1, 2))]
    if cell == "lstm":
        names_and_references.append(("grad_cell", gathered(cell_at, 1, 2)))
    for name, reference in names_and_references:
        assert relative_error(trace[name], reference) < 1e-5, name
    if cell == "lstm":
        first_steps = slice(0, 100)  # the forward direction's earliest steps, furthest from most of the loss
        reference = names_and_references[1][1][0, 0, first_steps]
        assert np.abs(reference).max() > 1e-3 * np.abs(names_and_references[1][1]).max()
        assert relative_error(trace["grad_cell"][0, 0, first_steps], reference) < 1e-5
    assert trace.loss == pytest.approx(float(loss.detach()), rel=1e-5)
