"""The Qt-free engine: config, tasks, models, exact internals, trainer, run files."""
