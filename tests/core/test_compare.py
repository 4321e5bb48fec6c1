"""Comparisons: variants share the seed (initial weights where the shapes match, batches, probe), train in
turns, each exactly as a single run with its setting; bad --compare texts are one-line ConfigErrors."""

import numpy as np
import pytest
import torch

from lstm_viz.core.compare import Comparison, differences, parse_compare
from lstm_viz.core.config import Clip, ConfigError, RunConfig, load_preset
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.trainer import Trainer

SMALL = RunConfig(task="adding", hidden=8, seq_len=12, batch=4, seed=3)


def test_parse_gives_one_config_per_value_differing_only_in_that_setting():
    setting, variants = parse_compare("clip=off,norm:1", load_preset("exploding"))
    assert setting == "clip"
    assert [v.label for v in variants] == ["off", "norm:1"]
    assert [v.folder_name for v in variants] == ["off", "norm-1"]
    assert variants[0].config == load_preset("exploding").replace(clip=Clip("off"))
    assert variants[1].config == load_preset("exploding").replace(clip=Clip("norm", 1.0))
    _, variants = parse_compare("forget_bias=0,1", load_preset("names"))
    assert [v.config.forget_bias for v in variants] == [0.0, 1.0]
    _, variants = parse_compare("hidden=4,16,64", load_preset("sine"))
    assert [v.config.hidden for v in variants] == [4, 16, 64]
    _, variants = parse_compare("cell=lstm,gru,rnn", load_preset("adding-100"))
    assert [v.config.cell for v in variants] == ["lstm", "gru", "rnn"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hidden=1,2,3,4,5", "5 values given; a comparison has 2 to 4"),
        ("hidden=8", "1 value given"),
        ("colour=red,blue", "cannot compare 'colour'"),
        ("seed=1,2", "cannot compare 'seed'"),
        ("cell=lstm,transformer", "cell=transformer is refused: cell 'transformer' is unknown"),
        ("hidden=8,many", "hidden=many is refused: hidden must be a whole number"),
        ("clip=off,norm:-1", "clip=norm:-1 is refused"),
        ("lr=0.1,1e-1", "the value 0.1 is given twice"),
        ("cell", "is not understood"),
        ("cell=lstm,,gru", "an empty value"),
    ],
)
def test_bad_compare_texts_are_one_line_errors(text, words):
    with pytest.raises(ConfigError, match=words) as caught:
        parse_compare(text, SMALL)
    assert "\n" not in str(caught.value)


def test_variants_share_initial_weights_where_the_shapes_match():
    _, variants = parse_compare("forget_bias=0,1", SMALL)
    zero, one = (Trainer(v.config).model.state_dict() for v in variants)
    forget = slice(SMALL.hidden, 2 * SMALL.hidden)  # torch's LSTM gate order i, f, g, o
    assert set(zero) == set(one)
    for name in zero:
        if "bias" in name and "head" not in name:  # every weight and every other gate's bias is the same
            for rows in (slice(0, forget.start), slice(forget.stop, None)):
                assert torch.equal(zero[name][rows], one[name][rows]), name
        else:
            assert torch.equal(zero[name], one[name]), name
    forget_sums = [state["layers.0.bias_ih_l0"][forget] + state["layers.0.bias_hh_l0"][forget] for state in (zero, one)]
    torch.testing.assert_close(forget_sums[0], torch.zeros(SMALL.hidden))
    torch.testing.assert_close(forget_sums[1], torch.ones(SMALL.hidden))
    _, variants = parse_compare("clip=off,norm:1", SMALL)
    off, norm = (Trainer(v.config).model.state_dict() for v in variants)
    assert all(torch.equal(off[name], norm[name]) for name in off)
    _, variants = parse_compare("cell=lstm,gru", SMALL)  # shapes differ (4H vs 3H rows): the head has one shape
    lstm, gru = (Trainer(v.config).model.state_dict() for v in variants)
    assert lstm["layers.0.weight_hh_l0"].shape != gru["layers.0.weight_hh_l0"].shape
    assert lstm["head.weight"].shape == gru["head.weight"].shape


def test_variants_share_batches_and_probe():
    _, variants = parse_compare("cell=lstm,gru,rnn", SMALL)
    comparison = Comparison("cell", variants)
    batches = [t.task.make_batch(SMALL.batch, t.batch_generator) for t in comparison.trainers]
    for inputs, targets in batches[1:]:
        assert torch.equal(inputs, batches[0][0]) and torch.equal(targets, batches[0][1])
    probes = [probe_trace(t.model, t.task) for t in comparison.trainers]
    for probe in probes[1:]:
        assert np.array_equal(probe.probe_input, probes[0].probe_input)
        assert np.array_equal(probe.probe_target, probes[0].probe_target)
    assert [p.cell for p in probes] == ["lstm", "gru", "rnn"]


def test_variants_step_in_turns_and_each_trains_as_a_single_run():
    _, variants = parse_compare("cell=lstm,gru,rnn", SMALL)
    comparison = Comparison("cell", variants)
    for expected_step in range(1, 16):
        results = comparison.step()
        assert [r.step for r in results] == [expected_step] * 3
    for trainer, variant in zip(comparison.trainers, variants, strict=True):
        single = Trainer(variant.config)
        for _ in range(15):
            single.step()
        compared, alone = trainer.metrics.as_columns(), single.metrics.as_columns()
        for column in alone:
            np.testing.assert_allclose(compared[column], alone[column], rtol=1e-6, atol=1e-7, err_msg=column)


def test_a_diverged_variant_stops_and_the_others_go_on():
    _, variants = parse_compare("lr=1e-2,1e30", SMALL.replace(optimizer="sgd", clip="off"))
    comparison = Comparison("lr", variants)
    for _ in range(5):
        comparison.step()
    steady, wrecked = comparison.trainers
    assert steady.step_count == 5 and steady.diverged_at_step is None
    assert wrecked.diverged_at_step is not None and wrecked.step_count == wrecked.diverged_at_step
    assert not comparison.all_diverged


def test_differences_lists_each_setting_that_differs():
    a = SMALL.replace(cell="lstm", hidden=128)
    b = SMALL.replace(cell="rnn", hidden=64)
    assert differences([a, b]) == "cell lstm / rnn · hidden 128 / 64"
    assert differences([a, a]) == ""
    assert differences([a, a.replace(lr=0.001), a]) == "lr 0.01 / 0.001 / 0.01"
