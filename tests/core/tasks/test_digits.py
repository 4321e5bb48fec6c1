"""Digits row by row: the shipped data and its checksum, the fixed split, the classifier's readout, baseline,
evaluation, and a shortened run that reaches 90% test accuracy."""

import gzip
import hashlib
import json

import numpy as np
import pytest
import torch

from lstm_viz.core import runs
from lstm_viz.core.config import ConfigError, RunConfig, load_preset
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.tasks import digits, make_task
from lstm_viz.core.tasks.digits import DIGITS_PATH, DIGITS_SHA256, DigitsTask, load_digits, split_indices
from lstm_viz.core.trainer import EVALUATE_EVERY_STEPS, Trainer, make_prober

SMALL = {"task": "digits", "hidden": 8, "bidirectional": True}
TEST_SPLIT_DIGEST = "de01f2a08e120b56"  # sha256 of the test indices (int64), first 16 hex digits


@pytest.fixture
def fresh_loader():
    """load_digits() reads the file again (it caches what it read) in this test, and after it."""
    load_digits.cache_clear()
    yield
    load_digits.cache_clear()


def test_the_shipped_file_is_the_checked_one_and_holds_1797_images_of_8x8_pixels_0_to_16():
    data = DIGITS_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == DIGITS_SHA256
    table = np.loadtxt(gzip.decompress(data).decode().splitlines(), delimiter=",", dtype=np.int64)  # (1797, 65)
    assert table.shape == (1797, 65) and table[:, :64].min() == 0 and table[:, :64].max() == 16
    images, classes = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(images * 16, table[:, :64].reshape(-1, 8, 8))  # rows of 8 pixels, top first
    assert np.array_equal(classes, table[:, 64]) and np.bincount(classes).tolist() == [
        178, 182, 177, 183, 181, 182, 181, 179, 174, 180
    ]  # fmt: skip
    assert (DIGITS_PATH.parent / "README.md").read_text().count("CC BY 4.0") >= 1  # the licence goes with it


