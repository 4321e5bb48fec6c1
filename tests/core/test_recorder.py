"""lstm_viz.Recorder: recorded traces, weights and gradient norms of every module form against references
written here (a float64 per-timestep autograd replay, torch's clip_grad_norm_), DDP on two gloo processes,
and the bad-input cases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import lstm_viz
from lstm_viz.core.config import ConfigError
from lstm_viz.core.history import fork_trainer, open_run
from lstm_viz.core.trainer import METRIC_COLUMNS

FEATURES, HIDDEN, LENGTH, BATCH = 3, 5, 7, 4
TRAINING_STEPS = 3  # records 0 .. 3: the weights after that many optimizer steps
GATES = {nn.LSTM: "ifgo", nn.GRU: "rzn", nn.RNN: "h"}
STATES = {
    nn.LSTM: ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell", "hidden"),
    nn.GRU: ("reset_gate", "update_gate", "candidate", "hidden"),
    nn.RNN: ("hidden",),
}
# Every module form, each cell at 1, 2 and 3 layers and in both directions between them.
FORMS = {
    "lstm-1": dict(kind=nn.LSTM, num_layers=1),
    "lstm-2-bidirectional-batch_first-dropout": dict(
        kind=nn.LSTM, num_layers=2, bidirectional=True, batch_first=True, dropout=0.5
    ),
    "lstm-3-bidirectional-no_bias": dict(kind=nn.LSTM, num_layers=3, bidirectional=True, bias=False),
    "gru-1-bidirectional-batch_first-float64-DataParallel": dict(
        kind=nn.GRU, num_layers=1, bidirectional=True, batch_first=True, dtype=torch.float64, wrap=True
    ),
    "gru-2-no_bias": dict(kind=nn.GRU, num_layers=2, bias=False),
    "gru-3-bidirectional-batch_first": dict(kind=nn.GRU, num_layers=3, bidirectional=True, batch_first=True),
    "rnn-1-bidirectional-no_probe_loss": dict(kind=nn.RNN, num_layers=1, bidirectional=True, probe_loss=False),
    "rnn-2-batch_first-no_bias": dict(kind=nn.RNN, num_layers=2, batch_first=True, bias=False),
    "rnn_relu-3-bidirectional-dropout": dict(
        kind=nn.RNN, num_layers=3, bidirectional=True, nonlinearity="relu", dropout=0.3
    ),
    "rnn_relu-1-batch_first": dict(kind=nn.RNN, num_layers=1, batch_first=True, nonlinearity="relu"),
}


def make_module(kind, wrap=False, probe_loss=True, seed=0, **settings) -> nn.Module:
    torch.manual_seed(seed)
    return kind(FEATURES, HIDDEN, **settings)


def probe_loss_of(module: nn.Module):
    """A loss on every timestep of the module's batched output (1, T, D*H) or (T, 1, D*H), in float64."""
    generator = torch.Generator().manual_seed(7)
    width = HIDDEN * (2 if module.bidirectional else 1)
    weights = torch.randn(width, 2, generator=generator, dtype=torch.float64)  # (D*H, 2)
    targets = torch.randn(LENGTH, 2, generator=generator, dtype=torch.float64)  # (T, 2)

    def probe_loss(output: torch.Tensor) -> torch.Tensor:
        flat = output.reshape(LENGTH, width).double()  # (T, D*H): the batch of one removed
        return (torch.tanh(flat @ weights) * targets).sum()

    return probe_loss


