"""Record your own model with lstm_viz.Recorder: a small sequence classifier trained in a plain PyTorch loop.

    python examples/own_model.py --steps 600 --out runs/own-model
    lstm-viz open runs/own-model

The model is the script's own: a 2-layer bidirectional LSTM (batch_first) with a linear head on its last step,
telling noisy sine waves apart by their period (three classes). lstm_viz sees it through three additions to
the loop: the Recorder, recorder.step(loss) after backward(), and close() (here, the end of the with-block).
The window can open the run while this script is still writing it, and follows it.
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

import lstm_viz

PERIODS = (6.0, 8.0, 11.0)  # timesteps per cycle: one class each
LENGTH, HIDDEN, BATCH = 40, 32, 32


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.LSTM(1, HIDDEN, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, len(PERIODS))

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        output, _ = self.encoder(waves)  # (B, T, 2H)
        return self.head(output[:, -1])  # (B, classes): from the last step


def make_batch(size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` noisy sine waves of random phase, (B, T, 1), and their classes (B,)."""
    classes = torch.randint(len(PERIODS), (size,), generator=generator)  # (B,)
    periods = torch.tensor(PERIODS)[classes]  # (B,)
    phases = 2 * math.pi * torch.rand(size, 1, generator=generator)  # (B, 1)
    waves = torch.sin(2 * math.pi * torch.arange(LENGTH) / periods[:, None] + phases)  # (B, T)
    noisy = waves + 0.5 * torch.randn(size, LENGTH, generator=generator)  # (B, T)
    return noisy[..., None], classes


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=positive_int, default=600, help="training steps (default 600)")
    parser.add_argument("--out", default="runs/own-model", help="the run directory (default runs/own-model)")
    args = parser.parse_args()

    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    criterion = nn.CrossEntropyLoss()
    x_probe, y_probe = make_batch(1, torch.Generator().manual_seed(1))  # one sequence (1, T, 1) and its class (1,)

    with lstm_viz.Recorder(
        model.encoder,  # the nn.LSTM inside the model
        probe_input=x_probe,  # batch_first: (1, T, F)
        probe_loss=lambda output: criterion(model.head(output[:, -1]), y_probe),  # gradients through time
        probe_output=lambda output: model.head(output[:, -1]).softmax(-1),  # the task view: class probabilities
        out=args.out,
    ) as recorder:
        for step in range(1, args.steps + 1):
            waves, classes = make_batch(BATCH, generator)
            optimizer.zero_grad()
            loss = criterion(model(waves), classes)
            loss.backward()
            recorder.step(loss)  # after backward(), before the optimizer step (and before your own clipping)
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if step % 100 == 0 or step == args.steps:
                print(f"step {step}: loss {loss.item():.3f}", flush=True)
    print(f"recorded in {args.out}; see it with: lstm-viz open {args.out}")


if __name__ == "__main__":
    main()
