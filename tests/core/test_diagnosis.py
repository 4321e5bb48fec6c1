"""The stall notice, on real runs: a learning rate far too high saturates the units and stalls the loss."""

import numpy as np
import pytest

from lstm_viz.core.config import RunConfig
from lstm_viz.core.diagnosis import saturated_share, stall_notice
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


def test_a_stalled_run_gets_a_notice_with_its_loss_baseline_and_saturation(stalled):
    losses, baseline, trace = stalled
    assert np.isfinite(losses).all()  # it never diverged
    notice = stall_notice(losses, baseline, trace, window=WINDOW)
    assert notice.startswith("Training has stalled: ") and "\n" not in notice
    assert f"loss {np.median(losses[-WINDOW:]):.3g} over the last {WINDOW} steps" in notice
    assert f"baseline {baseline:.3g}" in notice and "Lower the learning rate" in notice
    share = saturated_share(trace)
    assert share > 0.5 and f"{share:.0%} of the gate and state values saturated" in notice


def test_a_healthy_run_gets_no_notice(healthy):
    losses, baseline, trace = healthy
    assert saturated_share(trace) < 0.1
    assert stall_notice(losses, baseline, trace, window=WINDOW) == ""


def test_no_notice_while_the_loss_still_falls_or_sits_near_the_baseline_or_is_too_short(stalled):
    losses, baseline, trace = stalled
    falling = np.geomspace(1000, 20, WINDOW) * baseline  # far above, saturated, but still falling fast
    assert stall_notice(falling, baseline, trace, window=WINDOW) == ""
    at_baseline = np.full(WINDOW, 1.5 * baseline)
    assert stall_notice(at_baseline, baseline, trace, window=WINDOW) == ""
    assert stall_notice(losses[-WINDOW + 1 :], baseline, trace, window=WINDOW) == ""  # too few steps yet
    assert stall_notice(losses, baseline, None, window=WINDOW) == ""


def test_saturation_counts_gates_near_0_or_1_and_tanh_values_near_plus_or_minus_1():
    gates = np.array([0.005, 0.5, 0.995, 0.98]).reshape(1, 1, 1, 4)  # 2 of 4 within 0.01 of 0 or 1
    tanh_values = np.array([-0.995, 0.0, 0.98, 0.999]).reshape(1, 1, 1, 4)  # 2 of 4 beyond ±0.99
    quantities = {"reset_gate": gates, "update_gate": 1 - gates, "candidate": tanh_values, "hidden": 0 * tanh_values}
    empty = np.zeros((1, 1))
    trace = Trace("gru", quantities, empty, empty, empty, empty, empty, loss=0.0)
    assert saturated_share(trace) == (2 + 2 + 2 + 0) / 16
