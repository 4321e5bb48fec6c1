"""The immutable objects that leave the trainer: Trace (one probe) and Snapshot.

Every array is a read-only numpy copy, never a view of a live tensor, so a
Snapshot can cross from the training thread to the GUI thread as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lstm_viz.core.config import RunConfig
from lstm_viz.core.curves import EnvelopeView

# Per-timestep quantities each cell type has, in display order.
STATE_NAMES = {
    "lstm": ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell", "hidden"),
    "gru": ("reset_gate", "update_gate", "candidate", "hidden"),
    "rnn": ("hidden",),
}
GRADIENT_NAMES = {"lstm": ("grad_hidden", "grad_cell"), "gru": ("grad_hidden",), "rnn": ("grad_hidden",)}


def frozen_array(values) -> np.ndarray:
    """A read-only numpy copy of a tensor or array."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.array(values, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Trace:
    """Exact per-timestep internals of the model on the probe sequence.

    `quantities` maps names from STATE_NAMES / GRADIENT_NAMES to arrays shaped
    (layers, directions, T, H). Time runs forward for both directions.
    """

    cell: str
    quantities: dict[str, np.ndarray]
    lstm_input: np.ndarray  # (T, F) what enters layer 0 of the recurrent core
    grad_output: np.ndarray  # (T, D*H) direct dL/d(top-layer output_t)
    probe_input: np.ndarray  # task terms, batch dimension removed
    probe_target: np.ndarray
    probe_output: np.ndarray  # (T, O)
    loss: float
    labels: tuple[str, ...] | None = None
    nonlinearity: str = "tanh"  # a vanilla RNN's: tanh, or relu for nn.RNN(nonlinearity="relu")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.quantities[name]

    @property
    def names(self) -> tuple[str, ...]:
        return STATE_NAMES[self.cell] + GRADIENT_NAMES[self.cell]

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as named arrays, the layout of trace.npz."""
        return {
            **self.quantities,
            "lstm_input": self.lstm_input,
            "grad_output": self.grad_output,
            "probe_input": self.probe_input,
            "probe_target": self.probe_target,
            "probe_output": self.probe_output,
        }


@dataclass(frozen=True)
class Snapshot:
    """What the GUI draws: the state of a run at one step."""

    step: int
    config: RunConfig
    metrics: dict[str, np.ndarray]  # column -> (steps,), see trainer.METRIC_COLUMNS + block names
    block_names: tuple[str, ...]
    baseline_loss: float
    baseline_name: str
    steps_per_s: float
    trace: Trace | None = None
    view: dict = field(default_factory=dict)  # task-specific extras (rollout, samples...)
    diverged_at_step: int | None = None
    message: str = ""  # for the user: an error or a notice from the last command
    commands_done: int = 0  # user commands the worker has run so far: tells the GUI which requests this shows
    running: bool = False  # the worker is training continuously
    run_dir: str = ""  # the run directory this run is recorded in ("" if none): its history, for scrubbing
    no_input_loss: float | None = None  # the task's second reference line ("no input"), if it has one
    # The steps before metrics' first row (a long run keeps its newest steps at full detail): their min-max envelope.
    metrics_envelope: EnvelopeView | None = None
