"""Chars: a character language model, predicting the next character of a text.

The text is "hihello" (the classic toy: 'h' and 'l' are each followed by two different
characters, so the net must remember where it is), "names" (a few thousand English
first names, one a line, the net learns to invent new ones) or a UTF-8 text file.
The vocabulary is the sorted set of distinct characters; inputs are int64 character
ids (B, T), one-hot encoded by the model; outputs are logits (B, T, V).

Baselines, exact for the (input, target) pairs the training windows hold: with no memory the
best prediction of the next character is its frequency after the current one (the bigram
model, H(next | current)); with no input either, its frequency alone (H(next)).
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from lstm_viz.core.config import ASSET_DIR, ConfigError, RunConfig, require_regular_file
from lstm_viz.core.tasks.base import Task

NAMES_PATH = ASSET_DIR / "names.txt"
HIHELLO = "hihello"
MAX_FILE_MB = 50
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_VOCAB = 256  # ids fit in one byte, and a one-hot input wider than this is not a toy any more
VIEW_SAMPLE_CHARS = 120  # length of the sample shown for hihello and text files
VIEW_NAMES = 10  # names sampled for the view in names mode
NAME_SLACK = 10  # a sampled name may run this many characters past the longest known name
MIN_TEMPERATURE = 1e-3  # below this, logits / temperature can overflow; it already is greedy sampling
PAIR_CHUNK = 1 << 20  # character pairs counted at a time for the baselines
VISIBLE_CHARS = {"\n": "⏎", " ": "␣", "\t": "⇥", "\r": "␍"}


class CharTask(Task):
    name = "chars"
    output_size = 0  # set per text: the vocabulary size
    baseline_name = "no memory (next char given this one)"

    def __init__(self, config: RunConfig) -> None:
        self.seq_len = config.seq_len
        self.is_names = config.text == "names"
        if config.text == HIHELLO:
            self.source = HIHELLO
            self.text = HIHELLO
        elif self.is_names:
            self.source = "names"
            self.text = "\n" + "\n".join(_read_names()) + "\n"  # every name sits between two newlines
        else:
            self.source = config.text
            self.text = _read_text_file(config.text)

        codepoints = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)  # (N,)
        counts_per_codepoint = np.bincount(codepoints)  # (max codepoint + 1,) at most 0x110000: cheap
        distinct_codepoints = np.flatnonzero(counts_per_codepoint)  # (V,) sorted, as sorted() sorts str
        if len(distinct_codepoints) > MAX_VOCAB:
            raise ConfigError(
                f"text '{self.source}' has {len(distinct_codepoints)} distinct characters, over the cap of "
                f"{MAX_VOCAB}; use a text with fewer distinct characters (e.g. plain ASCII)"
            )
        text_length = len(codepoints)
        if text_length < self.seq_len + 1:
            advice = f"set seq_len to {text_length - 1} or less" if text_length >= 3 else "use a longer text"
            characters = "character" if text_length == 1 else "characters"
            raise ConfigError(
                f"text '{self.source}' has {text_length} {characters} but seq_len {self.seq_len} needs at least "
                f"{self.seq_len + 1}; {advice}"
            )
        self.vocab = [chr(codepoint) for codepoint in distinct_codepoints]
        self.char_to_id = {char: index for index, char in enumerate(self.vocab)}
        self.vocab_size = self.input_size = self.output_size = len(self.vocab)
        id_of_codepoint = np.zeros(len(counts_per_codepoint), dtype=np.uint8)  # (max codepoint + 1,)
        id_of_codepoint[distinct_codepoints] = np.arange(self.vocab_size)
        self.text_ids = torch.from_numpy(id_of_codepoint[codepoints])  # (N,) uint8: a 50 MB text stays 50 MB

        pair_weights = training_pair_weights(self.text_ids.numpy(), self.vocab_size, self.seq_len)  # (V, V)
        self.baseline_loss, self.no_input_loss = bigram_and_unigram_entropy(pair_weights)

        probe_start = self._probe_start(torch.Generator().manual_seed(config.seed))
        self._own_probe = self.text_ids[probe_start : probe_start + self.seq_len + 1].long()  # (T+1,)
        self.set_probe_text(config.probe_text)

    def _probe_start(self, generator: torch.Generator) -> int:
        """Names: a window starting at a newline, drawn once per seed; other texts: the beginning."""
        if not self.is_names:
            return 0
        last_start = len(self.text_ids) - self.seq_len - 1
        is_newline = self.text_ids[: last_start + 1] == self.char_to_id["\n"]  # (last_start+1,)
        newline_positions = torch.nonzero(is_newline).flatten()  # (K,) never empty: the text starts with one
        choice = torch.randint(0, len(newline_positions), (1,), generator=generator)  # (1,)
        return int(newline_positions[choice])

    def set_probe_text(self, text: str) -> None:
        """Probe with `text` from now on: the model reads every character but the last and is scored on the
        next one (so the gradients through time have a target); "" for the text's own probe. ConfigError, and
        the probe unchanged, if the text has characters outside the vocabulary."""
        window = self._own_probe if not text else torch.tensor(probe_ids(text, self.vocab, self.source))  # (T+1,)
        self._probe_inputs = window[:-1].unsqueeze(0)  # (1, T)
        self._probe_targets = window[1:].unsqueeze(0)  # (1, T)

    @cached_property
    def known_lines(self) -> frozenset[str]:
        """The non-empty lines of the text: for names, the names list."""
        return frozenset(line for line in self.text.split("\n") if line)

    @cached_property
    def longest_line(self) -> int:
        return max((len(line) for line in self.known_lines), default=0)

    # -- text <-> ids -------------------------------------------------------------------

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted({char for char in text if char not in self.char_to_id})
        if unknown:
            shown = ", ".join(repr(char) for char in unknown[:5])
            raise ConfigError(f"characters {shown} are not in the vocabulary of text '{self.source}'")
        return torch.tensor([self.char_to_id[char] for char in text], dtype=torch.int64)  # (len,)

    def decode(self, char_ids) -> str:
        """The text of these ids (a tensor, an array or a list): one conversion to a list, not one per element."""
        ids = char_ids.tolist() if hasattr(char_ids, "tolist") else char_ids
        return "".join(self.vocab[int(index)] for index in ids)

    # -- Task protocol --------------------------------------------------------------------

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        _check_count("batch size", batch_size)
        window_count = len(self.text_ids) - self.seq_len  # starts 0..N-T-1 leave room for T+1 chars
        starts = torch.randint(0, window_count, (batch_size, 1), generator=generator)  # (B, 1)
        positions = starts + torch.arange(self.seq_len + 1)  # (B, T+1)
        windows = self.text_ids[positions].long()  # (B, T+1)
        return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()  # (B, T) each

    def probe(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._probe_inputs.clone(), self._probe_targets.clone()  # (1, T) each

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = outputs.reshape(-1, outputs.shape[-1])  # (B*T, V)
        return torch.nn.functional.cross_entropy(logits, targets.reshape(-1))

    def view(self, model, probe_outputs: torch.Tensor, temperature: float, generator: torch.Generator) -> dict:
        """names: 10 sampled names and the share of them that are new; otherwise a ~120 char sample. Always the
        vocabulary (a str, ids in order), which the window checks a probe text against and decodes the probe with."""
        vocab = {"vocab": "".join(self.vocab)}
        try:
            if self.is_names:
                names, new_share = self._sample_names(model, VIEW_NAMES, temperature, generator)
                return {"sample": ", ".join(name or "∅" for name in names), "new_share": new_share, **vocab}
            if "\n" in self.char_to_id:  # start at a line start; the newline itself is not shown
                sample = self.sample(model, 1, VIEW_SAMPLE_CHARS, temperature, generator, start="\n")[0]
                return {"sample": sample, **vocab}
            start = self.text[0]  # hihello: "h"
            continuation = self.sample(model, 1, VIEW_SAMPLE_CHARS - 1, temperature, generator, start=start)[0]
            return {"sample": start + continuation, **vocab}
        except _NonFiniteOutputs as error:
            failed = {"sample": str(error), **vocab}
            return {**failed, "new_share": float("nan")} if self.is_names else failed

    def labels(self, probe_inputs: torch.Tensor) -> list[str]:
        return [visible(char) for char in self.decode(probe_inputs[0])]

    # -- sampling -------------------------------------------------------------------------

    def sample(
        self, model, count: int, length: int, temperature: float, generator: torch.Generator, start: str = "\n"
    ) -> list[str]:
        """`count` strings of up to `length` sampled characters after the prompt `start`, as one batch.

        In names mode each string stops before its first newline.
        """
        samples, _ = self._sample(model, count, length, temperature, generator, start, stop_at_newline=self.is_names)
        return samples

    def new_name_share(self, model, count: int, temperature: float, generator: torch.Generator) -> float:
        """Share of `count` sampled lines (names) that are complete, non-empty and not in the text."""
        return self._sample_names(model, count, temperature, generator)[1]

    def _sample_names(self, model, count: int, temperature: float, generator: torch.Generator):
        if "\n" not in self.char_to_id:
            raise ConfigError(f"text '{self.source}' has no newlines, so it has no names to sample; use text 'names'")
        max_length = self.longest_line + NAME_SLACK
        names, finished = self._sample(model, count, max_length, temperature, generator, "\n", stop_at_newline=True)
        known = self.known_lines
        is_new = [done and bool(name) and name not in known for name, done in zip(names, finished, strict=True)]
        return names, sum(is_new) / count

    def _sample(self, model, count, length, temperature, generator, start, stop_at_newline):
        _check_count("sample count", count)
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ConfigError(f"sample length must be a whole number of at least 0, got {length!r}")
        if not (isinstance(temperature, (int, float)) and temperature > 0 and math.isfinite(temperature)):
            raise ConfigError(f"temperature must be a positive number, got {temperature!r}")
        if not start:
            raise ConfigError("sampling needs a start text of at least one character, e.g. '\\n'")
        temperature = max(float(temperature), MIN_TEMPERATURE)
        prompt_ids = self.encode(start).unsqueeze(0).expand(count, -1)  # (count, P)
        newline_id = self.char_to_id.get("\n", -1) if stop_at_newline else -1
        sampled_ids = []  # per step (count, 1)
        finished = torch.zeros(count, 1, dtype=torch.bool)  # (count, 1)
        with torch.no_grad():
            logits, state = model(prompt_ids, None)  # (count, P, V)
            for step in range(length):
                probabilities = torch.softmax(logits[:, -1] / temperature, dim=-1)  # (count, V)
                try:
                    next_ids = torch.multinomial(probabilities, 1, generator=generator)  # (count, 1)
                except RuntimeError:  # torch refuses NaN probabilities: NaN or +inf outputs (a -inf one is p = 0)
                    raise _NonFiniteOutputs(
                        "cannot sample: the model outputs are not finite; lower lr or turn clipping on"
                    ) from None
                sampled_ids.append(next_ids)
                if newline_id >= 0:
                    finished |= next_ids == newline_id
                    if finished.all():
                        break
                if step + 1 == length:
                    break
                logits, state = model(next_ids, state)  # (count, 1, V)
        samples = []
        no_steps = torch.empty(count, 0, dtype=torch.int64)  # (count, 0): a sample of length 0
        for row in torch.cat(sampled_ids, dim=1) if sampled_ids else no_steps:  # (count, steps taken)
            text = self.decode(row)
            samples.append(text.split("\n", 1)[0] if stop_at_newline else text)
        return samples, finished[:, 0].tolist()


def probe_ids(text: str, vocab, source: str) -> list[int]:
    """The ids of a probe text's characters in `vocab` (the characters in id order); ConfigError naming the
    characters the model does not know, and those it does."""
    char_to_id = {char: index for index, char in enumerate(vocab)}
    unknown = sorted({char for char in text if char not in char_to_id})
    if unknown:
        shown = ", ".join(f"'{visible(char)}'" for char in unknown[:8]) + (" …" if len(unknown) > 8 else "")
        raise ConfigError(
            f"the probe text has characters the model of text '{source}' does not know: {shown}; "
            f"type only {character_ranges(vocab)}"
        )
    return [char_to_id[char] for char in text]


def visible(char: str) -> str:
    """A character as the panels show it: ⏎ for a newline, ␣ for a space, ⇥ for a tab."""
    return VISIBLE_CHARS.get(char, char)


def character_ranges(vocab) -> str:
    """'⏎ a-z' for the names' vocabulary: the sorted characters, runs of 3 or more consecutive ones as ranges."""
    codepoints = sorted(ord(char) for char in vocab)
    parts, start = [], 0
    for end in range(1, len(codepoints) + 1):
        if end == len(codepoints) or codepoints[end] != codepoints[end - 1] + 1:
            run = codepoints[start:end]
            if len(run) >= 3:
                parts.append(f"{visible(chr(run[0]))}-{visible(chr(run[-1]))}")
            else:
                parts.extend(visible(chr(codepoint)) for codepoint in run)
            start = end
    return " ".join(parts)


