"""The history of a run: RunWriter records it into the run directory, open_run reads it back.

    run.json        format, what the plots need without the task (baseline, gate blocks), the writer's pid
    metrics.csv     one row per step, appended (a killed writer leaves at most a partial last line)
    events.csv      step, kind, text: live changes, divergence, loads, forks; appended
    history/        one record per recorded step, step-000000123.npz: the probe trace (the arrays of
                    trace.npz), the task view ("view/..."), the weights ("weights/..."), the loss,
                    the cell type and a vanilla RNN's nonlinearity, the labels and the settings at that
                    step ("config", JSON)

Why one .npz file per record: numpy's own format keeps float32 exactly, needs no library, and opens
in a notebook with np.load. Each record is written to a temporary file and renamed, so a writer
killed at any moment loses at most the record it was writing and a reader never sees half of one
(no fsync: a killed process loses nothing the kernel holds; a power cut may lose the newest
records). Thinning is deleting files, and a reader lists the folder to see what is there now.
HDF5 would need SWMR care to survive a killed writer, and zarr would add a dependency for what a
folder of .npz files does.

Which steps are recorded: every step up to FIRST_STEPS, then every `stride`-th step, where the
stride is a power of two that doubles whenever the records pass the size budget (the records off
the new stride are deleted, so the history stays evenly spaced over the whole run) or whenever
records would come faster than the writer process can make them at CHILD_DUTY of its time.
The first FIRST_STEPS records, events and the last record are always kept. A run resumed into its own
directory keeps its records, events and metrics rows up to the step it goes on from, and appends.

Records are made by a child process, off the training thread (see RunWriter).
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import io
import json
import os
import pickle
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lstm_viz.core.config import ConfigError, RunConfig, require_regular_file
from lstm_viz.core.curves import parse_rows
from lstm_viz.core.runs import (
    INTEGER_COLUMNS,
    atomic_write_text,
    is_process_alive,
    make_run_dir,
    write_config,
)
from lstm_viz.core.snapshot import STATE_NAMES, Snapshot, Trace, frozen_array

RUN_FORMAT = 1
HISTORY_DIR = "history"
FIRST_STEPS = 100  # every step is recorded up to here: where most of the drama happens
DEFAULT_HISTORY_MB = 200
CHILD_DUTY = 0.1  # after the first steps, regular records keep the writer process busy at most this share of the time
PENDING_BYTES = 256e6  # weights handed to the writer process and not yet written, at most
METRICS_FLUSH_S = 0.5  # metrics.csv is appended at least this often
EVENT_KINDS = ("change", "diverged", "load", "fork", "end")
RECORD_NAME = re.compile(r"step-(\d{9})\.npz")
_TEMPORARY = re.compile(r"\.step-\d{9}\.npz\.\d+\.tmp")  # a record being written (write_record)
TRACE_EXTRAS = ("lstm_input", "grad_output", "probe_input", "probe_target", "probe_output")

# (step, weights, the settings then, probe extras) -> (the probe's Trace, the task view)
Prober = Callable[[int, dict, "RunConfig | None", dict], tuple[Trace, dict]]


def record_name(step: int) -> str:
    return f"step-{step:09d}.npz"


# ---- which records to keep -----------------------------------------------------------------
def is_regular_step(step: int, stride: int) -> bool:
    """A step recorded on schedule: every step up to FIRST_STEPS, then every stride-th."""
    return step <= FIRST_STEPS or step % stride == 0


def steps_to_thin(steps: list[int], sizes: dict[int, int], protected: set[int], stride: int, budget: int):
    """(steps to delete, the new stride): the records off the stride (made before it last doubled, or
    spared as the newest by an earlier thinning), then, while the records take more than `budget` bytes,
    double the stride and drop the records off it; the first FIRST_STEPS, the `protected` (events) and the
    newest are kept whatever the budget. The regular records kept are the multiples of the stride."""
    kept = sorted(steps)
    newest = kept[-1] if kept else None

    def thinnable(step: int) -> bool:
        return step > FIRST_STEPS and step not in protected and step != newest

    dropped = [step for step in kept if thinnable(step) and step % stride]
    while True:
        off_stride = set(dropped)  # a set, built once: thinning 20,000 records took seconds with a list
        kept = [step for step in kept if step not in off_stride]
        if sum(sizes[step] for step in kept) <= budget or not any(thinnable(step) for step in kept):
            return dropped, stride
        stride *= 2
        dropped += [step for step in kept if thinnable(step) and step % stride]


# ---- writing -----------------------------------------------------------------------------------
class RunWriter:
    """Writes one run directory while a run trains: metrics appended, events, and the history records.

    Records are made by a child process (`python -m lstm_viz.core.history`): the training thread only
    copies the weights and hands them over. A writer thread in this process would share the GIL with
    training, and the two passing it back and forth made both 4x slower here; on the child's core,
    probing costs training almost nothing. The child builds its model from `probe_spec`
    (see make_prober) and writes each record atomically. If this process is killed, the child still
    writes what it has received, then exits.

    history_mb: the size budget of the records, 0 for none (and no child).
    metrics: the run's MetricsLog, whose rows append_metrics writes, also before the log folds them out of memory;
    a run that goes on from a step (resumed, loaded, forked) holds its rows so far (see _start_metrics).
    """

    def __init__(
        self,
        run_dir: str | Path,
        probe_spec: dict,
        *,
        metric_columns: tuple[str, ...],
        baseline_loss: float | None,
        baseline_name: str,
        config: RunConfig | None = None,
        name: str = "",
        history_mb: float = DEFAULT_HISTORY_MB,
        extra: dict | None = None,
        metrics=None,
    ) -> None:
        if isinstance(history_mb, bool) or not (isinstance(history_mb, (int, float)) and 0 <= history_mb < 1e9):
            raise ConfigError(f"history-mb must be 0 (no history) or a positive number of megabytes, got {history_mb}")
        self.run_dir = make_run_dir(run_dir)
        self.history_dir = self.run_dir / HISTORY_DIR
        self.budget = int(history_mb * 1e6)
        self.stride = 1
        self.metric_columns = metric_columns
        self.recorded_steps: list[int] = []  # ascending: what the child has written and thinning has kept
        self._sizes: dict[int, int] = {}
        self._protected: set[int] = set()
        self._metrics_written = 0
        self._last_flush = -float("inf")
        self._last_regular: tuple[float, int] | None = None  # (time, step) of the last regular record asked for
        self._pending_bytes = 0  # weights handed to the child and not yet written
        self._lock = threading.Lock()
        self.error = ""  # why records could not be written, for the user; recording then stops
        if config is not None:
            write_config(self.run_dir, config, name)
        self._meta = {
            "format": RUN_FORMAT,
            "baseline_loss": baseline_loss if baseline_loss is not None and np.isfinite(baseline_loss) else None,
            "baseline_name": baseline_name,
            "metric_columns": list(metric_columns),
            "history_mb": history_mb,
            "writer": {"pid": os.getpid(), "host": socket.gethostname()},
            "finished": False,
            **(extra or {}),
        }
        self._write_meta()
        self._metrics_log = None  # the MetricsLog whose rows this writer appends (written before they are folded)
        continued_from = self._start_metrics(metrics)
        if continued_from is None:
            self._clear_history()
            atomic_write_text(self.run_dir / "events.csv", "step,kind,text\n")
        else:
            self._keep_history_upto(continued_from)
        if metrics is not None:
            self._watch(metrics)
        self._process: _WriterProcess | None = None
        self._closed = threading.Event()  # the writer process has written everything of this run
        if self.budget:
            try:
                self._process = _WriterProcess.shared()
            except OSError as error:  # no process can be started (out of memory, a process limit)
                self.error = f"cannot start the history writer ({error.strerror or error}); training goes on without"
                self.budget = 0
            else:
                self._process.open(self, probe_spec)

    def _write_meta(self) -> None:
        atomic_write_text(self.run_dir / "run.json", json.dumps(self._meta, indent=2) + "\n")

    def _clear_history(self) -> None:
        """A run directory written again (the same --out) starts a new history."""
        if self.history_dir.is_dir():
            for old in self.history_dir.iterdir():
                with contextlib.suppress(OSError):
                    old.unlink()
        elif self.budget:
            self.history_dir.mkdir(exist_ok=True)

    def _keep_history_upto(self, step: int) -> None:
        """A run that goes on from `step` in its own directory keeps its records and events up to that step (the
        ones after it are of steps trained again, as its metrics rows are, and so is a load at it: the resume this
        one replaces); the events file is rewritten atomically, the records kept become this writer's, to be
        thinned with the new ones (events protected)."""
        events = read_events(self.run_dir / "events.csv")
        events = [event for event in events if event.step < step or (event.step == step and event.kind != "load")]
        lines = io.StringIO()
        csv.writer(lines, lineterminator="\n").writerows([(event.step, event.kind, event.text) for event in events])
        atomic_write_text(self.run_dir / "events.csv", "step,kind,text\n" + lines.getvalue())
        self._protected = {event.step for event in events} | {step}
        if not self.history_dir.is_dir():
            if self.budget:
                self.history_dir.mkdir(exist_ok=True)
            return
        for path in self.history_dir.iterdir():
            match = RECORD_NAME.fullmatch(path.name)
            with contextlib.suppress(OSError):
                if match is None and _TEMPORARY.fullmatch(path.name):
                    path.unlink()  # left by a writer killed while it wrote a record
                elif match is not None and int(match.group(1)) > step:
                    path.unlink()
                elif match is not None:
                    self._sizes[int(match.group(1))] = path.stat().st_size
        self.recorded_steps = sorted(self._sizes)

    # ---- from the training thread ------------------------------------------------------------
    def wants(self, step: int) -> bool:
        """Whether `step` is due a regular record (a cheap test, made after every step)."""
        return bool(self.budget) and not self.error and is_regular_step(step, self.stride)

    def record(
        self,
        step: int,
        weights: dict,
        config: RunConfig | None = None,
        protected: bool = False,
        probe_extras: dict | None = None,
    ) -> None:
        """Record `step` with these weights (a state_dict, copied here). Protected records (events, the last)
        survive thinning, as do the first FIRST_STEPS. A regular record is skipped while the child is behind.
        probe_extras: numpy arrays the prober needs besides the weights (the Recorder's dL/d(output))."""
        if not self.budget or self.error:
            return
        protected = protected or step <= FIRST_STEPS
        if not protected:
            if self._pending_bytes > PENDING_BYTES:
                return
            self._space_by_rate(step)
        arrays = {name: value.detach().cpu().numpy().copy() for name, value in weights.items()}
        size = sum(array.nbytes for array in arrays.values())
        while protected and self._pending_bytes > PENDING_BYTES and not self.error:
            time.sleep(0.01)  # a model this big waits for the child rather than pile up copies of its weights
        with self._lock:
            self._pending_bytes += size
        settings = json.dumps(config.to_dict()) if config is not None else ""
        self._process.send(("record", id(self), step, arrays, settings, protected, size, probe_extras or {}))

    def _space_by_rate(self, step: int) -> None:
        """Double the stride while regular records would come faster than the child writes them at CHILD_DUTY."""
        now = time.perf_counter()
        if self._last_regular is not None and self._record_cost:
            last_time, last_step = self._last_regular
            seconds_per_step = (now - last_time) / max(step - last_step, 1)
            while self.stride * seconds_per_step * CHILD_DUTY < self._record_cost and self.stride < 2**40:
                self.stride *= 2
        self._last_regular = (now, step)

    _record_cost = 0.0  # seconds the child took for its last record

    def event(self, step: int, kind: str, text: str = "") -> None:
        """An event on the step axis (a live change, divergence, a load, a fork), appended at once."""
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([step, kind, " ".join(text.split())])
        self._append("events.csv", line.getvalue())

    def append_metrics(self, metrics, force: bool = False) -> None:
        """Append the rows of `metrics` (a MetricsLog) not written yet, at most every METRICS_FLUSH_S, and whenever
        it is about to fold rows out of memory."""
        if metrics is not self._metrics_log:
            self._watch(metrics)
        if metrics.rows <= self._metrics_written:
            return
        if not force and time.perf_counter() - self._last_flush < METRICS_FLUSH_S:
            return
        columns, unwritten = metrics.as_columns(), max(self._metrics_written - metrics.first_row, 0)
        self._append("metrics.csv", _csv_rows({name: columns[name][unwritten:] for name in columns}))
        self._metrics_written = metrics.rows
        self._last_flush = time.perf_counter()

    def _watch(self, metrics) -> None:
        """Write the rows of `metrics` before it folds them (and stop watching the log watched before)."""
        self._unwatch()
        self._metrics_log = metrics
        metrics.before_fold = self._before_fold

    def _before_fold(self) -> None:
        self.append_metrics(self._metrics_log, force=True)

    def _unwatch(self) -> None:
        if self._metrics_log is not None and self._metrics_log.before_fold == self._before_fold:
            self._metrics_log.before_fold = None
        self._metrics_log = None

    def append_rows(self, columns: dict[str, np.ndarray]) -> None:
        """Append these rows (column -> (rows,), metric_columns in order) to metrics.csv now (a Recorder's:
        it keeps only the rows not written yet)."""
        self._append("metrics.csv", _csv_rows(columns))

    def _start_metrics(self, metrics) -> int | None:
        """metrics.csv of a new run: its header. A run that goes on from step S (`metrics` holds its rows up to S)
        into the directory it was written to keeps the file's rows up to S, byte for byte, cut after the row of
        S (the steps after S are trained again): the file's row of S must be the run's own, else (another
        directory, another run) the file starts again with the rows `metrics` was loaded with (all of them, those
        folded out of memory too: MetricsLog.folded_on_load). From then on it is only appended to: never
        rewritten. The step S if the run goes on in its own directory, else None."""
        path = self.run_dir / "metrics.csv"
        header = ",".join(self.metric_columns) + "\n"
        rows = metrics.as_columns() if metrics is not None and metrics.rows else None
        folded = getattr(metrics, "folded_on_load", None)  # (columns, rows before first_row) of a loaded run
        if rows is not None and folded is not None:
            metrics.folded_on_load = None
            if folded.shape[1] == metrics.first_row:  # none folded since the load: with them, every row
                rows = {name: np.concatenate([folded[index], rows[name]]) for index, name in enumerate(rows)}
        if rows is not None:
            end = _end_of_row(path, header, _csv_rows({name: values[-1:] for name, values in rows.items()}))
            if end is not None:
                with open(path, "r+b") as file:
                    file.truncate(end)
                self._metrics_written = metrics.rows
                return int(rows["step"][-1])
        atomic_write_text(path, header + (_csv_rows(rows) if rows is not None else ""))
        self._metrics_written = metrics.rows if rows is not None else 0
        return None

    def close(self, wait: bool = True, timeout: float = 60.0) -> None:
        """No more records: the child writes what it has, then marks the run finished (a window following
        it stops waiting). wait: until it has (the CLI's exit), else in the background (the window's Reset)."""
        self._meta["finished"] = True
        self._unwatch()
        if self._process is None:
            with contextlib.suppress(ConfigError):
                self._write_meta()
            return
        self._process.send(("finish", id(self), json.dumps(self._meta, indent=2) + "\n"))
        if wait and not self._closed.wait(timeout):
            self.error = "the history writer did not finish in time; its last records may be missing"

    def _append(self, name: str, text: str) -> None:
        try:
            with open(self.run_dir / name, "a", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            self.error = f"cannot write to run directory '{self.run_dir}': {error.strerror or error}"

    # ---- what the writer process says, on its reader thread ------------------------------------------------
    def written(self, step: int, size: int, cost: float, weights_bytes: int, protected: bool) -> None:
        """The writer process wrote the record of `step` (size < 0: it could not): keep it, thin the history."""
        with self._lock:
            self._pending_bytes -= weights_bytes
            if size < 0:
                self.error = self.error or f"cannot write history to '{self.history_dir}' (see .writer.log)"
                return
            if not protected:
                self._record_cost = cost
            self._keep(step, size, protected)

    def stopped(self, why: str) -> None:
        """The writer process is gone: nothing more will be written."""
        self.error = self.error or why
        self._closed.set()

    def _keep(self, step: int, size: int, protected: bool) -> None:
        if step not in self._sizes:
            bisect.insort(self.recorded_steps, step)
        self._sizes[step] = size
        if protected:
            self._protected.add(step)
        dropped, self.stride = steps_to_thin(
            self.recorded_steps, self._sizes, self._protected, self.stride, self.budget
        )
        for old in dropped:
            self.recorded_steps.remove(old)
            del self._sizes[old]
            with contextlib.suppress(OSError):
                (self.history_dir / record_name(old)).unlink()


def write_record(history_dir: Path, step: int, trace: Trace, view: dict, weights: dict, settings: str) -> int:
    """One record file, written to a temporary name and renamed (a reader never sees half of one); its size."""
    arrays = dict(trace.arrays())
    arrays["loss"] = np.float64(trace.loss)
    arrays["cell_type"] = np.str_(trace.cell)
    arrays["nonlinearity"] = np.str_(trace.nonlinearity)
    if trace.labels is not None:
        arrays["labels"] = np.array(trace.labels, dtype=str)
    if settings:
        arrays["config"] = np.str_(settings)
    for key, value in view.items():
        arrays[f"view/{key}"] = np.asarray(value)
    for key, value in weights.items():
        arrays[f"weights/{key}"] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    path = history_dir / record_name(step)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # a reader never lists it
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return len(data)


class _WriterProcess:
    """The child process that makes history records, one per Python process, shared by its RunWriters (a window
    that resets ten times starts it once; a test suite too). Two threads talk to it, blocked on its pipes, so
    they hold no GIL while they wait: a feeder pickles what RunWriters send, a reader hands its replies back."""

    _instance: _WriterProcess | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def shared(cls) -> _WriterProcess:
        with cls._instance_lock:
            instance = cls._instance
            if instance is None or instance.pid != os.getpid() or instance.gone:  # none yet, forked, or died
                instance = cls._instance = cls()
            return instance

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.gone = ""  # why the process ended, once it has
        self._writers: dict[int, RunWriter] = {}
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._child = subprocess.Popen(
            [sys.executable, "-m", "lstm_viz.core.history"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # it logs a failed record into that run's history/.writer.log
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            # Not in the terminal's process group: Ctrl-C there would kill it mid-record (the last records lost,
            # the run never marked finished); training stops on it, and the child ends when its stdin closes.
            start_new_session=True,
        )
        threading.Thread(target=self._feed, name="lstm_viz history feeder", daemon=True).start()
        threading.Thread(target=self._read, name="lstm_viz history replies", daemon=True).start()

    def open(self, writer: RunWriter, probe_spec: dict) -> None:
        self._writers[id(writer)] = writer
        self.send(("open", id(writer), str(writer.history_dir), probe_spec))

    def send(self, message: tuple) -> None:
        if self.gone:
            self._writers.get(message[1], _Nobody).stopped(self.gone)
        else:
            self._outbox.put(message)

    def _feed(self) -> None:
        stream = self._child.stdin
        try:
            while True:
                pickle.dump(self._outbox.get(), stream, protocol=pickle.HIGHEST_PROTOCOL)
                stream.flush()
        except (OSError, ValueError):  # the child died; the reader tells every writer
            pass

    def _read(self) -> None:
        while True:
            try:
                reply = pickle.load(self._child.stdout)
            except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                break
            writer = self._writers.get(reply[1])
            if writer is None:
                continue
            if reply[0] == "closed":
                del self._writers[reply[1]]
                writer._closed.set()
            else:
                writer.written(*reply[2:])
        self.gone = f"the history writer stopped (exit {self._child.wait()}); the records so far are kept"
        for writer in list(self._writers.values()):
            writer.stopped(self.gone)


class _Nobody:
    @staticmethod
    def stopped(why: str) -> None:
        pass


def _child_main() -> None:
    """The record writer: reads what RunWriters send on stdin, writes their records, replies on stdout. It ends
    when stdin closes (its Python process has ended, or was killed): everything sent until then is written."""
    import torch

    from lstm_viz.core.trainer import make_prober

    torch.set_num_threads(1)
    inbox, replies = sys.stdin.buffer, sys.stdout.buffer
    runs: dict[int, tuple[Path, Prober]] = {}  # writer id -> (its history folder, its prober)

    def reply(*message) -> None:
        pickle.dump(message, replies)
        replies.flush()

    while True:
        try:
            message = pickle.load(inbox)
        except EOFError:
            return
        kind, writer = message[:2]
        if kind == "open":
            history_dir, probe_spec = Path(message[2]), message[3]
            try:
                runs[writer] = (history_dir, make_prober(probe_spec))
            except Exception:  # noqa: BLE001 (said in the run's log; its records then fail one by one)
                _log_failure(history_dir)
        elif kind == "finish":
            history_dir = runs.pop(writer, (None, None))[0]
            if history_dir is not None:
                with contextlib.suppress(ConfigError):
                    atomic_write_text(history_dir.parent / "run.json", message[2])
            reply("closed", writer)
        else:
            step, weights, settings, protected, weights_bytes, extras = message[2:]
            started = time.perf_counter()
            history_dir, prober = runs.get(writer, (None, None))
            try:
                config = RunConfig.from_dict(json.loads(settings)) if settings else None
                tensors = {name: torch.from_numpy(value) for name, value in weights.items()}
                trace, view = prober(step, tensors, config, extras)
                size = write_record(history_dir, step, trace, view, weights, settings)
            except Exception:  # noqa: BLE001 (logged; the trainer is told and stops recording)
                _log_failure(history_dir)
                size = -1
            reply("written", writer, step, size, time.perf_counter() - started, weights_bytes, protected)


def _log_failure(history_dir: Path | None) -> None:
    if history_dir is not None:
        with contextlib.suppress(OSError), open(history_dir / ".writer.log", "a", encoding="utf-8") as log:
            traceback.print_exc(file=log)


def _end_of_row(path: Path, header: str, row: str) -> int | None:
    """The byte offset just after the line `row` in the metrics.csv at `path`; None if there is no such file, its
    header is another, or it has no such line (a line of the same step with other values: another run's)."""
    wanted = row.encode()
    step = wanted.split(b",", 1)[0]
    try:
        with open(path, "rb") as file:
            if file.readline() != header.encode():
                return None
            offset = file.tell()
            for line in file:
                offset += len(line)
                if line.split(b",", 1)[0] == step:
                    return offset if line == wanted else None
    except OSError:
        return None
    return None


def _csv_rows(columns: dict[str, np.ndarray]) -> str:
    """Rows of metrics.csv for these (steps,) columns."""
    table = np.stack(list(columns.values()), axis=1)  # (steps, columns)
    buffer = io.StringIO()
    np.savetxt(buffer, table, fmt=["%d" if name in INTEGER_COLUMNS else "%.9g" for name in columns], delimiter=",")
    return buffer.getvalue()


# ---- reading -------------------------------------------------------------------------------------
class MetricsReader:
    """metrics.csv read as it grows: each read parses only the whole rows appended since the last one (a run
    followed for 100k steps would otherwise be parsed whole at every look). A file replaced (a resumed run's
    metrics rewritten) is read again from its start."""

    def __init__(self, path: Path, columns: list[str] | None) -> None:
        self.path = path
        self._columns = list(columns or [])
        self._start()

    def _start(self, identity=None) -> None:
        self._identity, self._offset, self._header = identity, 0, None
        self._chunks: list[np.ndarray] = []
        self._columns_read: dict[str, np.ndarray] | None = None

    def grown(self) -> bool:
        """Whether the file has changed since the last read."""
        try:
            status = self.path.stat()
        except OSError:
            return False
        return (status.st_ino, status.st_dev) != self._identity or status.st_size != self._offset

    def read(self) -> dict[str, np.ndarray]:
        try:
            with open(self.path, "rb") as file:
                status = os.fstat(file.fileno())
                identity = (status.st_ino, status.st_dev)
                if identity != self._identity or status.st_size < self._offset:
                    self._start(identity)
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            data = b""
        except OSError as error:
            raise ConfigError(f"cannot read '{self.path}': {error.strerror or error}") from None
        whole = data[: data.rfind(b"\n") + 1]  # a row being written waits for its end
        self._offset += len(whole)
        if self._header is None and whole:
            header_line, _, whole = whole.partition(b"\n")
            self._header = header_line.decode("utf-8", errors="replace").split(",")
        if whole:
            self._chunks = [np.concatenate([*self._chunks, parse_rows(whole, len(self._header), self.path)])]
            self._columns_read = None
        if self._columns_read is None:
            header = self._header or self._columns
            table = self._chunks[0] if self._chunks else np.zeros((0, len(header)))  # (steps, columns)
            self._columns_read = {name: table[:, index] for index, name in enumerate(header)}
        return self._columns_read


@dataclass(frozen=True)
class Event:
    step: int
    kind: str
    text: str


class Run:
    """A run directory, read while it is written or afterwards. See open_run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._meta = _read_meta(path)
        self.config: RunConfig | None = _read_config(path)
        self.baseline_loss = self._meta.get("baseline_loss")
        self.baseline_name = str(self._meta.get("baseline_name", ""))
        self.steps = np.zeros(0, dtype=np.int64)
        self._metrics = MetricsReader(path / "metrics.csv", self._meta.get("metric_columns"))
        self._shapes: dict[str, tuple] | None = None
        self.refresh()

    # ---- what is on disk now ---------------------------------------------------------------------
    def refresh(self) -> bool:
        """Look again at the directory (records, metrics, events); True if anything new is there."""
        if not self.path.is_dir():
            raise ConfigError(f"run '{self.path}' no longer exists (deleted while open)")
        history = self.path / HISTORY_DIR
        try:
            names = os.listdir(history) if history.is_dir() else []
        except FileNotFoundError:  # deleted between the two looks
            raise ConfigError(f"run '{self.path}' no longer exists (deleted while open)") from None
        steps = np.array(sorted(int(m.group(1)) for m in map(RECORD_NAME.fullmatch, names) if m), dtype=np.int64)
        changed = not np.array_equal(steps, self.steps)
        self.steps = steps
        changed = self._metrics.grown() or changed
        with contextlib.suppress(ConfigError):
            self._meta = _read_meta(self.path)
        return changed

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Per-step columns, as metrics.csv (only whole rows: a row being written is left out)."""
        return self._metrics.read()

    @property
    def events(self) -> list[Event]:
        return read_events(self.path / "events.csv")

    @property
    def block_names(self) -> tuple[str, ...]:
        return tuple(name for name in self._meta.get("metric_columns", []) if "." in name)

    @property
    def finished(self) -> bool:
        return bool(self._meta.get("finished"))

    @property
    def writer_alive(self) -> bool:
        """Whether the process writing this run is still at it (as far as this machine can tell)."""
        writer = self._meta.get("writer") or {}
        if self.finished:
            return False
        if writer.get("host") != socket.gethostname():
            return True  # written on another machine: cannot tell; assume it is
        return is_process_alive(int(writer.get("pid", 0)))

    # ---- one record ----------------------------------------------------------------------------------
    def record(self, step: int) -> dict[str, np.ndarray]:
        """Every array of the record at `step` (trace, "view/...", "weights/...", "loss", "config")."""
        path = self.path / HISTORY_DIR / record_name(int(step))
        try:
            with np.load(path, allow_pickle=False) as record:
                arrays = {key: record[key] for key in record.files}
        except FileNotFoundError:
            if not self.path.is_dir():
                raise ConfigError(f"run '{self.path}' no longer exists (deleted while open)") from None
            nearest = ""
            if len(self.steps):
                nearest = f"; the nearest recorded step is {int(self.steps[abs(self.steps - step).argmin()])}"
            raise ConfigError(f"run '{self.path}' has no record of step {step} (thinned or removed){nearest}") from None
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
            raise ConfigError(
                f"the record of step {step} in '{self.path}' is damaged ({type(error).__name__}); "
                "other steps may still open"
            ) from None
        self._check_shapes(step, arrays)
        return arrays

    def trace(self, step: int) -> dict[str, np.ndarray]:
        """The probe at `step`: the same keys and shapes as trace.npz."""
        arrays = self.record(step)
        return {key: value for key, value in arrays.items() if "/" not in key and key not in _RECORD_EXTRAS}

    def weights(self, step: int) -> dict[str, torch.Tensor]:
        """The model's state_dict at `step`."""
        arrays = self.record(step)
        prefix = "weights/"
        return {key[len(prefix) :]: torch.from_numpy(value) for key, value in arrays.items() if key.startswith(prefix)}

    def snapshot(self, step: int, metrics: dict[str, np.ndarray] | None = None) -> Snapshot:
        """The record at `step` as the Snapshot the panels draw, with the metrics as they are now (`metrics`, if
        the caller has them: a window training this run has them live, and reading metrics.csv again costs)."""
        arrays = self.record(step)
        cell = str(arrays["cell_type"])
        names = [name for name in _quantity_names(cell) if name in arrays or name in STATE_NAMES[cell]]
        trace = Trace(
            cell=cell,
            quantities={name: frozen_array(arrays[name]) for name in names},
            **{name: frozen_array(arrays[name]) for name in TRACE_EXTRAS},
            loss=float(arrays["loss"]),
            labels=tuple(str(label) for label in arrays["labels"]) if "labels" in arrays else None,
            nonlinearity=str(arrays["nonlinearity"]) if "nonlinearity" in arrays else "tanh",  # older records: tanh
        )
        view = {key[len("view/") :]: _view_value(value) for key, value in arrays.items() if key.startswith("view/")}
        config = self.config
        if "config" in arrays:
            config = RunConfig.from_dict(json.loads(str(arrays["config"])), source=f"record {step}")
        return Snapshot(
            step=int(step),
            config=config,
            metrics=self.metrics if metrics is None else metrics,
            block_names=self.block_names,
            baseline_loss=float("nan") if self.baseline_loss is None else float(self.baseline_loss),
            no_input_loss=self._meta.get("no_input_loss"),
            baseline_name=self.baseline_name,
            steps_per_s=0.0,
            trace=trace,
            view=view,
            diverged_at_step=next((event.step for event in self.events if event.kind == "diverged"), None),
        )

    def _check_shapes(self, step: int, arrays: dict) -> None:
        """ConfigError unless the record fits the run's model (its settings), and has the shapes of the others."""
        shapes = {key: value.shape for key, value in arrays.items() if not key.startswith("view/")}
        config, hidden = self.config, shapes.get("hidden")
        if config is not None and hidden is not None and len(hidden) == 4:
            expected = (config.layers, 2 if config.bidirectional else 1, hidden[2], config.hidden)
            if hidden != expected:
                raise ConfigError(
                    f"the record of step {step} in '{self.path}' is of another model (hidden states {hidden}, "
                    f"the run's settings give (layers, directions, T, units) = {expected}); "
                    "was another run written into this folder?"
                )
        shapes = {key: _without_time(key, shape) for key, shape in shapes.items()}  # a probe text of the user's
        if self._shapes is None:  # changes T (the probe's length) from record to record: the rest must match
            self._shapes = shapes
        elif shapes != self._shapes:
            keys = set(shapes) | set(self._shapes)
            different = sorted(key for key in keys if shapes.get(key) != self._shapes.get(key))
            raise ConfigError(
                f"the record of step {step} in '{self.path}' does not match the run's other records "
                f"({different[0]}: {shapes.get(different[0])} vs {self._shapes.get(different[0])}); "
                "was another run written into this folder?"
            )


_RECORD_EXTRAS = ("loss", "cell_type", "nonlinearity", "labels", "config")
_TIME_FIRST = (*TRACE_EXTRAS, "labels")  # a record's arrays whose first axis is the probe's time; the quantities'
# (layers, directions, T, H) have it third


def _without_time(key: str, shape: tuple[int, ...]) -> tuple:
    """The shape of a record's array with its time axis (if it has one) as "T"."""
    if key in _TIME_FIRST and shape:
        return ("T", *shape[1:])
    if "/" not in key and len(shape) == 4:
        return (*shape[:2], "T", shape[3])
    return shape


def _quantity_names(cell: str) -> tuple[str, ...]:
    """The states, then the gradients through time (a Recorder's run without a probe loss has none)."""
    from lstm_viz.core.snapshot import GRADIENT_NAMES

    return STATE_NAMES[cell] + GRADIENT_NAMES[cell]


def _view_value(value: np.ndarray):
    """A task-view entry as the task made it: 0-d arrays back to str / float / int."""
    if value.ndim:
        return frozen_array(value)
    return value.item()


def whole_run_metrics(run_dir: str | Path, kept: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every step's metrics of the run written to `run_dir` whose newest rows are `kept` (a MetricsLog's
    as_columns(), which holds only the newest rows of a run longer than curves.KEEP_ROWS): the rows of its
    metrics.csv before the first kept step, then `kept`, column -> (rows,). Rows are appended to the file before
    they leave memory (MetricsLog.before_fold), so none is missing. Only `kept` if the file has other columns or
    cannot be read. Parses the file whole: ~3 s of CPU per million rows."""
    kept = {name: np.asarray(values, dtype=float) for name, values in kept.items()}
    if not len(kept.get("step", ())):
        return kept
    try:
        with open(Path(run_dir) / "metrics.csv", "rb") as file:
            header, data = file.readline().decode("utf-8", errors="replace").rstrip("\n").split(","), file.read()
        older = parse_rows(data[: data.rfind(b"\n") + 1], len(header), Path(run_dir) / "metrics.csv")
    except (OSError, ConfigError):
        return kept
    if header != list(kept):
        return kept
    older = older[older[:, 0] < kept["step"][0]]  # (older rows, columns)
    return {name: np.concatenate([older[:, index], kept[name]]) for index, name in enumerate(header)}


def fork_trainer(run: Run, step: int):
    """A Trainer that starts from the weights and settings recorded at `step` of `run`, with a fresh
    optimizer, and the metrics of the steps up to it; ConfigError if that record cannot be had."""
    from lstm_viz.core.trainer import Trainer  # the trainer imports this module when it records

    config = run.snapshot(step).config
    if config is None:
        raise ConfigError(f"run '{run.path}' has no settings (config.json) to build its model from")
    trainer = Trainer(config)
    metrics = run.metrics
    missing = [name for name in trainer.metrics.columns if name not in metrics]
    if missing:
        raise ConfigError(f"run '{run.path}' has metrics of another model (no column '{missing[0]}')")
    upto = metrics["step"] <= step  # (steps,)
    try:
        trainer.load_weights(run.weights(step), int(step), {name: values[upto] for name, values in metrics.items()})
    except (RuntimeError, KeyError) as error:
        raise ConfigError(f"the weights of step {step} in '{run.path}' do not fit its settings ({error})") from None
    return trainer


def open_run(path: str | Path) -> Run:
    """The run in directory `path`, finished or still being written; ConfigError if it is none."""
    path = Path(path).expanduser()
    try:
        is_dir = path.is_dir()  # False for what is not there; raises for a name too long, an unreadable folder
    except OSError as error:
        raise ConfigError(f"cannot open run '{path}': {error.strerror or error}") from None
    if not is_dir and not path.exists():
        raise ConfigError(f"run '{path}' does not exist; give a run directory (lstm-viz train --out DIR writes one)")
    if not is_dir:
        raise ConfigError(f"'{path}' is a file, not a run directory; give the folder that holds run.json")
    return Run(path)


def _read_meta(path: Path) -> dict:
    meta_path = path / "run.json"
    if not meta_path.exists():
        hint = " (written before lstm_viz 0.2, which has no history)" if (path / "metrics.csv").exists() else ""
        raise ConfigError(f"'{path}' is not an lstm_viz run{hint}: it has no run.json")
    require_regular_file(meta_path, "run file", "give a run directory")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"'{meta_path}' is damaged ({type(error).__name__}); is this an lstm_viz run?") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), int):
        raise ConfigError(f"'{meta_path}' is not an lstm_viz run file (no format number)")
    if meta["format"] > RUN_FORMAT:
        raise ConfigError(
            f"run '{path}' was written by a newer lstm_viz (run format {meta['format']}, this one reads "
            f"{RUN_FORMAT}); upgrade lstm_viz to open it"
        )
    return meta


def _read_config(path: Path) -> RunConfig | None:
    config_path = path / "config.json"
    if not config_path.exists():
        return None
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"'{config_path}' is damaged ({type(error).__name__})") from None
    return RunConfig.from_dict(data, source=str(config_path))


def read_events(path: Path) -> list[Event]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    events = []
    complete = text[: text.rfind("\n") + 1]  # a line being written is left out
    for row in list(csv.reader(io.StringIO(complete)))[1:]:
        if len(row) == 3 and row[0].isdigit():
            events.append(Event(int(row[0]), row[1], row[2]))
    return events


if __name__ == "__main__":
    _child_main()
