"""Training speed: the lstm_viz Trainer with live capture vs a plain nn.LSTM loop and vs a per-timestep cell loop.

Each side keeps its own model and optimizer and draws its batches from the task's make_batch,
so the data cost is the same on every side. Sides alternate in rounds of `seconds` of CPU time each;
the figures are ratios of steps per wall-clock second: the live sides probe on a capture thread of their
own, as the window's worker does, which the training thread's CPU clock would not see. The ratios of
steps per CPU second of the training thread are in the details.
"""

from __future__ import annotations

import queue
import statistics
import tempfile
import threading
import time
from functools import partial

import numpy as np
import torch
from torch import nn

from benchmarks import alternate, median_ratio, rates
from lstm_viz.core.config import ConfigError, RunConfig, load_preset
from lstm_viz.core.tasks import make_task
from lstm_viz.core.trainer import Trainer
from lstm_viz.gui.worker import PUBLISH_INTERVAL_S

WARMUP_STEPS = 5
HISTORY = 100_000  # a long run: steps of metrics every snapshot carries


def sine_config(hidden: int = 64) -> RunConfig:
    """The sine preset at `hidden` units (the preset's defaults if its file is missing)."""
    try:
        return load_preset("sine").replace(hidden=hidden)
    except ConfigError:
        return RunConfig(task="sine", hidden=hidden)


CHAR_CONFIG = RunConfig(task="chars", text="names", hidden=128, seq_len=100)


class CaptureThread:
    """The worker's capture thread: runs the functions put to it in order, one at a time, timing each on its own
    CPU clock (snapshot_seconds)."""

    def __init__(self) -> None:
        self.snapshot_seconds: list[float] = []
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._loop, daemon=True).start()

    def put(self, call) -> None:
        self.idle.clear()
        self._calls.put(call)

    def _loop(self) -> None:
        while True:
            call = self._calls.get()
            started = time.thread_time()
            call()
            self.snapshot_seconds.append(time.thread_time() - started)
            self.idle.set()


class LiveTrainer:
    """The GUI worker's loop: Trainer.step(), and a snapshot once PUBLISH_INTERVAL_S has passed, taken as the
    worker takes it: snapshot_later() between steps, finished (probe, task view) on a capture thread of its own
    while this one trains on; the next is due once the capture thread is done with the last.

    The interval runs on this side's own clock: the wall time it has spent in its rounds (the other sides' rounds
    in between do not count). So does the task view's (rollout, samples), refreshed every VIEW_INTERVAL_S: on the
    process's clock the other sides' rounds in between would make every round start with a refresh.
    """

    def __init__(self, config: RunConfig, capture: bool = True, history: int = 0, record: bool = False) -> None:
        self.trainer = Trainer(config)
        if record:  # writes its run and history of records, as `lstm-viz train` and the window do
            self.trainer.record_to(tempfile.mkdtemp(prefix="lstm_viz_bench_"))
        self.capture = capture
        self.capture_thread = CaptureThread()
        self.own_seconds = self.last_snapshot = self.last_view = 0.0  # on the clock of own_clock()
        self.round_started = time.perf_counter()
        for _ in range(WARMUP_STEPS):
            self.trainer.step()
        if history:  # as if `history` steps had been trained: the metrics every snapshot copies
            metrics = self.trainer.metrics
            metrics.load_columns({name: np.random.rand(history) for name in metrics.columns})
        self.trainer.snapshot()  # with the view: at 0 on the own clock

    def own_clock(self) -> float:
        """Seconds of wall time this side has spent in its rounds."""
        return self.own_seconds + time.perf_counter() - self.round_started

    def step(self) -> None:
        self.trainer.step()
        now = self.own_clock()
        if self.capture and self.capture_thread.idle.is_set() and now - self.last_snapshot >= PUBLISH_INTERVAL_S:
            self.last_snapshot = now
            trainer = self.trainer
            view_time = trainer._view_time = time.perf_counter() - (now - self.last_view)  # on the trainer's clock
            self.capture_thread.put(partial(self._finish, trainer.snapshot_later(), view_time, now))

    def _finish(self, finish, view_time: float, now: float) -> None:
        finish()
        if self.trainer._view_time != view_time:  # refreshed
            self.last_view = now

    def steps_per_s(self, seconds: float) -> tuple[float, float]:
        self.round_started = time.perf_counter()
        result = rates(self.step, seconds)
        self.own_seconds += time.perf_counter() - self.round_started
        self.capture_thread.idle.wait()  # its work does not spill into the next side's round
        return result


