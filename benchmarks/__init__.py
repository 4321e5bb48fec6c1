"""Side-by-side speed and memory measurements of lstm_viz: `python -m benchmarks --json out.json [--quick]`.

Every comparison runs both sides in this one process, alternating repetitions (A, B, A, B, ...)
and taking medians, so background load on these 2-core machines hits both sides alike.
Costs of single-threaded work are also timed on the thread's CPU clock: with torch and numpy
held to one thread it is the work's own cost, what an idle machine shows, whatever else runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def alternate(sides: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Call each side in turn, `repeats` rounds of A, B, ...; every call returns one sample."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, measure in sides.items():
            samples[name].append(measure())
    return samples


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios: a round's two sides saw the same background load."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def rates(step: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls of `step` per second of this thread's CPU time and per second of wall time, over `seconds` of CPU."""
    calls, wall, cpu = 0, time.perf_counter(), time.thread_time()
    while time.thread_time() - cpu < seconds:
        step()
        calls += 1
    return calls / (time.thread_time() - cpu), calls / (time.perf_counter() - wall)


def timed_ms(call: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU time of this thread) of one call, in milliseconds.

    With torch and numpy held to one thread, the thread's CPU time is the call's cost
    whatever else the machine runs; wall time also counts waiting for a core.
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return 1000 * (time.perf_counter() - wall), 1000 * (time.thread_time() - cpu)


def medians(samples: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Column-wise medians of (wall, cpu) samples."""
    return tuple(statistics.median(column) for column in zip(*samples, strict=True))
