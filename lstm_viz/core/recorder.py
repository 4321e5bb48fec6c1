"""Recorder: the internals of your own nn.LSTM / nn.GRU / nn.RNN, recorded from your own training loop.

    recorder = lstm_viz.Recorder(model.encoder, probe_input=x_probe, probe_loss=..., out="runs/my-model")
    for ...:
        loss.backward()
        recorder.step(loss)          # after backward(), before the optimizer step
        optimizer.step()
    recorder.close()

Every step() appends the loss and the module's gradient norms (the total and one per gate block: metrics.csv's
columns) to the run directory. On a schedule it also hands the module's weights to the history's writer
process (core.history.RunWriter), which reconstructs the probe's gates, states and gradients through time
exactly (core.internals), as for the app's own runs. Only what needs the user's code runs in the user's
process: the gradient of probe_loss with respect to the module's output, dL/d(output) (T, D*H), and
probe_output; they reach the writer as probe extras (a closure cannot be sent to another process).

Steps: call n of step() sees the weights after n - 1 optimizer steps (those its loss was computed with) and
records them as step n - 1; so record k holds the weights after k optimizer steps, as a Trainer's record k
does, and metrics row n is the loss and gradients of the n-th step. close() records the last weights as step n.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_viz.core.config import MAX_SEQ_LEN, OWN_TASK, ConfigError, RunConfig
from lstm_viz.core.history import DEFAULT_HISTORY_MB, METRICS_FLUSH_S, RunWriter
from lstm_viz.core.internals import CELL_OF_MODULE, layer_outputs, reconstruct, recurrent_weights
from lstm_viz.core.runs import atomic_write_text, new_run_dir, versions
from lstm_viz.core.snapshot import Trace, frozen_array
from lstm_viz.core.trainer import METRIC_COLUMNS, recurrent_gradient_blocks

DEFAULT_EVERY_S = 0.1  # as often as the window draws
WRAPPERS = (nn.DataParallel, nn.parallel.DistributedDataParallel)
MODULE_NAMES = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"}


class Recorder:
    """Records `module` (an nn.LSTM, nn.GRU or nn.RNN inside your model) into the run directory `out`.

    probe_input: one sequence as it enters the module, (T, F), or (1, T, F) / (T, 1, F) per module.batch_first.
    probe_loss: optional, the module's output for the probe (as the module returns it, batched) -> a scalar
        tensor; it gives the gradients through time. It runs in your process with autograd on; it must not
        depend on randomness or change your model (put a head with dropout or batch norm in eval mode for it).
    probe_output: optional, the module's output -> what your model outputs for the probe, shown in the window's
        task view: per timestep (T, O) over time, anything else as numbers. Without it the task view is hidden.
    out: the run directory (default runs/<cell>-<date>-<time>). every_steps: record the probe every this many
        steps; or every_s: at most this often (default 0.1 s). history_mb: the records' size budget, 0 for none.

    Under torch.distributed only rank 0 records: on the other ranks step() and close() return at once.
    close() (or the end of a with-block) finishes the run; a script that ends without it is closed at exit.
    """

    def __init__(
        self,
        module: nn.Module,
        probe_input,
        probe_loss=None,
        out: str | os.PathLike | None = None,
        *,
        probe_output=None,
        every_steps: int | None = None,
        every_s: float | None = None,
        history_mb: float = DEFAULT_HISTORY_MB,
        name: str = "",
    ) -> None:
        self.module = _recurrent_module(module)
        self.cell = CELL_OF_MODULE[type(self.module)]
        self.probe = _probe_sequence(probe_input, self.module)  # (T, F) on the module's device, in its dtype
        self.probe_loss = _callable_or_none("probe_loss", probe_loss)
        self.probe_output = _callable_or_none("probe_output", probe_output)
        self.every_steps, self.every_s = _schedule(every_steps, every_s)
        _check_history_mb(history_mb)
        self.step_count = 0  # step() calls so far
        self.diverged_at_step: int | None = None  # the first step with a non-finite loss or gradient norm
        self.recording = _is_recording_rank()
        self.writer: RunWriter | None = None
        if not self.recording:
            return
        self._probe_extras()  # probe_loss and probe_output run once now: their errors come here, not mid-training
        run_dir = _run_directory(out, self.cell)
        config = _module_config(self.module, self.cell, len(self.probe))
        self._blocks = recurrent_gradient_blocks(self.module)  # (column name, parameter, rows)
        self.writer = RunWriter(
            run_dir,
            _prober_spec(self.module, self.cell, self.probe),
            metric_columns=METRIC_COLUMNS + tuple(name for name, _, _ in self._blocks),
            baseline_loss=None,
            baseline_name="",
            name=name,
            history_mb=history_mb,
            extra={"no_input_loss": None, "source": "lstm_viz.Recorder"},
        )
        description = {"name": name} if name else {}
        description.update(config.to_dict(), module=_module_description(self.module, self.cell), versions=versions())
        atomic_write_text(run_dir / "config.json", json.dumps(description, indent=2) + "\n")
        self.run_dir = run_dir
        self._rows: list[list[float]] = []  # metrics rows not yet written
        self._last_flush = time.perf_counter()
        self._last_record: tuple[float, int] = (-math.inf, -1)  # (time, step) of the last record asked for
        self._warned_writer_error = False
        atexit.register(self.close)  # a script that ends without close() still leaves a finished run

    # ---- from the user's loop ------------------------------------------------------------------
    def step(self, loss) -> None:
        """After loss.backward(), before the optimizer step: the loss and gradient norms of this step, and
        on schedule the probe at the weights this loss was computed with."""
        if not self.recording:
            return
        if self.writer is None:
            raise ValueError("step() after close(): this Recorder's run is finished; make a new Recorder")
        loss_value = _loss_value(loss)
        gradients = self._gradients()
        block_norms = torch.stack(torch._foreach_norm(gradients))  # (blocks,)
        norms = torch.cat([torch.linalg.vector_norm(block_norms)[None], block_norms]).tolist()  # total, blocks
        self.step_count += 1
        step = self.step_count
        self._rows.append([step, loss_value, norms[0], norms[0], 0.0, *norms[1:]])  # nothing clipped that we see
        if time.perf_counter() - self._last_flush >= METRICS_FLUSH_S:
            self._flush_rows()
        if not (math.isfinite(loss_value) and math.isfinite(norms[0])) and self.diverged_at_step is None:
            self._flag_divergence(step)
        elif self._due(step - 1):
            self._record(step - 1)
        if self.writer.error and not self._warned_writer_error:
            self._warned_writer_error = True
            warnings.warn(f"lstm_viz.Recorder: recording stopped: {self.writer.error}", RuntimeWarning, stacklevel=2)

    def close(self) -> None:
        """Record the last weights, write what is pending and mark the run finished (waits for the writer)."""
        if not self.recording or self.writer is None:
            return
        atexit.unregister(self.close)
        try:
            if self._last_record[1] != self.step_count:
                self._record(self.step_count, protected=True)
            self._flush_rows()
        finally:
            self.writer.close(wait=True)
            self.writer = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    # ---- inside -----------------------------------------------------------------------------------
    def _gradients(self) -> list[torch.Tensor]:
        """Views of the module's gradients, one per block; ValueError if a weight has none (no backward yet)."""
        for parameter_name, parameter in self.module.named_parameters():
            if parameter.grad is None:
                raise ValueError(
                    f"loss: step() needs the module's gradients, and {parameter_name} has none; call "
                    "loss.backward() before recorder.step(loss) (and keep the module's parameters trainable)"
                )
        return [parameter.grad[rows] for _, parameter, rows in self._blocks]

    def _due(self, step: int) -> bool:
        """Whether the probe at `step` is due: on the writer's stride, and every_steps or every_s after the last."""
        if not self.writer.wants(step):
            return False
        if self.every_steps is not None:
            return step % self.every_steps == 0
        return time.perf_counter() - self._last_record[0] >= self.every_s

    def _record(self, step: int, protected: bool = False) -> None:
        extras = self._probe_extras()
        weights = {name: value.detach().float() for name, value in self.module.state_dict().items()}
        self.writer.record(step, weights, protected=protected, probe_extras=extras)
        self._last_record = (time.perf_counter(), step)

    def _probe_extras(self) -> dict[str, np.ndarray]:
        """What the writer cannot compute without your code: dL/d(output) (T, D*H) and probe_loss's value; the
        probe output. The module's output comes from its weights by torch's fused kernel, without dropout."""
        if self.probe_loss is None and self.probe_output is None:
            return {}
        top_output = layer_outputs(recurrent_weights(self.module), self.probe)[-1]  # (T, D*H)
        batched = top_output[None] if self.module.batch_first else top_output[:, None]  # (1, T, D*H) / (T, 1, D*H)
        extras = {}
        if self.probe_loss is not None:
            output = batched.detach().requires_grad_(True)
            with torch.enable_grad():
                loss = _call("probe_loss", self.probe_loss, output)
                _check_scalar(loss)
                (grad_output,) = torch.autograd.grad(loss, output, allow_unused=True)  # as output
            if grad_output is None:
                raise ValueError("probe_loss must be computed from the output it is given; its value does not use it")
            extras["grad_output"] = _float32(grad_output.reshape(len(self.probe), -1))  # (T, D*H)
            extras["probe_loss"] = np.float64(loss.detach().cpu())
        if self.probe_output is not None:
            with torch.no_grad():
                value = _call("probe_output", self.probe_output, batched)
            extras["probe_output"] = _output_array(value, self.module.batch_first)
        return extras

    def _flush_rows(self) -> None:
        if self._rows:
            table = np.array(self._rows, dtype=np.float64)  # (rows, columns)
            self.writer.append_rows(dict(zip(self.writer.metric_columns, table.T)))
            self._rows = []
        self._last_flush = time.perf_counter()

    def _flag_divergence(self, step: int) -> None:
        """The first non-finite step: an event in the run, the weights that made it, and a warning."""
        self.diverged_at_step = step
        self._flush_rows()
        self.writer.event(step, "diverged", "non-finite loss or gradient norm, recorded as such")
        self._record(step - 1, protected=True)
        warnings.warn(
            f"lstm_viz.Recorder: step {step} has a non-finite loss or gradient norm; it is recorded as such "
            f"(the run in {self.run_dir} marks it)",
            RuntimeWarning,
            stacklevel=3,
        )


