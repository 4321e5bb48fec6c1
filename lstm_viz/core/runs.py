"""Run directory: the files a run leaves behind, each written atomically.

    config.json     RunConfig.to_dict() + "name" + "versions": everything to rerun it
                    (it loads as a preset: lstm-viz train --preset DIR/config.json)
    metrics.csv     one row per step: trainer.METRIC_COLUMNS + per-block gradient norms
    summary.json    steps, final_loss, baseline_loss, baseline_name, no_input_loss, probe_loss, diverged,
                    diverged_at_step, steps_per_s, test_accuracy (of the final weights; null without a test set)
    checkpoint.pt   Trainer.checkpoint(); loads with torch.load(..., weights_only=True)
    trace.npz       the final probe, Trace.arrays(): each state/gradient (layers, directions, T, H)

A file is written to a temporary file in the same directory, fsynced and renamed over
the old one, so a run killed at any moment leaves either the old or the new file, never
half of one. Qt-free: the GUI saves and loads checkpoints through here too.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import pickle
import platform
import re
import secrets
import time
from pathlib import Path

import numpy as np
import torch

import lstm_viz
from lstm_viz.core.config import ConfigError, RunConfig, require_regular_file
from lstm_viz.core.snapshot import Trace
from lstm_viz.core.trainer import CHECKPOINT_FORMAT, Trainer

FINAL_LOSS_STEPS = 100  # summary.json's final_loss is the mean training loss over the last this many steps
INTEGER_COLUMNS = ("step", "clipped")


# ---- atomic files ----------------------------------------------------------------------
def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace `path` by `data` all at once; ConfigError if it cannot be written."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
        _remove_leftovers(path)
    except OSError as error:
        raise ConfigError(f"cannot write '{path}': {error.strerror or error}; choose a writable place") from None


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary files that writers of `path` on this machine left when killed mid-write:
    named as atomic_write_bytes names them, by a process that no longer exists. Never fails a write."""
    if os.name != "posix":  # os.kill(pid, 0) would send Ctrl+C on Windows, not ask whether pid lives
        return
    ours = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = ours.fullmatch(leftover.name)
        if match and not is_process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                leftover.unlink()


def is_process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def make_run_dir(path: str | Path) -> Path:
    """Create the run directory (and its parents); ConfigError if that is impossible."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"cannot create run directory '{path}': a file is in the way; choose another --out") from None
    except OSError as error:
        raise ConfigError(
            f"cannot create run directory '{path}': {error.strerror or error}; choose another --out"
        ) from None
    return path


# ---- the run files -------------------------------------------------------------------
def write_config(out_dir: str | Path, config: RunConfig, name: str = "") -> None:
    data = {"name": name} if name else {}
    data.update(config.to_dict(), versions=versions())
    atomic_write_text(Path(out_dir) / "config.json", json.dumps(data, indent=2) + "\n")


def versions() -> dict[str, str]:
    return {
        "lstm_viz": lstm_viz.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def write_metrics(out_dir: str | Path, trainer: Trainer) -> None:
    """metrics.csv of a trainer that did not record its run (no Trainer.record_to), whole. A recording trainer's
    RunWriter appends it instead, and it is never rewritten."""
    columns = trainer.metrics.as_columns()
    table = np.stack(list(columns.values()), axis=1)  # (steps, columns)
    formats = ["%d" if name in INTEGER_COLUMNS else "%.9g" for name in columns]
    buffer = io.StringIO()
    buffer.write(",".join(columns) + "\n")
    np.savetxt(buffer, table, fmt=formats, delimiter=",")
    atomic_write_text(Path(out_dir) / "metrics.csv", buffer.getvalue())


def read_metrics(path: str | Path, columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """metrics.csv -> column name -> (steps,) array. Only whole rows: a row a writer is appending (or was
    killed appending) is left out. A missing file reads as no rows of `columns`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read '{path}': {error}") from None
    lines = text.split("\n")  # the last item is "" or a row still being written
    header = lines[0].split(",") if len(lines) > 1 else list(columns or [])
    rows = [line.split(",") for line in lines[1:-1] if line.count(",") == len(header) - 1]
    try:
        table = np.array(rows, dtype=float).reshape(-1, len(header))  # (steps, columns)
    except ValueError as error:
        raise ConfigError(f"'{path}' is damaged: {error}") from None
    return {name: table[:, index] for index, name in enumerate(header)}


