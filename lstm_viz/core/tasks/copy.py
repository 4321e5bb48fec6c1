"""The copy task: remember 10 symbols across a gap of T steps and repeat them on a cue.

Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997 (the long
time-lag experiments), in the form of Arjovsky, Shah & Bengio, "Unitary Evolution Recurrent
Neural Networks", ICML 2016. Inputs are categories: 0 is the blank, 1..8 the symbols, 9 the
delimiter. A sequence of length T + 20 (T = seq_len) holds

    input   s_1 .. s_10   blank x (T-1)   delimiter   blank x 10
    target  blank x (T+10)                            s_1 .. s_10

with the s_i drawn uniformly from the 8 symbols: after the delimiter the net must output the
10 symbols it saw T + 10 steps before, in order, and the blank everywhere else. The loss is the
cross-entropy over all T + 20 steps (targets are blank or a symbol: 9 classes).

Without memory of the symbols the best a net can do is Arjovsky et al.'s "memoryless strategy":
the blank (which costs nothing) for the first T + 10 steps, then a uniform guess among the 8
symbols for the last 10, a mean cross-entropy of 10·ln 8 / (T + 20) (0.173 at T = 100). It needs
to count the steps, but to remember nothing of what it read. Without input at all, the best is
the targets' frequencies: a fainter "no input" line above it.
"""

from __future__ import annotations

import math

import torch

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.tasks.base import Task, check_batch_size

BLANK, DELIMITER = 0, 9
SYMBOLS = 8  # the symbols are categories 1..8
COPY_LENGTH = 10  # symbols to copy
MIN_GAP, MAX_GAP = 1, 1000
VIEW_SEQUENCES = 100  # fresh sequences the view scores the copied symbols on
SYMBOL_LABELS = {BLANK: "·", DELIMITER: "▶"}  # the others are their digit, 1..8


class CopyTask(Task):
    name = "copy"
    vocab_size = input_size = DELIMITER + 1  # categories 0..9, one-hot
    output_size = SYMBOLS + 1  # blank or a symbol
    baseline_name = "no memory of the symbols"

    def __init__(self, config: RunConfig) -> None:
        if not MIN_GAP <= config.seq_len <= MAX_GAP:
            raise ConfigError(
                f"the copy task needs seq_len (its gap T; sequences are T+20 long) between {MIN_GAP} and {MAX_GAP}, "
                f"got {config.seq_len}; set seq_len in that range"
            )
        self.gap = config.seq_len
        self.length = self.gap + 2 * COPY_LENGTH  # T + 20
        self.baseline_loss = copy_baseline(self.gap)
        self.no_input_loss = copy_no_input_loss(self.gap)
        probe_generator = torch.Generator().manual_seed(config.seed)
        self._probe_inputs, self._probe_targets = self.make_batch(1, probe_generator)  # (1, T+20) each

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch_size(batch_size)
        symbols = torch.randint(1, SYMBOLS + 1, (batch_size, COPY_LENGTH), generator=generator)  # (B, 10)
        inputs = torch.full((batch_size, self.length), BLANK, dtype=torch.int64)  # (B, T+20)
        inputs[:, :COPY_LENGTH] = symbols
        inputs[:, self.length - COPY_LENGTH - 1] = DELIMITER  # at T+9
        targets = torch.full((batch_size, self.length), BLANK, dtype=torch.int64)  # (B, T+20)
        targets[:, -COPY_LENGTH:] = symbols
        return inputs, targets

    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._probe_inputs.clone(), self._probe_targets.clone()  # (1, T+20) each

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))

    def view(self, model, probe_outputs: torch.Tensor, temperature: float, generator: torch.Generator) -> dict:
        """The share of the 10 symbols copied right (argmax) on VIEW_SEQUENCES fresh sequences."""
        inputs, targets = self.make_batch(VIEW_SEQUENCES, generator)  # (N, T+20) each
        with torch.no_grad():
            outputs, _ = model(inputs)  # (N, T+20, 9)
        copied = outputs[:, -COPY_LENGTH:].argmax(dim=-1) == targets[:, -COPY_LENGTH:]  # (N, 10)
        return {"symbol_accuracy": float(copied.double().mean()), "sequences": VIEW_SEQUENCES}


def copy_baseline(gap: int) -> float:
    """10·ln 8 / (T + 20): blank with certainty for T + 10 steps, a uniform guess among 8 symbols for 10."""
    return COPY_LENGTH * math.log(SYMBOLS) / (gap + 2 * COPY_LENGTH)


def copy_no_input_loss(gap: int) -> float:
    """The entropy of the targets' frequencies: the blank (T + 10 of T + 20 steps), each symbol 10 / 8 / (T + 20)."""
    length = gap + 2 * COPY_LENGTH
    blank_share, symbol_share = (length - COPY_LENGTH) / length, COPY_LENGTH / length / SYMBOLS
    return float(-blank_share * math.log(blank_share) - SYMBOLS * symbol_share * math.log(symbol_share))


def symbol_label(category: int) -> str:
    return SYMBOL_LABELS.get(category, str(category))
