"""What every task provides to the trainer, the probe and the views."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch

from lstm_viz.core.config import ConfigError


class Task(ABC):
    """Makes training batches and one fixed probe sequence, and scores outputs.

    Inputs are what the user sees in task terms: float (B, T, F) for real-valued
    tasks, int64 character ids (B, T) for chars. The model's input adapter turns
    them into what enters the recurrent core.
    """

    name: str
    input_size: int  # F: features entering the recurrent core (vocab size for chars)
    output_size: int  # O: size of the head's output per timestep
    vocab_size: int = 0  # >0: inputs are character ids, one-hot encoded by the model
    baseline_loss: float  # loss of the best predictor that has no memory
    baseline_name: str  # what that predictor is, for the plot legend
    # Loss of the best predictor that sees no input either (the targets' frequencies), where the task
    # has one apart from the baseline; drawn as a fainter second line labelled "no input".
    no_input_loss: float | None = None
    # What the model's head reads: "steps", every step's output (outputs (B, T, O)); "final", the final state of
    # each direction once (a sequence classifier: outputs (B, 1, O)), see models.SequenceModel.
    readout: str = "steps"
    # Columns of metrics.csv that evaluate() fills (NaN on the steps it does not run), e.g. ("test_accuracy",).
    metric_columns: tuple[str, ...] = ()

    @abstractmethod
    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) for one training step, drawn with `generator`."""

    @abstractmethod
    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed probe (inputs, targets) with batch size 1; the same every call."""

    @abstractmethod
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Scalar task loss of model outputs (B, T, O) against targets."""

    def set_probe_text(self, text: str) -> None:
        """Probe with a text of the user's (character models only; see chars.CharTask); "" is the task's own."""
        if text:
            raise ConfigError(f"only character models take a probe text, not the {self.name} task")

    def view(self, model, probe_outputs: torch.Tensor, temperature: float, generator: torch.Generator) -> dict:
        """Extra task-specific numpy data for the task panel (rollout, samples...)."""
        return {}

    def evaluate(self, model) -> dict[str, float]:
        """Held-out figures of the model, one per metric_columns name (the trainer calls it every few steps)."""
        return {}

    def labels(self, probe_inputs: torch.Tensor) -> list[str] | None:
        """One label per probe timestep (the characters for char tasks), or None."""
        return None


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch size must be a whole number of at least 1, got {batch_size!r}")
