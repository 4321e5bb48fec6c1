"""lstm_viz: watch the inside of an LSTM while it learns.

The public API (no Qt): open_run reads a run directory, finished or still being written.
"""

__version__ = "0.1.0"


def open_run(path):
    """The run in directory `path` (see lstm_viz.core.history.Run): .config .steps .trace(step)
    .weights(step) .metrics .events; ConfigError if it is no run."""
    from lstm_viz.core.history import open_run as open_run_directory  # torch loads only when it is used

    return open_run_directory(path)


__all__ = ["open_run", "__version__"]
