"""Digits: classify 8x8 handwritten digits read row by row, a sequence classifier.

The data are the 1797 images of the UCI "Optical Recognition of Handwritten Digits" set
(CC BY 4.0; assets/digits/README.md gives its source), pixels 0..16 scaled to 0..1. Each image is a
sequence of its 8 rows (T = 8, F = 8 pixels). The class is read once, after the whole image: the
model's head reads the final state of each direction (readout "final": the forward direction's
output at the last row and, for a bidirectional model, the backward direction's at the first row).
The loss is the cross-entropy of that one output.

A fixed split (SPLIT_SEED, whatever the run's seed) keeps 80% of the images for training and 20%
for testing, so that test accuracies compare across runs. Batches draw training images at random;
evaluate() scores the whole test set. The no-memory baseline is the loss of the best prediction
without input: the training classes' frequencies, whose cross-entropy on them is their entropy.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from functools import lru_cache

import numpy as np
import torch

from lstm_viz.core.config import ASSET_DIR, ConfigError, RunConfig
from lstm_viz.core.tasks.base import Task, check_batch_size

DIGITS_PATH = ASSET_DIR / "digits" / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
IMAGES, ROWS, COLUMNS, CLASSES = 1797, 8, 8, 10
PIXEL_MAX = 16.0
TEST_SHARE = 0.2
SPLIT_SEED = 20150301  # numpy's RandomState: its stream is frozen, so the split is the same in every version


class DigitsTask(Task):
    name = "digits"
    input_size = COLUMNS
    output_size = CLASSES
    readout = "final"
    metric_columns = ("test_accuracy",)
    baseline_name = "no input (the class frequencies)"

    def __init__(self, config: RunConfig) -> None:
        images, labels = load_digits()  # (N, 8, 8) float32 in 0..1, (N,) int64
        train_indices, test_indices = split_indices()
        self.train_images = torch.from_numpy(images[train_indices])  # (N_train, 8, 8)
        self.train_labels = torch.from_numpy(labels[train_indices])  # (N_train,)
        self.test_images = torch.from_numpy(images[test_indices])  # (N_test, 8, 8)
        self.test_labels = torch.from_numpy(labels[test_indices])  # (N_test,)
        frequencies = np.bincount(labels[train_indices], minlength=CLASSES) / len(train_indices)  # (10,)
        self.baseline_loss = float(-(frequencies[frequencies > 0] * np.log(frequencies[frequencies > 0])).sum())
        self.majority_accuracy = float(
            (self.test_labels == int(np.argmax(frequencies))).double().mean()
        )  # the baseline's accuracy on the test set
        # The probe: a test image the seed picks.
        probe_index = int(torch.randint(len(test_indices), (1,), generator=torch.Generator().manual_seed(config.seed)))
        self._probe_inputs = self.test_images[probe_index : probe_index + 1].clone()  # (1, 8, 8)
        self._probe_targets = self.test_labels[probe_index : probe_index + 1].clone()  # (1,)

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch_size(batch_size)
        chosen = torch.randint(len(self.train_labels), (batch_size,), generator=generator)  # (B,)
        return self.train_images[chosen], self.train_labels[chosen]  # (B, 8, 8), (B,)

    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._probe_inputs.clone(), self._probe_targets.clone()  # (1, 8, 8), (1,)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(outputs[:, -1], targets)  # outputs (B, 1, 10): the one readout

    def test_outputs(self, model) -> torch.Tensor:
        """(N_test, 10) logits of the whole test set."""
        with torch.no_grad():
            return model(self.test_images)[0][:, -1]  # (N_test, 10)

    def evaluate(self, model) -> dict:
        """The test set's accuracy, and its confusion matrix for the task view (counts; rows: the true class,
        columns: the predicted one); the share of the majority training class among the test images, for scale."""
        predicted = self.test_outputs(model).argmax(dim=1).numpy()  # (N_test,)
        truth = self.test_labels.numpy()  # (N_test,)
        confusion = np.bincount(truth * CLASSES + predicted, minlength=CLASSES * CLASSES).reshape(CLASSES, CLASSES)
        return {
            "test_accuracy": float(np.trace(confusion) / len(truth)),
            "confusion": confusion.astype(np.int64),  # (10, 10)
            "majority_accuracy": self.majority_accuracy,
        }


@lru_cache(maxsize=1)
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float32 in 0..1, classes (1797,) int64) from the shipped file, whose SHA-256 must
    match DIGITS_SHA256 (a damaged or replaced file is refused, not trained on). Read-only arrays."""
    try:
        data = DIGITS_PATH.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"the digits data is missing at {DIGITS_PATH} ({error.strerror or error}); reinstall lstm_viz"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != DIGITS_SHA256:
        raise ConfigError(
            f"the digits data at {DIGITS_PATH} is damaged or not the shipped file (SHA-256 {digest[:16]}…, expected "
            f"{DIGITS_SHA256[:16]}…); reinstall lstm_viz"
        )
    table = np.loadtxt(io.StringIO(gzip.decompress(data).decode("ascii")), delimiter=",", dtype=np.int64)  # (N, 65)
    images = (table[:, :-1].reshape(-1, ROWS, COLUMNS) / PIXEL_MAX).astype(np.float32)  # (N, 8, 8)
    classes = table[:, -1].copy()  # (N,)
    for array in (images, classes):
        array.flags.writeable = False
    return images, classes


@lru_cache(maxsize=1)
def split_indices() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) image indices: a fixed shuffle by SPLIT_SEED, the first 80% for training."""
    order = np.random.RandomState(SPLIT_SEED).permutation(IMAGES)  # (N,)
    test_count = round(TEST_SHARE * IMAGES)  # 359
    train, test = np.sort(order[test_count:]), np.sort(order[:test_count])
    for array in (train, test):
        array.flags.writeable = False
    return train, test
