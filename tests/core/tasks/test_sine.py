import math

import numpy as np
import pytest
import torch

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks import make_task, sine
from lstm_viz.core.tasks.sine import SineTask


def sine_task(**settings) -> SineTask:
    return SineTask(RunConfig(task="sine", **settings))


def batch(task, size=8, seed=0):
    return task.make_batch(size, torch.Generator().manual_seed(seed))


def test_make_task_builds_a_sine_task():
    assert isinstance(make_task(RunConfig(task="sine")), SineTask)


def test_batch_shapes_and_dtypes():
    task = sine_task(seq_len=37)
    inputs, targets = batch(task, size=5)
    assert inputs.shape == (5, 37, 1) and targets.shape == (5, 37, 1)
    assert inputs.dtype == torch.float32 and targets.dtype == torch.float32
    assert task.input_size == 1 and task.output_size == 1 and task.vocab_size == 0


def test_make_batch_is_deterministic_for_a_seed_and_differs_for_another():
    task = sine_task(noise=0.1)
    first_inputs, first_targets = batch(task, seed=3)
    again_inputs, again_targets = batch(task, seed=3)
    other_inputs, _ = batch(task, seed=4)
    assert torch.equal(first_inputs, again_inputs) and torch.equal(first_targets, again_targets)
    assert not torch.allclose(first_inputs, other_inputs)


def test_make_batch_leaves_the_global_random_state_alone():
    task = sine_task(noise=0.1)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    batch(task)
    assert torch.equal(torch.rand(3), expected)


def test_probe_is_fixed_per_seed():
    task = sine_task(noise=0.1, seed=5)
    inputs, targets = task.probe()
    inputs[:] = 0  # a caller scribbling on its copy must not change the probe
    again_inputs, again_targets = task.probe()
    assert again_inputs.shape == (1, 50, 1)
    assert not torch.equal(inputs, again_inputs)
    assert torch.equal(again_inputs, sine_task(noise=0.1, seed=5).probe()[0])
    assert not torch.allclose(again_inputs, sine_task(noise=0.1, seed=6).probe()[0])
    assert torch.equal(again_targets, task.probe()[1])


def sine_recurrence(sequences: np.ndarray):
    """For x_t = sin(w t + phase): x_{t+1} + x_{t-1} = 2 cos(w) x_t. Fit 2cos(w) per row, return (w, residual)."""
    middle, outer = sequences[:, 1:-1], sequences[:, 2:] + sequences[:, :-2]  # (B, T-2) each
    two_cos = (middle * outer).sum(1) / (middle * middle).sum(1)  # (B,)
    residual = np.abs(outer - two_cos[:, None] * middle).max()
    return np.arccos(two_cos / 2), residual


def test_targets_are_the_clean_next_inputs_of_a_sine_wave():
    task = sine_task(noise=0.0, seq_len=60, sine_periods=(10.0, 40.0))
    inputs, targets = batch(task, size=64)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])
    wave = torch.cat([inputs[:, :1, 0], targets[:, :, 0]], dim=1).double().numpy()  # (B, T+1)
    frequency, residual = sine_recurrence(wave)
    assert residual < 1e-5
    periods = 2 * math.pi / frequency
    assert periods.min() >= 10 - 1e-3 and periods.max() <= 40 + 1e-3
    assert periods.max() - periods.min() > 10  # periods really vary
    assert np.abs(wave).max() <= 1.0 and np.abs(wave).max() > 0.99


def test_noise_goes_on_the_inputs_only():
    task = sine_task(noise=0.2, seq_len=60)
    inputs, targets = batch(task, size=256)
    _, residual = sine_recurrence(targets[:, :, 0].double().numpy())
    assert residual < 1e-5  # targets stay clean
    input_noise = (inputs[:, 1:] - targets[:, :-1]).std().item()
    assert input_noise == pytest.approx(0.2, rel=0.05)


def test_loss_is_mean_squared_error():
    task = sine_task()
    inputs, targets = batch(task)
    outputs = torch.zeros_like(targets)
    assert task.loss(outputs, targets).item() == pytest.approx(targets.pow(2).mean().item(), rel=1e-6)
    assert task.loss(outputs, targets).shape == ()


