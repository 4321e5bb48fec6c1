"""The presets and the names list go with the package: through importlib.resources here, and in
the wheel, which is built from a copy of the sources and, unpacked away from the checkout, finds them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from lstm_viz.core.config import PRESET_DIR, load_preset, preset_names
from lstm_viz.core.tasks.chars import NAMES_PATH

CHECKOUT = Path(__file__).resolve().parents[1]
ASSETS = CHECKOUT / "assets"
NOT_SHIPPED = ("screenshots",)  # the README's pictures stay in the repository


def shipped_assets() -> list[str]:
    """Paths under assets/ that the package must hold: every file but the screenshots and bytecode."""
    return sorted(
        path.relative_to(ASSETS).as_posix()
        for path in ASSETS.rglob("*")
        if path.is_file() and path.relative_to(ASSETS).parts[0] not in (*NOT_SHIPPED, "__pycache__")
    )


def test_every_preset_and_the_names_list_are_resources_of_lstm_viz_assets():
    package = resources.files("lstm_viz.assets")
    preset_files = sorted(path.name for path in (ASSETS / "presets").glob("*.json"))
    assert len(preset_files) >= 6 and "names.txt" in shipped_assets()
    for name in [*(f"presets/{file}" for file in preset_files), "names.txt"]:
        assert package.joinpath(name).read_bytes() == (ASSETS / name).read_bytes(), name
    assert preset_names() == sorted(file.removesuffix(".json") for file in preset_files)
    assert PRESET_DIR == Path(package / "presets") and NAMES_PATH == Path(package / "names.txt")
    assert load_preset("sine").task == "sine"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the sources (a build leaves build/ and *.egg-info beside them)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(CHECKOUT / name, source)
    for folder in ("lstm_viz", "assets"):
        shutil.copytree(CHECKOUT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, source]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    (wheel,) = dist.glob("lstm_viz-*.whl")
    return wheel


def test_the_wheel_holds_every_module_and_asset_but_not_the_screenshots(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    modules = {path.relative_to(CHECKOUT).as_posix() for path in (CHECKOUT / "lstm_viz").rglob("*.py")}
    missing_modules = sorted(modules - names)
    assert not missing_modules, f"not in the wheel (list their packages in pyproject.toml): {missing_modules}"
    assets = {f"lstm_viz/assets/{name}" for name in shipped_assets()} | {"lstm_viz/assets/__init__.py"}
    assert not sorted(assets - names), "assets not in the wheel (add them to package-data in pyproject.toml)"
    assert {"lstm_viz/assets/names.txt", "lstm_viz/assets/presets/sine.json"} <= names
    assert not [name for name in names if "screenshots" in name or name.endswith(".png")]


def test_the_unpacked_wheel_finds_its_assets_away_from_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # what pip install does for a pure-Python wheel, less the scripts
    script = (
        "import json\n"
        "from lstm_viz.core.config import PRESET_DIR, load_preset, preset_names\n"
        "from lstm_viz.core.tasks.chars import NAMES_PATH\n"
        "print(json.dumps({'presets': str(PRESET_DIR), 'names': preset_names(), 'names_list': str(NAMES_PATH),\n"
        "                  'names_lines': len(NAMES_PATH.read_text().split()), 'sine': load_preset('sine').task}))\n"
    )
    # PYTHONPATH comes before site-packages, where the editable install of the checkout also answers
    environment = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["presets"] == str(site / "lstm_viz" / "assets" / "presets")
    assert found["names_list"] == str(site / "lstm_viz" / "assets" / "names.txt")
    assert found["names"] == preset_names() and found["sine"] == "sine"
    assert found["names_lines"] > 2000  # the 2453 names
