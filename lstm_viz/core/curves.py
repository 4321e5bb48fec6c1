"""Per-step metrics in bounded memory, however long a run trains.

MetricsLog keeps the newest rows at full detail (at most 2 × KEEP_ROWS) and folds older rows into
an Envelope: the minimum and maximum of each column over buckets of consecutive rows, at most
ENVELOPE_BUCKETS of them, neighbours merged (the bucket width doubles) when they fill up. Drawn as a
min-max band, one bucket per pixel or less, a single spike stays visible at any length of run; the
exact older rows are in the run's metrics.csv (read_rows reads a range of them). Everything here is
numpy over whole blocks of rows, never a Python loop per row.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_viz.core.config import ConfigError

KEEP_ROWS = 16_384  # newest rows kept at full detail: between KEEP_ROWS and 2 × KEEP_ROWS of them
ENVELOPE_BUCKETS = 4096  # most buckets the envelope of older rows has (an even number)
INDEX_EVERY = 1024  # read_rows' index of metrics.csv: the byte offset of every this many rows


@dataclass(frozen=True)
class EnvelopeView:
    """The envelope of the rows before a MetricsLog's newest ones, as read-only arrays: per column, the
    minimum and maximum of each bucket of consecutive rows (NaN only where all a bucket's values are NaN).
    The 'step' column's minimum and maximum are each bucket's first and last step."""

    minimum: dict[str, np.ndarray]  # column -> (buckets,)
    maximum: dict[str, np.ndarray]  # column -> (buckets,)
    rows: int  # rows folded in

    def __len__(self) -> int:
        return len(self.minimum["step"]) if "step" in self.minimum else 0


class Envelope:
    """Minimum and maximum of each column over buckets of `width` consecutive rows (a power of two), at most
    `buckets` buckets: when full, each pair of neighbours merges and the width doubles."""

    def __init__(self, columns: int, buckets: int = ENVELOPE_BUCKETS) -> None:
        self.capacity = buckets - buckets % 2
        self.width = 1
        self.count = 0  # whole buckets
        self.rows = 0  # rows folded in, the pending ones included
        self._minimum = np.empty((columns, self.capacity))  # (columns, capacity)
        self._maximum = np.empty((columns, self.capacity))
        self._pending = np.empty((columns, 0))  # (columns, < width) rows of the next bucket

    def add(self, block: np.ndarray) -> None:
        """Fold in `block` (columns, rows), the rows after those added before."""
        self.rows += block.shape[1]
        rows = np.concatenate([self._pending, block], axis=1) if self._pending.shape[1] else block
        while rows.shape[1] >= self.width:
            room = self.capacity - self.count
            whole = min(rows.shape[1] // self.width, room)
            used = whole * self.width
            buckets = rows[:, :used].reshape(rows.shape[0], whole, self.width)  # (columns, whole, width)
            self._minimum[:, self.count : self.count + whole] = np.fmin.reduce(buckets, axis=2)  # NaN-ignoring
            self._maximum[:, self.count : self.count + whole] = np.fmax.reduce(buckets, axis=2)
            self.count += whole
            rows = rows[:, used:]
            if self.count == self.capacity:
                self._merge_pairs()
        self._pending = rows.copy()

    def _merge_pairs(self) -> None:
        half = self.count // 2
        for values, reduce in ((self._minimum, np.fmin), (self._maximum, np.fmax)):
            pairs = values[:, : 2 * half].reshape(values.shape[0], half, 2)  # (columns, half, 2)
            values[:, :half] = reduce(pairs[:, :, 0], pairs[:, :, 1])
        self.count, self.width = half, 2 * self.width

    def view(self, names: tuple[str, ...]) -> EnvelopeView:
        """The buckets so far, and the pending rows as one more (partial) bucket, as read-only copies."""
        minimum, maximum = self._minimum[:, : self.count], self._maximum[:, : self.count]  # (columns, count)
        if self._pending.shape[1]:
            minimum = np.concatenate([minimum, np.fmin.reduce(self._pending, axis=1)[:, None]], axis=1)
            maximum = np.concatenate([maximum, np.fmax.reduce(self._pending, axis=1)[:, None]], axis=1)
        frozen = []
        for values in (minimum, maximum):
            values = values.copy()
            values.flags.writeable = False
            frozen.append({name: values[index] for index, name in enumerate(names)})
        return EnvelopeView(frozen[0], frozen[1], self.rows)

    @property
    def nbytes(self) -> int:
        return self._minimum.nbytes + self._maximum.nbytes + self._pending.nbytes


class MetricsLog:
    """Append-only per-step columns: the newest rows in a numpy buffer (columns, capacity), the older ones
    folded into an Envelope, so that memory stays bounded over any number of steps.

    Rows once written are never written again (growing, folding and loading allocate a new buffer),
    so read-only views of them are as immutable as copies, and cost nothing: copying 100k rows on
    every snapshot took 25 ms and cut training speed by 5%.
    `rows` counts every row appended; as_columns() holds the rows from `first_row` on.
    """

    def __init__(self, columns: tuple[str, ...], keep: int = KEEP_ROWS, buckets: int = ENVELOPE_BUCKETS) -> None:
        self.columns = columns
        self.keep = keep
        self.buckets = buckets
        self.before_fold: Callable[[], None] | None = None  # called while the rows about to be folded are held:
        # a RunWriter appends them to metrics.csv then, however many rows come between its flushes
        self._clear()

    def _clear(self) -> None:
        self.rows = self.first_row = 0
        self._buffer = np.zeros((len(self.columns), min(1024, 2 * self.keep)))  # (columns, capacity)
        self._envelope: Envelope | None = None
        self._envelope_view: EnvelopeView | None = None
        self.folded_on_load: np.ndarray | None = None

    def append(self, values: list[float]) -> None:
        held = self.rows - self.first_row
        if held == self._buffer.shape[1]:
            self._make_room()
            held = self.rows - self.first_row
        self._buffer[:, held] = values
        self.rows += 1

    def extend(self, block: np.ndarray) -> None:
        """Append many rows at once: `block` is (rows, columns)."""
        block = np.asarray(block, dtype=float)
        start = 0
        while start < len(block):
            held = self.rows - self.first_row
            if held == self._buffer.shape[1]:
                self._make_room()
                held = self.rows - self.first_row
            count = min(len(block) - start, self._buffer.shape[1] - held)
            self._buffer[:, held : held + count] = block[start : start + count].T
            self.rows += count
            start += count

    def _make_room(self) -> None:
        """The buffer is full: double it, or at 2 × keep fold its oldest `keep` rows into the envelope."""
        held = self.rows - self.first_row
        if held < 2 * self.keep:
            grown = np.zeros((len(self.columns), min(2 * held, 2 * self.keep)))
            grown[:, :held] = self._buffer[:, :held]
            self._buffer = grown
            return
        if self.before_fold is not None:
            self.before_fold()
        if self._envelope is None:
            self._envelope = Envelope(len(self.columns), self.buckets)
        self._envelope.add(self._buffer[:, : self.keep])
        self._envelope_view = None
        moved = np.zeros_like(self._buffer)
        moved[:, : held - self.keep] = self._buffer[:, self.keep : held]
        self._buffer = moved
        self.first_row += self.keep

    def as_columns(self) -> dict[str, np.ndarray]:
        """Read-only views of the rows kept at full detail (from first_row on), one array per column."""
        columns = {}
        for index, name in enumerate(self.columns):
            column = self._buffer[index, : self.rows - self.first_row]  # (rows kept,)
            column.flags.writeable = False
            columns[name] = column
        return columns

    def envelope(self) -> EnvelopeView | None:
        """The envelope of the rows before first_row (None while every row is kept); the same object until it
        changes."""
        if self._envelope is None:
            return None
        if self._envelope_view is None:
            self._envelope_view = self._envelope.view(self.columns)
        return self._envelope_view

    def load_columns(self, columns: dict) -> None:
        """Start again from these rows (column -> (rows,)). The rows folded out of memory meanwhile (more than keep)
        are kept aside, in `folded_on_load`, for the RunWriter of a run resumed into a new directory to write out
        (it drops them)."""
        values = np.stack([np.asarray(columns[name], dtype=float) for name in self.columns])  # (columns, rows)
        self._clear()
        self.extend(values.T)
        self.folded_on_load = values[:, : self.first_row] if self.first_row else None  # (columns, folded rows)

    @property
    def nbytes(self) -> int:
        """Bytes of the buffers: bounded, however many rows were appended."""
        return self._buffer.nbytes + (self._envelope.nbytes if self._envelope is not None else 0)


def parse_rows(data: bytes, width: int, path: Path) -> np.ndarray:
    """Whole CSV rows of `width` numbers -> (rows, width); a damaged row (another width) is left out."""
    try:
        return np.loadtxt(io.BytesIO(data), delimiter=",", ndmin=2, dtype=float).reshape(-1, width)
    except ValueError:
        rows = [line.split(b",") for line in data.splitlines() if line.count(b",") == width - 1]
        try:
            return np.array(rows, dtype=float).reshape(-1, width)
        except ValueError as error:
            raise ConfigError(f"'{path}' is damaged: {error}") from None


class MetricsFile:
    """Ranges of rows of a growing metrics.csv (append-only, steps in increasing order) without reading it
    all: an index of the byte offset and step of every INDEX_EVERY-th row, extended as the file grows."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.header: list[str] = []
        self._offsets: list[int] = []  # byte offset of rows 0, INDEX_EVERY, 2 × INDEX_EVERY, ...
        self._steps: list[float] = []  # their steps
        self._indexed_to = 0  # bytes scanned (up to the end of the last whole row)
        self._rows = 0  # whole rows scanned

    def _extend_index(self, file) -> None:
        file.seek(self._indexed_to)
        if not self.header:
            first = file.readline()
            if not first.endswith(b"\n"):
                return
            self.header = first.decode().strip().split(",")
            self._indexed_to = file.tell()
        while True:
            chunk = file.read(1 << 24)
            if not chunk:
                return
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)  # (rows in chunk,) newline positions
            if not len(ends):
                return
            starts = np.concatenate([[0], ends[:-1] + 1])  # (rows,) in the chunk
            for index in np.flatnonzero((self._rows + np.arange(len(ends))) % INDEX_EVERY == 0):
                start = int(starts[index])
                self._offsets.append(self._indexed_to + start)
                self._steps.append(float(chunk[start : chunk.index(b",", start)]))
            self._rows += len(ends)
            self._indexed_to += int(ends[-1]) + 1
            file.seek(self._indexed_to)

    def read_rows(self, first_step: float, last_step: float) -> dict[str, np.ndarray]:
        """The whole rows with first_step <= step <= last_step, column -> (rows,); none if the file is missing."""
        try:
            with open(self.path, "rb") as file:
                self._extend_index(file)
                if not self._offsets or self.header[0] != "step":
                    return {name: np.empty(0) for name in self.header}
                block = max(0, int(np.searchsorted(self._steps, first_step, side="right")) - 1)
                file.seek(self._offsets[block])
                chunks, unfinished = [], b""  # what is read; the part of a row at its end
                while file.tell() < self._indexed_to:  # up to the first whole row past last_step
                    chunks.append(file.read(min(1 << 20, self._indexed_to - file.tell())))
                    recent = unfinished + chunks[-1]  # starts at a row's start: the last row's step is in it
                    end = recent.rfind(b"\n")
                    start = recent.rfind(b"\n", 0, end) + 1
                    if end > 0 and float(recent[start : recent.index(b",", start)]) > last_step:
                        break
                    unfinished = recent[end + 1 :]
                text = b"".join(chunks)  # once: adding each chunk to the text read made a long range quadratic
        except FileNotFoundError:
            return {name: np.empty(0) for name in self.header}
        whole_rows = text[: text.rfind(b"\n") + 1]
        table = parse_rows(whole_rows, len(self.header), self.path) if whole_rows else np.empty((0, len(self.header)))
        inside = (table[:, 0] >= first_step) & (table[:, 0] <= last_step)  # (rows,)
        return {name: table[inside, index] for index, name in enumerate(self.header)}