# ---- the writer process's side ------------------------------------------------------------------
def make_module_prober(spec: dict):
    """(step, weights, settings, extras) -> (Trace, task view) for a Recorder's run: a CPU float32 copy of the
    module's shape takes each record's weights; extras carry dL/d(output), the probe loss and the probe output."""
    module = _build_module(spec)
    probe = torch.from_numpy(spec["probe_input"])  # (T, F)

    def probe_module(step: int, weights: dict, settings, extras: dict) -> tuple[Trace, dict]:
        module.load_state_dict(weights)
        return module_trace(module, probe, extras), {}

    return probe_module


def module_trace(module: nn.Module, probe: torch.Tensor, extras: dict) -> Trace:
    """Every gate and state of `module` on `probe` (T, F) and, given extras["grad_output"] (T, D*H), the
    gradients through time; non-finite values come out as such."""
    weights = recurrent_weights(module)
    outputs = [output.numpy() for output in layer_outputs(weights, probe)]  # each (T, D*H)
    grad_output = extras.get("grad_output")  # (T, D*H) or None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        quantities = reconstruct(weights, probe.numpy(), outputs, grad_output)
    no_values = np.zeros(0, np.float32)
    return Trace(
        cell=weights.cell,
        nonlinearity=weights.nonlinearity,
        quantities=quantities,
        lstm_input=frozen_array(probe),
        grad_output=frozen_array(grad_output if grad_output is not None else np.zeros((len(probe), 0), np.float32)),
        probe_input=frozen_array(probe),
        probe_target=frozen_array(no_values),
        probe_output=frozen_array(extras.get("probe_output", no_values)),
        loss=float(extras.get("probe_loss", math.nan)),
    )


