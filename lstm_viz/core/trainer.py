"""Trainer: one optimisation step at a time on the fused model, with clipping and
divergence detection, recording metrics and handing out immutable snapshots.

Qt-free and deterministic for a given seed: model init, batches and samples each
draw from their own seeded generator.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from lstm_viz.core.config import Clip, ConfigError, RunConfig
from lstm_viz.core.curves import MetricsLog
from lstm_viz.core.internals import probe_trace, recurrent_weights
from lstm_viz.core.models import GATE_NAMES, build_model
from lstm_viz.core.snapshot import Snapshot, Trace, frozen_array
from lstm_viz.core.tasks import Task, make_task

if TYPE_CHECKING:
    from lstm_viz.core.history import RunWriter

METRIC_COLUMNS = ("step", "loss", "grad_norm", "grad_norm_clipped", "clipped")
VIEW_INTERVAL_S = 0.5  # rollouts and samples cost more than the probe and change slowly
# A task with held-out figures (Task.metric_columns: digits' test accuracy) is evaluated on step 1 and every this
# many steps: by steps, not seconds, so that metrics.csv is the same for the same seed (~3% of a digits run's time).
EVALUATE_EVERY_STEPS = 50
DEVICES = ("auto", "cpu", "cuda")
LIVE_SETTINGS = ("clip", "lr", "momentum", "temperature", "probe_text", "steps")  # applied without a new model
PROBE_TEXT_IN_EVENT = 40  # characters of a new probe text that events.csv names (the record has all of it)
CHECKPOINT_FORMAT = "lstm_viz-checkpoint-1"
ARCHITECTURE_SETTINGS = ("task", "text", "cell", "hidden", "layers", "bidirectional", "optimizer")
OPTIMIZERS = {
    "sgd": lambda params, config, **fused: torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, **fused),
    "adam": lambda params, config, **fused: torch.optim.Adam(params, lr=config.lr, **fused),
    "rmsprop": lambda params, config: torch.optim.RMSprop(params, lr=config.lr),  # torch has no fused RMSprop
    "adagrad": lambda params, config, **fused: torch.optim.Adagrad(params, lr=config.lr, **fused),
}
# torch's fused kernels (torch >= 2.4 on the CPU) update every parameter in one call, where its default loops over
# them in Python (Adam at sine H=64: 58 us a step instead of 190, of a ~3.8 ms step); the same update up to float32
# rounding. Adagrad's would run on CUDA too, but is left to torch's default there (untested without a GPU).
FUSED_OPTIMIZERS = {"cpu": ("sgd", "adam", "adagrad"), "cuda": ("sgd", "adam")}


def optimizer_settings(config: RunConfig) -> dict:
    """The optimizer group settings that follow the config live: lr, and momentum for SGD only
    (RMSprop's groups have a momentum of their own, 0, which must stay 0)."""
    return {"lr": config.lr, "momentum": config.momentum} if config.optimizer == "sgd" else {"lr": config.lr}


@dataclass(frozen=True)
class StepResult:
    step: int
    loss: float
    grad_norm: float
    grad_norm_clipped: float
    clipped: bool
    diverged: bool


def needs_new_model(old: RunConfig, new: RunConfig) -> bool:
    """True if going from `old` to `new` changes more than the live settings."""
    return old.replace(**{name: getattr(new, name) for name in LIVE_SETTINGS}) != new


def resolve_device(name: str) -> torch.device:
    """--device: "auto" (CUDA when torch sees a GPU, else the CPU), "cpu" or "cuda"; ConfigError for cuda when torch
    sees no GPU."""
    if name not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}, got '{name}'")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: torch sees no CUDA GPU here (a CPU build, or no driver); use --device cpu")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


_training_device = torch.device("cpu")  # where Trainers train unless told: the CLI's --device sets it


def set_training_device(name: str) -> torch.device:
    """Train every Trainer made from now on in this process on `name` (see resolve_device); the device."""
    global _training_device
    _training_device = resolve_device(name)
    return _training_device


