"""lstm-viz: open the app (default) or train headless (lstm-viz train) and write a run directory.

Exit codes: 0 done, 1 the GUI cannot start, 2 bad input (one line on stderr, never a
traceback), 3 training diverged, 130 interrupted (Ctrl-C; the run files are written first).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from lstm_viz.core.config import (
    BUILTIN_TEXTS,
    CELLS,
    MAX_SPEED,
    MIN_SPEED,
    OPTIMIZERS,
    TASKS,
    ConfigError,
    RunConfig,
    load_preset,
    path_exists,
    preset_names,
)

# Seconds between checkpoint + metrics saves while training, so a killed run keeps its progress;
# by time, not steps: rewriting a long metrics.csv every N fast steps would cost more than training.
SAVE_EVERY_S = 30.0
SAVES_AT_MOST_EVERY = 20  # x the time a save took: a long run's saves take at most 5% of its time
DEFAULT_PRESET = "sine"
EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130
OVERRIDES = ("task", "text", "cell", "hidden", "layers", "bidirectional", "forget_bias", "optimizer", "lr", "batch")
OVERRIDES += ("seq_len", "clip", "seed", "temperature", "probe_text", "steps")


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the real command line: leave at once once the window has closed
        if sys.argv[1:2] not in (["train"], ["sweep"]):
            # A window's startup (importing torch, pyqtgraph, building the window) ran the cyclic collector ~500
            # times, ~250 ms, for garbage it almost never finds: off until the event loop runs (app._application
            # turns it back on), the first frame came ~0.3 s sooner (benchmarks/gui.py startup).
            gc.disable()
        code = main(sys.argv[1:])
        gc.enable()  # a window command that stopped before its event loop (bad input, no screen)
        return _exit_now(code)
    argv = list(argv)
    try:
        if argv[:1] == ["train"]:
            return _train(_parse(_train_parser(), argv[1:]))
        if argv[:1] == ["open"]:
            return _open(_parse(_open_parser(), argv[1:]))
        if argv[:1] == ["sweep"]:
            return _sweep(_parse(_sweep_parser(), argv[1:]))
        return _gui(_parse(_gui_parser(), argv))
    except _ParserExit as parser_exit:
        return parser_exit.code
    except ConfigError as error:
        print(f"lstm-viz: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lstm-viz: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _exit_now(code: int) -> int:
    """End the process without tearing down torch and Qt (~2 s here, after the worker stopped)."""
    if "lstm_viz.gui.app" not in sys.modules:
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def display_problem() -> str | None:
    """Why Qt could not open a window here, or None. Qt itself would abort with a page of text."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    if not os.environ.get("DISPLAY"):
        return (
            "no screen to open the window on (DISPLAY is not set); run it in a desktop session, or without "
            "one: xvfb-run -a lstm-viz --steps 500 --screenshot out.png, or lstm-viz train"
        )
    missing = missing_x11_libraries()
    if missing:  # pip installs Qt, not the system's X11 libraries; a desktop has them, a minimal system may not
        packages = " ".join(missing)
        return f"Qt's X11 plugin needs system libraries this machine lacks (Debian/Ubuntu: apt install {packages})"
    return None


def missing_x11_libraries() -> list[str]:
    """Debian package names of the libraries Qt's X11 plugin links to that the system lacks, as ldd
    reports them; [] when that cannot be told (no ldd, Qt laid out differently)."""
    spec = importlib.util.find_spec("PyQt6")
    folders = list(spec.submodule_search_locations or []) if spec else []
    plugin = Path(folders[0] if folders else "") / "Qt6" / "lib" / "libQt6XcbQpa.so.6"
    if not folders or not plugin.is_file():
        return []
    try:
        listing = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [debian_package(soname) for soname in re.findall(r"^\s*(\S+) => not found", listing, flags=re.MULTILINE)]


def debian_package(soname: str) -> str:
    """'libxcb-icccm.so.4' -> 'libxcb-icccm4', 'libxkbcommon-x11.so.0' -> 'libxkbcommon-x11-0' (Debian's naming)."""
    name, _, version = soname.partition(".so.")
    return f"{name.lower()}{'-' if name[-1].isdigit() else ''}{version}"


