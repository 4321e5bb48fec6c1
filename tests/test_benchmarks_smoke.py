"""The benchmarks compare like with like: each side computes what it claims to, and the table judges targets."""

import numpy as np
import torch
from torch import nn

from benchmarks import alternate, median_ratio
from benchmarks.__main__ import passed, table
from benchmarks.probe import unrolled_replay
from benchmarks.training import GateCell
from lstm_viz.core.config import RunConfig
from lstm_viz.core.internals import probe_trace
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks import make_task


def test_sides_alternate_and_ratios_pair_rounds():
    calls = []
    samples = alternate({"a": lambda: calls.append("a") or 2.0, "b": lambda: calls.append("b") or 4.0}, 3)
    assert calls == ["a", "b"] * 3
    assert median_ratio([1.0, 9.0, 3.0], [1.0, 3.0, 6.0]) == 1.0  # per-round ratios 1, 3, 0.5
    assert samples == {"a": [2.0] * 3, "b": [4.0] * 3}


def test_gate_cell_loop_is_an_lstm():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=True)
    cell = GateCell(3, 5)
    with torch.no_grad():
        cell.input_weights.weight.copy_(lstm.weight_ih_l0)
        cell.input_weights.bias.copy_(lstm.bias_ih_l0)
        cell.hidden_weights.weight.copy_(lstm.weight_hh_l0)
        cell.hidden_weights.bias.copy_(lstm.bias_hh_l0)
    x = torch.randn(2, 7, 3)  # (B, T, F)
    expected, _ = lstm(x)  # (B, T, H)
    hidden = cell_state = torch.zeros(2, 5)
    for t in range(7):
        hidden, cell_state, _ = cell(x[:, t], (hidden, cell_state))
        torch.testing.assert_close(hidden, expected[:, t])


def test_unrolled_replay_matches_the_probe():
    config = RunConfig(task="sine", hidden=8, seq_len=12)
    task = make_task(config)
    model = build_model(config, task)
    trace, replay = probe_trace(model, task), unrolled_replay(model, task)
    for name in ("hidden", "cell", "grad_hidden", "grad_cell"):
        np.testing.assert_allclose(trace[name][0, 0], replay[name], atol=1e-5)
    np.testing.assert_allclose(trace["forget_gate"][0, 0], replay["gates"][:, 1], atol=1e-6)


def test_table_judges_each_target_and_reports_errors():
    assert passed("train_ratio_sine", 0.95) and not passed("train_ratio_sine", 0.85)
    assert passed("probe_ms_1layer", 2.9) and not passed("probe_ms_1layer", 3.1)
    assert passed("loop_ratio", 2.0) is None  # reported, no target
    result = {
        "quick": True,
        "seconds": 1.0,
        "machine": dict(cores=2, torch="x", torch_threads=1, qt="x", pyqtgraph="x", numpy="x", python="x")
        | {"load_average": (1.0, 1.0, 1.0), "load_average_end": (2.0, 1.0, 1.0)},
        "figures": {"gui_stall_p99_ms": 80.0},
        "pass": {"gui_stall_p99_ms": False},
        "errors": {"plotting": "ImportError: no module"},
    }
    text = table(result)
    assert "| gui_stall_p99_ms | 80 | <= 50 | **FAIL** |" in text
    assert "ImportError: no module" in text


def test_the_recorder_side_is_the_plain_loop_plus_the_recorder_which_changes_no_training_step():
    from benchmarks.recorder import UserLoop

    plain, recorded = UserLoop(record=False), UserLoop(record=True)
    losses = [(plain.step(), recorded.step()) for _ in range(3)]
    assert all(a == b for a, b in losses)  # the same data and the same updates, step for step
    for (name, a), (_, b) in zip(plain.encoder.state_dict().items(), recorded.encoder.state_dict().items()):
        assert torch.equal(a, b), name
    assert recorded.recorder.step_count == 3 + 5 and recorded.close() >= 2  # warm-up steps included; records made


def test_the_comparison_side_steps_every_variant_in_turns_probes_them_and_pairs_its_rounds(monkeypatch):
    from functools import partial

    from benchmarks import compare

    side = compare.LiveComparison("cell=lstm,rnn")
    assert [t.step_count for t in side.comparison.trainers] == [compare.WARMUP_ROUNDS] * 2
    cpu_rate, wall_rate = side.steps_per_s(0.15)
    counts = [t.step_count for t in side.comparison.trainers]
    assert counts[0] == counts[1] > compare.WARMUP_ROUNDS and cpu_rate > 0 and wall_rate > 0
    assert side.last_snapshot > 0 and side.capture_thread.snapshot_seconds  # every variant probed

    def short(sides, repeats):  # the same rounds, a few steps each
        return alternate({name: partial(call.func, 0.01) for name, call in sides.items()}, repeats)

    monkeypatch.setattr(compare, "alternate", short)
    result = compare.run(quick=True)
    assert set(result["details"]["median_steps_per_cpu_s"]) == {"lstm", "gru", "rnn", "compare_3"}
    assert 0 < result["figures"]["compare_ratio"] < 10
