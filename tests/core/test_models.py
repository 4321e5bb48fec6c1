import math

import pytest
import torch
from torch import nn

from lstm_viz.core.config import RunConfig
from lstm_viz.core.models import build_model


class Sizes:
    input_size, output_size, vocab_size = 4, 3, 0


@pytest.mark.parametrize("module,cell", [(nn.LSTM, "lstm"), (nn.GRU, "gru"), (nn.RNN, "rnn")])
def test_stacked_layers_compute_what_one_multilayer_module_computes(module, cell):
    model = build_model(RunConfig(task="adding", cell=cell, hidden=5, layers=3, bidirectional=True), Sizes())
    reference = module(4, 5, num_layers=3, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for index, layer in enumerate(model.layers):
            for name, value in layer.named_parameters():
                getattr(reference, name.replace("_l0", f"_l{index}")).copy_(value)
    inputs = torch.randn(2, 7, 4)  # (B, T, F)
    with torch.no_grad():
        expected, _ = reference(inputs)  # (B, T, 2H)
        outputs, _ = model(inputs)  # (B, T, O)
    assert torch.allclose(outputs, model.head(expected), atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_model_runs_its_layers_exactly_as_their_modules_do(cell):
    """SequenceModel calls the fused kernels directly: outputs, states and gradients equal, bit for bit, those of
    calling each layer module, from a zero state and from a given one."""
    model = build_model(RunConfig(task="adding", cell=cell, hidden=5, layers=2, bidirectional=True), Sizes())
    inputs = torch.randn(3, 7, 4)  # (B, T, F)

    def through_modules(x, state=None):  # (B, T, F) -> (B, T, O), final state per layer
        finals = []
        for index, layer in enumerate(model.layers):
            x, final = layer(x, None if state is None else state[index])  # (B, T, 2H)
            finals.append(final)
        return model.read_out(x), finals

    def gradients(outputs):
        model.zero_grad()
        outputs.sum().backward()
        return [parameter.grad.clone() for parameter in model.parameters()]

    def flat(state):  # per layer: (h, c) for an LSTM, h otherwise
        return [tensor for final in state for tensor in (final if cell == "lstm" else (final,))]

    outputs, state = model(inputs)
    expected, expected_state = through_modules(inputs)
    assert torch.equal(outputs, expected)
    assert all(torch.equal(a, b) for a, b in zip(flat(state), flat(expected_state), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(gradients(outputs), gradients(expected), strict=True))
    with torch.no_grad():
        assert torch.equal(model(inputs[:, :2], state)[0], through_modules(inputs[:, :2], state)[0])


def test_forget_bias_total_is_what_the_user_chose():
    model = build_model(RunConfig(task="adding", hidden=4, forget_bias=2.5, bidirectional=True), Sizes())
    for suffix in model.direction_suffixes():
        layer = model.layers[0]
        total = getattr(layer, "bias_ih_l0" + suffix) + getattr(layer, "bias_hh_l0" + suffix)  # (4H,)
        assert torch.allclose(total[4:8], torch.full((4,), 2.5))
        assert not torch.allclose(total[:4], torch.full((4,), 2.5))


def test_chrono_gives_each_unit_a_forget_bias_log_u_of_1_to_t_max_minus_1_and_the_input_gate_its_negative():
    """Tallec & Ollivier 2018: b_f = log U(1, T_MAX - 1), b_i = -b_f. torch adds bias_ih and bias_hh, so their SUM
    must be the drawn value (an implementation setting both to it doubles it)."""
    hidden, t_max = 512, 200
    config = RunConfig(task="adding", hidden=hidden, layers=2, bidirectional=True, forget_bias=f"chrono:{t_max}")
    model = build_model(config, Sizes())
    default = build_model(config.replace(forget_bias=1.0), Sizes())  # the same seed: torch's init of the rest
    drawn = []
    for layer, default_layer in zip(model.layers, default.layers, strict=True):
        for suffix in model.direction_suffixes():
            bias_ih, bias_hh = (getattr(layer, f"{kind}_l0{suffix}").detach() for kind in ("bias_ih", "bias_hh"))
            total = (bias_ih + bias_hh).reshape(4, hidden)  # (gates i|f|g|o, H)
            input_total, forget_total = total[0], total[1]
            assert torch.equal(input_total, -forget_total)
            assert torch.equal(bias_ih.reshape(4, hidden)[1], bias_hh.reshape(4, hidden)[1])  # split evenly
            assert (forget_total >= 0).all() and (forget_total <= math.log(t_max - 1)).all()
            # The cell candidate and output gate keep torch's default init (chrono draws after it).
            default_total = getattr(default_layer, f"bias_ih_l0{suffix}") + getattr(
                default_layer, f"bias_hh_l0{suffix}"
            )
            assert torch.equal(total[2:], default_total.detach().reshape(4, hidden)[2:])
            drawn.append(forget_total)
    drawn = torch.cat(drawn)  # 4 x 512 draws
    assert len(set(drawn.tolist())) == len(drawn)  # every layer and direction draws its own
    # exp(b_f) - 1 is U(0, T_MAX - 2): its CDF is a straight line (Kolmogorov-Smirnov, 2048 draws: D < 0.04
    # fails a true uniform once in ~10^5; a bias of log(T_MAX/2) for every unit gives D = 0.5).
    uniform = (drawn.exp() - 1).sort().values.double() / (t_max - 2)  # (N,) in [0, 1)
    ranks = torch.arange(1, len(uniform) + 1, dtype=torch.float64) / len(uniform)
    assert float((ranks - uniform).abs().max()) < 0.04
    # The same seed draws the same biases; another seed others.
    again = build_model(config, Sizes()).layers[0].bias_hh_l0
    other = build_model(config.replace(seed=1), Sizes()).layers[0].bias_hh_l0
    assert torch.equal(again, model.layers[0].bias_hh_l0) and not torch.equal(other, again)


def test_recurrent_gain_makes_each_gate_block_a_scaled_orthogonal_matrix():
    model = build_model(RunConfig(cell="rnn", hidden=6, recurrent_gain=1.5), Sizes())
    weight_hh = model.layers[0].weight_hh_l0.detach()  # (H, H)
    assert torch.allclose(weight_hh @ weight_hh.T, 2.25 * torch.eye(6), atol=1e-5)


def test_same_seed_same_weights_other_seed_other_weights():
    first, again = (build_model(RunConfig(seed=7), Sizes()) for _ in range(2))
    other = build_model(RunConfig(seed=8), Sizes())
    assert torch.equal(first.layers[0].weight_hh_l0, again.layers[0].weight_hh_l0)
    assert not torch.equal(first.layers[0].weight_hh_l0, other.layers[0].weight_hh_l0)


def test_characters_enter_one_hot():
    class Chars:
        input_size, output_size, vocab_size = 5, 5, 5

    model = build_model(RunConfig(task="chars"), Chars())
    encoded = model.adapter(torch.tensor([[0, 3, 4]]))  # (1, 3, 5)
    assert encoded.tolist() == [[[1, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]]
