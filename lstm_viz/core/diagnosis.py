"""Diagnosis: telling from the losses and a probe trace that training has stalled.

A learning rate far too high (Adam at 1000 on sine) need not diverge: it drives the gates and
states to the flat ends of their sigmoid and tanh, where the gradient through them vanishes, and
the loss sits far above the no-memory baseline for good. Nothing is non-finite, so nothing else
reports it.
"""

from __future__ import annotations

import numpy as np

from lstm_viz.core.snapshot import STATE_NAMES, Trace

STALL_STEPS = 500  # a stall is judged over this many recent steps
STALL_FACTOR = 2.0  # "far above the baseline": the median recent loss is at least this multiple of it
STALL_SATURATED_SHARE = 0.5  # and at least this share of the gate and state values is saturated
SATURATION_MARGIN = 0.01  # a sigmoid within this of 0 or 1, a tanh within this of ±1, is saturated


def saturated_share(trace: Trace) -> float:
    """The share of the probe's gate and state values at the flat ends of their squashing function:
    gates (sigmoid) within SATURATION_MARGIN of 0 or 1; the candidate and h_t (tanh range) beyond
    ±(1 - SATURATION_MARGIN). The cell state c_t, unbounded, is left out."""
    saturated, total = 0, 0
    for name in STATE_NAMES[trace.cell]:
        if name == "cell":
            continue
        values = trace[name]  # (layers, directions, T, H)
        if name.endswith("_gate"):
            at_ends = np.abs(values - 0.5) > 0.5 - SATURATION_MARGIN
        else:
            at_ends = np.abs(values) > 1 - SATURATION_MARGIN
        saturated += int(at_ends.sum())
        total += at_ends.size
    return saturated / total


def stall_notice(losses: np.ndarray, baseline_loss: float, trace: Trace | None, window: int = STALL_STEPS) -> str:
    """A one-line notice if training has stalled, else "".

    Stalled: over the last `window` training losses, the median is at least STALL_FACTOR times the
    baseline and no longer falls (the later half's median is not below half the earlier half's),
    with at least STALL_SATURATED_SHARE of the trace's gates and states saturated. Non-finite
    losses (a divergence, which has a message of its own) are left out.
    """
    recent = np.asarray(losses, dtype=float)[-window:]  # (window,)
    if trace is None or len(recent) < window or not baseline_loss > 0:
        return ""
    earlier, later = (half[np.isfinite(half)] for half in np.array_split(recent, 2))
    if not len(earlier) or not len(later):
        return ""
    level = float(np.median(np.concatenate([earlier, later])))
    if level < STALL_FACTOR * baseline_loss or np.median(later) < 0.5 * np.median(earlier):
        return ""
    share = saturated_share(trace)
    if share < STALL_SATURATED_SHARE:
        return ""
    return (
        f"Training has stalled: loss {level:.3g} over the last {window} steps, far above the no-memory baseline "
        f"{baseline_loss:.3g}, with {share:.0%} of the gate and state values saturated. "
        "Lower the learning rate or clip the gradients, then Reset."
    )