# ---- the reference: float64, one timestep at a time, autograd --------------------------------------
def reference_trace(module: nn.Module, state: dict, probe: torch.Tensor, probe_loss) -> tuple[dict, float]:
    """Every quantity (L, D, T, H) and the probe loss of `module`'s architecture with weights `state`, on `probe`
    (T, F), in float64 without dropout; grad_hidden / grad_cell: total derivatives of probe_loss by autograd."""
    kind = type(module)
    directions = 2 if module.bidirectional else 1
    nonlinearity = torch.relu if getattr(module, "nonlinearity", "tanh") == "relu" else torch.tanh
    found: dict[tuple[str, int, int, int], torch.Tensor] = {}  # (name, layer, direction, t) -> (H,)
    layer_input = probe.double().requires_grad_(True)  # (T, F): a leaf, so that every state is in the graph
    for layer in range(module.num_layers):
        direction_outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weight_ih, weight_hh = (state[f"{name}{suffix}"].double() for name in ("weight_ih", "weight_hh"))
            bias_ih, bias_hh = (
                state[f"{name}{suffix}"].double() if module.bias else torch.zeros(len(weight_hh), dtype=torch.float64)
                for name in ("bias_ih", "bias_hh")
            )
            hidden = cell = torch.zeros(HIDDEN, dtype=torch.float64)
            outputs = [None] * LENGTH
            for t in reversed(range(LENGTH)) if direction else range(LENGTH):
                from_input = weight_ih @ layer_input[t] + bias_ih  # (G*H,)
                from_hidden = weight_hh @ hidden + bias_hh  # (G*H,)
                if kind is nn.LSTM:
                    i, f, g, o = (from_input + from_hidden).chunk(4)
                    gates = {
                        "input_gate": i.sigmoid(),
                        "forget_gate": f.sigmoid(),
                        "cell_candidate": g.tanh(),
                        "output_gate": o.sigmoid(),
                    }
                    cell = gates["forget_gate"] * cell + gates["input_gate"] * gates["cell_candidate"]
                    hidden = gates["output_gate"] * cell.tanh()
                    found.update({(name, layer, direction, t): value for name, value in gates.items()})
                    found["cell", layer, direction, t] = cell
                elif kind is nn.GRU:
                    (input_r, input_z, input_n), (hidden_r, hidden_z, hidden_n) = (
                        from_input.chunk(3),
                        from_hidden.chunk(3),
                    )
                    reset_gate, update_gate = (input_r + hidden_r).sigmoid(), (input_z + hidden_z).sigmoid()
                    candidate = (input_n + reset_gate * hidden_n).tanh()
                    hidden = (1 - update_gate) * candidate + update_gate * hidden
                    found["reset_gate", layer, direction, t] = reset_gate
                    found["update_gate", layer, direction, t] = update_gate
                    found["candidate", layer, direction, t] = candidate
                else:
                    hidden = nonlinearity(from_input + from_hidden)
                hidden.retain_grad()
                if kind is nn.LSTM:
                    cell.retain_grad()
                found["hidden", layer, direction, t] = hidden
                outputs[t] = hidden
            direction_outputs.append(torch.stack(outputs))  # (T, H)
        layer_input = torch.cat(direction_outputs, dim=1)  # (T, D*H)
    trace = {"top_output": layer_input.detach().numpy()}
    loss = float("nan")
    if probe_loss is not None:
        batched = layer_input[None] if module.batch_first else layer_input[:, None]  # as the module returns it
        loss_tensor = probe_loss(batched)
        loss_tensor.backward()
        loss = float(loss_tensor.detach())
    gradients = {"grad_hidden": "hidden", "grad_cell": "cell"} if probe_loss is not None else {}
    for name in STATES[kind] + tuple(gradient for gradient in gradients if gradient[5:] in STATES[kind]):
        of = gradients.get(name)
        trace[name] = np.array(
            [
                [
                    [(found[of, k, d, t].grad if of else found[name, k, d, t].detach()).numpy() for t in range(LENGTH)]
                    for d in range(directions)
                ]
                for k in range(module.num_layers)
            ]
        )  # (L, D, T, H)
    return trace, loss


def expected_block_norms(module: nn.Module) -> dict[str, float]:
    """metrics.csv's per-block columns, from the gradients: each gate's rows of W_ih and W_hh, then the biases."""
    gates = GATE_NAMES_OF(module)
    norms = {}
    for layer in range(module.num_layers):
        for direction in range(2 if module.bidirectional else 1):
            prefix, suffix = f"l{layer}{'r' if direction else ''}", f"_l{layer}{'_reverse' if direction else ''}"
            for kind in ("ih", "hh"):
                gradient = getattr(module, f"weight_{kind}{suffix}").grad  # (G*H, F)
                for number, gate in enumerate(gates):
                    norms[f"{prefix}.W_{kind}.{gate}"] = float(gradient[number * HIDDEN : (number + 1) * HIDDEN].norm())
            if module.bias:
                for kind in ("ih", "hh"):
                    norms[f"{prefix}.b_{kind}"] = float(getattr(module, f"bias_{kind}{suffix}").grad.norm())
    return norms


def GATE_NAMES_OF(module: nn.Module) -> str:  # noqa: N802 (reads as the constant it looks up)
    return GATES[type(module)]