def _build_module(spec: dict) -> nn.Module:
    settings = dict(
        input_size=spec["input_size"],
        hidden_size=spec["hidden_size"],
        num_layers=spec["num_layers"],
        bias=spec["bias"],
        bidirectional=spec["bidirectional"],
    )
    if spec["cell"] == "rnn":
        settings["nonlinearity"] = spec["nonlinearity"]
    return {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[spec["cell"]](**settings)


def _prober_spec(module: nn.RNNBase, cell: str, probe: torch.Tensor) -> dict:
    return {
        "kind": "module",
        "cell": cell,
        "input_size": module.input_size,
        "hidden_size": module.hidden_size,
        "num_layers": module.num_layers,
        "bias": module.bias,
        "bidirectional": module.bidirectional,
        "nonlinearity": getattr(module, "nonlinearity", "tanh"),
        "probe_input": _float32(probe),  # (T, F)
    }


# ---- what the run directory says about the module -------------------------------------------------
def _module_config(module: nn.RNNBase, cell: str, length: int) -> RunConfig:
    """The module as a RunConfig of the task "own", so that the window's panels read its shape as a run's."""
    try:
        return RunConfig(
            task=OWN_TASK,
            cell=cell,
            hidden=module.hidden_size,
            layers=module.num_layers,
            bidirectional=module.bidirectional,
            seq_len=length,
        )
    except ConfigError as error:
        raise ValueError(f"module: {error}, the most lstm_viz shows") from None


def _module_description(module: nn.RNNBase, cell: str) -> dict:
    description = {
        "type": MODULE_NAMES[cell],
        "input_size": module.input_size,
        "hidden_size": module.hidden_size,
        "num_layers": module.num_layers,
        "bidirectional": module.bidirectional,
        "batch_first": module.batch_first,
        "bias": module.bias,
        "dropout": module.dropout,
        "dtype": str(module.weight_hh_l0.dtype).removeprefix("torch."),
        "device": str(module.weight_hh_l0.device),
    }
    if cell == "rnn":
        description["nonlinearity"] = module.nonlinearity
    return description


# ---- checking what the user gives -------------------------------------------------------------------
def _recurrent_module(module) -> nn.RNNBase:
    """The nn.LSTM / GRU / RNN itself (out of a DataParallel / DistributedDataParallel); TypeError or ValueError
    for anything it cannot record exactly."""
    if isinstance(module, WRAPPERS):
        module = module.module
    if type(module) not in CELL_OF_MODULE:
        what = type(module).__name__
        if isinstance(module, tuple(CELL_OF_MODULE)):
            what += " (a subclass, whose forward may compute something else; pass the torch module itself)"
        raise TypeError(f"module must be an nn.LSTM, nn.GRU or nn.RNN (wrapped in DataParallel or not), got {what}")
    if getattr(module, "proj_size", 0):
        raise ValueError(
            f"module: nn.LSTM with proj_size={module.proj_size} is not supported (its projected hidden state is "
            "not reconstructed); record an nn.LSTM without proj_size"
        )
    dtype = module.weight_hh_l0.dtype
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"module: its weights must be float32 or float64 to be recorded exactly, got {dtype}")
    return module


