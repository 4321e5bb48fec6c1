"""The guard rails, on real runs: a learning rate far too high saturates the units and stalls the loss above the
baseline (stall_notice); clipping turned on after an unclipped explosion does not undo it (clip_change_notice)."""

import numpy as np
import pytest

from lstm_viz.core.config import RunConfig, load_preset
from lstm_viz.core.diagnosis import clip_change_notice, saturated_units, stall_notice
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.snapshot import Trace
from lstm_viz.core.trainer import Trainer

SINE = RunConfig(hidden=16, seq_len=50, batch=32)  # the sine preset's model
WINDOW = 200


def trained(config: RunConfig, steps: int) -> tuple[np.ndarray, float, Trace]:
    trainer = Trainer(config)
    for _ in range(steps):
        trainer.step()
    return trainer.metrics.as_columns()["loss"], trainer.task.baseline_loss, probe_trace(trainer.model, trainer.task)


@pytest.fixture(scope="module")
def stalled():
    """Adam at lr 1000: no step diverges, the loss settles ten times above the baseline."""
    return trained(SINE.replace(lr=1000.0), steps=400)


@pytest.fixture(scope="module")
def healthy():
    return trained(SINE, steps=400)


def share_of_saturated_units(trace: Trace) -> float:
    """Counted here unit by unit: a unit is saturated when at least half of its i, f, g, o and h values on the probe
    are within 0.01 of a sigmoid's 0 or 1 or of a tanh's ±1."""
    saturated = 0
    for unit in range(trace["hidden"].shape[-1]):
        gates = [trace[name][0, 0, :, unit] for name in ("input_gate", "forget_gate", "output_gate")]
        tanh_values = [trace[name][0, 0, :, unit] for name in ("cell_candidate", "hidden")]
        at_ends = sum(int(np.sum((g < 0.01) | (g > 0.99))) for g in gates)
        at_ends += sum(int(np.sum(np.abs(v) > 0.99)) for v in tanh_values)
        saturated += at_ends >= 0.5 * 5 * len(gates[0])
    return saturated / trace["hidden"].shape[-1]


def test_a_stalled_run_gets_the_notice_in_its_words(stalled):
    losses, baseline, trace = stalled
    assert np.isfinite(losses).all() and (losses[-WINDOW:] > baseline).all()  # it never diverged, never dipped
    share = share_of_saturated_units(trace)
    assert share >= 0.9 and saturated_units(trace).mean() == pytest.approx(share)
    notice = stall_notice(losses, baseline, trace, window=WINDOW)
    assert notice.startswith(
        f"The loss has stayed above the no-memory baseline ({baseline:.3g}) for {WINDOW} steps and {share:.0%} of "
        "units are saturated"
    )
    assert "\n" not in notice and "Lower the learning rate" in notice


def test_a_healthy_run_gets_no_notice(healthy):
    losses, baseline, trace = healthy
    assert share_of_saturated_units(trace) < 0.1
    assert stall_notice(losses, baseline, trace, window=WINDOW) == ""


def test_no_notice_once_the_loss_dips_below_the_baseline_or_with_few_saturated_units(stalled, healthy):
    losses, baseline, trace = stalled
    dipped = losses.copy()
    dipped[-WINDOW // 2] = 0.9 * baseline  # one step below the baseline: it has not stayed above
    assert stall_notice(dipped, baseline, trace, window=WINDOW) == ""
    assert stall_notice(losses, baseline, healthy[2], window=WINDOW) == ""  # above the baseline, units not saturated
    assert stall_notice(losses[-WINDOW + 1 :], baseline, trace, window=WINDOW) == ""  # too few steps yet
    assert stall_notice(losses, baseline, None, window=WINDOW) == ""
    with_divergence = losses.copy()
    with_divergence[-3:] = np.nan  # non-finite steps are left out: the rest stayed above
    assert stall_notice(with_divergence, baseline, trace, window=WINDOW) != ""


def test_saturated_units_counts_each_unit_over_its_gates_and_tanh_values():
    # 2 timesteps, 3 units: unit 0 all at the ends, unit 1 exactly half, unit 2 none
    gates = np.array([[0.005, 0.995, 0.5], [0.999, 0.5, 0.5]]).reshape(1, 1, 2, 3)
    tanh_values = np.array([[0.995, -0.999, 0.0], [-1.0, 0.0, 0.5]]).reshape(1, 1, 2, 3)
    quantities = {"reset_gate": gates, "update_gate": gates, "candidate": tanh_values, "hidden": tanh_values}
    empty = np.zeros((1, 1))
    trace = Trace("gru", quantities, empty, empty, empty, empty, empty, loss=0.0)
    assert saturated_units(trace).tolist() == [[[True, True, False]]]


# ---- clipping changed after the weights blew up ----------------------------------------------------------
@pytest.fixture(scope="module")
def exploded():
    """The exploding preset with clipping off, 5 steps: its first updates carry gradients of norm 1e4 and more."""
    trainer = Trainer(load_preset("exploding").replace(clip="off"))
    for _ in range(5):
        trainer.step()
    return trainer


def test_turning_clipping_on_after_an_unclipped_explosion_says_so(exploded):
    metrics = exploded.metrics.as_columns()
    applied = metrics["grad_norm_clipped"]
    first_huge = int(np.flatnonzero(applied >= 1e3)[0])
    off, on = exploded.config, exploded.config.replace(clip="norm:1")
    notice = clip_change_notice(off, on, metrics["step"], applied, None)
    assert notice.startswith("Clipping was changed after the weights already blew up: Reset or Fork to compare")
    assert f"step {int(metrics['step'][first_huge])} applied a gradient of norm {applied[first_huge]:.2g}" in notice
    diverged = clip_change_notice(off, on, metrics["step"][:0], applied[:0], diverged_at_step=3)
    assert "it diverged at step 3" in diverged


def test_no_clipping_notice_for_a_run_that_never_blew_up_or_when_clipping_is_turned_off(exploded):
    tame = Trainer(load_preset("exploding"))  # clipping by norm 1 from the start: every applied norm <= 1
    for _ in range(5):
        tame.step()
    metrics = tame.metrics.as_columns()
    assert metrics["grad_norm"].max() > 1e3  # the raw gradients did explode; clipping kept them out
    stricter = tame.config.replace(clip="norm:0.5")
    assert clip_change_notice(tame.config, stricter, metrics["step"], metrics["grad_norm_clipped"], None) == ""
    exploded_metrics = exploded.metrics.as_columns()
    steps, applied = exploded_metrics["step"], exploded_metrics["grad_norm_clipped"]
    lr_only = exploded.config.replace(lr=0.001)  # not a clipping change
    assert clip_change_notice(exploded.config, lr_only, steps, applied, None) == ""
    turned_off = exploded.config.replace(clip="norm:1"), exploded.config
    assert clip_change_notice(*turned_off, steps, applied, None) == ""
