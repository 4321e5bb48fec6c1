"""The training thread: it owns the Trainer, trains between commands and publishes Snapshots.

Commands go in through a queue that the thread drains between steps, so a pause stops the
step count at once. Snapshots come out through a one-slot Mailbox where the latest wins.
The Snapshot is the only object that crosses to the GUI thread: errors and notices travel
as Snapshot.message, and this module never touches Qt.

Probing for a snapshot (the internals, the task view) is done by a second thread, the capture
thread, from a copy of the weights taken between steps: on two cores training does not wait for it.
"""

from __future__ import annotations

import dataclasses
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from lstm_viz.core import runs
from lstm_viz.core.config import MAX_SPEED, MIN_SPEED, ConfigError, RunConfig, is_preset, load_preset, preset_names
from lstm_viz.core.diagnosis import STALL_STEPS, clip_change_notice, stall_notice
from lstm_viz.core.history import fork_trainer, open_run
from lstm_viz.core.snapshot import Snapshot
from lstm_viz.core.trainer import Trainer, architecture_differences, needs_new_model

PUBLISH_INTERVAL_S = 0.1  # while training, a fresh snapshot at most this often,
PROBE_SHARE = 0.1  # and probing for snapshots keeps the capture thread busy at most this share of the time
GIL_SWITCH_INTERVAL_S = 0.0001  # see CommandLoop._start_thread
IDLE_POLL_S = 0.1  # how long a paused worker waits for a command before checking for stop()
NOTICE_MARK = "✓ "  # messages starting with this report success; every other message is an error
WARNING_MARK = "⚠ "  # except these: a warning that nothing failed yet all is not well (training has stalled)
STALL_CHECK_STEPS = 250  # how often, in steps, the worker asks whether training has stalled
DIVERGED = (
    "Training diverged at step {step} (non-finite loss or gradient): weights kept at the last finite step. "
    "Lower the learning rate or turn on clipping, then Reset (Start goes on from weights that may be wrecked)."
)


def is_notice(message: str) -> bool:
    return message.startswith(NOTICE_MARK)


def is_warning(message: str) -> bool:
    return message.startswith(WARNING_MARK)