def _probe_sequence(probe_input, module: nn.RNNBase) -> torch.Tensor:
    """The probe as (T, F) on the module's device and in its dtype; TypeError / ValueError for anything else."""
    if isinstance(probe_input, np.ndarray):
        probe_input = torch.from_numpy(probe_input)
    if not isinstance(probe_input, torch.Tensor):
        raise TypeError(f"probe_input must be a tensor holding one sequence, got {type(probe_input).__name__}")
    if not probe_input.is_floating_point():
        raise TypeError(f"probe_input must hold floating-point values, as the module's input, got {probe_input.dtype}")
    batch_axis = 0 if module.batch_first else 1
    expected = f"(T, F) or {'(1, T, F)' if module.batch_first else '(T, 1, F)'} (batch_first={module.batch_first})"
    shape = tuple(probe_input.shape)
    if probe_input.ndim == 3 and shape[batch_axis] == 1:
        probe_input = probe_input.select(batch_axis, 0)  # (T, F)
    elif probe_input.ndim != 2:
        raise ValueError(f"probe_input must be one sequence, {expected}; got shape {shape}")
    length, features = probe_input.shape
    if features != module.input_size:
        raise ValueError(
            f"probe_input must have the module's input_size={module.input_size} features per step, {expected}; "
            f"got shape {shape}"
        )
    if not 1 <= length <= MAX_SEQ_LEN:
        raise ValueError(f"probe_input must have 1 to {MAX_SEQ_LEN} timesteps, got {length}")
    if not bool(torch.isfinite(probe_input).all()):
        raise ValueError("probe_input must hold finite values; it has NaN or infinity")
    weight = module.weight_hh_l0
    return probe_input.detach().to(weight.device, weight.dtype).contiguous()


