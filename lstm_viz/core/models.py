"""SequenceModel: input adapter -> fused recurrent layers -> linear head.

Each layer is its own single-layer fused torch module (nn.LSTM / nn.GRU / nn.RNN,
optionally bidirectional). A stack of them computes exactly what one multi-layer
module computes (tests check this against nn.LSTM(num_layers=k)), and it hands the
probe every layer's outputs, which the exact reconstruction of the internals needs.

Real-valued inputs enter the first layer as they are and characters enter one-hot:
a linear layer in front would only multiply W_ih by another matrix.

The head reads every step's output (readout "steps": next-step tasks, the adding problem, copy) or,
for a sequence classifier (readout "final"), the final state of each direction once: the forward
direction's output at the last step and the backward direction's at t = 0, concatenated.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_viz.core.config import RunConfig, chrono_t_max

RECURRENT_MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
READOUTS = ("steps", "final")
GATE_NAMES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}


class OneHot(nn.Module):
    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(ids, self.vocab_size).float()  # (B, T, V)


class SequenceModel(nn.Module):
    def __init__(
        self, config: RunConfig, input_size: int, output_size: int, vocab_size: int = 0, readout: str = "steps"
    ) -> None:
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.readout = readout
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
                        # torch adds bias_ih and bias_hh: split each chosen total evenly between them.
                        for rows, total in lstm_gate_biases(config.forget_bias, hidden):
                            getattr(layer, "bias_ih_l0" + suffix)[rows] = total / 2
                            getattr(layer, "bias_hh_l0" + suffix)[rows] = total / 2

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
            layer_input, layer_state = self._run_layer(layer, layer_input, None if state is None else state[index])
            layer_outputs.append(layer_input)
            final_state.append(layer_state)
        return self.read_out(layer_input), final_state, layer_outputs  # (B, T, O), or (B, 1, O) for "final"

    def _run_layer(self, layer: nn.Module, layer_input: torch.Tensor, state):
        """layer(layer_input, state), (B, T, F) -> (B, T, D*H) and the final state: the fused kernel that
        nn.LSTM / GRU / RNN.forward calls, called as it does, without its per-call checks (~25 us a call,
        0.5% of a training step at sine H=64, and most of a rollout's or a sample's step)."""
        if state is None:
            zeros = layer_input.new_zeros(self.directions, layer_input.shape[0], self.hidden_size)  # (D, B, H)
            state = (zeros, zeros) if self.cell == "lstm" else zeros
        kernel = recurrent_kernel(self.cell, layer.nonlinearity if self.cell == "rnn" else "tanh")
        output, *final = kernel(
            layer_input, state, layer._flat_weights, True, 1, 0.0, layer.training, self.directions == 2, True
        )
        return output, tuple(final) if self.cell == "lstm" else final[0]

    def read_out(self, top_outputs: torch.Tensor) -> torch.Tensor:
        """The head on the top layer's outputs (B, T, D*H): (B, T, O) per step, or (B, 1, O) from the final states."""
        if self.readout == "final":
            top_outputs = final_states(top_outputs, self.hidden_size)  # (B, 1, D*H)
        return self.head(top_outputs)


def recurrent_kernel(cell: str, nonlinearity: str = "tanh"):
    """torch's fused kernel of a cell, which nn.LSTM / GRU / RNN.forward call: (input, state, flat weights,
    has biases, layers, dropout, train, bidirectional, batch_first) -> (output, *final state)."""
    return {"lstm": torch._VF.lstm, "gru": torch._VF.gru}.get(cell) or getattr(torch._VF, f"rnn_{nonlinearity}")


def final_states(top_outputs: torch.Tensor, hidden_size: int) -> torch.Tensor:
    """(B, T, D*H) -> (B, 1, D*H): each direction's final state, the forward direction's at the last step and
    the backward direction's (which reads the sequence from its end) at t = 0."""
    forward = top_outputs[:, -1:, :hidden_size]  # (B, 1, H)
    backward = top_outputs[:, :1, hidden_size:]  # (B, 1, H) or (B, 1, 0) with one direction
    return torch.cat([forward, backward], dim=-1)  # (B, 1, D*H)


def lstm_gate_biases(forget_bias: float | str, hidden: int) -> list[tuple[slice, torch.Tensor]]:
    """The total bias (bias_ih + bias_hh) to give LSTM gates at init, by their rows (torch order i|f|g|o).

    A number: the forget gate's, every unit (the input gate keeps torch's default). "chrono:T_MAX" (Tallec &
    Ollivier, "Can recurrent neural networks warp time?", ICLR 2018): per unit b_f = log(u), u ~ U(1, T_MAX - 1),
    so that 1 / (1 - f) spreads the units' memory time scales over 1 .. T_MAX, and b_i = -b_f. Drawn from
    torch's global generator (build_model seeds it)."""
    forget_rows, input_rows = slice(hidden, 2 * hidden), slice(0, hidden)
    t_max = chrono_t_max(forget_bias)
    if t_max is None:
        return [(forget_rows, torch.full((hidden,), float(forget_bias)))]
    forget_total = torch.log(1 + (t_max - 2) * torch.rand(hidden))  # (H,) log U(1, T_MAX - 1)
    return [(forget_rows, forget_total), (input_rows, -forget_total)]


def build_model(config: RunConfig, task) -> SequenceModel:
    """A model for `task`, initialised deterministically from config.seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        readout = getattr(task, "readout", "steps")  # test stand-ins of a task may have no readout
        return SequenceModel(config, task.input_size, task.output_size, task.vocab_size, readout)
