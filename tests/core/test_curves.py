"""The bounded metrics store: a min-max envelope of old rows, the newest in full, ranges read from metrics.csv."""

import numpy as np
import pytest

from lstm_viz.core.config import RunConfig
from lstm_viz.core.curves import Envelope, MetricsFile, MetricsLog
from lstm_viz.core.runs import read_metrics
from lstm_viz.core.trainer import Trainer

MILLION = 1_000_000


def test_a_single_spike_in_a_million_rows_stays_in_the_envelope():
    rows = np.ones(MILLION)
    rows[654_321] = 1000.0  # one step's loss spikes
    rows[100_000] = 1e-6  # and one dips
    log = MetricsLog(("step", "loss"))
    for start in range(0, MILLION, 100_000):  # as a run hands it over: in blocks
        stop = start + 100_000
        log.extend(np.stack([np.arange(start, stop) + 1.0, rows[start:stop]], axis=1))
    envelope = log.envelope()
    kept = log.as_columns()
    assert log.rows == MILLION and len(envelope) <= 4096 + 1
    assert envelope.rows + len(kept["step"]) == MILLION  # every row is either folded or kept
    assert kept["step"][0] == envelope.rows + 1 and kept["step"][-1] == MILLION
    spiked = np.flatnonzero(envelope.maximum["loss"] > 1.0)
    assert len(spiked) == 1 and envelope.maximum["loss"][spiked[0]] == 1000.0
    first, last = envelope.minimum["step"][spiked[0]], envelope.maximum["step"][spiked[0]]
    assert first <= 654_322 <= last  # the bucket holding the spike's step
    assert np.flatnonzero(envelope.minimum["loss"] < 1.0).tolist() == [
        int(np.flatnonzero((envelope.minimum["step"] <= 100_001) & (envelope.maximum["step"] >= 100_001))[0])
    ]
    # buckets tile the folded steps in order, without gaps
    np.testing.assert_array_equal(envelope.minimum["step"][1:], envelope.maximum["step"][:-1] + 1)
    assert envelope.minimum["step"][0] == 1 and envelope.maximum["step"][-1] == envelope.rows


def test_memory_of_the_store_stays_bounded_over_a_million_rows():
    log = MetricsLog(("step", "loss", "grad_norm"))
    sizes = {}
    block = np.random.default_rng(0).random((50_000, 3))
    for start in range(0, MILLION, 50_000):
        log.extend(block)
        sizes[start + 50_000] = log.nbytes
    bound = 3 * 8 * (2 * log.keep + 2 * 4096 + 4096)  # kept rows, envelope min and max, a partial bucket
    assert max(sizes.values()) <= bound
    assert sizes[MILLION] == sizes[200_000]  # no growth after the first fold


def test_rows_appended_one_by_one_equal_rows_added_as_a_block():
    values = np.random.default_rng(1).normal(size=(5000, 2))
    values[::7, 1] = np.nan  # a column evaluated now and then (test accuracy)
    one_by_one, blocks = MetricsLog(("a", "b"), keep=300, buckets=16), MetricsLog(("a", "b"), keep=300, buckets=16)
    for row in values:
        one_by_one.append(list(row))
    blocks.extend(values[:1234])
    blocks.extend(values[1234:])
    for log in (one_by_one, blocks):
        kept = log.as_columns()
        np.testing.assert_array_equal(kept["a"], values[log.first_row :, 0])
        envelope = log.envelope()
        assert envelope.rows == log.first_row and not np.isnan(envelope.minimum["b"]).any()
        folded = values[: log.first_row]  # (folded, 2)
        edges = np.linspace(0, len(folded), len(envelope) + 1).astype(int)  # equal-width buckets
        for bucket, (start, stop) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            assert envelope.minimum["a"][bucket] == folded[start:stop, 0].min()
            assert envelope.maximum["b"][bucket] == np.nanmax(folded[start:stop, 1])


def test_views_handed_out_never_change_as_the_log_folds():
    log = MetricsLog(("step",), keep=100)
    seen = []
    for row in range(1000):
        log.append([row])
        if row % 97 == 0:
            seen.append((log.first_row, log.as_columns()["step"]))
    for first_row, steps in seen:
        np.testing.assert_array_equal(steps, np.arange(first_row, first_row + len(steps)))
        assert not steps.flags.writeable


def test_an_envelope_merges_neighbours_when_full():
    envelope = Envelope(columns=1, buckets=4)
    envelope.add(np.array([[5.0, 1.0, 7.0, 2.0, 9.0]]))  # 4 buckets of 1 -> merged to 2 of 2, then a bucket of 1
    view = envelope.view(("x",))
    assert envelope.width == 2
    assert view.minimum["x"].tolist() == [1.0, 2.0, 9.0] and view.maximum["x"].tolist() == [5.0, 7.0, 9.0]


@pytest.mark.parametrize("first, last", [(1, 40), (37, 260), (250, 300), (299, 1000), (2000, 3000)])
def test_a_range_of_metrics_csv_reads_exactly_its_rows(tmp_path, monkeypatch, first, last):
    monkeypatch.setattr("lstm_viz.core.curves.INDEX_EVERY", 16)
    trainer = Trainer(RunConfig(task="sine", hidden=4, seq_len=8, batch=2, seed=3))
    trainer.record_to(tmp_path / "run", history_mb=0)
    for _ in range(300):
        trainer.step()
    trainer.finish_recording()
    everything = read_metrics(tmp_path / "run" / "metrics.csv")
    wanted = (everything["step"] >= first) & (everything["step"] <= last)
    rows = MetricsFile(tmp_path / "run" / "metrics.csv").read_rows(first, last)
    assert rows.keys() == everything.keys()
    for name, values in everything.items():
        np.testing.assert_array_equal(rows[name], values[wanted])


def test_a_range_of_a_growing_or_missing_file(tmp_path):
    path = tmp_path / "metrics.csv"
    reader = MetricsFile(path)
    assert reader.read_rows(0, 10) == {}
    path.write_text("step,loss\n1,0.5\n2,0.25\n3,0.1")  # the last row is being written
    assert reader.read_rows(0, 10)["loss"].tolist() == [0.5, 0.25]
    with open(path, "a") as file:
        file.write("25\n4,0.05\n")
    assert reader.read_rows(2, 4)["loss"].tolist() == [0.25, 0.125, 0.05]