def linear_fit_and_persistence_mse(inputs, targets):
    current, following = inputs.flatten().double().numpy(), targets.flatten().double().numpy()
    slope, intercept = np.polyfit(current, following, 1)
    fitted_mse = np.mean((following - slope * current - intercept) ** 2)
    persistence_mse = np.mean((following - current) ** 2)  # predict x_{t+1} = x_t
    return fitted_mse, persistence_mse


def test_baseline_is_the_least_squares_fit_on_the_current_input():
    task = sine_task()
    assert task.baseline_loss == sine_task(seed=9).baseline_loss  # a property of the task, not of the run
    # On the very sequences the baseline is measured on, it is the least-squares MSE, below persistence.
    generator = torch.Generator().manual_seed(sine.BASELINE_SEED)
    inputs, targets = task.make_batch(sine.BASELINE_SEQUENCES, generator)  # seq_len 50 == BASELINE_STEPS
    fitted_mse, persistence_mse = linear_fit_and_persistence_mse(inputs, targets)
    assert task.baseline_loss == pytest.approx(fitted_mse, rel=1e-6)
    assert 0 < task.baseline_loss < persistence_mse
    # And it estimates the expected loss: an independent big sample agrees.
    inputs, targets = batch(task, size=16384, seed=11)
    fitted_mse, persistence_mse = linear_fit_and_persistence_mse(inputs, targets)
    assert task.baseline_loss == pytest.approx(fitted_mse, rel=0.03)
    assert "memory" in task.baseline_name


def test_baseline_does_not_depend_on_seq_len():
    assert sine_task(seq_len=1000).baseline_loss == pytest.approx(sine_task(seq_len=50).baseline_loss, rel=1e-9)
    assert sine_task(seq_len=5).baseline_loss == pytest.approx(sine_task(seq_len=50).baseline_loss, rel=0.05)


def test_baseline_grows_with_input_noise():
    assert sine_task(noise=0.3).baseline_loss > sine_task(noise=0.0).baseline_loss


def test_bad_batch_size_raises_config_error():
    with pytest.raises(ConfigError, match="batch size"):
        sine_task().make_batch(0, torch.Generator())


def test_rollout_feeds_predictions_back():
    task = sine_task(seq_len=20, hidden=8, seed=2)
    model = build_model(RunConfig(task="sine", seq_len=20, hidden=8, seed=2), task)
    probe_inputs, _ = task.probe()
    with torch.no_grad():
        probe_outputs, _ = model(probe_inputs)  # (1, T, 1)
    view = task.view(model, probe_outputs, 1.0, torch.Generator())
    rollout, start = view["rollout"], view["rollout_start"]
    assert isinstance(rollout, np.ndarray) and rollout.shape == (20,) and start == 10
    assert task.labels(probe_inputs) is None
    # First half: teacher forced. Second half: recompute by re-running the whole grown sequence from scratch.
    np.testing.assert_allclose(rollout[:start], probe_outputs[0, :start, 0].numpy(), atol=1e-6)
    fed = probe_inputs[:, :start]  # (1, T//2, 1)
    with torch.no_grad():
        for _ in range(20 - start):
            outputs, _ = model(fed)  # (1, t, 1)
            fed = torch.cat([fed, outputs[:, -1:]], dim=1)
        expected = model(fed[:, :20])[0][0, :, 0].numpy()  # (T,)
    np.testing.assert_allclose(rollout, expected, atol=1e-5)
    assert not np.allclose(rollout[start:], probe_outputs[0, start:, 0].numpy(), atol=1e-3)


def test_lstm_learns_sine_far_below_the_no_memory_baseline():
    config = RunConfig(task="sine", cell="lstm", hidden=16, seq_len=50, lr=1e-2, seed=0)
    task = make_task(config)
    model = build_model(config, task)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(300):
        inputs, targets = task.make_batch(32, generator)
        loss = task.loss(model(inputs)[0], targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    inputs, targets = task.make_batch(256, torch.Generator().manual_seed(123))
    with torch.no_grad():
        held_out_mse = task.loss(model(inputs)[0], targets).item()
    assert held_out_mse < 0.1 * task.baseline_loss, (held_out_mse, task.baseline_loss)