# ---- recording every form once (all writer processes at work together) -------------------------------
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """form -> what the test loop kept (the probe, the probe loss, the weights after each optimizer step, each
    step's loss and gradient norms) and the run read back with open_run."""
    results, recorders = {}, []
    for name, form in FORMS.items():
        module = make_module(**form)
        module.train()  # dropout is on in training; the probe must not see it
        user_module = nn.DataParallel(module) if form.get("wrap") else module
        dtype = form.get("dtype", torch.float32)
        probe = torch.randn(LENGTH, FEATURES, dtype=dtype, generator=torch.Generator().manual_seed(1))  # (T, F)
        batched_probe = probe[None] if module.batch_first else probe[:, None]
        probe_loss = probe_loss_of(module) if form.get("probe_loss", True) else None
        out = tmp_path_factory.mktemp("runs") / name
        recorder = lstm_viz.Recorder(user_module, batched_probe, probe_loss, out, every_steps=1)
        recorders.append(recorder)
        optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
        generator = torch.Generator().manual_seed(2)
        kept = {"probe": probe, "probe_loss": probe_loss, "module": module, "out": out, "steps": []}
        kept["weights"] = [{key: value.detach().clone() for key, value in module.state_dict().items()}]
        for _ in range(TRAINING_STEPS):
            inputs = torch.randn(BATCH, LENGTH, FEATURES, dtype=dtype, generator=generator)  # (B, T, F)
            optimizer.zero_grad()
            output, _ = user_module(inputs if module.batch_first else inputs.transpose(0, 1))
            loss = (output * output.detach().sign()).mean()
            loss.backward()
            total = float(torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm=float("inf")))
            kept["steps"].append(
                {"loss": float(loss.detach()), "grad_norm": total, "blocks": expected_block_norms(module)}
            )
            recorder.step(loss)
            optimizer.step()
            kept["weights"].append({key: value.detach().clone() for key, value in module.state_dict().items()})
        results[name] = kept
    for recorder in recorders:
        recorder.close()
    for kept in results.values():
        kept["run"] = open_run(kept["out"])
    return results


@pytest.mark.parametrize("form", FORMS)
def test_recorded_traces_equal_a_float64_autograd_reference(recorded, form):
    kept = recorded[form]
    run, module = kept["run"], kept["module"]
    assert run.steps.tolist() == list(range(TRAINING_STEPS + 1)) and run.finished
    for step in run.steps:
        weights = kept["weights"][step]  # the test's own copy, after `step` optimizer steps
        assert all(
            np.array_equal(run.weights(step)[key].numpy(), value.float().numpy()) for key, value in weights.items()
        )
        reference, reference_loss = reference_trace(module, weights, kept["probe"], kept["probe_loss"])
        trace = run.snapshot(step).trace
        assert trace.nonlinearity == getattr(module, "nonlinearity", "tanh")  # a relu RNN's is recorded
        assert set(trace.quantities) == set(reference) - {"top_output"}
        for name, values in trace.quantities.items():
            np.testing.assert_allclose(values, reference[name], rtol=0, atol=1e-5, err_msg=f"{name} at step {step}")
        if kept["probe_loss"] is None:
            assert np.isnan(trace.loss) and trace.grad_output.size == 0
        else:
            assert trace.loss == pytest.approx(reference_loss, rel=1e-5)
    # The reference itself against torch: the module in eval mode (no dropout) gives its top output.
    module.eval()
    with torch.no_grad():
        module.load_state_dict(kept["weights"][-1])
        probe = kept["probe"][None] if module.batch_first else kept["probe"][:, None]
        output = module(probe)[0].reshape(LENGTH, -1).double().numpy()  # (T, D*H)
    top = reference_trace(module, kept["weights"][-1], kept["probe"], None)[0]["top_output"]
    np.testing.assert_allclose(output, top, rtol=0, atol=1e-5)


@pytest.mark.parametrize("form", FORMS)
def test_gradient_norms_equal_clip_grad_norm_and_each_block_the_norm_of_its_rows(recorded, form):
    kept = recorded[form]
    metrics = kept["run"].metrics
    blocks = [name for name in metrics if name not in METRIC_COLUMNS]
    assert blocks == list(kept["steps"][0]["blocks"])  # the same columns, in metrics.csv's order
    assert metrics["step"].tolist() == list(range(1, TRAINING_STEPS + 1))
    for row, expected in enumerate(kept["steps"]):
        assert metrics["loss"][row] == pytest.approx(expected["loss"], rel=1e-6)
        assert metrics["grad_norm"][row] == pytest.approx(expected["grad_norm"], rel=1e-5)
        assert metrics["grad_norm_clipped"][row] == metrics["grad_norm"][row] and metrics["clipped"][row] == 0
        for name, norm in expected["blocks"].items():
            assert metrics[name][row] == pytest.approx(norm, rel=1e-5, abs=1e-12)