class Trainer:
    """Trains on `device` (default: the process's, see set_training_device). The model is initialised on the CPU,
    and batches are drawn there, so a run is the same run on any device; everything else, the probe, the task
    view, evaluation, checkpoints and records, works on a CPU copy of the weights (cpu_model)."""

    def __init__(self, config: RunConfig, task: Task | None = None, device: str | torch.device | None = None) -> None:
        self.config = config
        self.task = task if task is not None else make_task(config)
        self.device = torch.device(device) if device is not None else _training_device
        self._cpu_model = build_model(config, self.task)
        # On the CPU, the model trained is the model probed; elsewhere a copy, refreshed by cpu_model().
        self.model = self._cpu_model if self.device.type == "cpu" else build_model(config, self.task).to(self.device)
        self._optimizer: torch.optim.Optimizer | None = None  # built on first use, see `optimizer`
        self.batch_generator = torch.Generator().manual_seed(config.seed)
        self.sample_generator = torch.Generator().manual_seed(config.seed + 1)
        self.step_count = 0
        self.diverged_at_step: int | None = None
        self.parameters = [p for p in self.model.parameters()]
        # Every parameter's gradient is a view of one flat buffer, zeroed in one call, and the weights are copied
        # whole into one: a handful of torch calls a step, however many parameters (each call costs microseconds).
        self._gradients = torch.zeros(sum(p.numel() for p in self.parameters), device=self.device)  # (N,)
        for parameter, gradient in zip(self.parameters, self._flat_views(self._gradients), strict=True):
            parameter.grad = gradient
        # The weights after the last finite step, and where a step's new weights are checked: each (N,) and its
        # views shaped as the parameters; they swap roles after every finite step.
        self._last_finite, self._new_weights = self._weights_buffer(), self._weights_buffer()
        self.block_names, self._grad_blocks = self._gradient_blocks()
        # The task's own figures (NaN on steps not evaluated) come after the fixed columns, before the blocks.
        self.metrics = MetricsLog(METRIC_COLUMNS + self.task.metric_columns + self.block_names)
        self._evaluation: dict = {}  # the task's last evaluate(), with "evaluated_at_step": for the task view
        self._started = time.perf_counter()
        self._rate_window: deque[tuple[float, int]] = deque(maxlen=4096)
        self._view: dict = {}
        self._view_time = -float("inf")
        self._probe_model = None  # snapshot_later's copy of the model, on the CPU
        self.run_writer: RunWriter | None = None  # set by record_to(): the run directory this run is written to

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """Built on first use: torch's first optimizer imports torch._dynamo (~2 s here),
        which would otherwise delay the window's first frame."""
        if self._optimizer is None:
            name = self.config.optimizer
            fused = {"fused": True} if name in FUSED_OPTIMIZERS.get(self.device.type, ()) else {}
            self._optimizer = OPTIMIZERS[name](self.parameters, self.config, **fused)
        return self._optimizer

    # ---- settings ------------------------------------------------------------------
    def apply(self, config: RunConfig) -> None:
        """Apply live settings (clip, lr, momentum, temperature, probe_text, steps) from the next step; ConfigError,
        and nothing applied, for a probe text the task refuses."""
        if needs_new_model(self.config, config):
            raise ConfigError("this change needs a new model: build a new Trainer (Reset)")
        changes = [
            _change(name, getattr(self.config, name), getattr(config, name))
            for name in LIVE_SETTINGS
            if name != "steps" and getattr(self.config, name) != getattr(config, name)
        ]
        if config.probe_text != self.config.probe_text:
            self.task.set_probe_text(config.probe_text)
        self.config = config
        if changes:
            self.mark_event("change", ", ".join(changes))
        for group in self._optimizer.param_groups if self._optimizer is not None else []:
            group.update(optimizer_settings(config))

    def set_clip(self, clip: Clip | str) -> None:
        self.apply(self.config.replace(clip=clip if isinstance(clip, Clip) else Clip.parse(clip)))

    # ---- training ------------------------------------------------------------------
    def step(self) -> StepResult:
        """One optimisation step; a non-finite loss, gradient or update is not applied."""
        self._gradients.zero_()
        try:
            inputs, targets = self.task.make_batch(self.config.batch, self.batch_generator)
            if self.device.type != "cpu":
                inputs, targets = inputs.to(self.device), targets.to(self.device)
            outputs, _ = self.model(inputs)  # (B, T, O)
            loss = self.task.loss(outputs, targets)
            loss.backward()
        except (MemoryError, RuntimeError) as error:
            if not isinstance(error, MemoryError) and "allocate" not in str(error):  # torch: "can't allocate memory"
                raise
            config = self.config
            raise ConfigError(
                f"not enough memory for a step of batch {config.batch} x seq_len {config.seq_len} x hidden "
                f"{config.hidden} x layers {config.layers}; lower batch, seq_len or hidden"
            ) from None
        with torch.no_grad():
            block_norms = torch.stack(torch._foreach_norm(self._grad_blocks))  # (blocks,) before clipping
            # A NaN or inf anywhere in the gradients makes its block's norm, and so the global norm, NaN or inf.
            grad_norm = float(torch.linalg.vector_norm(block_norms))
        loss_value = float(loss.detach())
        finite = math.isfinite(loss_value) and math.isfinite(grad_norm)
        grad_norm_clipped, clipped = grad_norm, False
        if finite:
            grad_norm_clipped, clipped = self._clip(grad_norm)
            self.optimizer.step()
            new_weights, new_weight_views = self._new_weights  # (N,) and views of it
            with torch.no_grad():
                torch._foreach_copy_(new_weight_views, self.parameters)
            # A NaN or inf anywhere makes the sum so (and only finite weights beyond ~1e33 overflow it).
            finite = math.isfinite(float(new_weights.sum()))
            if finite:
                self._new_weights, self._last_finite = self._last_finite, self._new_weights
            else:  # the update overflowed: put the last finite weights back
                with torch.no_grad():
                    torch._foreach_copy_(self.parameters, self._last_finite[1])
        self.step_count += 1
        if not finite and self.diverged_at_step is None:
            self.diverged_at_step = self.step_count
        task_figures = [float("nan")] * len(self.task.metric_columns)
        if task_figures and (self.step_count == 1 or self.step_count % EVALUATE_EVERY_STEPS == 0):
            evaluation = self.evaluate()
            task_figures = [float(evaluation[name]) for name in self.task.metric_columns]
        self.metrics.append(
            [self.step_count, loss_value, grad_norm, grad_norm_clipped, float(clipped), *task_figures]
            + block_norms.tolist()
        )
        self._rate_window.append((time.perf_counter(), self.step_count))
        if self.run_writer is not None:
            self.run_writer.append_metrics(self.metrics)
            if not finite and self.diverged_at_step == self.step_count:
                self.mark_event("diverged", "non-finite loss or gradient; the last finite weights are kept")
            elif self.run_writer.wants(self.step_count):
                self.run_writer.record(self.step_count, self.model.state_dict(), self.config)
        return StepResult(self.step_count, loss_value, grad_norm, grad_norm_clipped, clipped, not finite)

    def _clip(self, grad_norm: float) -> tuple[float, bool]:
        clip, gradients = self.config.clip, self._gradients  # (N,) every gradient
        if clip.mode == "norm" and grad_norm > clip.threshold:
            gradients.mul_(clip.threshold / grad_norm)
            return float(torch.linalg.vector_norm(gradients)), True
        if clip.mode == "value" and float(gradients.abs().max()) > clip.threshold:
            gradients.clamp_(-clip.threshold, clip.threshold)
            return float(torch.linalg.vector_norm(gradients)), True
        return grad_norm, False

    def _flat_views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Views of `flat` (N,) shaped as the parameters, end to end in their order."""
        return [view.view_as(p) for view, p in zip(flat.split([p.numel() for p in self.parameters]), self.parameters)]

    def _weights_buffer(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """A copy of every weight now, end to end in the parameters' order (N,), and its views shaped as them."""
        flat = torch.cat([p.detach().reshape(-1) for p in self.parameters])  # (N,)
        return flat, self._flat_views(flat)

    def _gradient_blocks(self) -> tuple[tuple[str, ...], list[torch.Tensor]]:
        """Views of the gradients that partition them: W_ih / W_hh rows per gate, biases, head."""
        blocks = recurrent_gradient_blocks(self.model)
        names = tuple(name for name, _, _ in blocks) + ("head.weight", "head.bias")
        head = self.model.head
        return names, [parameter.grad[rows] for _, parameter, rows in blocks] + [head.weight.grad, head.bias.grad]

    def evaluate(self) -> dict:
        """The task's held-out figures of the model now (Task.evaluate), kept for the task view; {} for a task
        without them."""
        if not self.task.metric_columns:
            return {}
        with torch.no_grad():
            self._evaluation = {**self.task.evaluate(self.cpu_model()), "evaluated_at_step": self.step_count}
        return self._evaluation

    # ---- the run directory ---------------------------------------------------------
    def record_to(self, run_dir, history_mb: float | None = None, name: str = "", event: str = "") -> RunWriter:
        """Write this run from now on into `run_dir`: config, metrics, events and the history of records.
        A run that does not start at step 0 (resumed, loaded, forked) records where it starts, as `event`
        ("kind: text"). history_mb: the size budget of the records (default DEFAULT_HISTORY_MB), 0 for none."""
        from lstm_viz.core.history import DEFAULT_HISTORY_MB, RunWriter  # history writes through runs, which imports us

        if self.run_writer is not None:
            self.run_writer.close()
        self.run_writer = RunWriter(
            run_dir,
            {"kind": "trainer", "config": self.config.to_dict()},
            metric_columns=self.metrics.columns,
            baseline_loss=float(self.task.baseline_loss),
            baseline_name=self.task.baseline_name,
            config=self.config,
            name=name,
            history_mb=DEFAULT_HISTORY_MB if history_mb is None else history_mb,
            extra={"no_input_loss": _float_or_none(self.task.no_input_loss)},  # the loss plot's second line, if any
            metrics=self.metrics,  # the rows so far of a run that does not start at step 0
        )
        if event:
            self.mark_event(*event.split(":", 1) if ":" in event else (event, ""))
        return self.run_writer

    def mark_event(self, kind: str, text: str = "") -> None:
        """Note an event at the current step in the run directory, with a record of the weights now."""
        if self.run_writer is None:
            return
        self.run_writer.append_metrics(self.metrics, force=True)
        self.run_writer.event(self.step_count, kind, text)
        self.run_writer.record(self.step_count, self.model.state_dict(), self.config, protected=True)

    def finish_recording(self, wait: bool = True) -> None:
        """Record the last step and close the run directory; wait: until every record is written."""
        if self.run_writer is None:
            return
        self.run_writer.append_metrics(self.metrics, force=True)
        self.run_writer.record(self.step_count, self.model.state_dict(), self.config, protected=True)
        self.run_writer.close(wait)
        self.run_writer = None

    # ---- what leaves the trainer ---------------------------------------------------
    def cpu_model(self):
        """The model with the weights of now on the CPU: the model itself when it trains there, else its copy."""
        if self._cpu_model is not self.model:
            self._cpu_model.load_state_dict(self.model.state_dict())
        return self._cpu_model

    def probe(self) -> Trace:
        """The probe of the model now (internals.probe_trace on the CPU weights)."""
        return probe_trace(self.cpu_model(), self.task)

    @property
    def steps_per_s(self) -> float:
        """Rate over the last ~2 seconds of stepping."""
        now = time.perf_counter()
        recent = [(t, s) for t, s in self._rate_window if now - t < 2.0]
        if len(recent) < 2:
            return 0.0
        (first_time, first_step), (last_time, last_step) = recent[0], recent[-1]
        return (last_step - first_step) / max(last_time - first_time, 1e-9)

    def snapshot(self, with_trace: bool = True, with_view: bool = True, message: str = "") -> Snapshot:
        """The current state; the task view (rollout, samples) is refreshed at most every VIEW_INTERVAL_S."""
        return self.snapshot_later(with_trace, with_view, message)()

    def snapshot_later(
        self, with_trace: bool = True, with_view: bool = True, message: str = ""
    ) -> Callable[..., Snapshot]:
        """snapshot() in two halves. Now, between steps, what stepping changes: the metrics and a copy of the
        weights. The function returned, finish(with_trace=with_trace), probes that copy and refreshes the task
        view: it may run on another thread while this one trains, one call at a time (the probe's model, the view
        and the sample generator are its alone). finish(with_trace=False) gives the snapshot without the probe."""
        if with_trace and with_view and self.task.metric_columns and not self._evaluation:
            self.evaluate()  # before the first step, or after new weights: nothing to show yet
        evaluation = {key: frozen_array(v) if isinstance(v, np.ndarray) else v for key, v in self._evaluation.items()}
        weights = [parameter.detach().to("cpu", copy=True) for parameter in self.parameters] if with_trace else []
        if with_trace and self._probe_model is None:
            self._probe_model = build_model(self.config, self.task)  # the weights' copy goes in here
        bare = Snapshot(
            step=self.step_count,
            config=self.config,
            metrics=self.metrics.as_columns(),
            metrics_envelope=self.metrics.envelope(),
            block_names=self.block_names,
            baseline_loss=float(self.task.baseline_loss),
            baseline_name=self.task.baseline_name,
            no_input_loss=self.task.no_input_loss,
            steps_per_s=self.steps_per_s,
            trace=None,
            view=evaluation,
            diverged_at_step=self.diverged_at_step,
            message=message,
        )

        def finish(with_trace: bool = with_trace) -> Snapshot:
            if not with_trace:
                return dataclasses.replace(bare, view={**self._view, **evaluation})
            model = self._probe_model
            with torch.no_grad():
                torch._foreach_copy_(list(model.parameters()), weights)
            trace = probe_trace(model, self.task)
            if with_view and time.perf_counter() - self._view_time >= VIEW_INTERVAL_S:
                with torch.no_grad():
                    probe_outputs = torch.from_numpy(np.array(trace.probe_output))[None]  # (1, T, O)
                    view = self.task.view(model, probe_outputs, self.config.temperature, self.sample_generator)
                self._view = {key: frozen_array(v) if isinstance(v, np.ndarray) else v for key, v in view.items()}
                self._view_time = time.perf_counter()
            return dataclasses.replace(bare, trace=trace, view={**self._view, **evaluation})

        return finish

    # ---- checkpoints ---------------------------------------------------------------
    def checkpoint(self) -> dict:
        """A consistent weights / optimizer / step / RNG state; loads with weights_only=True."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "step": self.step_count,
            "model": _clone(self.model.state_dict()),  # on the CPU, whatever the device: loads anywhere
            "optimizer": _clone(self.optimizer.state_dict()),
            "batch_generator": self.batch_generator.get_state(),
            "sample_generator": self.sample_generator.get_state(),
            "metrics": {name: torch.from_numpy(values.copy()) for name, values in self.metrics.as_columns().items()},
            "diverged_at_step": self.diverged_at_step,
        }

    def load_checkpoint(self, checkpoint: dict) -> None:
        """Continue from `checkpoint`; ConfigError if it is not one of this architecture."""
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError("this file is not an lstm_viz checkpoint; save one with lstm-viz train or File > Save")
        saved = RunConfig.from_dict(checkpoint["config"], source="checkpoint config")
        differences = architecture_differences(saved, self.config)
        if differences:
            raise ConfigError("checkpoint is from a different model: " + differences)
        self.load_weights(checkpoint["model"], int(checkpoint["step"]))
        # The saved state (moments, step counts) under the settings this config builds, not the saved ones:
        # a checkpoint saved with a wrong setting (older versions gave RMSprop SGD's momentum) cannot bring it back.
        groups = self.optimizer.state_dict()["param_groups"]
        self.optimizer.load_state_dict({"state": checkpoint["optimizer"]["state"], "param_groups": groups})
        self.apply(self.config)  # the config's lr / clip win over the saved optimizer's
        self.batch_generator.set_state(checkpoint["batch_generator"])
        self.sample_generator.set_state(checkpoint["sample_generator"])
        self.diverged_at_step = checkpoint.get("diverged_at_step")
        self.metrics.load_columns({name: values.numpy() for name, values in checkpoint["metrics"].items()})

    def load_weights(self, state_dict: dict, step: int, metrics: dict | None = None) -> None:
        """Continue from these weights as step `step` (with these metrics columns of the steps before)."""
        self.model.load_state_dict(state_dict)
        with torch.no_grad():
            torch._foreach_copy_(self._last_finite[1], self.parameters)
        self.step_count = step
        self._evaluation = {}  # of the weights before
        if metrics is not None:
            self.metrics.load_columns(metrics)


def _change(name: str, old, new) -> str:
    """'lr 0.01 → 0.001' for events.csv; a probe text quoted, shortened, "" as the text's own."""
    if name != "probe_text":
        return f"{name} {old} → {new}"

    def quoted(text: str) -> str:
        if not text:
            return "the text's own"
        shown = text if len(text) <= PROBE_TEXT_IN_EVENT else text[: PROBE_TEXT_IN_EVENT - 1] + "…"
        return repr(shown)

    return f"probe_text {quoted(old)} → {quoted(new)}"


