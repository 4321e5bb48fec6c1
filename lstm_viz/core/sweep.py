"""Sweeps: where each cell type stops bridging a gap. Qt-free.

`plan_sweep(config, "seq_len=10,20,50", ["lstm", "gru", "rnn"], steps)` gives the grid: one Variant per
(value, cell), the values outermost, each an ordinary run of `steps` steps with the preset's seed.
`run_sweep(sweep, out_dir)` trains them one after another through the comparison's runner (a Comparison
of one variant), each into its own run directory under out_dir (the files `lstm-viz train` writes), and
rewrites out_dir/sweep.csv atomically after each one.

Resuming: a combination whose run directory holds a finished run of its settings (config.json equal,
summary.json with all its steps, or a divergence) is kept and skipped; any other (killed, interrupted)
is trained again from step 0. A finished run of other settings in the way is refused, never overwritten.

"Final loss" is summary.json's final_loss: the mean training loss of the last 100 finite steps
(runs.FINAL_LOSS_STEPS). Solved: final loss below SOLVED_RATIO of the task's no-memory baseline.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_viz.core.compare import Comparison, Variant, differences, split_setting_values, value_label, variant_grid
from lstm_viz.core.config import CELLS, ConfigError, RunConfig
from lstm_viz.core.runs import atomic_write_text, make_run_dir
from lstm_viz.core.tasks import make_task

SWEEP_CSV, SWEEP_PNG = "sweep.csv", "sweep.png"
SOLVED_RATIO = 0.1  # solved: the final loss below this share of the no-memory baseline
CSV_COLUMNS = ("cell", "{axis}", "steps", "final_loss", "baseline", "ratio", "solved", "diverged_at_step", "run")


def axis_name(setting: str) -> str:
    """The csv's and the plot's name for the swept setting: the sequence length is the lag."""
    return "lag" if setting == "seq_len" else setting


@dataclass(frozen=True)
class Sweep:
    name: str  # the preset's
    setting: str  # the swept setting, e.g. "seq_len"
    values: list[str]  # its values' labels, in the order given
    cells: list[str]
    steps: int
    variants: list[Variant]  # the grid: for each value, for each cell

    @property
    def axis(self) -> str:
        return axis_name(self.setting)


def plan_sweep(config: RunConfig, over: str, cells: list[str] | None, steps: int, name: str = "") -> Sweep:
    """The grid of --over SETTING=V1,V2,... by --cells; ConfigError in one line for anything wrong."""
    usage = "use --over SETTING=V1,V2,..., e.g. seq_len=10,20,50,100"
    setting, values = split_setting_values(over, "--over", usage, verb="sweep over")
    if setting == "cell":
        raise ConfigError("--over: give the cells with --cells (e.g. --cells lstm,gru,rnn), and --over another setting")
    cells = list(dict.fromkeys(cell.strip().lower() for cell in cells)) if cells else [config.cell]
    unknown = next((cell for cell in cells if cell not in CELLS), None)
    if unknown is not None:
        raise ConfigError(f"--cells: unknown cell '{unknown}'; use some of {', '.join(CELLS)}, e.g. --cells lstm,rnn")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"--steps must be a whole number of at least 1, got {steps}")
    variants = variant_grid(config.replace(steps=steps), [("--over", setting, values), ("--cells", "cell", cells)])
    value_labels = list(dict.fromkeys(value_label(getattr(variant.config, setting)) for variant in variants))
    for label, variant in zip(value_labels, variants[:: len(cells)], strict=True):
        try:
            make_task(variant.config)  # the task's own limits (the adding problem's seq_len), before any training
        except ConfigError as error:
            raise ConfigError(f"--over {setting}={label} is refused: {error}") from None
    return Sweep(name, setting, value_labels, cells, steps, variants)


# ---- the rows of sweep.csv ---------------------------------------------------------------------
@dataclass(frozen=True)
class SweepRow:
    cell: str
    value: str  # the swept setting's value, as its label
    steps: int
    final_loss: float | None
    baseline: float | None
    diverged_at_step: int | None
    run: str  # the run directory, relative to the sweep's

    @property
    def ratio(self) -> float | None:
        if self.final_loss is None or not self.baseline:
            return None
        return self.final_loss / self.baseline

    @property
    def solved(self) -> bool:
        return self.ratio is not None and self.ratio < SOLVED_RATIO and self.diverged_at_step is None


def row_of(sweep: Sweep, variant: Variant, summary: dict) -> SweepRow:
    return SweepRow(
        cell=variant.config.cell,
        value=value_label(getattr(variant.config, sweep.setting)),
        steps=int(summary["steps"]),
        final_loss=summary.get("final_loss"),
        baseline=summary.get("baseline_loss"),
        diverged_at_step=summary.get("diverged_at_step"),
        run=variant.folder_name,
    )


def csv_text(axis: str, rows: list[SweepRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.format(axis=axis) for column in CSV_COLUMNS])
    for row in rows:
        writer.writerow([
            row.cell, row.value, row.steps, _number(row.final_loss), _number(row.baseline), _number(row.ratio),
            "yes" if row.solved else "no", "" if row.diverged_at_step is None else row.diverged_at_step, row.run,
        ])  # fmt: skip
    return buffer.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@dataclass(frozen=True)
class SweepTable:
    """sweep.csv read back: what the sweep view draws."""

    axis: str  # "lag", or the swept setting
    cells: list[str]  # in the order of the file
    values: dict[str, list[str]]  # cell -> the swept values as written ("10", "norm:1"), in the order of the file
    ratios: dict[str, np.ndarray]  # cell -> final loss / baseline (NaN where unknown)
    steps: int | None  # the steps of the runs, if they all agree


def read_sweep(path: str | Path) -> SweepTable:
    """DIR/sweep.csv (or DIR) -> SweepTable; ConfigError in one line if it is not a sweep's csv."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / SWEEP_CSV
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"'{path}' does not exist; lstm-viz sweep --out DIR writes DIR/{SWEEP_CSV}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read '{path}': {error}") from None
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] if rows else []
    if len(header) != len(CSV_COLUMNS) or header[0] != "cell" or "ratio" not in header:
        raise ConfigError(f"'{path}' is not a sweep's csv (its header is not {', '.join(CSV_COLUMNS)})")
    axis = header[1]
    cells, values, ratios, steps = [], {}, {}, set()
    try:
        for row in rows[1:]:
            record = dict(zip(header, row, strict=True))
            cell = record["cell"]
            if cell not in cells:
                cells.append(cell)
            values.setdefault(cell, []).append(record[axis])
            ratios.setdefault(cell, []).append(float(record["ratio"]) if record["ratio"] else np.nan)
            steps.add(int(record["steps"]))
    except ValueError as error:
        raise ConfigError(f"'{path}' is damaged ({error}); run the sweep again to rewrite it") from None
    return SweepTable(
        axis,
        cells,
        values,
        {cell: np.array(ratios[cell], dtype=float) for cell in cells},
        steps.pop() if len(steps) == 1 else None,
    )