def test_the_run_describes_the_module_and_cannot_be_trained_or_forked(recorded):
    kept = recorded["lstm-2-bidirectional-batch_first-dropout"]
    run = kept["run"]
    config = json.loads((kept["out"] / "config.json").read_text())
    assert config["task"] == "own" and config["seq_len"] == LENGTH
    assert (run.config.cell, run.config.hidden, run.config.layers, run.config.bidirectional) == (
        "lstm",
        HIDDEN,
        2,
        True,
    )
    assert config["module"] == {
        "type": "nn.LSTM", "input_size": FEATURES, "hidden_size": HIDDEN, "num_layers": 2, "bidirectional": True,
        "batch_first": True, "bias": True, "dropout": 0.5, "dtype": "float32", "device": "cpu",
    }  # fmt: skip
    assert (
        json.loads((recorded["rnn_relu-1-batch_first"]["out"] / "config.json").read_text())["module"]["nonlinearity"]
        == "relu"
    )
    with pytest.raises(ConfigError, match="^a run recorded from your own model cannot be trained here; open it with"):
        fork_trainer(run, 1)


# ---- DDP: two CPU processes on gloo ---------------------------------------------------------------------
DDP_RANK = textwrap.dedent(
    """
    import json, os, sys, time
    import torch
    from torch import nn
    import lstm_viz

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = nn.LSTM(3, 5, num_layers=2, batch_first=True), nn.Linear(5, 1)

        def forward(self, inputs):
            return self.head(self.encoder(inputs)[0][:, -1])  # (B, 1)

    rank, port, out, result = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(Classifier())
    inputs = torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(10 + rank))  # each rank its own batch
    probe = torch.randn(1, 7, 3, generator=torch.Generator().manual_seed(1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    head = model.module.head
    recorder = lstm_viz.Recorder(model.module.encoder, probe, lambda output: head(output[:, -1]).sum(), out,
                                 every_steps=1)
    for _ in range(2):
        optimizer.zero_grad()
        loss = model(inputs).pow(2).mean()
        loss.backward()  # DDP averages the gradients over the ranks
        recorder.step(loss)
        optimizer.step()
    recorder.close()
    json.dump({"recording": recorder.recording, "step_count": recorder.step_count, "pid": os.getpid()},
              open(result, "w"))
    torch.distributed.destroy_process_group()
    """
)


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_under_ddp_only_rank_0_records_and_its_values_are_the_averaged_gradients(tmp_path):
    port, out = free_port(), tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", DDP_RANK, str(rank), str(port), str(out), str(tmp_path / f"rank{rank}.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for rank in range(2)
    ]
    for process in ranks:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output.decode()
    rank0, rank1 = (json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2))
    assert rank0["recording"] and rank0["step_count"] == 2
    assert not rank1["recording"] and rank1["step_count"] == 0  # its step() returned at once
    run = open_run(out)
    assert json.loads((out / "run.json").read_text())["writer"]["pid"] == rank0["pid"]  # rank 1 wrote nothing
    # The reference: both ranks' batches in this process, their gradients averaged, SGD by hand.
    torch.manual_seed(0)
    encoder, head = nn.LSTM(3, 5, num_layers=2, batch_first=True), nn.Linear(5, 1)
    names = [name for name, _ in encoder.named_parameters()]
    parameters = [*encoder.parameters(), *head.parameters()]
    batches = [torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(10 + rank)) for rank in range(2)]
    for row in range(2):
        for key, value in encoder.state_dict().items():  # record `row`: the weights after `row` steps
            assert np.array_equal(run.weights(row)[key].numpy(), value.numpy())
        per_rank = [
            torch.autograd.grad(head(encoder(inputs)[0][:, -1]).pow(2).mean(), parameters) for inputs in batches
        ]
        averaged = [(first + second) / 2 for first, second in zip(*per_rank)]
        encoder_norms = torch.stack([gradient.norm() for gradient in averaged[: len(names)]])
        assert run.metrics["grad_norm"][row] == pytest.approx(float(encoder_norms.norm()), rel=1e-5)
        forget_rows = averaged[names.index("weight_hh_l1")][HIDDEN : 2 * HIDDEN]  # (H, H)
        assert run.metrics["l1.W_hh.f"][row] == pytest.approx(float(forget_rows.norm()), rel=1e-5)
        with torch.no_grad():
            for parameter, gradient in zip(parameters, averaged):
                parameter -= 0.5 * gradient
    probe = torch.randn(7, 3, generator=torch.Generator().manual_seed(1))
    reference, loss = reference_trace(
        encoder, encoder.state_dict(), probe, lambda output: head.double()(output[:, -1]).sum()
    )
    trace = run.snapshot(2).trace
    for name in ("forget_gate", "cell", "grad_hidden", "grad_cell"):
        np.testing.assert_allclose(trace[name], reference[name], rtol=0, atol=1e-5)
    assert trace.loss == pytest.approx(loss, rel=1e-5)


