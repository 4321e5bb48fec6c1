"""The comparison's training thread: one Comparison (a Trainer per variant), stepped in turns between commands;
it publishes the tuple of the variants' Snapshots, newest wins. The loop, the commands and the Mailbox are the
single run's (gui/worker.CommandLoop); only what a step is and what is published differ. Qt-free, like
gui/worker.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from lstm_viz.core import runs
from lstm_viz.core.compare import Comparison
from lstm_viz.core.config import ConfigError
from lstm_viz.gui.worker import CommandLoop

COMPARE_LIVE_SETTINGS = ("lr", "clip")  # what the window changes on all variants or on one


class CompareWorker(CommandLoop):
    """Trains `comparison` in a thread of its own; paused until start(). runs_dir: each variant is recorded
    in RUNS_DIR/<name>-<setting>-<time>/<value> (None: not recorded)."""

    STOP_TIMEOUT_S = 2.0

    def __init__(self, comparison: Comparison, runs_dir: Path | None = None, history_mb: float | None = None,
                 name: str = "compare") -> None:  # fmt: skip
        super().__init__()
        self.comparison = comparison
        self.run_dirs: list[Path] = []
        self.recording_message = ""  # shown while no other message is: why the variants are not recorded
        if runs_dir is not None:
            parent = runs.new_run_dir(runs_dir, f"{name}-{comparison.setting}")
            try:
                for trainer, variant in zip(comparison.trainers, comparison.variants, strict=True):
                    run_dir = runs.make_run_dir(parent / variant.folder_name)
                    trainer.record_to(run_dir, history_mb, f"{name} {comparison.setting}={variant.label}")
                    self.run_dirs.append(run_dir)
            except ConfigError as error:
                self.recording_message = f"{error} (training goes on without recording)"
        self._start_thread("lstm_viz comparison")

    @property
    def trainers(self):
        return self.comparison.trainers

    def apply(self, changes: dict, variant: int | None = None) -> None:
        """Live settings (COMPARE_LIVE_SETTINGS) on every variant (variant None) or on variant number `variant`."""
        self._send("apply", (changes, variant))

    # ---- what the shared loop asks -------------------------------------------------------
    def _advance(self) -> str | None:
        """One round: every variant that has not diverged trains one step (each says so when it diverges)."""
        self.comparison.step()
        return None if self._can_train() else ""

    def _step_count(self) -> int:
        return self.comparison.step_count

    def _can_train(self) -> bool:
        return not self.comparison.all_diverged

    def _finish_recording(self) -> None:
        for trainer in self.trainers:
            trainer.finish_recording(wait=False)

    def _published(self) -> Callable[[], tuple]:
        finishes, settings = [], []
        for trainer, variant in zip(self.trainers, self.comparison.variants, strict=True):
            if not self._running and trainer.run_writer is not None:
                trainer.run_writer.append_metrics(trainer.metrics, force=True)
            diverged = trainer.diverged_at_step
            note = f"{variant.label} diverged at step {diverged}: stopped there" if diverged is not None else ""
            finishes.append(trainer.snapshot_later(message=note))
            run_dir = str(trainer.run_writer.run_dir) if trainer.run_writer is not None else ""
            settings.append(dict(running=self._running, run_dir=run_dir))
        message = self._message or self.recording_message

        def publication() -> tuple:
            snapshots = [dataclasses.replace(finish(), **setting) for finish, setting in zip(finishes, settings)]
            if message:
                snapshots[0] = dataclasses.replace(snapshots[0], message=message)
            return tuple(snapshots)

        return publication

    # ---- the comparison's own command ------------------------------------------------------
    def _do_apply(self, argument: tuple[dict, int | None]) -> str:
        changes, variant = argument
        unknown = set(changes) - set(COMPARE_LIVE_SETTINGS)
        if unknown:
            raise ConfigError(f"only {', '.join(COMPARE_LIVE_SETTINGS)} change live in a comparison")
        chosen = self.trainers if variant is None else [self.trainers[variant]]
        for trainer in chosen:
            trainer.apply(trainer.config.replace(**changes))
        return ""
