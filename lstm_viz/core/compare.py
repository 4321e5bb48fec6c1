"""Comparisons: 2 to 4 variants of one preset that differ in one setting, trained together.

`parse_compare("cell=lstm,gru,rnn", config)` gives the variants; `Comparison` holds one Trainer per
variant and steps them in turns, so they stay at the same step count. Every variant keeps the preset's
seed: the same initial weights where the shapes allow (build_model seeds torch with it), the same
batches (each Trainer's batch generator) and the same probe. Qt-free.

Also what differs between recorded runs opened together (`differences`), for the view's title.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.runs import make_run_dir
from lstm_viz.core.trainer import Trainer

MIN_VARIANTS, MAX_VARIANTS = 2, 4
# What a comparison may vary: the model and the optimisation. Not the task (the view needs one step axis and one
# probe), nor the seed (the variants share it), nor the view's own settings.
COMPARABLE = (
    "cell", "hidden", "layers", "bidirectional", "forget_bias", "recurrent_gain",
    "optimizer", "lr", "momentum", "batch", "seq_len", "clip", "noise",
)  # fmt: skip
# listed apart by differences()
NOT_COMPARED = ("task", "text", "sine_periods", "steps", "seed", "temperature", "probe_text")


@dataclass(frozen=True)
class Variant:
    label: str  # the value as the user reads it: "lstm", "norm:1", "0.5"
    config: RunConfig

    @property
    def folder_name(self) -> str:
        """The run directory's name: the label, with anything but letters, digits, '.', '_' and '-' as '-'
        ('norm:1' -> 'norm-1', 'seq_len=10 cell=lstm' -> 'seq_len-10-cell-lstm')."""
        return re.sub(r"[^A-Za-z0-9._-]", "-", self.label)


def parse_compare(text: str, config: RunConfig) -> tuple[str, list[Variant]]:
    """'SETTING=V1,V2[,V3[,V4]]' -> (setting, one Variant of `config` per value); ConfigError in one line."""
    usage = "use --compare SETTING=V1,V2[,V3[,V4]], e.g. cell=lstm,gru,rnn"
    setting, values = split_setting_values(text, "--compare", usage)
    if not MIN_VARIANTS <= len(values) <= MAX_VARIANTS:
        raise ConfigError(
            f"--compare {setting}: {len(values)} value{'s' * (len(values) != 1)} given; "
            f"a comparison has {MIN_VARIANTS} to {MAX_VARIANTS} variants"
        )
    return setting, variant_grid(config, [("--compare", setting, values)])


def split_setting_values(text: str, option: str, usage: str, verb: str = "compare") -> tuple[str, list[str]]:
    """'SETTING=V1,V2,...' -> (setting, [V1, V2, ...]) for a COMPARABLE setting; ConfigError in one line."""
    setting, sep, values_text = str(text).partition("=")
    setting = setting.strip().replace("-", "_")
    values = [value.strip() for value in values_text.split(",")] if sep else []
    if not sep or not setting:
        raise ConfigError(f"{option} '{text}' is not understood; {usage}")
    if setting not in COMPARABLE:
        raise ConfigError(f"{option}: cannot {verb} '{setting}'; {verb} one of {', '.join(COMPARABLE)}")
    if "" in values:
        raise ConfigError(f"{option} {setting}: an empty value in '{values_text}'; {usage}")
    return setting, values


def variant_grid(config: RunConfig, axes: list[tuple[str, str, list[str]]]) -> list[Variant]:
    """Every combination of the axes' values, the first axis outermost. An axis is (option, setting, values
    as text), option naming the command line's flag in messages. A variant's label is its value when there is
    one axis ('lstm'), else 'setting=value' items ('seq_len=10 cell=lstm'). ConfigError in one line for a value
    its setting refuses, a value given twice or a combination refused."""
    grid: list[tuple[list[str], RunConfig]] = [([], config)]  # (label items, the variant's settings)
    for option, setting, texts in axes:
        values = []
        for text in texts:
            try:
                parsed = _setting_value(setting, text, getattr(config, setting))
                values.append(getattr(config.replace(**{setting: parsed}), setting))  # in RunConfig's normal form
            except ConfigError as error:
                raise ConfigError(f"{option} {setting}={text} is refused: {error}") from None
        labels = [value_label(value) for value in values]
        repeated = next((label for label in labels if labels.count(label) > 1), None)
        if repeated is not None:
            raise ConfigError(f"{option} {setting}: the value {repeated} is given twice; give different values")
        next_grid = []
        for items, variant_config in grid:
            for value, label in zip(values, labels, strict=True):
                item = label if len(axes) == 1 else f"{setting}={label}"
                try:
                    next_grid.append(([*items, item], variant_config.replace(**{setting: value})))
                except ConfigError as error:
                    raise ConfigError(f"the combination {' '.join([*items, item])} is refused: {error}") from None
        grid = next_grid
    return [Variant(" ".join(items), variant_config) for items, variant_config in grid]


def _setting_value(setting: str, text: str, current):
    """The command line's text as the type of the setting (RunConfig parses clip and forget_bias from text)."""
    if isinstance(current, bool):
        if text.lower() in ("true", "on", "yes", "1"):
            return True
        if text.lower() in ("false", "off", "no", "0"):
            return False
        raise ConfigError(f"{setting} must be true or false, got '{text}'")
    if isinstance(current, int) and setting != "forget_bias":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{setting} must be a whole number, got '{text}'") from None
    if isinstance(current, float) and setting != "forget_bias":
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{setting} must be a number, got '{text}'") from None
    return text