# ---- training ----------------------------------------------------------------------------
def finished_summary(run_dir: Path, variant: Variant) -> dict | None:
    """The summary of the finished run of `variant` in `run_dir`, or None if it has none (never trained,
    killed, interrupted). ConfigError if a finished run of other settings is there: it is not overwritten."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        saved_config = RunConfig.from_dict(saved, source=str(run_dir / "config.json"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError):
        return None
    if not isinstance(summary, dict) or not isinstance(summary.get("steps"), int):
        return None
    complete = summary["steps"] >= saved_config.steps or bool(summary.get("diverged"))
    if saved_config != variant.config:
        if complete:
            raise ConfigError(
                f"'{run_dir}' holds a finished run of other settings ({differences([saved_config, variant.config])}); "
                "choose another --out, or remove that folder to train it again"
            )
        return None
    return summary if complete else None


@dataclass
class SweepProgress:
    """Where a sweep is, for a progress bar: combination `index` (1-based) of `total`, its step."""

    index: int
    total: int
    variant: Variant
    step: int
    steps: int
    eta_s: float | None  # seconds left, from the work done so far (None before any)


@dataclass
class _Clock:
    """Seconds left: time per unit of work (steps x timesteps) on the combinations trained here."""

    work_done: float = 0.0
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def eta(self, work_left: float, work_now: float) -> float | None:
        done = self.work_done + work_now
        elapsed = self.seconds + (time.perf_counter() - self.started)
        return elapsed / done * work_left if done > 0 and elapsed >= 3.0 else None  # too early to tell


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    history_mb: float | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    on_progress: Callable[[SweepProgress], None] | None = None,
    on_row: Callable[[list[SweepRow]], None] | None = None,
) -> tuple[list[SweepRow], bool]:
    """Train every combination not finished yet, in order; (the rows of the finished ones, whether all are).

    After each combination sweep.csv is rewritten (atomically) and on_row(rows so far) is called.
    stop_requested() is asked after every step: the combination then stops, its run files are written
    (it is trained again next time), and the sweep returns."""
    out_dir = make_run_dir(out_dir)
    run_dirs = [out_dir / variant.folder_name for variant in sweep.variants]
    for run_dir, variant in zip(run_dirs, sweep.variants, strict=True):  # refuse before training anything
        finished_summary(run_dir, variant)
    work = [variant.config.steps * variant.config.seq_len for variant in sweep.variants]  # cost ~ steps x T
    rows: dict[int, SweepRow] = {}
    todo = []
    for index, (run_dir, variant) in enumerate(zip(run_dirs, sweep.variants, strict=True)):
        summary = finished_summary(run_dir, variant)
        if summary is None:
            todo.append(index)
        else:
            rows[index] = row_of(sweep, variant, summary)
    _write_csv(out_dir, sweep, rows)
    clock = _Clock()
    for position, index in enumerate(todo):
        variant, run_dir = sweep.variants[index], run_dirs[index]
        run_name = f"{sweep.name} {variant.label}".strip()
        comparison = Comparison(sweep.setting, [variant])
        comparison.record_to([run_dir], [run_name], history_mb)
        work_left = sum(work[later] for later in todo[position:])
        started = time.perf_counter()

        def report(results: list, index=index, variant=variant, work_left=work_left, comparison=comparison) -> None:
            if on_progress is None:
                return
            step = comparison.step_count
            done_here = work[index] * step / variant.config.steps
            eta = clock.eta(work_left - done_here, done_here)
            on_progress(SweepProgress(index + 1, len(sweep.variants), variant, step, variant.config.steps, eta))

        if on_progress is not None:
            on_progress(SweepProgress(index + 1, len(sweep.variants), variant, 0, variant.config.steps,
                                      clock.eta(work_left, 0.0)))  # fmt: skip
        elapsed = comparison.train(variant.config.steps, stop_requested, report)
        (summary,) = comparison.write_runs([run_dir], [run_name], elapsed)
        clock.seconds += time.perf_counter() - started
        clock.work_done += work[index] * comparison.step_count / variant.config.steps
        clock.started = time.perf_counter()
        if comparison.step_count < variant.config.steps and not comparison.all_diverged:
            return _in_order(rows), False  # stopped: this one is trained again next time
        rows[index] = row_of(sweep, variant, summary)
        _write_csv(out_dir, sweep, rows)
        if on_row is not None:
            on_row(_in_order(rows))
    return _in_order(rows), True


def _in_order(rows: dict[int, SweepRow]) -> list[SweepRow]:
    return [rows[index] for index in sorted(rows)]


def _write_csv(out_dir: Path, sweep: Sweep, rows: dict[int, SweepRow]) -> None:
    atomic_write_text(out_dir / SWEEP_CSV, csv_text(sweep.axis, _in_order(rows)))