def recurrent_gradient_blocks(module) -> list[tuple[str, torch.nn.Parameter, slice]]:
    """How metrics.csv's per-block gradient norms partition the weights of a recurrent module (an nn.LSTM / GRU /
    RNN, or the app's stack of them): (column name, parameter, its rows) per block. Per layer k and direction
    (lk, lkr): the rows of W_ih and of W_hh of each gate (lk.W_ih.i ...), then the biases it has (lk.b_ih, lk.b_hh)."""
    weights = recurrent_weights(module)
    gates, hidden = GATE_NAMES[weights.cell], weights.hidden_size
    blocks = []
    for index, layer in enumerate(weights.layers):
        for direction, parameters in enumerate(layer):
            prefix = f"l{index}{'r' if direction else ''}"
            for kind in ("ih", "hh"):
                for number, gate in enumerate(gates):  # weight (G*H, F): gate `number` owns H rows
                    rows = slice(number * hidden, (number + 1) * hidden)
                    blocks.append((f"{prefix}.W_{kind}.{gate}", parameters[f"weight_{kind}"], rows))
            for kind in ("ih", "hh"):
                bias = parameters[f"bias_{kind}"]
                if isinstance(bias, torch.nn.Parameter):  # bias=False: recurrent_weights gives zeros, not parameters
                    blocks.append((f"{prefix}.b_{kind}", bias, slice(None)))
    return blocks