def training_pair_weights(text_ids: np.ndarray, vocab_size: int, seq_len: int) -> np.ndarray:
    """(V, V): in how many of the windows make_batch draws from (each start equally likely) each
    (input, target) character pair occurs, counted with multiplicity.

    The pair at position p, (text[p], text[p+1]), is in the windows that start at max(0, p-T+1) to
    min(p, W-1), W = N-T windows in all: T of them inside the text, fewer within T of either end.
    The text does not wrap around. Counted in chunks, so that a 50 MB text needs no 400 MB array.
    """
    window_count = len(text_ids) - seq_len
    pair_count = len(text_ids) - 1
    pair_weights = np.zeros(vocab_size * vocab_size)  # (V*V,)
    for chunk_start in range(0, pair_count, PAIR_CHUNK):
        positions = np.arange(chunk_start, min(chunk_start + PAIR_CHUNK, pair_count))  # (C,)
        windows_holding = np.minimum(positions, window_count - 1) - np.maximum(positions - seq_len + 1, 0) + 1  # (C,)
        pair_ids = text_ids[positions].astype(np.int64) * vocab_size + text_ids[positions + 1]  # (C,)
        pair_weights += np.bincount(pair_ids, weights=windows_holding, minlength=vocab_size * vocab_size)
    return pair_weights.reshape(vocab_size, vocab_size)


