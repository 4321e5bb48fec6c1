"""Comparison cost (issue 12): 3 variants at adding-100 (cell=lstm,gru,rnn) stepped in turns as the window's
CompareWorker does, each probed for a snapshot every PUBLISH_INTERVAL_S, vs a single run of the preset with
each variant alone with its own snapshots. Sides alternate in rounds of CPU time; compare_ratio = the
comparison's rounds per CPU s / what one step of each variant alone adds up to, the median over rounds."""

from __future__ import annotations

import statistics
import time
from functools import partial

from benchmarks import alternate, median_ratio, rates
from benchmarks.training import CaptureThread, LiveTrainer
from lstm_viz.core.compare import Comparison, parse_compare
from lstm_viz.core.config import load_preset
from lstm_viz.gui.worker import PROBE_SHARE, PUBLISH_INTERVAL_S

WARMUP_ROUNDS = 3


class LiveComparison:
    """CompareWorker's loop: Comparison.step() (every variant once), and a snapshot of every variant when its
    publishing rule says (PUBLISH_INTERVAL_S, longer so that probing stays PROBE_SHARE of the time: 3 probes
    cost 3x one), finished on a capture thread as the worker does, on this side's own wall clock."""

    def __init__(self, text: str) -> None:
        setting, variants = parse_compare(text, load_preset("adding-100"))
        self.comparison = Comparison(setting, variants)
        for _ in range(WARMUP_ROUNDS):
            self.comparison.step()
        self.own_seconds = self.last_snapshot = 0.0
        self.capture_thread = CaptureThread()

    def step(self) -> None:
        self.comparison.step()
        now = self.own_seconds + time.perf_counter() - self.round_started
        capture_ms = self.capture_thread.snapshot_seconds[-1:] or [0.0]
        interval = max(PUBLISH_INTERVAL_S, capture_ms[0] * (1 - PROBE_SHARE) / PROBE_SHARE)  # as _publish_due
        if self.capture_thread.idle.is_set() and now - self.last_snapshot >= interval:
            finishes = [trainer.snapshot_later() for trainer in self.comparison.trainers]
            self.capture_thread.put(lambda: [finish() for finish in finishes])
            self.last_snapshot = now

    def steps_per_s(self, seconds: float) -> tuple[float, float]:
        """Steps of each variant (= rounds) per CPU second and per wall second."""
        self.round_started = time.perf_counter()
        result = rates(self.step, seconds)
        self.own_seconds += time.perf_counter() - self.round_started
        self.capture_thread.idle.wait()  # its work does not spill into the next side's round
        return result


def run(quick: bool) -> dict:
    seconds, repeats = (1.0, 6) if quick else (1.5, 20)  # a comparison round of 3 steps at adding-100 is ~60 ms
    preset = load_preset("adding-100")
    cells = ("lstm", "gru", "rnn")
    sides = {cell: LiveTrainer(preset.replace(cell=cell)) for cell in cells}  # each variant alone, with snapshots
    sides["compare_3"] = LiveComparison("cell=" + ",".join(cells))
    rounds = alternate({name: partial(side.steps_per_s, seconds) for name, side in sides.items()}, repeats)
    cpu = {name: [cpu_rate for cpu_rate, _ in values] for name, values in rounds.items()}
    wall = {name: [wall_rate for _, wall_rate in values] for name, values in rounds.items()}
    # Without any cost of its own, a round of the comparison takes what one step of each variant alone takes.
    alone = [1 / sum(1 / wall[cell][index] for cell in cells) for index in range(repeats)]  # wall: see training.py
    return {
        "figures": {"compare_ratio": median_ratio(wall["compare_3"], alone)},
        "details": {
            "preset": "adding-100",
            "compare": "cell=" + ",".join(cells),
            "round_cpu_seconds": seconds,
            "rounds": repeats,
            "median_steps_per_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
            "median_steps_per_wall_s": {name: statistics.median(values) for name, values in wall.items()},
            # the first wording: each variant against a third of the LSTM run alone (a GRU and an RNN
            # step do not cost what an LSTM step does, so this measures the cells as much as the comparison)
            "ratio_to_a_third_of_the_lstm_alone": median_ratio(wall["compare_3"], [rate / 3 for rate in wall["lstm"]]),
        },
    }
