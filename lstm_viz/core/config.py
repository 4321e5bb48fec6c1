"""RunConfig: everything that defines a run, validated, immutable.

Bad values raise ConfigError with a one-line message that says what is wrong and
what to do; the CLI prints it with exit code 2, the GUI shows it in the window.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path


def _asset_dir() -> Path:
    """The repository's assets/ folder as installed: the package lstm_viz.assets (pyproject.toml maps it)."""
    try:
        return Path(resources.files("lstm_viz.assets"))
    except ModuleNotFoundError:  # e.g. python -m lstm_viz in a checkout whose lstm_viz was installed without -e
        raise ImportError(
            "lstm_viz's presets and names list (the package lstm_viz.assets) are not installed: "
            "reinstall with 'pip install .', or 'pip install -e .' to run from this checkout"
        ) from None


ASSET_DIR = _asset_dir()
PRESET_DIR = ASSET_DIR / "presets"

# A preset's words for its user, besides its settings: what it shows (under the Preset box), and what to watch
# for, said once when it starts.
PRESET_TEXTS = ("description", "watch")
MIN_SPEED, MAX_SPEED = 1.0, 10_000.0  # steps/s the window may be limited to (lstm-viz --speed; no limit: full speed)
TASKS = ("sine", "chars", "adding", "copy", "digits")
OWN_TASK = "own"  # a run recorded from a user's own module by lstm_viz.Recorder: no task to train, only to open
NEXT_STEP_TASKS = ("sine", "chars")  # the target at t is the input at t+1: a backward direction has read it
CELLS = ("lstm", "gru", "rnn")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad")
CLIP_MODES = ("off", "norm", "value")
BUILTIN_TEXTS = ("hihello", "names")

# Generous upper bounds: beyond them a 2-core laptop stops being interactive.
MAX_HIDDEN = 2048
MAX_LAYERS = 8
MAX_BATCH = 4096
MAX_SEQ_LEN = 5000
MIN_CHRONO_T_MAX = 3  # U(1, T_MAX - 1) needs T_MAX - 1 > 1
MAX_CHRONO_T_MAX = 1_000_000
MAX_PROBE_CHARS = 200  # a probe text of your own: one timestep per character but the last, which is only a target


class ConfigError(ValueError):
    """A setting is wrong; the message is one line meant for the user."""


@dataclass(frozen=True)
class Clip:
    """Gradient clipping: off, by global norm (Pascanu et al. 2013) or by value."""

    mode: str = "off"
    threshold: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Clip:
        """'off', 'norm:1.0' or 'value:5' -> Clip."""
        text = str(text).strip().lower()
        if text == "off":
            return cls("off")
        mode, sep, number = text.partition(":")
        if not sep or mode not in ("norm", "value"):
            raise ConfigError(
                f"clip '{text}' is not understood; use off, norm:THRESHOLD or value:THRESHOLD (e.g. norm:1.0)"
            )
        try:
            threshold = float(number)
        except ValueError:
            raise ConfigError(f"clip threshold '{number}' is not a number; use e.g. {mode}:1.0") from None
        clip = cls(mode, threshold)
        clip.validate()
        return clip

    def validate(self) -> None:
        if self.mode not in CLIP_MODES:
            raise ConfigError(f"clip mode '{self.mode}' is unknown; use one of {', '.join(CLIP_MODES)}")
        if self.mode != "off" and not (self.threshold > 0 and self.threshold < float("inf")):
            raise ConfigError(f"clip threshold must be a positive number, got {self.threshold}")

    def __str__(self) -> str:
        return "off" if self.mode == "off" else f"{self.mode}:{self.threshold:g}"