# ---- bad input: one line naming the argument -------------------------------------------------------------
def one_line_error(error_type, call, *words):
    with pytest.raises(error_type) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message and all(word in message for word in words), message
    return message


def test_a_module_that_is_not_one_of_the_three_is_refused():
    probe = torch.zeros(LENGTH, FEATURES)
    one_line_error(TypeError, lambda: lstm_viz.Recorder(nn.Linear(3, 5), probe), "module must be", "Linear")

    class MyLSTM(nn.LSTM):
        pass

    one_line_error(TypeError, lambda: lstm_viz.Recorder(MyLSTM(3, 5), probe), "module", "MyLSTM", "subclass")
    one_line_error(ValueError, lambda: lstm_viz.Recorder(nn.LSTM(3, 5, proj_size=2), probe), "proj_size=2")
    half = nn.LSTM(3, 5).to(torch.bfloat16)
    one_line_error(TypeError, lambda: lstm_viz.Recorder(half, probe), "module", "bfloat16")


@pytest.mark.parametrize(
    "batch_first,shape,words",
    [
        (False, (LENGTH, 4), ("input_size=3", "(7, 4)")),  # wrong feature size
        (True, (1, LENGTH, 2), ("input_size=3", "(1, 7, 2)")),
        (False, (LENGTH,), ("one sequence", "(7,)")),  # wrong rank
        (False, (1, 1, LENGTH, FEATURES), ("one sequence",)),
        (True, (2, LENGTH, FEATURES), ("(1, T, F)", "(2, 7, 3)")),  # a batch of two
        (False, (1, LENGTH, FEATURES), ("(T, 1, F)", "batch_first=False")),  # batch_first's layout on a module without
        (False, (0, FEATURES), ("1 to 5000 timesteps",)),
    ],
)
def test_a_probe_of_the_wrong_feature_size_or_rank_is_refused(batch_first, shape, words):
    module = nn.GRU(FEATURES, HIDDEN, batch_first=batch_first)
    one_line_error(ValueError, lambda: lstm_viz.Recorder(module, torch.zeros(shape)), "probe_input", *words)


def test_a_probe_that_is_no_float_sequence_is_refused():
    module = nn.LSTM(FEATURES, HIDDEN)
    one_line_error(TypeError, lambda: lstm_viz.Recorder(module, [[0.0] * 3]), "probe_input", "list")
    one_line_error(TypeError, lambda: lstm_viz.Recorder(module, torch.zeros(LENGTH, 3, dtype=torch.long)), "int64")
    nan_probe = torch.full((LENGTH, FEATURES), float("nan"))
    one_line_error(ValueError, lambda: lstm_viz.Recorder(module, nan_probe), "probe_input", "NaN")


def test_step_before_any_backward_is_refused(tmp_path):
    module = nn.LSTM(FEATURES, HIDDEN)
    recorder = lstm_viz.Recorder(module, torch.zeros(LENGTH, FEATURES), out=tmp_path / "run", history_mb=0)
    one_line_error(ValueError, lambda: recorder.step(torch.tensor(1.0)), "weight_ih_l0", "loss.backward()")
    one_line_error(ValueError, lambda: recorder.step(torch.ones(3)), "loss must be a scalar", "(3,)")
    one_line_error(TypeError, lambda: recorder.step("1.0"), "loss must be", "str")
    recorder.close()
    one_line_error(ValueError, lambda: recorder.step(1.0), "after close()")


