"""SequenceModel: input adapter -> fused recurrent layers -> linear head.

Each layer is its own single-layer fused torch module (nn.LSTM / nn.GRU / nn.RNN,
optionally bidirectional). A stack of them computes exactly what one multi-layer
module computes (tests check this against nn.LSTM(num_layers=k)), and it hands the
probe every layer's outputs, which the exact reconstruction of the internals needs.

Real-valued inputs enter the first layer as they are and characters enter one-hot:
a linear layer in front would only multiply W_ih by another matrix.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_viz.core.config import RunConfig

RECURRENT_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
GATE_NAMES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}


class OneHot(nn.Module):
    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(ids, self.vocab_size).float()  # (B, T, V)


class SequenceModel(nn.Module):
    def __init__(self, config: RunConfig, input_size: int, output_size: int, vocab_size: int = 0) -> None:
        super().__init__()
        self.cell = config.cell
        self.hidden_size = config.hidden
        self.directions = 2 if config.bidirectional else 1
        self.adapter = OneHot(vocab_size) if vocab_size else nn.Identity()
        module = RECURRENT_MODULES[config.cell]
        layer_inputs = [input_size] + [self.directions * config.hidden] * (config.layers - 1)
        self.layers = nn.ModuleList(
            module(size, config.hidden, num_layers=1, batch_first=True, bidirectional=config.bidirectional)
            for size in layer_inputs
        )
        self.head = nn.Linear(self.directions * config.hidden, output_size)
        self._initialise(config)

    def _initialise(self, config: RunConfig) -> None:
        hidden = config.hidden
        with torch.no_grad():
            for layer in self.layers:
                for suffix in self.direction_suffixes():
                    if config.recurrent_gain > 0:
                        weight_hh = getattr(layer, "weight_hh_l0" + suffix)  # (G*H, H)
                        for block in weight_hh.split(hidden):
                            nn.init.orthogonal_(block, gain=config.recurrent_gain)
                    if config.cell == "lstm":
                        # torch adds bias_ih and bias_hh: split the chosen total evenly.
                        getattr(layer, "bias_ih_l0" + suffix)[hidden : 2 * hidden] = config.forget_bias / 2
                        getattr(layer, "bias_hh_l0" + suffix)[hidden : 2 * hidden] = config.forget_bias / 2

    def direction_suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.directions]

    def forward(self, inputs: torch.Tensor, state: list | None = None):
        """inputs in task terms -> (outputs (B, T, O), final state per layer)."""
        outputs, final_state, _ = self.run(inputs, state)
        return outputs, final_state

    def run(self, inputs: torch.Tensor, state: list | None = None):
        """Like forward, also returning every layer's outputs (B, T, D*H)."""
        layer_input = self.adapter(inputs)  # (B, T, F)
        layer_outputs = []
        final_state = []
        for index, layer in enumerate(self.layers):
            layer_input, layer_state = layer(layer_input, None if state is None else state[index])  # (B, T, D*H)
            layer_outputs.append(layer_input)
            final_state.append(layer_state)
        return self.head(layer_input), final_state, layer_outputs  # (B, T, O)


def build_model(config: RunConfig, task) -> SequenceModel:
    """A model for `task`, initialised deterministically from config.seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return SequenceModel(config, task.input_size, task.output_size, task.vocab_size)
