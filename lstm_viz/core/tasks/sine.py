"""Sine: predict the next value of a sine wave with random period and phase.

Each sequence is x_t = sin(2*pi*t/period + phase) with period ~ U[sine_periods] and
phase ~ U[0, 2*pi]. The inputs x_0..x_{T-1} carry Gaussian noise of std `noise`; the
targets are the clean x_1..x_T. One value alone does not say whether the wave is
rising or falling, nor how fast: a good predictor has to remember.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lstm_viz.core.config import RunConfig
from lstm_viz.core.tasks.base import Task, check_batch_size

BASELINE_SEQUENCES = 4096  # sequences the no-memory baseline is fitted and measured on
BASELINE_STEPS = 50  # steps per baseline sequence (at most seq_len)
BASELINE_SEED = 20240607  # fixed: the baseline is a property of the task, not of the run


class SineTask(Task):
    name = "sine"
    input_size = 1
    output_size = 1
    baseline_name = "no memory (best a·x_t+b)"

    def __init__(self, config: RunConfig) -> None:
        self.seq_len = config.seq_len
        self.shortest_period, self.longest_period = (float(p) for p in config.sine_periods)
        self.noise = float(config.noise)
        probe_generator = torch.Generator().manual_seed(config.seed)
        self._probe_inputs, self._probe_targets = self.make_batch(1, probe_generator)  # (1, T, 1) each
        self.baseline_loss = self._no_memory_loss()

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self._make_waves(batch_size, self.seq_len, generator)

    def _make_waves(
        self, batch_size: int, length: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch_size(batch_size)
        period_span = self.longest_period - self.shortest_period
        periods = self.shortest_period + period_span * torch.rand(batch_size, 1, generator=generator)  # (B, 1)
        phases = 2 * math.pi * torch.rand(batch_size, 1, generator=generator)  # (B, 1)
        times = torch.arange(length + 1, dtype=torch.float32)  # (T+1,)
        clean_wave = torch.sin(2 * math.pi * times / periods + phases)  # (B, T+1)
        inputs = clean_wave[:, :-1].clone()  # (B, T)
        if self.noise > 0:
            inputs += self.noise * torch.randn(inputs.shape, generator=generator)  # (B, T)
        targets = clean_wave[:, 1:]  # (B, T)
        return inputs.unsqueeze(-1), targets.unsqueeze(-1).contiguous()  # (B, T, 1) each

    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._probe_inputs.clone(), self._probe_targets.clone()  # (1, T, 1) each

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(outputs, targets)

    def _no_memory_loss(self) -> float:
        """MSE of the least-squares fit target ~ a*x_t + b, the best predictor seeing only x_t."""
        # With a uniform phase every step has the same statistics, so short sequences measure the same thing.
        length = min(self.seq_len, BASELINE_STEPS)
        generator = torch.Generator().manual_seed(BASELINE_SEED)
        inputs, targets = self._make_waves(BASELINE_SEQUENCES, length, generator)  # (N, L, 1) each
        current = inputs.reshape(-1).double().numpy()  # (N*L,)
        following = targets.reshape(-1).double().numpy()  # (N*L,)
        # Least squares in closed form: a = cov(x, y) / var(x), b = mean(y) - a mean(x), MSE = var(y) - a cov(x, y).
        covariance = np.mean((current - current.mean()) * (following - following.mean()))
        slope = covariance / current.var()
        return float(following.var() - slope * covariance)

    def view(self, model, probe_outputs: torch.Tensor, temperature: float, generator: torch.Generator) -> dict:
        """Free-running rollout: teacher-forced for the first T//2 steps, then fed its own predictions."""
        rollout_start = self.seq_len // 2
        probe_inputs = self._probe_inputs  # (1, T, 1)
        with torch.no_grad():
            forced_outputs, state = model(probe_inputs[:, :rollout_start], None)  # (1, T//2, 1)
            predictions = [forced_outputs[0, :, 0]]  # [(T//2,)]
            next_input = forced_outputs[:, -1:]  # (1, 1, 1)
            for _ in range(self.seq_len - rollout_start):
                step_output, state = model(next_input, state)  # (1, 1, 1)
                predictions.append(step_output[0, :, 0])
                next_input = step_output  # (1, 1, 1)
        rollout = torch.cat(predictions).numpy().astype(float)  # (T,)
        return {"rollout": rollout, "rollout_start": rollout_start}

    def labels(self, probe_inputs: torch.Tensor) -> None:
        return None