# ---- the two forms ---------------------------------------------------------------------
def _gui(args: argparse.Namespace) -> int:
    config, _ = _config(args)
    _check_history_mb(args.history_mb)
    _check_speed(args.speed)
    if args.screenshot is not None and not Path(args.screenshot).expanduser().parent.is_dir():
        raise ConfigError(f"cannot save screenshot '{args.screenshot}': its folder does not exist")
    from lstm_viz.core.tasks import make_task

    make_task(config)  # a bad text file is reported here, before any window opens
    from lstm_viz.core.trainer import set_training_device

    set_training_device(args.device)  # --device cuda without a GPU: one line, exit 2
    comparison = None
    if args.compare is not None:
        from lstm_viz.core.compare import parse_compare

        comparison = parse_compare(args.compare, config)
        _refuse_lecture(args.lecture)
    problem = display_problem()
    if problem:
        print(f"lstm-viz: error: {problem}", file=sys.stderr)
        return 1
    try:
        from lstm_viz.gui.app import run_app
    except ImportError as error:
        print(f"lstm-viz: error: cannot start the GUI ({error}); lstm-viz train runs without one", file=sys.stderr)
        return 1
    runs_dir = Path(args.runs if args.runs is not None else "runs").expanduser()
    if comparison is not None:
        from lstm_viz.gui.compare.app import run_compare_app

        setting, variants = comparison
        return run_compare_app(setting, variants, _config(args)[1], args.steps, args.screenshot, runs_dir,
                               args.history_mb, speed=args.speed, paused=args.paused)  # fmt: skip
    return run_app(config, steps=args.steps, screenshot=args.screenshot, runs_dir=runs_dir, history_mb=args.history_mb,
                   lecture=args.lecture, speed=args.speed, paused=args.paused)  # fmt: skip