class PlainLoop:
    """Hand-written nn.LSTM + nn.Linear training loop with Adam: what torch alone costs. torch's default Adam, as
    a user writes it; fused: its fused update, which the Trainer uses (what watching costs, the optimizer aside)."""

    def __init__(self, config: RunConfig, fused: bool = False) -> None:
        self.config = config
        self.task = make_task(config)
        self.recurrent = self.make_recurrent()
        self.head = nn.Linear(config.hidden, self.task.output_size)
        parameters = [*self.recurrent.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(parameters, lr=config.lr, **({"fused": True} if fused else {}))
        self.generator = torch.Generator().manual_seed(config.seed)
        for _ in range(WARMUP_STEPS):
            self.step()

    def make_recurrent(self) -> nn.Module:
        return nn.LSTM(self.task.input_size, self.config.hidden, batch_first=True)

    def inputs(self, batch_inputs: torch.Tensor) -> torch.Tensor:
        if self.task.vocab_size:
            return nn.functional.one_hot(batch_inputs, self.task.vocab_size).float()  # (B, T, V)
        return batch_inputs  # (B, T, 1)

    def step(self) -> float:
        batch_inputs, targets = self.task.make_batch(self.config.batch, self.generator)
        self.optimizer.zero_grad()
        outputs, _ = self.recurrent(self.inputs(batch_inputs))  # (B, T, H)
        loss = self.task.loss(self.head(outputs), targets)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def steps_per_s(self, seconds: float) -> tuple[float, float]:
        return rates(self.step, seconds)


class GateCell(nn.Module):
    """One LSTM step that hands out its gates, as tools that cannot reconstruct them compute it."""

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        self.input_weights = nn.Linear(input_size, 4 * hidden)
        self.hidden_weights = nn.Linear(hidden, 4 * hidden)

    def forward(self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        hidden, cell = state  # (B, H) each
        pre = self.input_weights(x_t) + self.hidden_weights(hidden)  # (B, 4H)
        input_gate, forget_gate, cell_candidate, output_gate = pre.chunk(4, dim=1)  # (B, H) each
        input_gate, forget_gate = torch.sigmoid(input_gate), torch.sigmoid(forget_gate)
        cell_candidate, output_gate = torch.tanh(cell_candidate), torch.sigmoid(output_gate)
        cell = forget_gate * cell + input_gate * cell_candidate  # (B, H)
        hidden = output_gate * torch.tanh(cell)  # (B, H)
        return hidden, cell, (input_gate, forget_gate, cell_candidate, output_gate)


class CellLoop(PlainLoop):
    """for t in range(T): h, c = cell(x_t, (h, c)), keeping every step's gates for display."""

    def make_recurrent(self) -> nn.Module:
        return GateCell(self.task.input_size, self.config.hidden)

    def step(self) -> float:
        batch_inputs, targets = self.task.make_batch(self.config.batch, self.generator)
        x = self.inputs(batch_inputs)  # (B, T, F)
        self.optimizer.zero_grad()
        hidden = cell = x.new_zeros(x.shape[0], self.config.hidden)  # (B, H)
        outputs, self.gates = [], []
        for t in range(x.shape[1]):
            hidden, cell, gates = self.recurrent(x[:, t], (hidden, cell))
            outputs.append(hidden)
            self.gates.append([gate.detach() for gate in gates])
        loss = self.task.loss(self.head(torch.stack(outputs, dim=1)), targets)  # outputs (B, T, H)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())


def run(quick: bool) -> dict:
    seconds, repeats = (0.25, 16) if quick else (0.25, 48)  # short rounds: each pair sees the same load
    sine, char = sine_config(), CHAR_CONFIG
    sine_sides = {
        "trainer_live": LiveTrainer(sine),
        "trainer": LiveTrainer(sine, capture=False),
        "plain_lstm": PlainLoop(sine),
        "plain_lstm_fused_adam": PlainLoop(sine, fused=True),
        "cell_loop": CellLoop(sine),
        f"trainer_live_{HISTORY}_steps_history": LiveTrainer(sine, history=HISTORY),
        "trainer_live_recording": LiveTrainer(sine, record=True),
    }
    char_sides = {"trainer_live": LiveTrainer(char), "trainer": LiveTrainer(char, capture=False)}
    char_sides["trainer_live_recording"] = LiveTrainer(char, record=True)
    char_sides["plain_lstm"] = PlainLoop(char)
    char_sides["plain_lstm_fused_adam"] = PlainLoop(char, fused=True)
    # chars runs ~20 steps per CPU second: longer rounds keep the granularity of whole steps small
    details = {"sine": compare(sine, sine_sides, seconds, repeats)}
    details["char"] = compare(char, char_sides, 2 * seconds, repeats)
    sine_rounds = details["sine"]["steps_per_wall_s"]
    figures = {
        "train_ratio_sine": details["sine"]["ratios_to_plain_lstm"]["trainer_live"],
        "train_ratio_char": details["char"]["ratios_to_plain_lstm"]["trainer_live"],
        "loop_ratio": median_ratio(sine_rounds["trainer_live"], sine_rounds["cell_loop"]),
    }
    for task in ("sine", "char"):  # the same, against a plain loop with the Trainer's fused Adam: watching alone
        rounds = details[task]["steps_per_wall_s"]
        figures[f"train_ratio_{task}_fused"] = median_ratio(rounds["trainer_live"], rounds["plain_lstm_fused_adam"])
    for task in ("sine", "char"):  # recording the run's history vs not, both with live capture
        rounds = details[task]["steps_per_wall_s"]
        figures[f"history_ratio_{task}"] = median_ratio(rounds["trainer_live_recording"], rounds["trainer_live"])
        figures[f"history_ratio_{task}_total"] = sum(rounds["trainer_live_recording"]) / sum(rounds["trainer_live"])
    return {"figures": figures, "details": details}


def compare(config: RunConfig, sides: dict, seconds: float, repeats: int) -> dict:
    """Steps per wall second (and per CPU second of the stepping thread) of each side, in alternating rounds;
    ratios to plain_lstm."""
    rounds = alternate({name: partial(side.steps_per_s, seconds) for name, side in sides.items()}, repeats)
    cpu = {name: [cpu_rate for cpu_rate, _ in values] for name, values in rounds.items()}
    wall = {name: [wall_rate for _, wall_rate in values] for name, values in rounds.items()}
    live = sides["trainer_live"]
    snapshot_ms = [1000 * cpu_seconds for cpu_seconds in live.capture_thread.snapshot_seconds]
    return {
        "config": {key: config.to_dict()[key] for key in ("task", "text", "hidden", "batch", "seq_len", "lr")},
        "round_cpu_seconds": seconds,
        "rounds": repeats,
        "median_steps_per_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
        "median_steps_per_wall_s": {name: statistics.median(values) for name, values in wall.items()},
        "ratios_to_plain_lstm": {name: median_ratio(values, wall["plain_lstm"]) for name, values in wall.items()},
        "cpu_ratios_to_plain_lstm": {name: median_ratio(values, cpu["plain_lstm"]) for name, values in cpu.items()},
        "snapshots_per_wall_s": len(snapshot_ms) / live.own_seconds,
        "snapshot_ms_median": statistics.median(snapshot_ms),
        "snapshot_ms_max": max(snapshot_ms),
        "steps_per_cpu_s": cpu,
        "steps_per_wall_s": wall,
    }
