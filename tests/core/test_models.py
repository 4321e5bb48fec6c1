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


def test_forget_bias_total_is_what_the_user_chose():
    model = build_model(RunConfig(task="adding", hidden=4, forget_bias=2.5, bidirectional=True), Sizes())
    for suffix in model.direction_suffixes():
        layer = model.layers[0]
        total = getattr(layer, "bias_ih_l0" + suffix) + getattr(layer, "bias_hh_l0" + suffix)  # (4H,)
        assert torch.allclose(total[4:8], torch.full((4,), 2.5))
        assert not torch.allclose(total[:4], torch.full((4,), 2.5))


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
