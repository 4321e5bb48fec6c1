"""The probe: exact internals + gradients through time (probe_trace) vs an unrolled autograd replay."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from benchmarks import alternate, medians, timed_ms
from lstm_viz.core.config import RunConfig
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks import make_task

HIDDEN, SEQ_LEN = 128, 100
LONG_HIDDEN, LONG_SEQ_LEN = 256, 1000  # probe_ms_long: what adding-100 --seq-len 1000 --hidden 256 asks for


def unrolled_replay(model, task) -> dict[str, np.ndarray]:
    """Per-step gates, states and dL/dh_t, dL/dc_t of a one-layer LSTM by unrolling it under autograd."""
    probe_inputs, probe_targets = task.probe()
    x = model.adapter(probe_inputs)[0]  # (T, F)
    layer = model.layers[0]
    hidden = cell = x.new_zeros(model.hidden_size)  # (H,)
    gates, hiddens, cells = [], [], []
    for x_t in x:
        pre = layer.weight_ih_l0 @ x_t + layer.bias_ih_l0 + layer.weight_hh_l0 @ hidden + layer.bias_hh_l0  # (4H,)
        input_gate, forget_gate, cell_candidate, output_gate = pre.chunk(4)  # (H,) each
        input_gate, forget_gate = torch.sigmoid(input_gate), torch.sigmoid(forget_gate)
        cell_candidate, output_gate = torch.tanh(cell_candidate), torch.sigmoid(output_gate)
        cell = forget_gate * cell + input_gate * cell_candidate  # (H,)
        hidden = output_gate * torch.tanh(cell)  # (H,)
        hidden.retain_grad()
        cell.retain_grad()
        gates.append(torch.stack([input_gate, forget_gate, cell_candidate, output_gate]))  # (4, H)
        hiddens.append(hidden)
        cells.append(cell)
    loss = task.loss(model.head(torch.stack(hiddens))[None], probe_targets)  # head output (1, T, O)
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {
        "gates": torch.stack(gates).detach().numpy(),  # (T, 4, H)
        "cell": torch.stack(cells).detach().numpy(),  # (T, H)
        "hidden": torch.stack(hiddens).detach().numpy(),  # (T, H)
        "grad_hidden": torch.stack([h.grad for h in hiddens]).numpy(),  # (T, H)
        "grad_cell": torch.stack([c.grad for c in cells]).numpy(),  # (T, H)
    }


def run(quick: bool) -> dict:
    """Median per-call CPU time of this thread (the figures) and wall time, probe and replay alternating."""
    repeats = 30 if quick else 200
    figures, details = {}, {"clock": "figures: thread CPU ms (the code's cost); wall ms in details", "calls": repeats}
    for layers in (1, 2):
        config = RunConfig(task="sine", seq_len=SEQ_LEN, hidden=HIDDEN, layers=layers)
        task = make_task(config)
        model = build_model(config, task)
        sides = {f"probe_ms_{layers}layer": partial(timed_ms, partial(probe_trace, model, task))}
        if layers == 1:
            _check_same_gradients(model, task)
            sides["probe_ms_unrolled_autograd"] = partial(timed_ms, partial(unrolled_replay, model, task))
        for name, samples in alternate(sides, repeats).items():
            wall_ms, cpu_ms = medians(samples)
            figures[name] = cpu_ms
            details[name] = {"wall_ms_median": wall_ms, "cpu_ms_median": cpu_ms}
    config = RunConfig(task="sine", seq_len=LONG_SEQ_LEN, hidden=LONG_HIDDEN)
    task = make_task(config)
    model = build_model(config, task)
    samples = [timed_ms(partial(probe_trace, model, task)) for _ in range(5 if quick else 20)]
    wall_ms, cpu_ms = medians(samples)
    figures["probe_ms_long"] = cpu_ms
    details["probe_ms_long"] = {"wall_ms_median": wall_ms, "cpu_ms_median": cpu_ms, "calls": len(samples)}
    details["config"] = {"task": "sine", "hidden": HIDDEN, "seq_len": SEQ_LEN, "long": [LONG_HIDDEN, LONG_SEQ_LEN]}
    return {"figures": figures, "details": details}


def _check_same_gradients(model, task) -> None:
    """Both sides compute the same thing, else the comparison means nothing."""
    trace, replay = probe_trace(model, task), unrolled_replay(model, task)
    for name in ("grad_hidden", "grad_cell", "cell"):
        np.testing.assert_allclose(trace[name][0, 0], replay[name], atol=1e-5, err_msg=name)
