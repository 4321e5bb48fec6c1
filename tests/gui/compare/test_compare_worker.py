"""CompareWorker is the single run's command loop (gui/worker.CommandLoop) with a comparison in it: the same
start/until_step/step/pause commands and messages, a round of every variant per step."""

from __future__ import annotations

import time

from lstm_viz.core.compare import Comparison, parse_compare
from lstm_viz.core.config import RunConfig
from lstm_viz.gui.compare.worker import CompareWorker
from lstm_viz.gui.worker import CommandLoop

SMALL = RunConfig(task="adding", hidden=6, seq_len=12, batch=4, seed=2)


def newest(worker: CompareWorker, until, timeout: float = 20.0) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        published = worker.mailbox.take()
        if published is not None and until(published):
            return published
        time.sleep(0.01)
    raise AssertionError("no such snapshot in time")


def test_the_comparison_runs_in_the_single_runs_loop_and_says_why_a_setting_is_refused():
    worker = CompareWorker(Comparison(*parse_compare("cell=lstm,rnn", SMALL)))
    try:
        assert isinstance(worker, CommandLoop)
        worker.start(until_step=3)
        shown = newest(worker, lambda s: s[0].step == 3 and not s[0].running)
        assert [s.step for s in shown] == [3, 3] and [t.step_count for t in worker.trainers] == [3, 3]
        worker.step()
        assert [s.step for s in newest(worker, lambda s: s[0].step == 4)] == [4, 4]
        worker.apply({"hidden": 8})
        shown = newest(worker, lambda s: s[0].message)
        assert shown[0].message == "only lr, clip change live in a comparison" and not shown[0].running
        assert [t.config.hidden for t in worker.trainers] == [6, 6]
    finally:
        assert worker.stop()
