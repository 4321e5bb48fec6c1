"""What lstm_viz.Recorder costs a user's own training loop: recorder_ratio.

The loop: nn.LSTM(16, 128, batch_first) with a linear head on the last step, MSE, Adam, batch 32, T=100,
data drawn from its own generator at every step. One side adds the Recorder at its default schedule (loss and
gradient norms every step, a probe record at most every 0.1 s, with a probe loss through the head); the other
is the loop alone. Each side keeps its own model, optimizer and generator; sides alternate in rounds of
`seconds` of this thread's CPU time. The figure is the median per-round ratio of steps per CPU second of the
loop's thread (the records are made by the writer process, on the other core); the wall-clock ratio, the
records made and what one record costs the loop are in the details.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from functools import partial

import torch
from torch import nn

import lstm_viz
from benchmarks import alternate, median_ratio, rates

FEATURES, HIDDEN, LENGTH, BATCH = 16, 128, 100, 32
WARMUP_STEPS = 5


class UserLoop:
    """A practitioner's plain training loop, with lstm_viz.Recorder added (record=True) or not."""

    def __init__(self, record: bool) -> None:
        torch.manual_seed(0)
        self.encoder = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)
        self.optimizer = torch.optim.Adam([*self.encoder.parameters(), *self.head.parameters()], lr=1e-3)
        self.generator = torch.Generator().manual_seed(0)
        self.recorder, self.out = None, None
        if record:
            probe_inputs, probe_targets = self.batch(1, torch.Generator().manual_seed(1))  # (1, T, F), (1, 1)
            self.out = tempfile.mkdtemp(prefix="lstm_viz_bench_recorder_")
            self.recorder = lstm_viz.Recorder(
                self.encoder,
                probe_inputs,
                lambda output: nn.functional.mse_loss(self.head(output[:, -1]), probe_targets),
                self.out,
            )
        for _ in range(WARMUP_STEPS):
            self.step()

    @staticmethod
    def batch(size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = torch.randn(size, LENGTH, FEATURES, generator=generator)  # (B, T, F)
        return inputs, inputs[:, :, 0].mean(dim=1, keepdim=True)  # target (B, 1): the mean of feature 0

    def step(self) -> float:
        inputs, targets = self.batch(BATCH, self.generator)
        self.optimizer.zero_grad()
        output, _ = self.encoder(inputs)  # (B, T, H)
        loss = nn.functional.mse_loss(self.head(output[:, -1]), targets)
        loss.backward()
        if self.recorder is not None:
            self.recorder.step(loss)
        self.optimizer.step()
        return float(loss.detach())

    def steps_per_s(self, seconds: float) -> tuple[float, float]:
        return rates(self.step, seconds)

    def close(self) -> int:
        """Close the recorder, delete its run; the records it had made."""
        if self.recorder is None:
            return 0
        self.recorder.close()
        records = len(lstm_viz.open_run(self.out).steps)
        shutil.rmtree(self.out, ignore_errors=True)
        return records


def record_cost_ms(loop: UserLoop, repeats: int) -> float:
    """CPU ms of the loop's thread for one probe record handed to the writer (the probe loss's gradient and
    the weights' copy), median."""
    samples = []
    for _ in range(repeats):
        started = time.thread_time()
        loop.recorder._record(loop.recorder.step_count, protected=True)
        samples.append(1000 * (time.thread_time() - started))
    return statistics.median(samples)


def run(quick: bool) -> dict:
    seconds, repeats = (0.5, 10) if quick else (0.5, 40)
    sides = {"plain": UserLoop(record=False), "recorder": UserLoop(record=True)}
    started = time.perf_counter()
    rounds = alternate({name: partial(side.steps_per_s, seconds) for name, side in sides.items()}, repeats)
    elapsed = time.perf_counter() - started
    cpu = {name: [cpu_rate for cpu_rate, _ in values] for name, values in rounds.items()}
    wall = {name: [wall_rate for _, wall_rate in values] for name, values in rounds.items()}
    cost_ms = record_cost_ms(sides["recorder"], 20)
    records = sides["recorder"].close()
    return {
        "figures": {"recorder_ratio": median_ratio(cpu["recorder"], cpu["plain"])},
        "details": {
            "config": {"features": FEATURES, "hidden": HIDDEN, "seq_len": LENGTH, "batch": BATCH},
            "round_cpu_seconds": seconds,
            "rounds": repeats,
            "median_steps_per_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
            "median_steps_per_wall_s": {name: statistics.median(values) for name, values in wall.items()},
            "wall_ratio": median_ratio(wall["recorder"], wall["plain"]),
            "records_kept": records,
            "records_per_wall_s_of_recorder_rounds": records / (elapsed / 2),
            "record_cpu_ms_in_the_loop": cost_ms,
            "steps_per_cpu_s": cpu,
        },
    }
