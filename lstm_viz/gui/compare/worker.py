"""The comparison's training thread: one Comparison (a Trainer per variant), stepped in turns between commands;
it publishes the tuple of the variants' Snapshots, newest wins, through the same one-slot Mailbox as a single run.
Qt-free, like gui/worker.py."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import traceback
from pathlib import Path

from lstm_viz.core import runs
from lstm_viz.core.compare import Comparison
from lstm_viz.core.config import ConfigError
from lstm_viz.gui.worker import IDLE_POLL_S, PROBE_SHARE, PUBLISH_INTERVAL_S, Mailbox

COMPARE_LIVE_SETTINGS = ("lr", "clip")  # what the window changes on all variants or on one


class CompareWorker:
    """Trains `comparison` in a thread of its own; paused until start(). runs_dir: each variant is recorded
    in RUNS_DIR/<name>-<setting>-<time>/<value> (None: not recorded)."""

    def __init__(self, comparison: Comparison, runs_dir: Path | None = None, history_mb: float | None = None,
                 name: str = "compare") -> None:  # fmt: skip
        self.comparison = comparison
        self.run_dirs: list[Path] = []
        self.message = ""
        if runs_dir is not None:
            parent = runs.new_run_dir(runs_dir, f"{name}-{comparison.setting}")
            try:
                for trainer, variant in zip(comparison.trainers, comparison.variants, strict=True):
                    run_dir = runs.make_run_dir(parent / variant.folder_name)
                    trainer.record_to(run_dir, history_mb, f"{name} {comparison.setting}={variant.label}")
                    self.run_dirs.append(run_dir)
            except ConfigError as error:
                self.message = f"{error} (training goes on without recording)"
        self.mailbox = Mailbox()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._running = False
        self._until_step: int | None = None
        self._stopping = threading.Event()
        self._last_publish = 0.0
        self._publish_cost = 0.0
        self._thread = threading.Thread(target=self._loop, name="lstm_viz comparison", daemon=True)
        self._thread.start()

    @property
    def trainers(self):
        return self.comparison.trainers

    # ---- commands, from any thread ---------------------------------------------------
    def start(self, until_step: int | None = None) -> None:
        self._commands.put(("start", until_step))

    def pause(self) -> None:
        self._commands.put(("pause", None))

    def step(self) -> None:
        self._commands.put(("step", None))

    def apply(self, changes: dict, variant: int | None = None) -> None:
        """Live settings (COMPARE_LIVE_SETTINGS) on every variant (variant None) or on variant number `variant`."""
        self._commands.put(("apply", (changes, variant)))

    def stop(self, timeout: float = 2.0) -> bool:
        self._stopping.set()
        self._commands.put(("stop", None))
        self._thread.join(timeout)
        stopped = not self._thread.is_alive()
        if stopped:
            for trainer in self.trainers:
                trainer.finish_recording(wait=False)
        return stopped

    # ---- the thread --------------------------------------------------------------------
    def _loop(self) -> None:
        self._publish()
        while not self._stopping.is_set():
            try:
                commands = self._take_commands(wait=not self._running)
                if self._stopping.is_set():
                    break
                for name, argument in commands:
                    getattr(self, f"_do_{name}")(argument)
                if not commands:
                    if not self._running:
                        continue
                    self._train_one_round()
                    if self._running and not self._publish_due():
                        continue
            except Exception as error:  # a bug or no memory for a step: pause, say so, live on
                self._running = False
                if not isinstance(error, ConfigError):
                    traceback.print_exc()
                self.message = str(error)
            self._publish()

    def _take_commands(self, wait: bool) -> list:
        commands = []
        try:
            commands.append(self._commands.get(timeout=IDLE_POLL_S) if wait else self._commands.get_nowait())
            while True:
                commands.append(self._commands.get_nowait())
        except queue.Empty:
            pass
        return commands

    def _train_one_round(self) -> None:
        self.comparison.step()
        if self.comparison.all_diverged or (
            self._until_step is not None and self.comparison.step_count >= self._until_step
        ):
            self._running, self._until_step = False, None

    def _publish_due(self) -> bool:
        interval = max(PUBLISH_INTERVAL_S, self._publish_cost * (1 - PROBE_SHARE) / PROBE_SHARE)
        return self.mailbox.empty and time.perf_counter() - self._last_publish >= interval

    def _publish(self) -> None:
        started = time.perf_counter()
        snapshots = []
        for trainer, variant in zip(self.trainers, self.comparison.variants, strict=True):
            if not self._running and trainer.run_writer is not None:
                trainer.run_writer.append_metrics(trainer.metrics, force=True)
            diverged = trainer.diverged_at_step
            note = f"{variant.label} diverged at step {diverged}: stopped there" if diverged is not None else ""
            snapshot = trainer.snapshot(message=note)
            run_dir = str(trainer.run_writer.run_dir) if trainer.run_writer is not None else ""
            snapshots.append(dataclasses.replace(snapshot, running=self._running, run_dir=run_dir))
        if self.message:
            snapshots[0] = dataclasses.replace(snapshots[0], message=self.message)
        self.mailbox.put(tuple(snapshots))
        self._last_publish = time.perf_counter()
        self._publish_cost = self._last_publish - started

    # ---- commands ----------------------------------------------------------------------
    def _do_start(self, until_step: int | None) -> None:
        self._until_step = until_step
        self._running = not self.comparison.all_diverged and (
            until_step is None or self.comparison.step_count < until_step
        )

    def _do_pause(self, _) -> None:
        self._running, self._until_step = False, None

    def _do_step(self, _) -> None:
        self._do_pause(None)
        self.comparison.step()

    def _do_apply(self, argument: tuple[dict, int | None]) -> None:
        changes, variant = argument
        unknown = set(changes) - set(COMPARE_LIVE_SETTINGS)
        if unknown:
            raise ConfigError(f"only {', '.join(COMPARE_LIVE_SETTINGS)} change live in a comparison")
        chosen = self.trainers if variant is None else [self.trainers[variant]]
        for trainer in chosen:
            trainer.apply(trainer.config.replace(**changes))
        self.message = ""

    def _do_stop(self, _) -> None:
        self._running = False
