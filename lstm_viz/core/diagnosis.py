"""Diagnosis: telling from the losses, the settings and a probe trace that a run needs the user's attention.

A learning rate far too high (Adam at 1000 on sine) need not diverge: it drives the gates and
states to the flat ends of their sigmoid and tanh, where the gradient through them vanishes, and
the loss sits above the no-memory baseline for good. Nothing is non-finite, so nothing else
reports it (stall_notice). And turning clipping on after an unclipped gradient of norm 1e8 has
already gone into the weights does not undo it (clip_change_notice).
"""

from __future__ import annotations

import numpy as np

from lstm_viz.core.config import RunConfig
from lstm_viz.core.snapshot import STATE_NAMES, Trace

STALL_STEPS = 1000  # a stall: the loss stayed above the baseline for this many steps,
STALL_SATURATED_UNITS = 0.9  # and at least this share of the units is saturated
UNIT_SATURATED_SHARE = 0.5  # a unit is saturated when at least this share of its gate and state values are
SATURATION_MARGIN = 0.01  # within this of 0 or 1 (a sigmoid), or beyond ±(1 - this) (a tanh)
HUGE_GRAD_NORM = 1e3  # an update with a gradient of this norm or more, unclipped, has blown the weights up


def saturated_units(trace: Trace) -> np.ndarray:
    """(layers, directions, H) booleans: the units at least UNIT_SATURATED_SHARE of whose probe values are at the
    flat ends of their squashing function: gates (sigmoid) within SATURATION_MARGIN of 0 or 1, the candidate
    and h_t (tanh range) beyond ±(1 - SATURATION_MARGIN). The cell state c_t, unbounded, is left out."""
    at_ends = []
    for name in STATE_NAMES[trace.cell]:
        if name == "cell":
            continue
        values = trace[name]  # (layers, directions, T, H)
        if name.endswith("_gate"):
            at_ends.append(np.abs(values - 0.5) > 0.5 - SATURATION_MARGIN)
        else:
            at_ends.append(np.abs(values) > 1 - SATURATION_MARGIN)
    share_at_ends = np.stack(at_ends).mean(axis=(0, 3))  # (layers, directions, H) over quantities and timesteps
    return share_at_ends >= UNIT_SATURATED_SHARE


def stall_notice(losses: np.ndarray, baseline_loss: float, trace: Trace | None, window: int = STALL_STEPS) -> str:
    """A one-line notice if training has stalled, else "".

    Stalled: every one of the last `window` training losses is above the no-memory baseline, and at least
    STALL_SATURATED_UNITS of the units are saturated (saturated_units). Non-finite losses (a divergence,
    which has a message of its own) are left out.
    """
    recent = np.asarray(losses, dtype=float)[-window:]  # (window,)
    if trace is None or len(recent) < window or not baseline_loss > 0:
        return ""
    finite = recent[np.isfinite(recent)]
    if not len(finite) or np.any(finite <= baseline_loss):
        return ""
    saturated = float(saturated_units(trace).mean())
    if saturated < STALL_SATURATED_UNITS:
        return ""
    return (
        f"The loss has stayed above the no-memory baseline ({baseline_loss:.3g}) for {window} steps and "
        f"{saturated:.0%} of units are saturated: their gates and states sit at the flat ends of sigmoid and tanh, "
        "where almost no gradient passes. Lower the learning rate or clip the gradients, then Reset."
    )


def clip_change_notice(
    before: RunConfig, after: RunConfig, steps: np.ndarray, applied_norms: np.ndarray, diverged_at_step: int | None
) -> str:
    """A one-line notice if clipping was turned on or changed after the weights already blew up, else "".

    Blown up: the run diverged, or a step already applied a gradient of norm HUGE_GRAD_NORM or more
    (`applied_norms`: the gradient norm after clipping at each of `steps`). Clipping from now on does not
    undo those updates: a comparison needs the weights from before them (Reset, or Fork from an earlier step)."""
    if after.clip == before.clip or after.clip.mode == "off":
        return ""
    norms = np.asarray(applied_norms, dtype=float)  # (steps,)
    huge = np.flatnonzero(~(norms < HUGE_GRAD_NORM))  # NaN and inf too
    if diverged_at_step is not None:
        what = f"it diverged at step {diverged_at_step}"
    elif len(huge):
        what = f"step {int(steps[huge[0]])} applied a gradient of norm {norms[huge[0]]:.2g}"
    else:
        return ""
    return (
        f"Clipping was changed after the weights already blew up: Reset or Fork to compare ({what}; clipping "
        "from now on does not undo that)."
    )