def make_prober(spec: dict):
    """(step, weights, settings) -> (Trace, task view) of a model built from `spec` ({"kind": "trainer",
    "config": RunConfig.to_dict()}): what the history's writer process records. The view's samples draw
    from a generator seeded by the step, so a record is the same whenever it is made. A spec of kind
    "module" is a Recorder's (see core.recorder.make_module_prober)."""
    if spec["kind"] == "module":
        from lstm_viz.core.recorder import make_module_prober  # only the writer of a Recorder's run needs it

        return make_module_prober(spec)
    config = RunConfig.from_dict(spec["config"])
    task = make_task(config)
    model = build_model(config, task)

    def probe(step: int, weights: dict, settings: RunConfig | None, extras: dict) -> tuple[Trace, dict]:
        model.load_state_dict(weights)
        task.set_probe_text((settings or config).probe_text)  # the probe that was live at this step
        trace = probe_trace(model, task)
        generator = torch.Generator().manual_seed((config.seed + step) % 2**63)
        with torch.no_grad():
            probe_outputs = torch.from_numpy(np.array(trace.probe_output))[None]  # (1, T, O)
            view = task.view(model, probe_outputs, (settings or config).temperature, generator)
            if task.metric_columns:  # what the live view shows of the evaluation, for these weights
                view.update(task.evaluate(model), evaluated_at_step=step)
        return trace, view

    return probe


def _float_or_none(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def architecture_differences(saved: RunConfig, current: RunConfig, current_is: str = "this run") -> str:
    """"cell 'gru' (this run: 'lstm'), hidden 5 (this run: 16)": the settings that make a checkpoint
    of `saved` unloadable into a model of `current`; "" when there are none. The text counts only
    between two character models: other tasks have none (their config's text is an unused default)."""
    return ", ".join(
        f"{name} {getattr(saved, name)!r} ({current_is}: {getattr(current, name)!r})"
        for name in ARCHITECTURE_SETTINGS
        if getattr(saved, name) != getattr(current, name) and (name != "text" or saved.task == current.task == "chars")
    )


def _clone(value):
    """A deep copy, every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value