def summary(trainer: Trainer, trace: Trace | None, steps_per_s: float) -> dict:
    losses = trainer.metrics.as_columns()["loss"]  # (steps,)
    finite_losses = losses[np.isfinite(losses)][-FINAL_LOSS_STEPS:]
    return {
        "steps": trainer.step_count,
        "final_loss": _finite_or_none(finite_losses.mean()) if len(finite_losses) else None,
        "baseline_loss": _finite_or_none(trainer.task.baseline_loss),
        "baseline_name": trainer.task.baseline_name,
        "no_input_loss": _finite_or_none(trainer.task.no_input_loss),
        "probe_loss": _finite_or_none(trace.loss) if trace is not None else None,
        "diverged": trainer.diverged_at_step is not None,
        "diverged_at_step": trainer.diverged_at_step,
        "steps_per_s": round(float(steps_per_s), 2),
        "test_accuracy": _finite_or_none(trainer.evaluate().get("test_accuracy")),  # digits: the held-out images
    }


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def write_trace(out_dir: str | Path, trace: Trace) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **trace.arrays())
    atomic_write_bytes(Path(out_dir) / "trace.npz", buffer.getvalue())


def save_progress(out_dir: str | Path, trainer: Trainer) -> None:
    """What a killed run needs to keep its progress: the checkpoint and the metrics so far."""
    save_checkpoint(Path(out_dir) / "checkpoint.pt", trainer)
    if trainer.run_writer is not None:  # it appends metrics.csv as it goes
        trainer.run_writer.append_metrics(trainer.metrics, force=True)
    else:
        write_metrics(out_dir, trainer)


def new_run_dir(parent: str | Path, name: str) -> Path:
    """PARENT/NAME-YYYYmmdd-HHMMSS, numbered if that exists already (not created)."""
    base = Path(parent).expanduser() / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, number = base, 1
    while out.exists():
        number += 1
        out = base.with_name(f"{base.name}-{number}")
    return out


def write_run(out_dir: str | Path, trainer: Trainer, trace: Trace, steps_per_s: float = 0.0, name: str = "") -> None:
    """All five run files; `trace` is the final probe (internals.probe_trace(trainer.model, trainer.task))."""
    out_dir = make_run_dir(out_dir)
    write_config(out_dir, trainer.config, name)
    save_progress(out_dir, trainer)
    write_trace(out_dir, trace)
    atomic_write_text(out_dir / "summary.json", json.dumps(summary(trainer, trace, steps_per_s), indent=2) + "\n")


# ---- checkpoints ---------------------------------------------------------------------
def save_checkpoint(path: str | Path, trainer: Trainer) -> None:
    """The trainer's checkpoint, with every step's metrics: a recording trainer longer than curves.KEEP_ROWS holds
    only its newest rows, the older ones are read back from its metrics.csv."""
    checkpoint = trainer.checkpoint()
    if trainer.run_writer is not None and trainer.metrics.first_row:
        from lstm_viz.core.history import whole_run_metrics  # history imports this module

        whole = whole_run_metrics(trainer.run_writer.run_dir, trainer.metrics.as_columns())
        checkpoint["metrics"] = {name: torch.from_numpy(values) for name, values in whole.items()}
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint dict, loaded with weights_only=True (no code runs); ConfigError if it is not one."""
    path = Path(path).expanduser()
    require_regular_file(path, "checkpoint", "give the path of a checkpoint.pt")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        blocked = re.search(r"\bGLOBAL ([\w.]+)", str(error))
        if blocked:
            raise ConfigError(
                f"cannot load checkpoint '{path}': not a safe checkpoint (it asks to load {blocked.group(1)}, "
                "which could run code); refused"
            ) from None
        raise _corrupt(path, _reason(error)) from None
    except PermissionError as error:
        raise ConfigError(f"cannot read checkpoint '{path}': {error.strerror}") from None
    except Exception as error:  # torch.load raises all sorts on a damaged file
        raise _corrupt(path, _reason(error)) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise _corrupt(path, f"no '{CHECKPOINT_FORMAT}' format tag")
    checkpoint_config(checkpoint, path)
    return checkpoint


def checkpoint_config(checkpoint: dict, path: str | Path = "checkpoint") -> RunConfig:
    try:
        return RunConfig.from_dict(checkpoint.get("config"), source="its config")
    except ConfigError as error:
        raise ConfigError(f"cannot load checkpoint '{path}': {error}") from None


def restore_trainer(checkpoint: dict, config: RunConfig | None = None, path: str | Path = "checkpoint") -> Trainer:
    """A new Trainer for `config` (default: the checkpoint's) continuing from `checkpoint`.

    ConfigError if the checkpoint does not fit that config or is damaged.
    """
    config = config if config is not None else checkpoint_config(checkpoint, path)
    trainer = Trainer(config)
    try:
        trainer.load_checkpoint(checkpoint)
    except ConfigError as error:
        raise ConfigError(f"cannot load checkpoint '{path}': {error}") from None
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise _corrupt(path, _reason(error)) from None
    return trainer


def _corrupt(path, reason: str) -> ConfigError:
    return ConfigError(f"cannot load checkpoint '{path}': not an lstm_viz checkpoint or corrupt ({reason})")


def _reason(error: BaseException) -> str:
    """The informative line of an exception message, short."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("Weights only load failed", "Check the documentation"))]
    lines = [line for line in lines if not line.startswith(("Please file an issue", "In PyTorch"))]
    text = lines[-1] if lines else ""
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."
