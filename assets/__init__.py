"""Installed as the package lstm_viz.assets (see pyproject.toml): presets/*.json and names.txt,
found through importlib.resources, from a wheel as from a checkout installed with -e."""