def test_a_probe_loss_that_is_no_scalar_or_raises_is_refused(tmp_path):
    module, probe = nn.LSTM(FEATURES, HIDDEN), torch.zeros(LENGTH, FEATURES)

    def record(probe_loss):
        return lambda: lstm_viz.Recorder(module, probe, probe_loss, tmp_path / "run")

    one_line_error(TypeError, record(lambda output: output.sum(-1)), "probe_loss must return a scalar", "(7, 1)")
    one_line_error(TypeError, record(lambda output: 1.0), "probe_loss must return a scalar", "float")
    one_line_error(ValueError, record(lambda output: 1 / 0), "probe_loss raised ZeroDivisionError: division by zero")
    one_line_error(ValueError, record(lambda output: torch.tensor(1.0, requires_grad=True)), "probe_loss", "use it")
    one_line_error(TypeError, record("mse"), "probe_loss must be a function", "str")
    one_line_error(
        TypeError,
        lambda: lstm_viz.Recorder(module, probe, out=tmp_path / "run", probe_output=lambda output: "high"),
        "probe_output must return a tensor or array of numbers, got str",
    )
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_an_unwritable_out_directory_or_bad_schedule_is_refused(tmp_path):
    module, probe = nn.RNN(FEATURES, HIDDEN), torch.zeros(LENGTH, FEATURES)
    (tmp_path / "file").write_text("")
    one_line_error(
        ValueError, lambda: lstm_viz.Recorder(module, probe, out=tmp_path / "file"), "out must be a directory"
    )
    under_a_file = tmp_path / "file" / "run"
    one_line_error(
        ValueError, lambda: lstm_viz.Recorder(module, probe, out=under_a_file), "out must be", "Not a directory"
    )
    one_line_error(
        ValueError, lambda: lstm_viz.Recorder(module, probe, every_steps=2, every_s=1), "every_steps or every_s"
    )
    one_line_error(
        ValueError, lambda: lstm_viz.Recorder(module, probe, every_steps=0), "every_steps must be at least 1"
    )
    one_line_error(TypeError, lambda: lstm_viz.Recorder(module, probe, every_s="often"), "every_s must be a number")
    one_line_error(ValueError, lambda: lstm_viz.Recorder(module, probe, history_mb=-1), "history_mb must be")


def test_non_finite_values_are_recorded_and_flagged_never_a_crash(tmp_path):
    module = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    probe = torch.randn(1, LENGTH, FEATURES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lstm_viz.Recorder(module, probe, lambda output: output.sum(), tmp_path / "run", every_steps=1) as recorder:
            for step in range(3):
                module.zero_grad()
                loss = module(torch.randn(2, LENGTH, FEATURES))[0].mean()
                loss.backward()
                if step == 1:
                    module.weight_hh_l0.grad[0, 0] = float("inf")
                    loss = loss * float("nan")
                recorder.step(loss)
                with torch.no_grad():  # the weights go non-finite too
                    for parameter in module.parameters():
                        parameter -= parameter.grad
    flagged = [str(warning.message) for warning in caught if issubclass(warning.category, RuntimeWarning)]
    assert len(flagged) == 1 and "step 2 has a non-finite loss or gradient norm" in flagged[0]
    assert recorder.diverged_at_step == 2
    run = open_run(tmp_path / "run")
    assert np.isnan(run.metrics["loss"][1]) and np.isinf(run.metrics["grad_norm"][1])
    assert np.isinf(run.metrics["l0.W_hh.i"][1]) and np.isfinite(run.metrics["l0.W_hh.f"][1])
    assert [(event.step, event.kind) for event in run.events] == [(2, "diverged")]
    assert run.steps.tolist() == [0, 1, 2, 3]
    last = run.snapshot(3)
    assert last.diverged_at_step == 2 and not np.isfinite(last.trace["hidden"]).all()  # recorded as such


def test_import_loads_no_torch_and_a_recorder_never_closed_finishes_its_run_at_exit(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, lstm_viz
        assert "torch" not in sys.modules and "Recorder" in lstm_viz.__all__
        import torch
        module = torch.nn.RNN(3, 4)
        recorder = lstm_viz.Recorder(module, torch.zeros(5, 3), out={str(tmp_path / "run")!r}, every_steps=1)
        module(torch.randn(5, 2, 3))[0].sum().backward()
        recorder.step(1.5)
        print(type(recorder).__module__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0 and result.stdout.strip() == "lstm_viz.core.recorder", result.stderr
    run = open_run(tmp_path / "run")
    assert run.finished and run.steps.tolist() == [0, 1] and run.metrics["loss"].tolist() == [1.5]