class Mailbox:
    """Holds at most one Snapshot; put replaces it, take empties it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def put(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    @property
    def empty(self) -> bool:
        return self._snapshot is None

    def take(self) -> Snapshot | None:
        """The newest snapshot not taken yet, or None."""
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
        return snapshot


class CommandLoop:
    """A thread that trains between commands and publishes to a one-slot Mailbox: the machinery a single run
    (TrainingWorker) and a comparison (gui/compare/worker.CompareWorker) share. A subclass calls
    __init__, sets up what it trains, then _start_thread; it says what one step is (_advance), how far training
    has got (_step_count), what it publishes (_published), what each command does (_do_<name>, returning a
    message) and what stop() finishes (_finish_recording)."""

    STOP_TIMEOUT_S = 1.0  # stop()'s default wait for the thread

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._running = False
        self._until_step: int | None = None
        self._message = ""
        self._send_lock = threading.Lock()
        self.commands_sent = 0  # user commands sent; a snapshot with as many commands_done has seen them all
        self._commands_done = 0
        self._stopping = threading.Event()
        # Both written by the capture thread and read by the training thread: single attribute writes, atomic
        # under the GIL, and a value one snapshot old only moves the next publish by a frame.
        self._last_publish = 0.0
        self._publish_cost = 0.0  # seconds the capture thread took over the last snapshot
        self._publications: queue.SimpleQueue = queue.SimpleQueue()  # for the capture thread; None stops it
        self._publications_sent = self._publications_done = 0  # each counted by one thread only
        self._step_interval = 0.0  # seconds from one step's start to the next's: 1 / the speed limit (0: none)
        self._next_step_at = 0.0  # perf_counter time before which a throttled loop trains no step
        self._unpublished = False  # a step trained since the last publish
        self._thread: threading.Thread | None = None

    def _start_thread(self, name: str) -> None:
        # The training thread gives up the GIL at every torch op and must then wait for it while the GUI thread runs
        # Python (drawing a frame): by default up to 5 ms an op. A shorter interval cuts that wait (the convoy effect):
        # names H=128 T=100 with the window drawing, 0.5 ms gave 0.88 of a plain loop's steps/s, 0.1 ms 0.93 (and
        # 0.05 ms no more), for ~0.4 ms more wall time in a 15 ms frame.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._capture_thread = threading.Thread(target=self._capture_loop, name=f"{name} capture", daemon=True)
        self._capture_thread.start()
        self._thread.start()

    # ---- what a subclass says ----------------------------------------------------------
    def _advance(self) -> str | None:
        """Train one step; None while training may go on, else why it must pause ("" to pause saying nothing)."""
        raise NotImplementedError

    def _step_count(self) -> int:
        raise NotImplementedError

    def _can_train(self) -> bool:
        return True

    def _published(self) -> Callable[[], object] | None:
        """Between steps, what to publish: None for nothing this time, else a function that makes what goes into
        the mailbox from what it read now. The capture thread calls it while this thread trains on."""
        raise NotImplementedError

    def _finish_recording(self) -> None:
        pass

    # ---- commands, from any thread ---------------------------------------------------
    def start(self, until_step: int | None = None) -> None:
        """Train continuously; with until_step, pause once the step count reaches it."""
        self._send("start", until_step)

    def pause(self) -> None:
        self._send("pause")

    def step(self) -> None:
        """Pause, then train exactly one step."""
        self._send("step")

    def set_speed(self, steps_per_s: float | None) -> None:
        """Train at most `steps_per_s` steps a second (MIN_SPEED..MAX_SPEED), or as fast as it can (None).
        The thread waits between steps on its command queue: no CPU is burnt and commands are taken at once."""
        if steps_per_s is not None and not MIN_SPEED <= steps_per_s <= MAX_SPEED:  # NaN too
            raise ValueError(f"speed must be {MIN_SPEED:g} to {MAX_SPEED:g} steps/s, got {steps_per_s}")
        self._commands.put(("speed", steps_per_s))  # not a user command: its message would hide the last one

    def _send(self, name: str, argument=None) -> None:
        with self._send_lock:
            self.commands_sent += 1
            self._commands.put((name, argument))

    def request_snapshot(self) -> None:
        self._commands.put(("snapshot", None))

    # ---- lifecycle -------------------------------------------------------------------
    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread after the current step; True if it ended within `timeout` seconds."""
        self._stopping.set()
        self._commands.put(("stop", None))  # wakes a paused worker
        self._thread.join(self.STOP_TIMEOUT_S if timeout is None else timeout)
        self._publications.put(None)  # after the training thread's last publication
        self._capture_thread.join(self.STOP_TIMEOUT_S if timeout is None else timeout)
        stopped = not self._thread.is_alive()
        if stopped:
            self._finish_recording()
        return stopped

    # ---- the thread ------------------------------------------------------------------
    def _loop(self) -> None:
        self._publish()
        while not self._stopping.is_set():
            try:
                commands = self._take_commands(self._wait_s())
                if self._stopping.is_set():
                    break
                if commands:
                    self._execute(commands)
                elif self._running and time.perf_counter() >= self._next_step_at:
                    self._next_step_at = time.perf_counter() + self._step_interval
                    self._message = self._train_one_step() or self._message
                    self._unpublished = True
                    if self._running and not self._publish_due():
                        continue
                elif not (self._running and self._unpublished and self._publish_due()):
                    continue  # throttled: a step trained while the GUI was busy is published while waiting
            except Exception as error:  # not enough memory for a step, or a bug: it must not kill the thread
                self._message = self._pause_for(error, "Training paused")
            self._publish()

    def _wait_s(self) -> float:
        """How long to wait for a command: paused, IDLE_POLL_S; training, until the next step is due (0 at full
        speed), at most IDLE_POLL_S so that a step trained while the GUI was busy is soon published."""
        if not self._running:
            return IDLE_POLL_S
        return min(max(self._next_step_at - time.perf_counter(), 0.0), IDLE_POLL_S)

    def _take_commands(self, wait_s: float) -> list[tuple[str, object]]:
        """Everything queued now; block up to `wait_s` seconds for the first command."""
        commands = []
        try:
            commands.append(self._commands.get(timeout=wait_s) if wait_s > 0 else self._commands.get_nowait())
            while True:
                commands.append(self._commands.get_nowait())
        except queue.Empty:
            pass
        return commands

    def _execute(self, commands: list[tuple[str, object]]) -> None:
        """Run queued commands in order; the message becomes what they reported."""
        for name, argument in commands:
            if name == "speed":
                self._step_interval = 1.0 / argument if argument else 0.0
                self._next_step_at = min(self._next_step_at, time.perf_counter() + self._step_interval)
        user_commands = [(name, argument) for name, argument in commands if name not in ("snapshot", "stop", "speed")]
        self._commands_done += len(user_commands)  # counted first: a command that fails is done too
        messages = []
        for name, argument in user_commands:
            try:
                message = getattr(self, f"_do_{name}")(argument)
            except Exception as error:  # the commands after it still run
                message = self._pause_for(error, f"'{name}' stopped")
            if message:
                messages.append(message)
        if user_commands:
            self._message = " ".join(messages)

    def _pause_for(self, error: Exception, what_stopped: str) -> str:
        """Pause; the message for `error`: a ConfigError (a step too big for memory...) says what to do,
        anything else is a bug, printed in full on the terminal."""
        self._running = False
        if isinstance(error, ConfigError):
            return str(error)
        traceback.print_exc()
        return " ".join(f"{what_stopped} by an unexpected error: {type(error).__name__}: {error}".split())

    def _train_one_step(self) -> str:
        halted = self._advance()
        if halted is not None or (self._until_step is not None and self._step_count() >= self._until_step):
            self._running = False
            self._until_step = None
        return halted or ""

    def _publish_due(self) -> bool:
        """While training: the GUI has taken the last snapshot, the capture thread is done with it, and probing
        stays a small share of the time."""
        interval = max(PUBLISH_INTERVAL_S, self._publish_cost * (1 - PROBE_SHARE) / PROBE_SHARE)
        captured = self._publications_done == self._publications_sent
        return captured and self.mailbox.empty and time.perf_counter() - self._last_publish >= interval

    def _publish(self) -> None:
        self._unpublished = False
        publication = self._published()
        if publication is not None:
            self._publications_sent += 1
            self._publications.put(publication)

    def _capture_loop(self) -> None:
        """The capture thread: makes each publication, in the order published, and puts it in the mailbox."""
        while (publication := self._publications.get()) is not None:
            started = time.perf_counter()
            try:
                published = publication()
            except Exception:  # a bug: printed, and the next publication may do better
                traceback.print_exc()
                published = None
            if published is not None:
                self.mailbox.put(published)
            self._last_publish = time.perf_counter()
            self._publish_cost = self._last_publish - started
            self._publications_done += 1

    # ---- the commands every loop has -----------------------------------------------------
    def _do_start(self, until_step: int | None) -> str:
        self._until_step = until_step
        self._running = self._can_train() and (until_step is None or self._step_count() < until_step)
        return ""

    def _do_pause(self, _) -> str:
        self._running = False
        self._until_step = None
        return ""

    def _do_step(self, _) -> str:
        self._do_pause(None)
        return self._train_one_step()


