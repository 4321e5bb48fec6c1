"""metrics_write_cost: the time spent appending metrics.csv over a 1M-step headless run ÷ that run's training time.

Both sides in one run: the training time is the sine preset's Trainer (the fastest preset, so the largest share
for the writer) stepping for a few CPU seconds, times 1M steps; the writing time is a RunWriter appending 1M
synthetic rows of the same columns, in the blocks a flush every METRICS_FLUSH_S at that rate hands it, timed on
this thread's CPU clock around append_metrics alone. The file is checked to be appended only: its first bytes
never change and it ends with the 1M rows.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.training import LiveTrainer, sine_config
from lstm_viz.core.curves import MetricsLog
from lstm_viz.core.history import METRICS_FLUSH_S, RunWriter

RUN_STEPS = 1_000_000


def run(quick: bool) -> dict:
    config = sine_config(hidden=16)  # the preset's own size
    trainer = LiveTrainer(config, capture=False)
    cpu_steps_per_s, wall_steps_per_s = trainer.steps_per_s(1.0 if quick else 4.0)
    rows = RUN_STEPS // 10 if quick else RUN_STEPS  # --quick writes a tenth and scales up
    block = max(1, int(cpu_steps_per_s * METRICS_FLUSH_S))  # rows a flush appends at that rate
    columns = trainer.trainer.metrics.columns
    with tempfile.TemporaryDirectory(prefix="lstm_viz_bench_") as run_dir:
        log = MetricsLog(columns)
        writer = RunWriter(run_dir, {}, metric_columns=columns, baseline_loss=1.0, baseline_name="-", history_mb=0)
        generator = np.random.default_rng(0)
        path = Path(run_dir) / "metrics.csv"
        head = b""
        seconds = 0.0
        for first in range(0, rows, block):
            count = min(block, rows - first)
            values = generator.random((count, len(columns)))  # (count, columns)
            values[:, 0] = np.arange(first + 1, first + count + 1)  # step
            values[:, 4] = values[:, 4] > 0.5  # clipped
            log.extend(values)
            started = time.thread_time()
            writer.append_metrics(log, force=True)
            seconds += time.thread_time() - started
            if not head:
                head = path.read_bytes()[:4096]
        size = path.stat().st_size
        with open(path, "rb") as file:
            assert file.read(len(head)) == head, "metrics.csv was rewritten"
            file.seek(max(0, size - 4096))
            last_step = int(file.read().rstrip(b"\n").split(b"\n")[-1].split(b",")[0])
        assert last_step == rows, f"metrics.csv ends at step {last_step}, not {rows}"
        writer.close()
    writing_s = seconds * RUN_STEPS / rows
    training_s = RUN_STEPS / cpu_steps_per_s
    return {
        "figures": {"metrics_write_cost": writing_s / training_s},
        "details": {
            "preset": "sine",
            "hidden": config.hidden,
            "training_steps_per_cpu_s": cpu_steps_per_s,
            "training_steps_per_wall_s": wall_steps_per_s,
            "rows_written": rows,
            "rows_per_flush": block,
            "writing_cpu_s_for_1m_steps": writing_s,
            "training_cpu_s_for_1m_steps": training_s,
            "metrics_csv_mb_for_1m_steps": size * RUN_STEPS / rows / 1e6,
        },
    }
