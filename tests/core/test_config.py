import json
import subprocess
import sys

import pytest

from lstm_viz.core.config import Clip, ConfigError, RunConfig, load_preset, preset_info


@pytest.mark.parametrize(
    "text,expected",
    [
        ("off", Clip("off")),
        ("norm:1.5", Clip("norm", 1.5)),
        ("VALUE:5", Clip("value", 5.0)),
        (" norm:2 ", Clip("norm", 2)),
    ],
)
def test_clip_parses(text, expected):
    assert Clip.parse(text) == expected
    assert Clip.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "text,message",
    [("norm", "not understood"), ("size:1", "not understood"), ("norm:x", "not a number"), ("value:-1", "positive")],
)
def test_bad_clip_says_what_to_write(text, message):
    with pytest.raises(ConfigError, match=message):
        Clip.parse(text)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"hidden": 0}, "hidden must be between 1"),
        ({"hidden": 2.5}, "hidden must be a whole number"),
        ({"lr": 0.0}, "lr must be greater than 0"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"cell": "transformer"}, "cell 'transformer' is unknown; use one of lstm, gru, rnn"),
        ({"batch": -3}, "batch must be between 1"),
        ({"seq_len": 1}, "seq_len must be between 2"),
        ({"bidirectional": "yes"}, "bidirectional must be true or false"),
        ({"sine_periods": (30, 10)}, "sine_periods"),
        ({"clip": "norm:0"}, "positive"),
    ],
)
def test_bad_settings_raise_one_line_messages(changes, message):
    with pytest.raises(ConfigError, match=message) as error:
        RunConfig(**changes)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("task", ["sine", "chars"])
def test_bidirectional_is_refused_where_the_backward_direction_reads_the_target(task):
    with pytest.raises(ConfigError, match=f"refused for the {task} task: its target at step t is the input at t.1"):
        RunConfig(task=task, bidirectional=True)
    assert RunConfig(task="adding", bidirectional=True).bidirectional  # scored at the last step: allowed


@pytest.mark.parametrize(
    "value,expected",
    [
        (2.5, 2.5),
        ("2.5", 2.5),
        ("chrono:200", "chrono:200"),
        (" Chrono:200.0 ", "chrono:200"),
        ("chrono:3", "chrono:3"),
    ],
)
def test_forget_bias_is_a_number_or_chrono_t_max_in_one_spelling(value, expected):
    config = RunConfig(task="adding", forget_bias=value)
    assert config.forget_bias == expected
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    "value,message",
    [
        ("chrono", "not understood"),
        ("warp:200", "not understood"),
        ("chrono:abc", "T_MAX 'abc' is not a number"),
        ("chrono:2", "T_MAX must be between 3 and"),
        ("chrono:nan", "T_MAX must be between 3 and"),
        (float("inf"), "forget_bias must be a finite number"),
    ],
)
def test_bad_forget_bias_says_what_to_write(value, message):
    with pytest.raises(ConfigError, match=message) as error:
        RunConfig(forget_bias=value)
    assert "\n" not in str(error.value)


def test_round_trip_through_json():
    config = RunConfig(task="chars", text="names", hidden=64, clip="value:5", sine_periods=(5, 9))
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_preset_files_report_their_problems(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"hidden": 4,')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_preset(str(broken))
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"hiden": 4}')
    with pytest.raises(ConfigError, match="unknown setting 'hiden'"):
        load_preset(str(unknown))
    wrong_type = tmp_path / "wrong.json"
    wrong_type.write_text('{"hidden": "many"}')
    with pytest.raises(ConfigError, match="hidden must be a whole number"):
        load_preset(str(wrong_type))
    with pytest.raises(ConfigError, match="unknown preset 'nope'; choose one of"):
        load_preset("nope")


def test_the_core_imports_no_qt():
    code = (
        "import sys, lstm_viz.core.trainer, lstm_viz.core.tasks.sine, lstm_viz.core.tasks.chars;"
        "import lstm_viz.core.tasks.adding;"
        "print(sorted(m for m in sys.modules if m.startswith(('PyQt', 'pyqtgraph'))))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize(
    "probe_text, words",
    [("x", "at least 2 characters"), ("a" * 201, "201 characters, over the limit of 200"), (5, "must be a text")],
)
def test_a_probe_text_too_short_too_long_or_not_a_text_is_refused(probe_text, words):
    with pytest.raises(ConfigError, match=words):
        RunConfig(task="chars", text="names", probe_text=probe_text)
    assert RunConfig(task="chars", text="names", probe_text="a" * 200).probe_text == "a" * 200


def test_a_preset_may_say_what_to_watch_and_junk_is_still_refused(tmp_path):
    noted = tmp_path / "noted.json"
    noted.write_text('{"description": "A sine.", "watch": "Look at the gates.", "hidden": 4}')
    assert load_preset(str(noted)) == RunConfig(hidden=4)
    assert preset_info(str(noted)) == {"description": "A sine.", "watch": "Look at the gates."}
    bare = tmp_path / "bare.json"
    bare.write_text('{"hidden": 4}')
    assert preset_info(str(bare)) == {"description": "", "watch": ""}
    junk = tmp_path / "junk.json"
    junk.write_text('{"watch": "Look.", "wacth": "typo"}')
    with pytest.raises(ConfigError, match="unknown setting 'wacth'"):
        load_preset(str(junk))
    not_text = tmp_path / "not_text.json"
    not_text.write_text('{"watch": ["a", "list"]}')
    with pytest.raises(ConfigError, match="'watch' must be a text"):
        load_preset(str(not_text))
