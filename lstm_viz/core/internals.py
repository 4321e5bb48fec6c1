"""Exact per-timestep internals of a fused recurrent model, and gradients through time.

Training runs on torch's fused nn.LSTM / nn.GRU / nn.RNN, which hides its gates.
Given one layer's input x and its outputs (what the fused module returned), every
step's gate pre-activations follow from one batched matmul over [h0, out[:-1]]:

    z = x W_ih^T + h_prev W_hh^T + b                      (T, G*H)

and the LSTM cell from its linear recurrence c_t = f_t c_{t-1} + i_t g_t. The
gradients of the probe loss through time come from the BPTT recurrence over these
gates, a few small mat-vecs per step. Everything here is numpy; tests check
it against the fused modules' outputs and against autograd.
It works in float32 like the modules themselves (float64 would cost 2-4x for nothing
the plots can show; the tests hold it to 1e-5 of a float64 autograd reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import ThreadpoolController
from torch import nn

from lstm_viz.core.models import recurrent_kernel
from lstm_viz.core.snapshot import GRADIENT_NAMES, STATE_NAMES, Trace, frozen_array

# numpy's OpenBLAS threads spin between the probe's small matmuls and fight torch's
# threads for the two cores: one thread makes the whole probe ~3x faster here.
ThreadpoolController().select(internal_api="openblas").limit(limits=1)


@dataclass(frozen=True)
class RecurrentWeights:
    """The weights of a stack of recurrent layers, whatever module holds them: views, never copies.

    `layers[k][d]` maps weight_ih (G*H, F), weight_hh (G*H, H), bias_ih and bias_hh (G*H,) to tensors
    of layer k, direction d (a module without biases gets zeros)."""

    cell: str  # lstm, gru or rnn
    nonlinearity: str  # tanh, or relu for nn.RNN(nonlinearity="relu")
    hidden_size: int
    layers: list[list[dict[str, torch.Tensor]]]

    @property
    def directions(self) -> int:
        return len(self.layers[0])


CELL_OF_MODULE = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}


def recurrent_weights(module) -> RecurrentWeights:
    """The weights of an nn.LSTM / nn.GRU / nn.RNN (any number of layers, either direction) or of the app's
    SequenceModel (a stack of single-layer ones)."""
    if isinstance(module, tuple(CELL_OF_MODULE)):
        cell, stack = CELL_OF_MODULE[type(module)], [(module, k) for k in range(module.num_layers)]
        first = module
    else:  # SequenceModel
        cell, stack = module.cell, [(layer, 0) for layer in module.layers]
        first = module.layers[0]
    directions = ["", "_reverse"][: 2 if first.bidirectional else 1]
    layers = []
    for holder, index in stack:
        layer = []
        for suffix in directions:
            weights = {kind: getattr(holder, f"{kind}_l{index}{suffix}") for kind in ("weight_ih", "weight_hh")}
            for kind in ("bias_ih", "bias_hh"):
                bias = getattr(holder, f"{kind}_l{index}{suffix}", None)
                weights[kind] = bias if bias is not None else weights["weight_hh"].new_zeros(len(weights["weight_hh"]))
            layer.append(weights)
        layers.append(layer)
    return RecurrentWeights(cell, getattr(first, "nonlinearity", "tanh"), first.hidden_size, layers)


def layer_outputs(weights: RecurrentWeights, layer_input: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output (T, D*H) for one sequence (T, F), by torch's fused kernels, one layer at a time."""
    kernel = recurrent_kernel(weights.cell, weights.nonlinearity)
    directions, hidden = weights.directions, weights.hidden_size
    outputs, x = [], layer_input[:, None]  # (T, 1, F)
    with torch.no_grad():
        for layer in weights.layers:
            flat = [w[kind] for w in layer for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            initial = x.new_zeros(directions, 1, hidden)  # (D, 1, H)
            state = (initial, initial) if weights.cell == "lstm" else initial
            x = kernel(x, state, flat, True, 1, 0.0, False, directions == 2, False)[0]  # (T, 1, D*H)
            outputs.append(x[:, 0])
    return outputs


def reconstruct(
    weights: RecurrentWeights, layer_input: np.ndarray, outputs: list[np.ndarray], grad_output: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Every gate and state of every layer and direction, (L, D, T, H) each, time running forward, from the
    layers' input (T, F) and outputs (T, D*H); with grad_output (T, D*H), the direct dL/d(top output_t),
    also the gradients through time (grad_hidden, and grad_cell for an LSTM)."""
    hidden, cell = weights.hidden_size, weights.cell
    inputs = [layer_input] + outputs[:-1]
    per_layer = [
        [
            _forward(cell, _as_numpy_weights(layer[d]), x, out, d, hidden, weights.nonlinearity)
            for d in range(weights.directions)
        ]
        for layer, x, out in zip(weights.layers, inputs, outputs)
    ]
    names = STATE_NAMES[cell]
    if grad_output is not None:
        names += GRADIENT_NAMES[cell]
        # Backward through time, top layer first; each layer hands the one below its input gradient.
        direct = grad_output  # (T, D*H)
        for layer_index in reversed(range(len(per_layer))):
            grad_below = np.zeros((direct.shape[0], inputs[layer_index].shape[-1]), np.float32)  # (T, F_layer)
            for direction, steps in enumerate(per_layer[layer_index]):
                direct_here = direct[:, direction * hidden : (direction + 1) * hidden]  # (T, H)
                grad_pre_input = _BACKWARD[cell](steps, _in_order(direct_here, direction))  # (T, G*H)
                if layer_index:  # the input's gradient feeds the layer below; layer 0's would go unused
                    grad_below += _in_order(grad_pre_input @ steps["weight_ih"], direction)  # (T, F_layer)
            direct = grad_below
    quantities = {}
    for name in names:
        stacked = np.empty((len(per_layer), weights.directions, *per_layer[0][0][name].shape), np.float32)
        for layer_index, layer in enumerate(per_layer):
            for direction, steps in enumerate(layer):
                stacked[layer_index, direction] = _in_order(steps[name], direction)  # (T, H)
        stacked.flags.writeable = False  # (L, D, T, H), a new array: freezing it needs no second copy
        quantities[name] = stacked
    return quantities


def probe_trace(model, task) -> Trace:
    """Run the probe sequence through `model` and reconstruct everything inside it.

    Weights on the way to diverging can make gradients through time overflow float32: they come
    out as inf or NaN, as they would from autograd, silently (the panels show them as such)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _probe_trace(model, task)


def _probe_trace(model, task) -> Trace:
    probe_inputs, probe_targets = task.probe()
    weights = recurrent_weights(model)
    with torch.no_grad():
        lstm_input = model.adapter(probe_inputs)[0]  # (T, F)
        outputs = layer_outputs(weights, lstm_input)  # each (T, D*H)
    # Direct gradient of the probe loss w.r.t. the top layer's outputs (head + loss only). A head that reads the
    # final states (a classifier) gives it at the last step (forward) and at t = 0 (backward), zero elsewhere.
    top_output = outputs[-1][None].detach().requires_grad_(True)  # (1, T, D*H)
    with torch.enable_grad():
        probe_outputs = model.read_out(top_output)  # (1, T, O), or (1, 1, O) from the final states
        loss = task.loss(probe_outputs, probe_targets)
        (grad_top,) = torch.autograd.grad(loss, top_output)  # (1, T, D*H)
    outputs_numpy = [_as_numpy(out) for out in outputs]
    quantities = reconstruct(weights, _as_numpy(lstm_input), outputs_numpy, _as_numpy(grad_top[0]))
    return Trace(
        cell=model.cell,
        quantities=quantities,
        lstm_input=frozen_array(lstm_input),
        grad_output=frozen_array(grad_top[0]),
        probe_input=frozen_array(probe_inputs[0]),
        probe_target=frozen_array(probe_targets[0]),
        probe_output=frozen_array(probe_outputs[0].detach()),
        loss=float(loss.detach()),
        labels=_labels(task, probe_inputs),
    )


def _labels(task, probe_inputs):
    labels = task.labels(probe_inputs)
    return None if labels is None else tuple(labels)


def _as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float32 numpy view of a CPU tensor (a copy only if it is of another type): read, never written."""
    return tensor.detach().numpy().astype(np.float32, copy=False)


def _in_order(values: np.ndarray, direction: int) -> np.ndarray:
    """Forward time <-> the order a direction processes it in (reversed for direction 1)."""
    return values[::-1] if direction else values


def _as_numpy_weights(weights: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {kind: _as_numpy(value) for kind, value in weights.items()}  # (G*H, F) (G*H, H) (G*H,) (G*H,)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * values)


class _TanhScale(dict):
    """hidden -> (4H,) factors 0.5 (sigmoid gates i, f, o) and 1 (candidate g), made once per size."""

    def __missing__(self, hidden: int) -> np.ndarray:
        scale = np.full(4 * hidden, 0.5, np.float32)  # (4H,)
        scale[2 * hidden : 3 * hidden] = 1.0
        self[hidden] = scale
        return scale


_LSTM_TANH_SCALE = _TanhScale()


def _forward(
    cell: str, weights: dict, x: np.ndarray, out: np.ndarray, direction: int, hidden: int, nonlinearity: str = "tanh"
) -> dict:
    """Reconstruct one direction of one layer, in the order that direction processes time."""
    x = _in_order(x, direction)  # (T, F)
    hidden_out = _in_order(out[:, direction * hidden : (direction + 1) * hidden], direction)  # (T, H)
    hidden_prev = np.vstack([np.zeros((1, hidden), np.float32), hidden_out[:-1]])  # (T, H): h0 = 0
    steps = {"weight_ih": weights["weight_ih"], "weight_hh": weights["weight_hh"], "hidden_prev": hidden_prev}
    steps["nonlinearity"] = nonlinearity
    if cell == "gru":  # the candidate gates W_hn h + b_hn apart from W_in x + b_in: two products
        pre_input = x @ weights["weight_ih"].T + weights["bias_ih"]  # (T, 3H)
        pre_hidden = hidden_prev @ weights["weight_hh"].T + weights["bias_hh"]  # (T, 3H)
        reset_gate = _sigmoid(pre_input[:, :hidden] + pre_hidden[:, :hidden])  # (T, H)
        update_gate = _sigmoid(pre_input[:, hidden : 2 * hidden] + pre_hidden[:, hidden : 2 * hidden])  # (T, H)
        candidate_hidden_part = pre_hidden[:, 2 * hidden :]  # (T, H): W_hn h + b_hn, gated by r
        candidate = np.tanh(pre_input[:, 2 * hidden :] + reset_gate * candidate_hidden_part)  # (T, H)
        steps.update(
            reset_gate=reset_gate,
            update_gate=update_gate,
            candidate=candidate,
            candidate_hidden_part=candidate_hidden_part,
            hidden=(1 - update_gate) * candidate + update_gate * hidden_prev,
        )
        return steps
    # z = h_prev W_hh^T + x W_ih^T + (b_ih + b_hh), summed in place into one (T, G*H) array
    pre = hidden_prev @ weights["weight_hh"].T  # (T, G*H)
    pre += x @ weights["weight_ih"].T  # (T, G*H)
    pre += weights["bias_ih"] + weights["bias_hh"]  # (G*H,)
    if cell == "rnn":
        steps.update(hidden=np.tanh(pre, out=pre) if nonlinearity == "tanh" else np.maximum(pre, 0, out=pre))
        return steps
    # One tanh over all four gates: sigmoid(z) = 0.5 + 0.5 tanh(z / 2) (halving is exact in floating point).
    pre *= _LSTM_TANH_SCALE[hidden]
    gates = np.tanh(pre, out=pre)  # (T, 4H) torch order i|f|g|o
    for sigmoid_gate in (gates[:, : 2 * hidden], gates[:, 3 * hidden :]):  # i|f and o, in place
        sigmoid_gate *= 0.5
        sigmoid_gate += 0.5
    input_gate, forget_gate, cell_candidate, output_gate = np.split(gates, 4, axis=1)  # (T, H) each, views
    cell_state = input_gate * cell_candidate  # (T, H): i_t g_t, then c_t = f_t c_{t-1} + i_t g_t in place
    forgotten = np.empty(hidden, np.float32)  # (H,) f_t c_{t-1}
    for cell_now, cell_before, forget_now in zip(cell_state[1:], cell_state, forget_gate[1:]):  # rows (H,)
        cell_now += np.multiply(forget_now, cell_before, out=forgotten)
    tanh_cell = np.tanh(cell_state)  # (T, H)
    steps.update(
        gates=gates,
        input_gate=input_gate,
        forget_gate=forget_gate,
        cell_candidate=cell_candidate,
        output_gate=output_gate,
        cell=cell_state,
        tanh_cell=tanh_cell,
        hidden=output_gate * tanh_cell,
    )
    return steps


def _lstm_backward(steps: dict, direct: np.ndarray) -> np.ndarray:
    """BPTT through one LSTM direction; fills grad_hidden / grad_cell, returns dL/dz (T, 4H).

    The loop over time does only what must be sequential, in place into preallocated rows (seven numpy calls
    a step, no allocation, rows handed out by zip): at T=1000 Python's per-call cost would otherwise be most of
    the probe."""
    gates, input_gate, forget_gate = steps["gates"], steps["input_gate"], steps["forget_gate"]
    cell_candidate, output_gate, cell_state = steps["cell_candidate"], steps["output_gate"], steps["cell"]
    tanh_cell = steps["tanh_cell"]
    length, hidden = cell_state.shape
    # dz_t = [dc*i', dc*f', dc*g', dh*o'] with these factors, the sigmoids' s(1 - s) taken over all four at once:
    factors = (gates * (1 - gates)).reshape(length, 4, hidden)  # (T, 4, H); row 2 (g) replaced below
    factors[:, 0] *= cell_candidate
    factors[1:, 1] *= cell_state[:-1]
    factors[0, 1] = 0  # c_0 = 0
    np.multiply(input_gate, 1 - cell_candidate**2, out=factors[:, 2])
    factors[:, 3] *= tanh_cell
    hidden_to_cell = output_gate * (1 - tanh_cell**2)  # (T, H): dh_t/dc_t
    forget_next = np.vstack([forget_gate[1:], np.zeros((1, hidden), np.float32)])  # (T, H): f_{t+1}
    weight_hh = steps["weight_hh"]  # (4H, H)
    # Row T of each is the zero beyond the last step: dc_T = 0, dz_T = 0.
    grad_hidden = np.empty((length, hidden), np.float32)
    grad_cell = np.zeros((length + 1, hidden), np.float32)  # (T+1, H)
    grad_pre = np.zeros((length + 1, 4, hidden), np.float32)  # (T+1, 4, H)
    grad_pre_flat = grad_pre.reshape(length + 1, 4 * hidden)  # (T+1, 4H), a view
    forgotten = np.empty(hidden, np.float32)  # (H,) f_{t+1} dc_{t+1}
    backwards = slice(length - 1, None, -1)  # t = T-1 ... 0
    rows = zip(
        grad_hidden[backwards],
        grad_cell[backwards],
        grad_cell[length:0:-1],  # dc_{t+1}
        grad_pre[backwards],
        grad_pre_flat[length:0:-1],  # dz_{t+1}
        direct[backwards],
        hidden_to_cell[backwards],
        forget_next[backwards],
        factors[backwards],
    )
    for grad_h, grad_c, grad_c_next, grad_z, grad_z_next, direct_t, hidden_to_cell_t, forget_next_t, factor in rows:
        np.dot(grad_z_next, weight_hh, out=grad_h)  # W_hh^T dz_{t+1}
        grad_h += direct_t
        np.multiply(grad_h, hidden_to_cell_t, out=grad_c)
        grad_c += np.multiply(grad_c_next, forget_next_t, out=forgotten)
        np.multiply(grad_c, factor[:3], out=grad_z[:3])  # i, f, g rows
        np.multiply(grad_h, factor[3], out=grad_z[3])  # o row
    steps.update(grad_hidden=grad_hidden, grad_cell=grad_cell[:length])
    return grad_pre_flat[:length]


def _gru_backward(steps: dict, direct: np.ndarray) -> np.ndarray:
    """BPTT through one GRU direction; fills grad_hidden, returns dL/d(input pre-activations) (T, 3H)."""
    reset_gate, update_gate, candidate = steps["reset_gate"], steps["update_gate"], steps["candidate"]
    hidden_prev, candidate_hidden_part = steps["hidden_prev"], steps["candidate_hidden_part"]
    length, hidden = candidate.shape
    # Every pre-activation gradient is dL/dh_t times a factor known from the forward pass.
    grad_pre_candidate = (1 - update_gate) * (1 - candidate**2)  # (T, H) per unit of dL/dh_t
    factors_input = np.hstack(
        [
            grad_pre_candidate * candidate_hidden_part * reset_gate * (1 - reset_gate),
            (hidden_prev - candidate) * update_gate * (1 - update_gate),
            grad_pre_candidate,
        ]
    )  # (T, 3H): d(pre_input)/dh_t
    factors_hidden = factors_input.copy()
    factors_hidden[:, 2 * hidden :] *= reset_gate  # W_hn h + b_hn enters through r
    weight_hh = steps["weight_hh"]  # (3H, H)
    grad_hidden = np.empty((length, hidden), np.float32)
    through_next = np.zeros(hidden, np.float32)
    for t in range(length - 1, -1, -1):
        grad_h = direct[t] + through_next  # (H,)
        grad_hidden[t] = grad_h
        through_next = (np.tile(grad_h, 3) * factors_hidden[t]) @ weight_hh + grad_h * update_gate[t]  # (H,)
    steps.update(grad_hidden=grad_hidden)
    return np.tile(grad_hidden, 3) * factors_input


def _rnn_backward(steps: dict, direct: np.ndarray) -> np.ndarray:
    """BPTT through one tanh- or ReLU-RNN direction; fills grad_hidden, returns dL/dz (T, H)."""
    hidden_out = steps["hidden"]
    derivative = 1 - hidden_out**2 if steps["nonlinearity"] == "tanh" else (hidden_out > 0).astype(np.float32)  # (T, H)
    weight_hh = steps["weight_hh"]  # (H, H)
    grad_hidden = np.empty_like(hidden_out)
    grad_pre = np.empty_like(hidden_out)
    grad_pre_next = np.zeros(hidden_out.shape[1], np.float32)
    for t in range(len(hidden_out) - 1, -1, -1):
        grad_hidden[t] = direct[t] + grad_pre_next @ weight_hh  # (H,)
        grad_pre_next = grad_pre[t] = grad_hidden[t] * derivative[t]  # (H,)
    steps.update(grad_hidden=grad_hidden)
    return grad_pre


_BACKWARD = {"lstm": _lstm_backward, "gru": _gru_backward, "rnn": _rnn_backward}