def _callable_or_none(name: str, function):
    if function is not None and not callable(function):
        raise TypeError(f"{name} must be a function of the module's output, or None; got {type(function).__name__}")
    return function


def _schedule(every_steps, every_s) -> tuple[int | None, float | None]:
    if every_steps is not None and every_s is not None:
        raise ValueError("give every_steps or every_s, not both")
    if every_steps is not None:
        if isinstance(every_steps, bool) or not isinstance(every_steps, int):
            raise TypeError(f"every_steps must be a whole number of steps, got {type(every_steps).__name__}")
        if every_steps < 1:
            raise ValueError(f"every_steps must be at least 1, got {every_steps}")
        return every_steps, None
    every_s = DEFAULT_EVERY_S if every_s is None else every_s
    if isinstance(every_s, bool) or not isinstance(every_s, (int, float)):
        raise TypeError(f"every_s must be a number of seconds, got {type(every_s).__name__}")
    if not 0 <= every_s < math.inf:
        raise ValueError(f"every_s must be 0 (every step) or a positive number of seconds, got {every_s}")
    return None, float(every_s)


def _check_history_mb(history_mb) -> None:
    if isinstance(history_mb, bool) or not isinstance(history_mb, (int, float)):
        raise TypeError(f"history_mb must be a number of megabytes, got {type(history_mb).__name__}")
    if not 0 <= history_mb < 1e9:
        raise ValueError(f"history_mb must be 0 (no probe records) or a positive number of megabytes, got {history_mb}")


def _run_directory(out, cell: str) -> Path:
    """`out`, created if needed; ValueError if it cannot be written to."""
    if out is None:
        out = new_run_dir("runs", cell)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be the path of a run directory, got {type(out).__name__}")
    path = Path(out).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        trial = path / f".lstm_viz-can-write-{os.getpid()}"
        trial.write_bytes(b"")
        trial.unlink()
    except OSError as error:
        raise ValueError(f"out must be a directory you can write to; '{path}': {error.strerror or error}") from None
    return path


def _is_recording_rank() -> bool:
    """Rank 0 of torch.distributed, or a process outside it."""
    distributed = torch.distributed
    return not (distributed.is_available() and distributed.is_initialized()) or distributed.get_rank() == 0


def _loss_value(loss) -> float:
    if isinstance(loss, torch.Tensor):
        if loss.numel() != 1:
            raise ValueError(f"loss must be a scalar (one number), got a tensor of shape {tuple(loss.shape)}")
        return float(loss.detach())
    if isinstance(loss, bool) or not isinstance(loss, (int, float)):
        raise TypeError(f"loss must be the step's loss, a scalar tensor or a number; got {type(loss).__name__}")
    return float(loss)


def _call(name: str, function, output: torch.Tensor):
    """function(output); ValueError, in one line, if it raises."""
    try:
        return function(output)
    except Exception as error:  # the user's code: any error, said in one line
        message = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {message[0][:200]}" if message else type(error).__name__
        shape = tuple(output.shape)
        raise ValueError(f"{name} raised {reason} (called with the module's output for the probe, {shape})") from None


def _check_scalar(loss) -> None:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or not loss.is_floating_point():
        got = f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise TypeError(f"probe_loss must return a scalar tensor (one floating-point number), got {got}")
    if not loss.requires_grad:
        raise ValueError("probe_loss must be computed from the output it is given; its value does not use it")


def _output_array(value, batch_first: bool) -> np.ndarray:
    """probe_output's value as float32 numpy, without its batch axis of 1: (T, O) per timestep, or (O,)."""
    try:
        array = value.detach().cpu().double().numpy() if isinstance(value, torch.Tensor) else np.asarray(value, float)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"probe_output must return a tensor or array of numbers, got {type(value).__name__}") from None
    if array.ndim == 3 and array.shape[0 if batch_first else 1] == 1:
        array = array[0] if batch_first else array[:, 0]  # (T, O)
    elif array.ndim == 2 and array.shape[0] == 1:
        array = array[0]  # (O,): one output for the sequence
    return array.astype(np.float32).reshape(array.shape or (1,))


def _float32(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().to(torch.float32).numpy()