@dataclass(frozen=True)
class RunConfig:
    # task
    task: str = "sine"
    text: str = "hihello"  # chars task: "hihello", "names" or a path to a UTF-8 text file
    noise: float = 0.0  # sine: std of Gaussian noise added to the inputs
    sine_periods: tuple[float, float] = (10.0, 40.0)  # sine: period range in timesteps
    # model
    cell: str = "lstm"
    hidden: int = 16
    layers: int = 1
    bidirectional: bool = False
    # LSTM: bias_ih + bias_hh of the forget gate at init, or "chrono:T_MAX" (Tallec & Ollivier 2018): per unit
    # log U(1, T_MAX - 1), and minus that for the input gate
    forget_bias: float | str = 1.0
    recurrent_gain: float = 0.0  # >0: W_hh initialised orthogonal times this gain; 0: torch default
    # optimisation
    optimizer: str = "adam"
    lr: float = 1e-2
    momentum: float = 0.9  # SGD only
    batch: int = 32
    seq_len: int = 50
    clip: Clip = field(default_factory=Clip)
    steps: int = 1000  # default length of a headless run
    seed: int = 0
    # view
    temperature: float = 1.0  # chars: sampling temperature
    # chars: the text the panels show the model on (it reads each character and is scored on the next); "" for the
    # text's own probe, a window of it drawn by the seed
    probe_text: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.clip, str):
            object.__setattr__(self, "clip", Clip.parse(self.clip))
        elif isinstance(self.clip, dict):
            object.__setattr__(self, "clip", Clip(**self.clip))
        if isinstance(self.sine_periods, list):
            object.__setattr__(self, "sine_periods", tuple(self.sine_periods))
        if isinstance(self.forget_bias, str):
            object.__setattr__(self, "forget_bias", parse_forget_bias(self.forget_bias))
        self.validate()

    def validate(self) -> None:
        _choice("task", self.task, (*TASKS, OWN_TASK))
        _choice("cell", self.cell, CELLS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _integer("hidden", self.hidden, 1, MAX_HIDDEN)
        _integer("layers", self.layers, 1, MAX_LAYERS)
        _integer("batch", self.batch, 1, MAX_BATCH)
        _integer("seq_len", self.seq_len, 1 if self.task == OWN_TASK else 2, MAX_SEQ_LEN)  # own: the probe's T
        _integer("steps", self.steps, 0, 10**9)
        _integer("seed", self.seed, 0, 2**63 - 1)
        _number("lr", self.lr, low=0.0, low_open=True)
        _number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        _number("noise", self.noise, low=0.0)
        _number("temperature", self.temperature, low=0.0, low_open=True)
        if not isinstance(self.forget_bias, str):  # a string is "chrono:T_MAX", checked by parse_forget_bias
            _number("forget_bias", self.forget_bias)
        _number("recurrent_gain", self.recurrent_gain, low=0.0)
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false, got {self.bidirectional!r}")
        if self.bidirectional and self.task in NEXT_STEP_TASKS:
            raise ConfigError(
                f"bidirectional is refused for the {self.task} task: its target at step t is the input at t+1, which "
                "the backward direction has already read; turn bidirectional off (adding, copy and digits allow it)"
            )
        if not isinstance(self.text, str) or not self.text:
            raise ConfigError("text must be 'hihello', 'names' or the path of a UTF-8 text file")
        _probe_text(self.probe_text, self.task)
        periods = self.sine_periods
        if (
            not isinstance(periods, tuple)
            or len(periods) != 2
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in periods)
            or not 2 <= periods[0] <= periods[1]
        ):
            raise ConfigError(
                f"sine_periods must be [shortest, longest] with 2 <= shortest <= longest, got {periods!r}"
            )
        if not isinstance(self.clip, Clip):
            raise ConfigError(f"clip must be off, norm:THRESHOLD or value:THRESHOLD, got {self.clip!r}")
        self.clip.validate()

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["clip"] = str(self.clip)
        data["sine_periods"] = list(self.sine_periods)
        return data

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must be a JSON object of settings, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"name", *PRESET_TEXTS, "versions", "module"})  # module: a Recorder's
        if unknown:
            raise ConfigError(f"{source}: unknown setting '{unknown[0]}'; known settings: {', '.join(sorted(known))}")
        for key in PRESET_TEXTS:
            if not isinstance(data.get(key, ""), str):
                raise ConfigError(f"{source}: '{key}' must be a text (a JSON string), got {data[key]!r}")
        settings = {k: v for k, v in data.items() if k in known}
        try:
            return cls(**settings)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{source}: {error}") from None


def parse_forget_bias(text: str) -> float | str:
    """'1.5' -> 1.5, 'chrono:200' -> 'chrono:200' (the normal form); ConfigError for anything else."""
    text = str(text).strip().lower()
    kind, sep, number = text.partition(":")
    hint = "use a number (e.g. 1) or chrono:T_MAX (e.g. chrono:200, T_MAX the longest dependency in steps)"
    if not sep:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"forget_bias '{text}' is not understood; {hint}") from None
    if kind != "chrono":
        raise ConfigError(f"forget_bias '{text}' is not understood; {hint}")
    try:
        t_max = float(number)
    except ValueError:
        raise ConfigError(f"forget_bias chrono T_MAX '{number}' is not a number; {hint}") from None
    if not MIN_CHRONO_T_MAX <= t_max <= MAX_CHRONO_T_MAX:  # NaN too
        raise ConfigError(
            f"forget_bias chrono T_MAX must be between {MIN_CHRONO_T_MAX} and {MAX_CHRONO_T_MAX} "
            f"(biases are drawn from log U(1, T_MAX - 1)), got {number}"
        )
    return f"chrono:{t_max:g}"