def bigram_and_unigram_entropy(pair_weights: np.ndarray) -> tuple[float, float]:
    """H(target | input) and H(target) in nats of the pairs weighted by `pair_weights` (V, V): the loss
    of the best predictor that sees only the current character, and of the best that sees nothing."""
    joint = pair_weights / pair_weights.sum()  # (V, V) P(input, target)
    input_marginal = np.broadcast_to(joint.sum(axis=1, keepdims=True), joint.shape)  # (V, V) P(input)
    target_marginal = joint.sum(axis=0)  # (V,) P(target)
    occurs = joint > 0
    # Every term p·log(1/p) is >= 0: a certain prediction gives 0, not -0.
    bigram = float((joint[occurs] * np.log(input_marginal[occurs] / joint[occurs])).sum())
    seen = target_marginal > 0
    unigram = float((target_marginal[seen] * np.log(1 / target_marginal[seen])).sum())
    return bigram, unigram


class _NonFiniteOutputs(ConfigError):
    """The model produced NaN or inf logits (training diverged)."""


def _check_count(what: str, count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ConfigError(f"{what} must be a whole number of at least 1, got {count!r}")


def _read_names() -> list[str]:
    try:
        lines = NAMES_PATH.read_text(encoding="utf-8").split("\n")
    except OSError:
        raise ConfigError(f"the built-in names list is missing at {NAMES_PATH}; reinstall lstm_viz") from None
    return [line.strip() for line in lines if line.strip()]


def _read_text_file(name: str) -> str:
    """The text of a UTF-8 file, or ConfigError saying what is wrong with it."""
    path = Path(name).expanduser()
    hint = "give the path of a UTF-8 text file, or use 'hihello' or 'names'"
    size = require_regular_file(path, "text file", hint).st_size
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"text file '{name}' is {size / 2**20:.1f} MB, over the {MAX_FILE_MB} MB limit; use a smaller excerpt"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read text file '{name}': {error.strerror or error}") from None
    if not data:
        raise ConfigError(f"text file '{name}' is empty; give a file with some text")
    nul_offset = data.find(b"\0")
    if nul_offset >= 0:
        raise ConfigError(
            f"text file '{name}' looks binary (NUL byte at byte offset {nul_offset}); give a UTF-8 text file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"text file '{name}' is not valid UTF-8 (byte 0x{data[error.start]:02x} at byte offset {error.start}); "
            "save it as UTF-8"
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")  # drop a byte order mark; Windows line ends
    if not text:
        raise ConfigError(f"text file '{name}' is empty; give a file with some text")
    return text