def test_a_damaged_or_missing_data_file_is_refused_in_one_line(tmp_path, monkeypatch, fresh_loader):
    damaged = bytearray(DIGITS_PATH.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01  # one bit
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(bytes(damaged))
    monkeypatch.setattr(digits, "DIGITS_PATH", path)
    with pytest.raises(ConfigError, match="damaged or not the shipped file") as error:
        DigitsTask(RunConfig(**SMALL))
    assert "\n" not in str(error.value)
    load_digits.cache_clear()
    monkeypatch.setattr(digits, "DIGITS_PATH", tmp_path / "gone.csv.gz")
    with pytest.raises(ConfigError, match="digits data is missing"):
        DigitsTask(RunConfig(**SMALL))


def test_the_split_is_fixed_80_20_disjoint_and_the_same_for_every_seed():
    train, test = split_indices()
    assert (len(train), len(test)) == (1438, 359)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
    # Pinned: numpy's RandomState stream is frozen, so these never change (a changed split changes every figure).
    assert hashlib.sha256(test.astype(np.int64).tobytes()).hexdigest()[:16] == TEST_SPLIT_DIGEST
    first, other = DigitsTask(RunConfig(**SMALL, seed=0)), DigitsTask(RunConfig(**SMALL, seed=5))
    assert torch.equal(first.test_images, other.test_images) and torch.equal(first.train_labels, other.train_labels)


def test_batches_are_training_images_and_the_probe_is_a_test_image():
    task = DigitsTask(RunConfig(**SMALL))
    images, classes = load_digits()
    train, test = split_indices()
    inputs, targets = task.make_batch(64, torch.Generator().manual_seed(1))  # (64, 8, 8), (64,)
    assert inputs.shape == (64, 8, 8) and targets.dtype == torch.int64
    flat = images.reshape(1797, -1)  # the 1797 images are all different: an image names its index
    for image, label in zip(inputs, targets, strict=True):
        index = int(np.flatnonzero((flat == image.numpy().ravel()).all(axis=1))[0])
        assert classes[index] == int(label) and index in set(train.tolist())
    probe_inputs, probe_targets = task.probe()
    index = int(np.flatnonzero((flat == probe_inputs[0].numpy().ravel()).all(axis=1))[0])
    assert index in set(test.tolist()) and classes[index] == int(probe_targets[0])


def test_the_baseline_is_the_cross_entropy_of_the_training_class_frequencies():
    task = DigitsTask(RunConfig(**SMALL))
    frequencies = torch.bincount(task.train_labels, minlength=10).double() / len(task.train_labels)  # (10,)
    no_input = frequencies.log().float().expand(len(task.train_labels), 1, 10)  # the same guess for every image
    assert float(task.loss(no_input, task.train_labels)) == pytest.approx(task.baseline_loss, rel=1e-5)
    assert task.baseline_loss == pytest.approx(np.log(10), abs=0.01)  # the classes are nearly balanced


@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_the_head_reads_the_final_state_of_each_direction_as_torchs_h_n(layers, bidirectional):
    """The class comes from [forward h at the last row, backward h at the first row]: nn.LSTM's h_n of the top
    layer, its two directions concatenated."""
    config = RunConfig(task="digits", hidden=5, layers=layers, bidirectional=bidirectional)
    trainer = Trainer(config)
    model = trainer.model
    inputs, _ = trainer.task.make_batch(3, torch.Generator().manual_seed(0))
    reference = torch.nn.LSTM(8, 5, num_layers=layers, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for index, layer in enumerate(model.layers):
            for name, value in layer.named_parameters():
                getattr(reference, name.replace("_l0", f"_l{index}")).copy_(value)
        _, (h_n, _) = reference(inputs)  # (L*D, B, H)
        directions = 2 if bidirectional else 1
        top = torch.cat(list(h_n[-directions:]), dim=-1)  # (B, D*H)
        outputs, _ = model(inputs)  # (B, 1, 10)
    assert outputs.shape == (3, 1, 10)
    assert torch.allclose(outputs[:, 0], model.head(top), atol=1e-6)


def test_the_probes_direct_gradient_is_at_the_final_states_only():
    trace = probe_trace(*(lambda t: (t.model, t.task))(Trainer(RunConfig(**SMALL, layers=2))))
    direct = np.abs(trace.grad_output)  # (8, 2H)
    forward, backward = direct[:, :8], direct[:, 8:]
    assert forward[-1].sum() > 0 and backward[0].sum() > 0  # the head reads these
    assert forward[:-1].sum() == 0 and backward[1:].sum() == 0  # and nothing else
    assert trace.probe_output.shape == (1, 10)


def accuracy_here(trainer) -> float:
    """The share of test images whose largest logit is the true class, computed here."""
    with torch.no_grad():
        logits = trainer.model(trainer.task.test_images)[0][:, 0]  # (359, 10)
    return float((logits.argmax(dim=1) == trainer.task.test_labels).double().mean())


def test_test_accuracy_is_a_metrics_column_on_step_1_and_every_50_and_in_summary_json(tmp_path):
    trainer = Trainer(RunConfig(**SMALL, lr=0.01))
    for _ in range(EVALUATE_EVERY_STEPS):
        trainer.step()
    columns = trainer.metrics.as_columns()
    assert list(columns)[:6] == ["step", "loss", "grad_norm", "grad_norm_clipped", "clipped", "test_accuracy"]
    assert columns["test_accuracy"][-1] == pytest.approx(accuracy_here(trainer))  # of the weights after step 50
    snapshot = trainer.snapshot()
    assert snapshot.view["test_accuracy"] == pytest.approx(accuracy_here(trainer))
    assert snapshot.view["evaluated_at_step"] == EVALUATE_EVERY_STEPS
    confusion = snapshot.view["confusion"]  # (true, predicted)
    assert confusion.sum() == 359 and confusion.sum(axis=1).tolist() == np.bincount(trainer.task.test_labels).tolist()
    assert np.trace(confusion) / 359 == pytest.approx(accuracy_here(trainer))
    trainer.step()
    columns = trainer.metrics.as_columns()
    measured = np.flatnonzero(np.isfinite(columns["test_accuracy"]))
    assert columns["step"][measured].tolist() == [1, EVALUATE_EVERY_STEPS]  # NaN on the other steps
    runs.write_run(tmp_path, trainer, probe_trace(trainer.model, trainer.task))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["test_accuracy"] == pytest.approx(accuracy_here(trainer))  # the final weights (step 51)
    written = runs.read_metrics(tmp_path / "metrics.csv")["test_accuracy"]
    assert np.isnan(written[-1]) and written[measured].tolist() == pytest.approx(columns["test_accuracy"][measured])


def test_a_history_record_carries_the_evaluation_of_its_weights():
    trainer = Trainer(RunConfig(**SMALL))
    for _ in range(3):
        trainer.step()
    probe = make_prober({"kind": "trainer", "config": trainer.config.to_dict()})
    _, view = probe(3, trainer.model.state_dict(), None, {})
    expected = trainer.task.evaluate(trainer.model)
    assert view["test_accuracy"] == expected["test_accuracy"] and view["evaluated_at_step"] == 3
    assert np.array_equal(view["confusion"], expected["confusion"])


def test_a_task_without_a_test_set_has_no_accuracy_column_and_a_null_test_accuracy(tmp_path):
    trainer = Trainer(RunConfig(task="adding", hidden=4, seq_len=10))
    trainer.step()
    assert "test_accuracy" not in trainer.metrics.columns and trainer.evaluate() == {}
    assert runs.summary(trainer, None, 0.0)["test_accuracy"] is None


def test_the_digits_preset_is_the_2_layer_bidirectional_64_unit_lstm():
    config = load_preset("digits")
    assert (config.task, config.cell, config.layers, config.bidirectional, config.hidden) == (
        "digits", "lstm", 2, True, 64
    )  # fmt: skip
    assert isinstance(make_task(config), DigitsTask)


def test_a_shortened_digits_run_reaches_90_percent_test_accuracy():
    """A shortened digits run: the preset's bidirectional LSTM with one layer of 32 units, lr 0.01, batch 64, 250
    steps (~96% here, ~5 s; the preset itself, 1500 steps: ~97%, see the README)."""
    trainer = Trainer(load_preset("digits").replace(hidden=32, layers=1, lr=0.01, batch=64))
    for _ in range(250):
        trainer.step()
    assert trainer.evaluate()["test_accuracy"] >= 0.90