class TrainingWorker(CommandLoop):
    """A background thread training `config`; paused until start().

    The first Trainer is built here, in the caller's thread, so a bad config raises
    ConfigError at once; every later error arrives as a Snapshot message.
    """

    def __init__(self, config: RunConfig, runs_dir: Path | None = None, history_mb: float | None = None) -> None:
        super().__init__()
        self.runs_dir = runs_dir  # each run trained here is recorded in a folder of its own under it (None: not at all)
        self.history_mb = history_mb
        self.trainer = self._recording(Trainer(config))
        self._stall_warning = ""  # the warning while training has stalled, see _stall_warning_for
        self._stall_checked: tuple[Trainer | None, int] = (None, 0)  # the trainer and step of the last check
        self._start_thread("lstm_viz training")

    # ---- commands, from any thread ---------------------------------------------------
    def reset(self, config: RunConfig) -> None:
        """A new Trainer from `config` (step 0); on a bad config the current one keeps going."""
        self._send("reset", config)

    def apply(self, config: RunConfig) -> None:
        """Live settings (lr, clip, temperature...) from the next step; anything else resets."""
        self._send("apply", config)

    def load_checkpoint(self, path: Path) -> None:
        self._send("load_checkpoint", Path(path))

    def save_checkpoint(self, path: Path) -> None:
        self._send("save_checkpoint", Path(path))

    def fork(self, run_dir: Path, step: int) -> None:
        """A new run from the weights recorded at `step` of the run in `run_dir`, with a fresh optimizer."""
        self._send("fork", (Path(run_dir), int(step)))

    # ---- the training thread ---------------------------------------------------------
    def _advance(self) -> str | None:
        result = self.trainer.step()
        return DIVERGED.format(step=result.step) if result.diverged else None

    def _step_count(self) -> int:
        return self.trainer.step_count

    def _finish_recording(self) -> None:
        self.trainer.finish_recording()

    def _published(self) -> Callable[[], Snapshot] | None:
        trainer = self.trainer
        if not self._running and trainer.run_writer is not None:  # stopped: the run's files have every step
            trainer.run_writer.append_metrics(trainer.metrics, force=True)
        try:
            finish = trainer.snapshot_later()
        except Exception as error:
            return self._probe_failed(error, trainer)
        settings = self._settings_now(trainer)
        message = self._message

        def publication() -> Snapshot:
            failure = ""
            try:
                snapshot = finish()
            except Exception as error:  # the probe failed: publish the metrics, say why the pictures are missing
                failure = self._message = _probe_failure(error)  # and until a command says something else
                snapshot = finish(with_trace=False)
            message_now = failure or message or self._stall_warning_for(snapshot, trainer)  # a warning comes last
            return dataclasses.replace(snapshot, message=message_now, **settings)

        return publication

    def _probe_failed(self, error: Exception, trainer: Trainer) -> Callable[[], Snapshot] | None:
        """The publication when the probe could not even start: the metrics, and why the pictures are missing."""
        self._message = _probe_failure(error)
        try:
            snapshot = trainer.snapshot(with_trace=False, with_view=False)
        except Exception:  # nothing to show; the thread lives on for the next command
            return None
        published = dataclasses.replace(snapshot, message=self._message, **self._settings_now(trainer))
        return lambda: published

    def _settings_now(self, trainer: Trainer) -> dict:
        """What a snapshot of `trainer` says about the loop, as it is when the snapshot is taken."""
        return dict(running=self._running, commands_done=self._commands_done, run_dir=_run_dir(trainer))

    def _stall_warning_for(self, snapshot: Snapshot, trainer: Trainer) -> str:
        """WARNING_MARK + diagnosis.stall_notice of `trainer`'s run, looked at anew every STALL_CHECK_STEPS steps;
        while the stall lasts its words stay as first said, so the window shows it once."""
        checked_trainer, checked_step = self._stall_checked
        if checked_trainer is not trainer:  # a new run: nothing has stalled yet
            self._stall_warning = ""
        due = checked_trainer is not trainer or snapshot.step >= checked_step + STALL_CHECK_STEPS
        if due and snapshot.trace is not None:
            self._stall_checked = (trainer, snapshot.step)
            notice = stall_notice(snapshot.metrics["loss"], snapshot.baseline_loss, snapshot.trace, STALL_STEPS)
            self._stall_warning = (self._stall_warning or WARNING_MARK + notice) if notice else ""
        return self._stall_warning

    # ---- what each command does; each returns a message ("" when all went well) ------
    def _do_reset(self, config: RunConfig) -> str:
        try:
            trainer = Trainer(config)
        except ConfigError as error:
            return f"{error} (still training the previous settings)"
        self._replace_trainer(trainer)
        return ""

    def _replace_trainer(self, trainer: Trainer, event: str = "") -> None:
        """Train `trainer` from now on; the previous run's directory is closed, the new one recorded."""
        self.trainer.finish_recording(wait=False)  # its writer process finishes on its own
        self.trainer = self._recording(trainer, event)

    def _recording(self, trainer: Trainer, event: str = "") -> Trainer:
        """`trainer`, writing its run into a new folder under runs_dir (a message if that fails)."""
        if self.runs_dir is not None:
            name = _run_name(trainer.config)
            try:
                trainer.record_to(runs.new_run_dir(self.runs_dir, name), self.history_mb, name, event=event)
            except ConfigError as error:
                self._message = f"{error} (training goes on without recording this run)"
        return trainer

    def _do_apply(self, config: RunConfig) -> str:
        if needs_new_model(self.trainer.config, config):
            return self._do_reset(config)
        before = self.trainer.config
        try:
            self.trainer.apply(config)
        except ConfigError as error:  # a probe text the model cannot read: nothing changed, training goes on
            return f"{error}; the panels keep the previous probe"
        metrics = self.trainer.metrics.as_columns()
        notice = clip_change_notice(
            before, config, metrics["step"], metrics["grad_norm_clipped"], self.trainer.diverged_at_step
        )
        return WARNING_MARK + notice if notice else ""

    def _do_load_checkpoint(self, path: Path) -> str:
        previous = self.trainer.config
        try:
            trainer = runs.restore_trainer(runs.load_checkpoint(path), path=path)
        except ConfigError as error:
            return f"{error} (the current run is unchanged)"
        self._replace_trainer(trainer, event=f"load: {path}")
        self._do_pause(None)
        differences = architecture_differences(self.trainer.config, previous, current_is="was")
        switched = f" Its model differs: {differences}; the settings now show it." if differences else ""
        loaded = f"{NOTICE_MARK}Loaded {path} at step {self.trainer.step_count}."
        return f"{loaded}{switched} Press Start to continue training."

    def _do_fork(self, argument: tuple[Path, int]) -> str:
        run_dir, step = argument
        try:
            trainer = fork_trainer(open_run(run_dir), step)
        except ConfigError as error:
            return f"cannot fork: {error}"
        self._do_pause(None)
        self._replace_trainer(trainer, event=f"fork: from {run_dir} at step {step}, with a fresh optimizer")
        return (
            f"{NOTICE_MARK}Forked a new run from step {step}: the weights and settings of that step, with a fresh "
            "optimizer state. Change a setting if you like, then press Start."
        )

    def _do_save_checkpoint(self, path: Path) -> str:
        try:
            runs.save_checkpoint(path, self.trainer)
        except ConfigError as error:
            return str(error)
        return f"{NOTICE_MARK}Saved step {self.trainer.step_count} to {path}"


def _probe_failure(error: Exception) -> str:
    traceback.print_exception(error)
    return " ".join(f"Could not probe the model: {type(error).__name__}: {error}".split())


def _run_dir(trainer: Trainer) -> str:
    return str(trainer.run_writer.run_dir) if trainer.run_writer is not None else ""


def _run_name(config: RunConfig) -> str:
    """What a run's folder is named after: the preset it is (exploding, not sine), else its task or text."""
    for name in preset_names():
        try:
            preset = load_preset(name)
        except ConfigError:
            continue
        if is_preset(config, preset):
            return name
    return config.task if config.task != "chars" else Path(config.text).stem