def value_label(value) -> str:
    """'lstm', '1', '0.5', 'norm:1', 'True': the normal form, so that 1 and 1.0 are the same value."""
    return f"{value:g}" if isinstance(value, float) else str(value)


class Comparison:
    """One Trainer per variant, stepped in turns. A variant that diverges stops at its divergence step (as a
    single run does); the others go on."""

    def __init__(self, setting: str, variants: list[Variant]) -> None:
        self.setting = setting
        self.variants = list(variants)
        self.trainers = [Trainer(variant.config) for variant in self.variants]

    @property
    def labels(self) -> list[str]:
        return [variant.label for variant in self.variants]

    def step(self) -> list:
        """One step of every variant still training, in order; their StepResults (None for a stopped one)."""
        return [None if trainer.diverged_at_step is not None else trainer.step() for trainer in self.trainers]

    @property
    def step_count(self) -> int:
        return max(trainer.step_count for trainer in self.trainers)

    @property
    def all_diverged(self) -> bool:
        return all(trainer.diverged_at_step is not None for trainer in self.trainers)

    # ---- headless: lstm-viz train --compare, lstm-viz sweep ---------------------------------------
    def record_to(self, run_dirs: list[Path], names: list[str], history_mb: float | None = None) -> None:
        """Write each variant's run into its directory from now on (Trainer.record_to)."""
        for trainer, run_dir, name in zip(self.trainers, run_dirs, names, strict=True):
            trainer.record_to(make_run_dir(run_dir), history_mb, name)

    def train(self, steps: int, stop_requested: Callable[[], bool] = lambda: False,
              after_step: Callable[[list], None] | None = None) -> float:  # fmt: skip
        """Step every variant up to `steps` times: fewer if all diverge or stop_requested() says so after a
        step; after_step(the step's results) after each. The seconds it took."""
        started = time.perf_counter()
        for _ in range(steps):
            results = self.step()
            if after_step is not None:
                after_step(results)
            if self.all_diverged or stop_requested():
                break
        return max(time.perf_counter() - started, 1e-9)

    def write_runs(self, run_dirs: list[Path], names: list[str], elapsed: float) -> list[dict]:
        """Close the recordings and write each variant's run files (runs.write_run); their summaries.
        A variant's steps/s is its own rate: it had a share of the `elapsed` seconds."""
        from lstm_viz.core import runs

        summaries = []
        for trainer, run_dir, name in zip(self.trainers, run_dirs, names, strict=True):
            steps_per_s = trainer.step_count / elapsed
            trace = trainer.probe()
            runs.write_run(run_dir, trainer, trace, steps_per_s, name)
            trainer.finish_recording()  # after write_run, which appends the last rows of metrics.csv
            summaries.append(runs.summary(trainer, trace, steps_per_s))
        return summaries


def differences(configs: list[RunConfig]) -> str:
    """What differs between these runs' settings, one '·'-separated item per setting:
    'cell lstm / rnn · hidden 128 / 64'; '' when nothing does."""
    items = []
    for field in dataclasses.fields(RunConfig):
        values = [value_label(getattr(config, field.name)) for config in configs]
        if len(set(values)) > 1:
            items.append(f"{field.name} {' / '.join(values)}")
    return " · ".join(items)
