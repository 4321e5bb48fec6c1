"""lstm_viz: watch the inside of an LSTM while it learns.

The public API (no Qt): open_run reads a run directory, finished or still being written; Recorder records
your own nn.LSTM / nn.GRU / nn.RNN from your own training loop into one. `import lstm_viz` alone loads neither
torch nor Qt.
"""

__version__ = "0.1.0"


def open_run(path):
    """The run in directory `path` (see lstm_viz.core.history.Run): .config .steps .trace(step)
    .weights(step) .metrics .events; ConfigError if it is no run."""
    from lstm_viz.core.history import open_run as open_run_directory  # torch loads only when it is used

    return open_run_directory(path)


def __getattr__(name: str):
    """lstm_viz.Recorder, imported when first used (it needs torch)."""
    if name == "Recorder":
        from lstm_viz.core.recorder import Recorder

        return Recorder
    raise AttributeError(f"module 'lstm_viz' has no attribute '{name}'")


__all__ = ["Recorder", "open_run", "__version__"]