def chrono_t_max(forget_bias: float | str) -> float | None:
    """T_MAX of a chrono forget bias ('chrono:200' -> 200.0), None for a constant one."""
    return float(forget_bias.partition(":")[2]) if isinstance(forget_bias, str) else None


def is_preset(config: RunConfig, preset: RunConfig) -> bool:
    """`config` is `preset` but for the settings that only say how long to train and what to show the model on."""
    return preset == config.replace(steps=preset.steps, probe_text=preset.probe_text)


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(name_or_path: str) -> RunConfig:
    """A preset by name (assets/presets/NAME.json) or by path to a JSON file."""
    path, data = _read_preset(name_or_path)
    return RunConfig.from_dict(data, source=f"preset '{path.stem}'")


def preset_info(name_or_path: str) -> dict[str, str]:
    """What a preset says to its user besides its settings: {'description': ..., 'watch': ...} (its optional
    PRESET_TEXTS, "" where it has none). ConfigError as load_preset."""
    _, data = _read_preset(name_or_path)
    texts = {key: data.get(key, "") if isinstance(data, dict) else "" for key in PRESET_TEXTS}
    return {key: text if isinstance(text, str) else "" for key, text in texts.items()}  # load_preset says why not


def _read_preset(name_or_path: str) -> tuple[Path, object]:
    """The path of a preset by name or path, and its JSON (not yet checked to be settings)."""
    path = Path(name_or_path)
    if not (path.suffix == ".json" or path_exists(path)):
        path = PRESET_DIR / f"{name_or_path}.json"
        if not path_exists(path):
            raise ConfigError(
                f"unknown preset '{name_or_path}'; choose one of {', '.join(preset_names())} "
                "or give a path to a .json file"
            )
    require_regular_file(path, "preset", "give the path of a .json file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # -sig: a byte order mark (Notepad) is fine
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read preset '{path}': {error}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"preset '{path}' is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"preset '{path}' is not valid JSON (nested too deeply); give a flat object of settings"
        ) from None
    return path, data


def require_regular_file(path: Path, kind: str, hint: str) -> os.stat_result:
    """ConfigError unless `path` is a regular file: "{kind} '{path}' does not exist / is a directory /
    is not a regular file; {hint}" (a device or a pipe: reading /dev/zero would never end), or
    "cannot read {kind} '{path}': why" when even looking at it fails (a name too long, no permission).
    Its stat() when it is one."""
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(f"{kind} '{path}' does not exist; {hint}") from None
    except OSError as error:
        raise ConfigError(f"cannot read {kind} '{path}': {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise ConfigError(f"{kind} '{path}' is a directory; {hint}")
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError(f"{kind} '{path}' is not a regular file; {hint}")
    return status


def path_exists(path: Path) -> bool:
    """Path.exists() that says False where it would raise (a name too long, a folder not searchable):
    reading the file then reports why."""
    try:
        return path.exists()
    except OSError:
        return False


def _probe_text(text, task: str) -> None:
    """The checks a probe text passes without the model's vocabulary (CharTask checks its characters)."""
    if not isinstance(text, str):
        raise ConfigError(f"probe_text must be a text, got {text!r}")
    if text and task != "chars":
        raise ConfigError(f"probe_text is for character models (task chars), not the {task} task; leave it out")
    if len(text) > MAX_PROBE_CHARS:
        raise ConfigError(f"the probe text has {len(text)} characters, over the limit of {MAX_PROBE_CHARS}; shorten it")
    if len(text) == 1:
        raise ConfigError(
            "the probe text needs at least 2 characters: the model reads each one and is scored on the next"
        )


def _choice(name: str, value, options) -> None:
    if value not in options:
        raise ConfigError(f"{name} '{value}' is unknown; use one of {', '.join(options)}")


def _integer(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")


def _number(name: str, value, low=None, high=None, low_open=False, high_open=False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        bound = "greater than" if low_open else "at least"
        raise ConfigError(f"{name} must be {bound} {low:g}, got {value:g}")
    if high is not None and (value > high or (high_open and value == high)):
        bound = "less than" if high_open else "at most"
        raise ConfigError(f"{name} must be {bound} {high:g}, got {value:g}")