def _train(args: argparse.Namespace) -> int:
    import torch

    from lstm_viz.core import runs
    from lstm_viz.core.trainer import Trainer, set_training_device

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)  # these small models run faster on one thread, far faster on a busy machine
    _check_history_mb(args.history_mb)  # before the run directory is made
    set_training_device(args.device)
    if args.compare is not None:
        return _train_comparison(args)
    if args.resume is None:
        config, name = _config(args)
        _refuse_a_run_in(args.out)
        trainer = Trainer(config)
    else:  # the checkpoint's settings, or the preset's if one is given, with the command line's on top
        checkpoint = runs.load_checkpoint(args.resume)
        if args.preset is None:
            config, name = runs.checkpoint_config(checkpoint, args.resume).replace(**_overrides(args)), "resumed"
        else:
            config, name = _config(args)
        trainer = runs.restore_trainer(checkpoint, config, args.resume)
    out_dir = runs.make_run_dir(args.out if args.out is not None else runs.new_run_dir("runs", name))
    resumed = f"load: resumed from {args.resume}" if args.resume is not None else ""
    trainer.record_to(out_dir, args.history_mb, name, event=resumed)

    steps_per_s, stopped_by = _train_steps(trainer, config.steps, out_dir, name)
    # While it records: metrics.csv gets its last rows appended, never rewritten (a run longer than
    # curves.KEEP_ROWS keeps only its newest rows in memory; the file has them all).
    runs.write_run(out_dir, trainer, trainer.probe(), steps_per_s, name)
    trainer.finish_recording()

    if stopped_by == "divergence":
        print(
            f"lstm-viz: training diverged at step {trainer.diverged_at_step} (non-finite loss or gradient); "
            f"last finite checkpoint kept in {out_dir}; try a lower --lr or --clip norm:1",
            file=sys.stderr,
        )
        return EXIT_DIVERGED
    if stopped_by == "interrupt":
        print(f"lstm-viz: interrupted at step {trainer.step_count}; run files written to {out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    result = runs.summary(trainer, None, steps_per_s)
    final = "n/a" if result["final_loss"] is None else f"{result['final_loss']:.4g}"
    accuracy = "" if result["test_accuracy"] is None else f", test accuracy {100 * result['test_accuracy']:.1f}%"
    print(
        f"{name}: {trainer.step_count} steps, loss {final} (baseline {result['baseline_loss']:.4g}: "
        f"{result['baseline_name']}){accuracy}, {steps_per_s:.0f} steps/s; run files in {out_dir}"
    )
    return 0


def _train_comparison(args: argparse.Namespace) -> int:
    """lstm-viz train --compare SETTING=V1,V2: one run directory per variant, OUT/<value>, trained in turns."""
    from tqdm import tqdm

    from lstm_viz.core import runs
    from lstm_viz.core.compare import Comparison, parse_compare

    if args.resume is not None:
        raise ConfigError("--compare starts its variants at step 0; it cannot --resume a checkpoint")
    config, name = _config(args)
    setting, variants = parse_compare(args.compare, config)
    comparison = Comparison(setting, variants)
    _refuse_a_run_in(args.out, tuple(variant.folder_name for variant in variants))
    out_dir = runs.make_run_dir(args.out if args.out is not None else runs.new_run_dir("runs", f"{name}-{setting}"))
    run_dirs = [out_dir / variant.folder_name for variant in variants]
    run_names = [f"{name} {setting}={variant.label}" for variant in variants]
    comparison.record_to(run_dirs, run_names, args.history_mb)
    progress = tqdm(total=config.steps, desc=f"{name} {setting}", unit="step", file=sys.stderr,
                    disable=not sys.stderr.isatty())  # fmt: skip

    def show(results: list) -> None:
        progress.set_postfix_str(f"loss {' '.join(f'{r.loss:.3g}' if r else '-' for r in results)}", refresh=False)
        progress.update()

    with _StopOnInterrupt() as interrupt, progress:
        elapsed = comparison.train(config.steps, lambda: interrupt.requested, show)
    summaries = comparison.write_runs(run_dirs, run_names, elapsed)
    for trainer, variant, run_dir, result in zip(comparison.trainers, variants, run_dirs, summaries, strict=True):
        final = "n/a" if result["final_loss"] is None else f"{result['final_loss']:.4g}"
        diverged = f", diverged at step {trainer.diverged_at_step}" if trainer.diverged_at_step is not None else ""
        print(f"{setting}={variant.label}: {trainer.step_count} steps, loss {final}{diverged}; run files in {run_dir}")
    print(f"baseline {result['baseline_loss']:.4g} ({result['baseline_name']}), {comparison.trainers[0].step_count}"
          f" steps in {elapsed:.1f} s; open them together: lstm-viz open {' '.join(map(str, run_dirs))}")  # fmt: skip
    if interrupt.requested:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if comparison.all_diverged else 0


def _sweep(args: argparse.Namespace) -> int:
    """lstm-viz sweep: every combination of --over's values and --cells, headless, one run directory each,
    DIR/sweep.csv after each and DIR/sweep.png; the same command again resumes."""
    import torch

    from lstm_viz.core.sweep import SWEEP_CSV, SWEEP_PNG, plan_sweep, run_sweep

    if args.cell is not None:
        raise ConfigError("lstm-viz sweep takes its cells from --cells (e.g. --cells lstm,gru,rnn), not --cell")
    _check_history_mb(args.history_mb)
    config, name = _config(args)
    cells = args.cells.split(",") if args.cells is not None else None
    sweep = plan_sweep(config, args.over, cells, args.steps if args.steps is not None else config.steps, name)
    if Path(args.out).expanduser().is_file():
        raise ConfigError(f"--out '{args.out}' is a file; give a folder for the sweep's runs")
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)  # as lstm-viz train: these small models run faster on one thread
    out_dir = Path(args.out).expanduser()
    bar = _ProgressLine()
    started = time.perf_counter()

    def draw_png(rows: list) -> None:
        problem = _write_sweep_png(out_dir / SWEEP_CSV, out_dir / SWEEP_PNG)
        if problem:
            bar.note(f"lstm-viz: {SWEEP_PNG} not drawn: {problem}")

    with _StopOnInterrupt() as interrupt:
        rows, complete = run_sweep(sweep, out_dir, args.history_mb, lambda: interrupt.requested, bar.show, draw_png)
    bar.close()
    elapsed = time.perf_counter() - started
    if not complete:
        print(f"lstm-viz: interrupted; {len(rows)} of {len(sweep.variants)} combinations finished and kept in "
              f"{out_dir}; run the same command again to resume", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    if rows and not (out_dir / SWEEP_PNG).exists():
        draw_png(rows)
    solved = sum(row.solved for row in rows)
    print(f"{name}: {len(rows)} combinations of {sweep.steps} steps ({solved} solved) in {elapsed / 60:.1f} min; "
          f"{out_dir / SWEEP_CSV}, {out_dir / SWEEP_PNG}; see them: lstm-viz open {out_dir}")  # fmt: skip
    return 0


def _refuse_a_run_in(out: str | None, folders: tuple[str, ...] = ("",)) -> None:
    """New runs (from step 0) never replace the run of a folder, OUT or OUT/<folder> for a comparison's variants:
    ConfigError naming what to do instead."""
    held = [
        Path(out, folder)
        for folder in folders
        if out is not None and Path(out, folder, "run.json").expanduser().exists()
    ]
    if not held:
        return
    go_on = f", or go on with it: --resume {held[0] / 'checkpoint.pt'} --out {held[0]}" if folders == ("",) else ""
    raise ConfigError(
        f"--out '{held[0]}' already holds a run, which a new one would replace; give a new folder or delete that "
        f"one{go_on}"
    )


def _write_sweep_png(csv_path: Path, png_path: Path) -> str:
    """Draw the sweep view into png_path, offscreen; why not, or ''."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window is shown: no screen needed
    try:
        from PyQt6 import QtCore

        from lstm_viz.gui.sweep import save_sweep_png
    except ImportError as error:
        return f"cannot load the GUI ({error})"

    def drop_offscreen_notice(_mode, _context, message: str) -> None:
        """The offscreen platform's 'This plugin does not support propagateSizeHints()' broke the progress line."""
        if "does not support propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    previous = QtCore.qInstallMessageHandler(drop_offscreen_notice)
    try:
        save_sweep_png(csv_path, png_path)
    finally:
        QtCore.qInstallMessageHandler(previous)
    return ""


class _ProgressLine:
    """One line on stderr, rewritten with \\r: 'sweep 3/12 · gru lag=50 · step 1200/3000 · eta 14 min'."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._last = -float("inf")
        self._width = 0

    def show(self, progress) -> None:
        now = time.perf_counter()
        if now - self._last < self.interval_s and progress.step not in (0, progress.steps):
            return
        self._last = now
        eta = "eta --" if progress.eta_s is None else f"eta {_duration(progress.eta_s)}"
        self._write(f"sweep {progress.index}/{progress.total} · {progress.variant.label} · "
                    f"step {progress.step}/{progress.steps} · {eta}")  # fmt: skip

    def note(self, text: str) -> None:
        self.close()
        print(text, file=sys.stderr)

    def _write(self, line: str) -> None:
        sys.stderr.write("\r" + line.ljust(self._width))
        sys.stderr.flush()
        self._width = len(line)

    def close(self) -> None:
        if self._width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._width = 0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _open(args: argparse.Namespace) -> int:
    from lstm_viz.core.history import open_run

    if len(args.run) > 1:
        return _open_comparison(args)
    args.run = args.run[0]
    if _is_sweep(Path(args.run).expanduser()):
        return _open_sweep(args)
    run = open_run(args.run)
    if args.step is not None and args.step not in set(run.steps.tolist()):
        if not len(run.steps):
            raise ConfigError(f"run '{args.run}' has no history records (trained with --history-mb 0?)")
        nearest = int(run.steps[abs(run.steps - args.step).argmin()])
        raise ConfigError(f"run '{args.run}' has no record of step {args.step}; the nearest is --step {nearest}")
    if len(run.steps):  # the first record and the one to show must read (damaged, or another run's): exit 2 here
        for step in dict.fromkeys((int(run.steps[0]), int(run.steps[-1] if args.step is None else args.step))):
            run.snapshot(step)
    elif not run.writer_alive:
        raise ConfigError(f"run '{args.run}' has no history records to show (trained with --history-mb 0?)")
    if _cannot_open_window(args.screenshot):
        return 1
    try:
        from lstm_viz.gui.app import open_app
    except ImportError as error:
        print(f"lstm-viz: error: cannot start the GUI ({error})", file=sys.stderr)
        return 1
    return open_app(run, step=args.step, screenshot=args.screenshot, lecture=args.lecture)


def _cannot_open_window(screenshot: str | None) -> bool:
    """A screenshot's folder missing: ConfigError (exit 2); no screen for a window: say why, True (exit 1)."""
    if screenshot is not None and not Path(screenshot).expanduser().parent.is_dir():
        raise ConfigError(f"cannot save screenshot '{screenshot}': its folder does not exist")
    problem = display_problem()
    if problem:
        print(f"lstm-viz: error: {problem}", file=sys.stderr)
    return bool(problem)


def _is_sweep(folder: Path) -> bool:
    """A folder that lstm-viz sweep wrote: sweep.csv and no run.json of its own."""
    from lstm_viz.core.sweep import SWEEP_CSV

    try:
        return (folder / SWEEP_CSV).is_file() and not (folder / "run.json").exists()
    except OSError:  # a name too long, an unreadable folder: open_run says what is wrong
        return False


def _open_sweep(args: argparse.Namespace) -> int:
    """lstm-viz open SWEEP_DIR: the sweep's final loss / baseline against the lag, one line per cell."""
    from lstm_viz.core.sweep import read_sweep

    if args.step is not None:
        raise ConfigError(f"--step is for a run; '{args.run}' is a sweep (open one of its runs to scrub it)")
    _refuse_lecture(args.lecture, "a sweep", "; open one of its runs in lecture mode")
    read_sweep(args.run)  # readable, or exit 2 here
    if _cannot_open_window(args.screenshot):
        return 1
    from lstm_viz.gui.sweep import open_sweep_app

    return open_sweep_app(Path(args.run).expanduser(), screenshot=args.screenshot)


def _refuse_lecture(lecture: bool, window: str = "a comparison", hint: str = " (Ctrl+plus enlarges its text)") -> None:
    """A comparison's or a sweep's window has no lecture mode: --lecture is one line, not silently a normal window."""
    if lecture:
        raise ConfigError(f"--lecture is for one run's window; {window} has none{hint}")


def _open_comparison(args: argparse.Namespace) -> int:
    """lstm-viz open RUN_A RUN_B [...]: recorded runs side by side, aligned by step."""
    from lstm_viz.core.compare import MAX_VARIANTS
    from lstm_viz.core.history import open_run

    if len(args.run) > MAX_VARIANTS:
        raise ConfigError(f"{len(args.run)} runs given; a comparison shows 2 to {MAX_VARIANTS}")
    if args.step is not None:
        raise ConfigError("--step is for one run; runs opened together start at their newest common step")
    _refuse_lecture(args.lecture)
    runs = [open_run(path) for path in args.run]
    tasks = sorted({run.config.task if run.config is not None else "unknown" for run in runs})
    if len(tasks) > 1:
        raise ConfigError(f"runs of different tasks cannot be compared ({' / '.join(tasks)}); open runs of one task")
    for run in runs:
        if not len(run.steps):
            raise ConfigError(f"run '{run.path}' has no history records to show (trained with --history-mb 0?)")
        run.snapshot(int(run.steps[-1]))  # readable, or exit 2 here
    if _cannot_open_window(args.screenshot):
        return 1
    from lstm_viz.gui.compare.app import open_compare_app

    return open_compare_app(runs, screenshot=args.screenshot)


def _train_steps(trainer, steps: int, out_dir: Path, name: str) -> tuple[float, str]:
    """Up to `steps` more steps: (steps per second, "" if all ran, else "divergence" or "interrupt")."""
    from tqdm import tqdm

    from lstm_viz.core.runs import save_progress

    progress = tqdm(total=steps, desc=name, unit="step", file=sys.stderr, disable=not sys.stderr.isatty())
    started = last_save = time.perf_counter()
    first_step, stopped_by, save_every_s = trainer.step_count, "", SAVE_EVERY_S
    with _StopOnInterrupt() as interrupt, progress:
        for _ in range(steps):
            result = trainer.step()
            progress.set_postfix_str(f"loss {result.loss:.4g}", refresh=False)
            progress.update()
            if result.diverged or interrupt.requested:
                stopped_by = "divergence" if result.diverged else "interrupt"
                break
            if time.perf_counter() - last_save >= save_every_s:
                save_started = time.perf_counter()
                save_progress(out_dir, trainer)  # its checkpoint reads metrics.csv back: ~3 s per million steps
                last_save = time.perf_counter()
                save_every_s = max(SAVE_EVERY_S, SAVES_AT_MOST_EVERY * (last_save - save_started))
    elapsed = time.perf_counter() - started
    return (trainer.step_count - first_step) / max(elapsed, 1e-9), stopped_by


class _StopOnInterrupt:
    """The first Ctrl-C stops training after the current step, so the files written stay consistent;
    a second one interrupts at once."""

    def __enter__(self) -> _StopOnInterrupt:
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


# ---- settings ---------------------------------------------------------------------------
def _config(args: argparse.Namespace) -> tuple[RunConfig, str]:
    """The preset with the command line's overrides on top, and the preset's name."""
    preset = args.preset or DEFAULT_PRESET
    return load_preset(preset).replace(**_overrides(args)), Path(preset).stem


def _check_history_mb(history_mb: float | None) -> None:
    """--history-mb is refused before anything starts: the run directory, the window."""
    if history_mb is not None and not 0 <= history_mb < 1e9:  # NaN too
        raise ConfigError(f"--history-mb must be 0 (no history) or a positive number of megabytes, got {history_mb:g}")


def _check_speed(speed: float | None) -> None:
    """--speed: steps/s the window trains at most, from MIN_SPEED to MAX_SPEED."""
    if speed is not None and not MIN_SPEED <= speed <= MAX_SPEED:  # NaN too
        raise ConfigError(
            f"--speed must be {MIN_SPEED:g} to {MAX_SPEED:g} steps per second, got {speed:g}; leave it out for full "
            "speed"
        )


def _overrides(args: argparse.Namespace) -> dict:
    changes = {name: getattr(args, name) for name in OVERRIDES if getattr(args, name) is not None}
    if "text" in changes:
        if changes.setdefault("task", "chars") != "chars":
            raise ConfigError(f"--text is for the chars task, not --task {changes['task']}; drop one of them")
        text_path = Path(changes["text"]).expanduser()
        if changes["text"] not in BUILTIN_TEXTS and path_exists(text_path):
            changes["text"] = str(text_path.resolve())  # config.json stays valid from any folder
    return changes


# ---- argument parsing --------------------------------------------------------------------
class _ParserExit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with bad input said in one line, exit 2, never the usage block: 'lstm-viz: error: --lr: 'abc' is
    not a number; give e.g. --lr 0.01', 'lstm-viz: error: unrecognized arguments: --bogus; see lstm-viz --help'."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)  # "argument --lr: ..." -> "--lr: ..."
        hint = "" if "; give" in message else f"; see {self.prog} --help"
        print(f"lstm-viz: error: {message}{hint}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _number(option: str, example: str, kind: type = float) -> Callable[[str], float]:
    """The argparse type of a numeric option: its value as `kind` (int: a whole number), or a one-line message
    with an example; the ranges are checked later, with the settings (RunConfig) or before anything starts."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {noun}; give e.g. {option} {example}") from None

    return parse


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_request:  # --help (0) or a usage error (2), already printed
        raise _ParserExit(exit_request.code if isinstance(exit_request.code, int) else EXIT_BAD_INPUT) from None


def _gui_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lstm-viz",
        usage="lstm-viz [--preset NAME|PATH] [--steps N] [--speed N] [--paused] [--screenshot PNG] [--lecture]\n"
        "                [settings]\n"
        "       lstm-viz train [--preset NAME|PATH] [--resume CHECKPOINT] [--steps N] [--out DIR] [settings]\n"
        "       lstm-viz open RUN_DIR [--step N] [--screenshot PNG] [--lecture]\n"
        "       lstm-viz sweep --over SETTING=V1,V2,... [--cells C1,C2] [--steps N] --out DIR [settings]",
        description="Watch the gates, states and gradients of an LSTM, live, while it learns.\n"
        "Without a command this opens the app; 'lstm-viz train --help' describes headless training.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_preset(parser)
    parser.add_argument(
        "--steps",
        type=_number("--steps", "500", int),
        metavar="N",
        help="start training at once and pause after N steps",
    )
    parser.add_argument(
        "--speed",
        type=_number("--speed", "100"),
        metavar="N",
        help="train at most N steps per second (1 to 10000; the window's Speed slider changes it; default: full speed)",
    )
    parser.add_argument("--paused", action="store_true", help="open the window at step 0, paused (Space starts)")
    parser.add_argument("--screenshot", metavar="PNG", help="after --steps, save a screenshot of the window and quit")
    _add_lecture(parser)
    parser.add_argument("--runs", metavar="DIR", help="where the window writes its runs (default: runs/ here)")
    _add_compare(parser, "side by side in one window, trained in turns")
    _add_history(parser)
    _add_device(parser)
    _add_settings(parser)
    return parser


def _train_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lstm-viz train",
        description="Train without a window and write a run directory:\n"
        "  config.json    the settings and versions, loadable with --preset\n"
        "  metrics.csv    per step: loss, grad_norm, grad_norm_clipped, clipped, and the norm of each gate block\n"
        "  summary.json   steps, final_loss (mean of the last 100 steps), baseline_loss, no_input_loss, diverged,\n"
        "                 steps_per_s, test_accuracy (digits)\n"
        f"  checkpoint.pt  weights, optimizer and RNG state (also saved every {SAVE_EVERY_S:.0f} s)\n"
        "  trace.npz      the final probe: gates, states and gradients, each (layers, directions, T, H)",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_preset(parser)
    parser.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue from a checkpoint.pt, with its settings (settings given here win)",
    )
    parser.add_argument(
        "--steps",
        type=_number("--steps", "3000", int),
        metavar="N",
        help="steps to train; with --resume, steps MORE than the checkpoint's (default: the preset's)",
    )
    parser.add_argument("--out", metavar="DIR", help="run directory (default: runs/PRESET-YYYYmmdd-HHMMSS)")
    _add_compare(parser, "one run directory per variant, DIR/VALUE (DIR/lstm, DIR/rnn)")
    _add_history(parser)
    _add_device(parser)
    _add_settings(parser)
    return parser


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        metavar="auto|cpu|cuda",
        help="where to train: auto (default) is a CUDA GPU when torch sees one, else the CPU; the probe, its "
        "plots and the run files work on a CPU copy of the weights",
    )


def _open_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lstm-viz open",
        description="Open a run directory in the window, read-only: scrub through its history (arrow keys, "
        "Home/End). A run still being written (lstm-viz train in another terminal) is followed live.",
    )
    parser.add_argument(
        "run",
        metavar="RUN_DIR",
        nargs="+",
        help="a run directory, as lstm-viz train --out writes; 2 to 4 of them (of one task) open side by side; "
        "or a sweep's folder (lstm-viz sweep --out): its final loss / baseline against the lag",
    )
    parser.add_argument(
        "--step", type=_number("--step", "100", int), metavar="N", help="show the record of step N (default: the last)"
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window and quit")
    _add_lecture(parser)
    return parser


def _sweep_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lstm-viz sweep",
        description="Train every combination of one setting's values and the cells, headless, one after another, "
        "and find where each cell stops bridging a gap:\n"
        "  DIR/<combination>/  an ordinary run directory each (lstm-viz open DIR/<combination>)\n"
        "  DIR/sweep.csv       cell, the value (lag for seq_len), steps, final_loss (mean of the last 100 steps),\n"
        "                      baseline, ratio (final_loss / baseline), solved (ratio < 0.1), diverged_at_step, run;\n"
        "                      rewritten after each combination\n"
        "  DIR/sweep.png       final loss / baseline against the value, one line per cell (lstm-viz open DIR)\n"
        "Run the same command again after a kill or Ctrl-C: finished combinations are kept, the rest trained.",
        epilog="example:\n  lstm-viz sweep --preset adding-100 --over seq_len=10,20,50,100 --cells lstm,gru,rnn "
        "--steps 3000 --out runs/lags",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_preset(parser)
    parser.add_argument("--over", metavar="SETTING=V1,V2,...", required=True,
                        help="the setting to sweep and its values, e.g. seq_len=10,20,50,100 (the lag)")  # fmt: skip
    parser.add_argument("--cells", metavar="C1,C2,...", help=f"cells to train at each value, of {', '.join(CELLS)} "
                        "(default: the preset's)")  # fmt: skip
    parser.add_argument(
        "--steps",
        type=_number("--steps", "3000", int),
        metavar="N",
        help="steps per combination (default: the preset's)",
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="the sweep's folder; the same DIR resumes")
    _add_history(parser)
    _add_settings(parser)
    return parser


def _add_compare(parser, what: str) -> None:
    parser.add_argument(
        "--compare",
        metavar="SETTING=V1,V2",
        help=f"train 2 to 4 variants of the preset that differ only in SETTING, with the same seed: {what}; "
        "e.g. cell=lstm,gru,rnn, clip=off,norm:1, forget_bias=0,1, hidden=4,16,64",
    )


def _add_lecture(parser) -> None:
    parser.add_argument(
        "--lecture",
        action="store_true",
        help="open in lecture mode: full screen, large text, compact controls, a few panels (F11 toggles it)",
    )


def _add_history(parser) -> None:
    parser.add_argument(
        "--history-mb",
        type=_number("--history-mb", "200"),
        metavar="MB",
        default=None,
        help="size budget of the run's history of records (every step up to 100, then spaced evenly; "
        "default 200, 0 for none)",
    )


def _add_preset(parser) -> None:
    parser.add_argument(
        "--preset",
        metavar="NAME|PATH",
        help=f"a built-in preset ({', '.join(preset_names())}) or a .json file such as a run's config.json "
        f"(default: {DEFAULT_PRESET})",
    )


def _add_settings(parser: argparse.ArgumentParser) -> None:
    settings = parser.add_argument_group("settings (override the preset)")
    settings.add_argument("--task", choices=TASKS)
    settings.add_argument("--text", metavar="FILE", help="chars text: hihello, names or a UTF-8 file (implies chars)")
    settings.add_argument("--cell", choices=CELLS)
    settings.add_argument(
        "--hidden", type=_number("--hidden", "16", int), metavar="H", help="units per layer and direction"
    )
    settings.add_argument("--layers", type=_number("--layers", "2", int), metavar="L")
    settings.add_argument("--bidirectional", action=argparse.BooleanOptionalAction)
    settings.add_argument(
        "--forget-bias",
        metavar="B|chrono:T_MAX",
        help="LSTM forget gate bias at init: a number, or chrono:T_MAX (Tallec & Ollivier 2018: per unit "
        "log U(1, T_MAX-1), the input gate's its negative), e.g. chrono:200",
    )
    settings.add_argument("--optimizer", choices=OPTIMIZERS)
    settings.add_argument("--lr", type=_number("--lr", "0.01"), metavar="LR", help="learning rate")
    settings.add_argument("--batch", type=_number("--batch", "32", int), metavar="B", help="sequences per step")
    settings.add_argument("--seq-len", type=_number("--seq-len", "50", int), metavar="T", help="timesteps per sequence")
    settings.add_argument("--clip", metavar="off|norm:X|value:X", help="gradient clipping, e.g. norm:1.0")
    settings.add_argument("--seed", type=_number("--seed", "0", int), metavar="SEED")
    settings.add_argument(
        "--temperature", type=_number("--temperature", "0.8"), metavar="T", help="chars: sampling temperature"
    )
    settings.add_argument(
        "--probe-text",
        metavar="TEXT",
        help="chars: the text the panels (and trace.npz) show the model on, up to 200 characters of the model's "
        "vocabulary: it reads each one and is scored on the next (a newline in bash: $'\\nanna\\n')",
    )


_EPILOG = """examples:
  lstm-viz --preset exploding
  lstm-viz train --preset adding-100 --steps 3000 --out runs/adding
  lstm-viz train --resume runs/adding/checkpoint.pt --steps 1000 --lr 1e-4

exit codes: 0 done, 1 the GUI cannot start, 2 bad input, 3 training diverged (the last finite
checkpoint is kept), 130 interrupted (Ctrl-C stops after the current step and writes the run files)

lstm-viz train uses one CPU thread; set OMP_NUM_THREADS to use more."""
