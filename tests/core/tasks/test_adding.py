import numpy as np
import pytest
import torch

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks import make_task
from lstm_viz.core.tasks.adding import AddingTask


def adding_task(**settings) -> AddingTask:
    return AddingTask(RunConfig(task="adding", **settings))


def batch(task, size=16, seed=0):
    return task.make_batch(size, torch.Generator().manual_seed(seed))


def test_make_task_builds_an_adding_task():
    assert isinstance(make_task(RunConfig(task="adding")), AddingTask)


@pytest.mark.parametrize("seq_len", [9, 1001, 5000])
def test_seq_len_outside_10_to_1000_is_refused(seq_len):
    with pytest.raises(ConfigError, match=r"between 10 and 1000") as error:
        adding_task(seq_len=seq_len)
    assert str(seq_len) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("seq_len", [10, 1000])
def test_seq_len_at_the_limits_is_accepted(seq_len):
    inputs, targets = batch(adding_task(seq_len=seq_len), size=2)
    assert inputs.shape == (2, seq_len, 2)


def test_batch_shapes_and_dtypes():
    task = adding_task(seq_len=30)
    inputs, targets = batch(task, size=7)
    assert inputs.shape == (7, 30, 2) and inputs.dtype == torch.float32
    assert targets.shape == (7, 1) and targets.dtype == torch.float32
    assert task.input_size == 2 and task.output_size == 1 and task.vocab_size == 0


@pytest.mark.parametrize("seq_len", [10, 11, 50, 203])
def test_one_marker_per_half_and_target_is_the_sum_of_the_marked_values(seq_len):
    inputs, targets = batch(adding_task(seq_len=seq_len), size=4096, seed=seq_len)
    values, markers = inputs[..., 0].numpy(), inputs[..., 1].numpy()  # (B, T) each
    half = seq_len // 2
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    assert values.min() >= 0.0 and values.max() < 1.0
    np.testing.assert_allclose(targets[:, 0].numpy(), (values * markers).sum(axis=1), rtol=1e-6)
    assert (markers.sum(axis=0) > 0).all()  # every position gets marked sometimes, the ends of each half too


def test_make_batch_is_deterministic_for_a_seed_and_differs_for_another():
    task = adding_task()
    first, again, other = batch(task, seed=1), batch(task, seed=1), batch(task, seed=2)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_probe_is_fixed_per_seed():
    task = adding_task(seed=4)
    inputs, targets = task.probe()
    assert inputs.shape == (1, 50, 2) and targets.shape == (1, 1)
    inputs[:] = 0
    assert torch.equal(task.probe()[0], adding_task(seed=4).probe()[0])
    assert torch.equal(task.probe()[1], adding_task(seed=4).probe()[1])
    assert not torch.equal(task.probe()[0], adding_task(seed=5).probe()[0])


def test_always_predicting_one_scores_one_sixth():
    task = adding_task(seq_len=10)
    assert task.baseline_loss == pytest.approx(1 / 6)
    assert task.baseline_name == "no memory (always 1)"
    _, targets = batch(task, size=200_000, seed=3)
    outputs = torch.ones(200_000, 10, 1)  # (B, T, 1)
    assert task.loss(outputs, targets).item() == pytest.approx(1 / 6, abs=0.01)


def test_loss_reads_only_the_last_step():
    task = adding_task(seq_len=12)
    inputs, targets = batch(task, size=4)
    outputs = torch.randn(4, 12, 1)  # (B, T, 1)
    expected = ((outputs[:, -1, 0] - targets[:, 0]) ** 2).mean()
    assert task.loss(outputs, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    outputs[:, :-1] = 100.0
    assert task.loss(outputs, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    assert task.loss(outputs, targets).shape == ()


def test_view_reports_the_probe_markers_and_prediction():
    config = RunConfig(task="adding", hidden=8, seed=3)
    task = make_task(config)
    model = build_model(config, task)
    probe_inputs, probe_targets = task.probe()
    probe_outputs, _ = model(probe_inputs)  # (1, T, 1), still attached to the graph
    view = task.view(model, probe_outputs, 1.0, torch.Generator())
    positions = view["marked_positions"]
    assert positions.shape == (2,) and view["marked_values"].shape == (2,)
    assert 0 <= positions[0] < 25 <= positions[1] < 50
    assert probe_inputs[0, positions, 1].tolist() == [1.0, 1.0]
    np.testing.assert_allclose(view["marked_values"], probe_inputs[0, positions, 0].numpy())
    assert view["target"] == pytest.approx(view["marked_values"].sum(), rel=1e-6)
    assert view["target"] == pytest.approx(probe_targets.item())
    assert view["prediction"] == pytest.approx(probe_outputs[0, -1, 0].item())
    assert task.labels(probe_inputs) is None


def test_lstm_beats_the_no_memory_baseline_at_t50():
    """The LSTM sits at the 1/6 plateau for a few hundred steps, then finds the markers (seen: step 400-650)."""
    config = RunConfig(task="adding", cell="lstm", hidden=32, seq_len=50, lr=2e-2, seed=0)
    task = make_task(config)
    model = build_model(config, task)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    held_out_inputs, held_out_targets = task.make_batch(1000, torch.Generator().manual_seed(99))
    held_out_mse = float("inf")
    for step in range(1, 2001):
        inputs, targets = task.make_batch(32, generator)
        loss = task.loss(model(inputs)[0], targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            with torch.no_grad():
                held_out_mse = task.loss(model(held_out_inputs)[0], held_out_targets).item()
            if held_out_mse < 0.01:
                break
    assert held_out_mse < 0.05, f"MSE {held_out_mse:.3f} after {step} steps; baseline 1/6"
