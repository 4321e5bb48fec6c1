"""The shipped presets: each loads, describes itself and trains; the comparison presets are set up as claimed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_viz.core.config import PRESET_DIR, PRESET_TEXTS, load_preset, preset_info, preset_names
from lstm_viz.core.trainer import Trainer

SHIPPED = ("sine", "hihello", "names", "adding-100", "adding-100-rnn", "exploding", "adding-200", "chrono-adding-200")
SHIPPED += ("copy-20", "copy-20-rnn", "copy-100", "digits")


def preset_json(name: str) -> dict:
    return json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))


def preset_settings(name: str) -> dict:
    """The preset's settings, without its name and its words for the user."""
    return {key: value for key, value in preset_json(name).items() if key not in ("name", *PRESET_TEXTS)}


def test_every_documented_preset_ships():
    assert set(SHIPPED) <= set(preset_names())


@pytest.mark.parametrize("name", preset_names())
def test_a_preset_loads_describes_itself_and_trains_two_steps(name):
    data = preset_json(name)
    assert data["name"] == name
    description = data["description"]
    assert description.endswith(".") and "\n" not in description and 20 < len(description) < 400
    watch = data["watch"]  # every shipped preset says what to watch for
    assert watch.endswith(".") and "\n" not in watch and 20 < len(watch) < 300
    assert preset_info(name) == {"description": description, "watch": watch}
    trainer = Trainer(load_preset(name))
    results = [trainer.step() for _ in range(2)]
    assert [result.step for result in results] == [1, 2]
    assert all(np.isfinite(result.loss) and np.isfinite(result.grad_norm) for result in results)


def test_sine_is_the_small_classic_demo():
    config = load_preset("sine")
    assert (config.task, config.cell, config.hidden) == ("sine", "lstm", 16)


def test_adding_100_rnn_differs_from_adding_100_only_in_the_cell():
    lstm, rnn = preset_settings("adding-100"), preset_settings("adding-100-rnn")
    assert (lstm.pop("cell"), rnn.pop("cell")) == ("lstm", "rnn")
    assert lstm == rnn
    assert load_preset("adding-100").seq_len == 100


def test_exploding_ships_with_clipping_and_its_raw_gradients_do_explode():
    config = load_preset("exploding")
    assert config.cell == "rnn" and config.clip.mode == "norm" and config.recurrent_gain > 1
    # With clipping off, one of the first steps' gradients is orders of magnitude above
    # what the same net with a gain of 1 (no explosion) gets.
    exploding = Trainer(config.replace(clip="off"))
    tame = Trainer(config.replace(clip="off", recurrent_gain=1.0))
    exploding_norm = max(exploding.step().grad_norm for _ in range(3))
    tame_norm = max(tame.step().grad_norm for _ in range(3))
    assert exploding_norm > 1e4 * tame_norm


def test_chrono_adding_200_differs_from_adding_200_only_in_the_forget_bias():
    plain, chrono = preset_settings("adding-200"), preset_settings("chrono-adding-200")
    assert (plain.pop("forget_bias"), chrono.pop("forget_bias")) == (1.0, "chrono:200")
    assert plain == chrono
    assert load_preset("adding-200").seq_len == 200 and load_preset("chrono-adding-200").forget_bias == "chrono:200"


def test_copy_20_rnn_differs_from_copy_20_only_in_the_cell():
    lstm, rnn = preset_settings("copy-20"), preset_settings("copy-20-rnn")
    assert (lstm.pop("cell"), rnn.pop("cell")) == ("lstm", "rnn")
    assert lstm == rnn
    assert load_preset("copy-20").seq_len == 20 and load_preset("copy-100").seq_len == 100


def test_the_exploding_note_tells_the_lecturer_how_to_catch_the_explosion():
    watch = preset_info("exploding")["watch"]
    assert "--compare clip=off,norm:1" in watch and "--paused" in watch
