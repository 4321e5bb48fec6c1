"""The adding problem: remember two marked numbers across a long sequence and add them.

Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997
(experiment 4), in the formulation of Arjovsky, Shah & Bengio, "Unitary Evolution
Recurrent Neural Networks", ICML 2016: each step carries two numbers, a value
~ U[0, 1] and a marker that is 1 at exactly one step of the first half and one step
of the second half, 0 elsewhere. After the last step the net must output the sum of
the two marked values. Without memory the best it can do is always answer the mean
sum, 1, for a mean squared error of Var(U1 + U2) = 2/12 = 1/6.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.tasks.base import Task, check_batch_size

MIN_SEQ_LEN = 10
MAX_SEQ_LEN = 1000


class AddingTask(Task):
    name = "adding"
    input_size = 2  # channel 0: value, channel 1: marker
    output_size = 1
    baseline_loss = 1 / 6
    baseline_name = "no memory (always 1)"

    def __init__(self, config: RunConfig) -> None:
        if not MIN_SEQ_LEN <= config.seq_len <= MAX_SEQ_LEN:
            raise ConfigError(
                f"the adding problem needs seq_len between {MIN_SEQ_LEN} and {MAX_SEQ_LEN}, got {config.seq_len}; "
                "set seq_len in that range"
            )
        self.seq_len = config.seq_len
        probe_generator = torch.Generator().manual_seed(config.seed)
        self._probe_inputs, self._probe_targets = self.make_batch(1, probe_generator)  # (1, T, 2), (1, 1)

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch_size(batch_size)
        half = self.seq_len // 2
        values = torch.rand(batch_size, self.seq_len, generator=generator)  # (B, T)
        first_marked = torch.randint(0, half, (batch_size, 1), generator=generator)  # (B, 1) in [0, T//2)
        second_marked = torch.randint(half, self.seq_len, (batch_size, 1), generator=generator)  # (B, 1) in [T//2, T)
        marked_positions = torch.cat([first_marked, second_marked], dim=1)  # (B, 2)
        markers = torch.zeros(batch_size, self.seq_len)  # (B, T)
        markers.scatter_(1, marked_positions, 1.0)
        inputs = torch.stack([values, markers], dim=-1)  # (B, T, 2)
        targets = values.gather(1, marked_positions).sum(dim=1, keepdim=True)  # (B, 1)
        return inputs, targets

    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._probe_inputs.clone(), self._probe_targets.clone()  # (1, T, 2), (1, 1)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        final_prediction = outputs[:, -1, 0]  # (B,)
        return torch.nn.functional.mse_loss(final_prediction, targets[:, 0])

    def view(self, model, probe_outputs: torch.Tensor, temperature: float, generator: torch.Generator) -> dict:
        markers = self._probe_inputs[0, :, 1]  # (T,)
        marked_positions = torch.nonzero(markers).flatten()  # (2,)
        marked_values = self._probe_inputs[0, marked_positions, 0]  # (2,)
        return {
            "marked_positions": marked_positions.numpy().astype(np.int64),
            "marked_values": marked_values.numpy().astype(float),
            "target": float(self._probe_targets[0, 0]),
            "prediction": float(probe_outputs[0, -1, 0].detach()),
        }
