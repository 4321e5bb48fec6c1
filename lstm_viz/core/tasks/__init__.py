"""Tasks: sine prediction, character models, the adding problem, the copy task, digits classification."""

from __future__ import annotations

from lstm_viz.core.config import OWN_TASK, ConfigError, RunConfig
from lstm_viz.core.tasks.base import Task


def make_task(config: RunConfig) -> Task:
    """The task a config describes; raises ConfigError on bad task input, and for a run recorded from a
    user's own module (no task: its data lived in the user's script)."""
    if config.task == OWN_TASK:
        raise ConfigError("a run recorded from your own model cannot be trained here; open it with lstm-viz open")
    if config.task == "sine":
        from lstm_viz.core.tasks.sine import SineTask

        return SineTask(config)
    if config.task == "chars":
        from lstm_viz.core.tasks.chars import CharTask

        return CharTask(config)
    if config.task == "copy":
        from lstm_viz.core.tasks.copy import CopyTask

        return CopyTask(config)
    if config.task == "digits":
        from lstm_viz.core.tasks.digits import DigitsTask

        return DigitsTask(config)
    from lstm_viz.core.tasks.adding import AddingTask

    return AddingTask(config)


__all__ = ["Task", "make_task"]
