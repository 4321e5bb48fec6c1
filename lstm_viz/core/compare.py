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
from dataclasses import dataclass

from lstm_viz.core.config import ConfigError, RunConfig
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
        """The run directory's name: the label, with anything but letters, digits, '.', '_' and '-' as '-'."""
        return re.sub(r"[^A-Za-z0-9._-]", "-", self.label)


def parse_compare(text: str, config: RunConfig) -> tuple[str, list[Variant]]:
    """'SETTING=V1,V2[,V3[,V4]]' -> (setting, one Variant of `config` per value); ConfigError in one line."""
    setting, sep, values_text = str(text).partition("=")
    setting = setting.strip().replace("-", "_")
    values = [value.strip() for value in values_text.split(",")] if sep else []
    usage = "use --compare SETTING=V1,V2[,V3[,V4]], e.g. cell=lstm,gru,rnn"
    if not sep or not setting:
        raise ConfigError(f"--compare '{text}' is not understood; {usage}")
    if setting not in COMPARABLE:
        raise ConfigError(f"--compare: cannot compare '{setting}'; compare one of {', '.join(COMPARABLE)}")
    if "" in values:
        raise ConfigError(f"--compare {setting}: an empty value in '{values_text}'; {usage}")
    if not MIN_VARIANTS <= len(values) <= MAX_VARIANTS:
        raise ConfigError(
            f"--compare {setting}: {len(values)} value{'s' * (len(values) != 1)} given; "
            f"a comparison has {MIN_VARIANTS} to {MAX_VARIANTS} variants"
        )
    variants = []
    for value in values:
        try:
            variant_config = config.replace(**{setting: _setting_value(setting, value, getattr(config, setting))})
        except ConfigError as error:
            raise ConfigError(f"--compare {setting}={value} is refused: {error}") from None
        variants.append(Variant(_label(getattr(variant_config, setting)), variant_config))
    labels = [variant.label for variant in variants]
    repeated = next((label for label in labels if labels.count(label) > 1), None)
    if repeated is not None:
        raise ConfigError(f"--compare {setting}: the value {repeated} is given twice; give different values")
    return setting, variants


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


def _label(value) -> str:
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


def differences(configs: list[RunConfig]) -> str:
    """What differs between these runs' settings, one '·'-separated item per setting:
    'cell lstm / rnn · hidden 128 / 64'; '' when nothing does."""
    items = []
    for field in dataclasses.fields(RunConfig):
        values = [_label(getattr(config, field.name)) for config in configs]
        if len(set(values)) > 1:
            items.append(f"{field.name} {' / '.join(values)}")
    return " · ".join(items)
