import math
import re
from collections import Counter

import pytest
import torch

from lstm_viz.core.config import ConfigError, RunConfig
from lstm_viz.core.models import build_model
from lstm_viz.core.tasks import make_task
from lstm_viz.core.tasks.chars import NAMES_PATH, CharTask


def char_task(text="hihello", seq_len=6, **settings) -> CharTask:
    return CharTask(RunConfig(task="chars", text=text, seq_len=seq_len, **settings))


def text_file(tmp_path, content, name="corpus.txt"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def train(task, config, steps, batch_size):
    model = build_model(config, task)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(steps):
        inputs, targets = task.make_batch(batch_size, generator)
        loss = task.loss(model(inputs)[0], targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


# -- hihello -------------------------------------------------------------------------------


def test_make_task_builds_a_char_task():
    assert isinstance(make_task(RunConfig(task="chars", text="hihello", seq_len=6)), CharTask)


def test_hihello_probe_is_hihell_to_ihello():
    task = char_task()
    inputs, targets = task.probe()
    assert inputs.shape == (1, 6) and targets.shape == (1, 6)
    assert inputs.dtype == torch.int64 and targets.dtype == torch.int64
    assert task.decode(inputs[0]) == "hihell" and task.decode(targets[0]) == "ihello"
    assert task.labels(inputs) == list("hihell")


def test_hihello_vocabulary_is_the_sorted_distinct_characters():
    task = char_task()
    assert task.vocab == ["e", "h", "i", "l", "o"]
    assert task.vocab_size == task.input_size == task.output_size == 5


def test_hihello_batches_all_hold_the_only_window():
    inputs, targets = char_task().make_batch(4, torch.Generator().manual_seed(0))
    assert inputs.shape == (4, 6) and inputs.dtype == torch.int64
    assert torch.equal(inputs, char_task().probe()[0].expand(4, -1))
    assert torch.equal(targets, char_task().probe()[1].expand(4, -1))


def test_hihello_is_too_short_for_a_long_window():
    with pytest.raises(ConfigError, match=r"7 characters.*seq_len 7.*set seq_len to 6 or less"):
        char_task(seq_len=7)


def window_pair_entropies(text: str, seq_len: int) -> tuple[float, float]:
    """Reference H(next | current) and H(next) in nats, counted with collections.Counter over the
    (input, target) pairs of every window make_batch can draw: starts 0..N-T-1, no wrap-around."""
    pair_counts = Counter()
    for start in range(len(text) - seq_len):
        window = text[start : start + seq_len + 1]
        pair_counts.update(zip(window[:-1], window[1:]))
    total = sum(pair_counts.values())
    current_counts, next_counts = Counter(), Counter()
    for (current, following), count in pair_counts.items():
        current_counts[current] += count
        next_counts[following] += count
    bigram = -sum(
        count / total * math.log(count / current_counts[current]) for (current, _), count in pair_counts.items()
    )
    unigram = -sum(count / total * math.log(count / total) for count in next_counts.values())
    return bigram, unigram


def test_hihello_baselines_by_hand():
    # The one window hihello: pairs hi ih he el ll lo. 'h' -> i or e and 'l' -> l or o, each a coin toss
    # (ln 2 on 2 of the 6 targets each); 'i' and 'e' have one successor. Targets i h e l l o.
    task = char_task()
    assert task.baseline_loss == pytest.approx(4 / 6 * math.log(2), rel=1e-12)
    assert task.baseline_loss == pytest.approx(0.462, abs=5e-4)
    assert task.no_input_loss == pytest.approx(-(4 / 6 * math.log(1 / 6) + 2 / 6 * math.log(2 / 6)), rel=1e-12)
    assert task.baseline_name == "no memory (next char given this one)"


def test_names_baselines_are_the_bigram_and_unigram_entropy_of_the_training_pairs():
    task = char_task("names", seq_len=32)
    bigram, unigram = window_pair_entropies(task.text, 32)
    assert task.baseline_loss == pytest.approx(bigram, rel=1e-9)
    assert task.no_input_loss == pytest.approx(unigram, rel=1e-9)
    assert task.baseline_loss == pytest.approx(2.367, abs=2e-3)
    assert task.no_input_loss == pytest.approx(2.828, abs=2e-3)


def test_baselines_weigh_pairs_near_the_ends_by_the_windows_that_hold_them(tmp_path):
    # "abcab", T=2: windows abc, bca, cab. Pairs ab bc | bc ca | ca ab: every successor is certain,
    # targets b c c a a b. A count over the text's pairs (ab bc ca ab) would give targets b:2 c:1 a:1.
    task = char_task(text_file(tmp_path, "abcab"), seq_len=2)
    assert task.baseline_loss == 0.0 and math.copysign(1, task.baseline_loss) == 1  # 0, not -0
    assert task.no_input_loss == pytest.approx(math.log(3), rel=1e-12)
    # Short texts, where most pairs sit near an end: the same as counting window by window.
    for text, seq_len in [("aabcaab", 3), ("ab\nba\nabba\n", 4), ("aaab", 2)]:
        task = char_task(text_file(tmp_path, text), seq_len=seq_len)
        bigram, unigram = window_pair_entropies(text, seq_len)
        assert (task.baseline_loss, task.no_input_loss) == pytest.approx((bigram, unigram), rel=1e-12)


def test_a_model_without_recurrence_reaches_the_no_memory_line_but_not_below():
    # A bigram table (a linear layer on the one-hot current character), trained on training batches
    # to convergence: the best predictor without memory. Held-out batches score it at the line.
    task = char_task("names", seq_len=32)
    table = torch.nn.Linear(task.vocab_size, task.vocab_size)
    for parameter in table.parameters():
        torch.nn.init.zeros_(parameter)  # uniform predictions to start with, the same every run
    optimizer = torch.optim.Adam(table.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(0)
    for _ in range(400):
        inputs, targets = task.make_batch(64, generator)
        loss = task.loss(table(torch.nn.functional.one_hot(inputs, task.vocab_size).float()), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    inputs, targets = task.make_batch(4096, torch.Generator().manual_seed(1))
    with torch.no_grad():
        held_out_loss = task.loss(table(torch.nn.functional.one_hot(inputs, task.vocab_size).float()), targets).item()
    # It ends ~0.01 above the line (Adam's noise), and 0.46 below the char frequencies alone.
    assert -0.01 < held_out_loss - task.baseline_loss < 0.03, (held_out_loss, task.baseline_loss)
    assert held_out_loss < task.no_input_loss - 0.4  # seeing the current character is worth 0.46 nats


def test_loss_is_cross_entropy_over_all_steps():
    task = char_task()
    inputs, targets = task.make_batch(3, torch.Generator().manual_seed(0))
    logits = torch.randn(3, 6, 5)  # (B, T, V)
    log_probabilities = logits.log_softmax(-1)  # (B, T, V)
    expected = -log_probabilities.gather(2, targets.unsqueeze(-1)).mean()
    assert task.loss(logits, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    assert task.loss(logits, targets).shape == ()


def test_hihello_lstm_learns_ihello_exactly():
    config = RunConfig(task="chars", text="hihello", cell="lstm", hidden=8, seq_len=6, lr=3e-2, seed=0)
    task = make_task(config)
    model = train(task, config, steps=150, batch_size=8)
    inputs, targets = task.probe()
    with torch.no_grad():
        logits, _ = model(inputs)  # (1, T, V)
    assert task.decode(logits.argmax(-1)[0]) == "ihello"
    assert task.loss(logits, targets).item() < 0.1
    greedy = task.sample(model, 1, 6, 1e-6, torch.Generator().manual_seed(0), start="h")
    assert greedy == ["ihello"]


# -- text files ----------------------------------------------------------------------------


def test_text_file_batches_are_windows_of_the_text(tmp_path):
    text = "the quick brown fox jumps over the lazy dog\n" * 3
    task = char_task(text_file(tmp_path, text), seq_len=10)
    assert task.vocab == sorted(set(text))
    inputs, targets = task.make_batch(64, torch.Generator().manual_seed(1))
    assert inputs.shape == (64, 10) and targets.shape == (64, 10)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])
    starts = set()
    for row_inputs, row_targets in zip(inputs, targets, strict=True):
        window = task.decode(row_inputs) + task.decode(row_targets[-1:])
        assert window in text
        starts.add(window)
    assert len(starts) > 20  # windows start all over the text


def test_make_batch_is_deterministic_for_a_seed_and_differs_for_another(tmp_path):
    task = char_task(text_file(tmp_path, "abcdefghijklmnopqrstuvwxyz" * 4), seq_len=8)
    first = task.make_batch(16, torch.Generator().manual_seed(5))
    again = task.make_batch(16, torch.Generator().manual_seed(5))
    other = task.make_batch(16, torch.Generator().manual_seed(6))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_text_file_probe_is_the_beginning_and_fixed(tmp_path):
    task = char_task(text_file(tmp_path, "hello world\nsecond line\n"), seq_len=12)
    inputs, targets = task.probe()
    assert task.decode(inputs[0]) == "hello world\n" and task.decode(targets[0]) == "ello world\ns"
    inputs[:] = 0
    assert task.decode(task.probe()[0][0]) == "hello world\n"


def test_labels_make_newlines_and_spaces_visible(tmp_path):
    task = char_task(text_file(tmp_path, "a b\ncd e\n"), seq_len=5)
    assert task.labels(task.probe()[0]) == ["a", "␣", "b", "⏎", "c"]


def test_windows_line_ends_and_byte_order_mark_are_dropped(tmp_path):
    task = char_task(text_file(tmp_path, b"\xef\xbb\xbfab\r\ncd\r\n"), seq_len=3)
    assert task.text == "ab\ncd\n" and "\r" not in task.vocab


def test_characters_beyond_ascii_work(tmp_path):
    task = char_task(text_file(tmp_path, "héllo wörld ✓ 日本\n" * 2), seq_len=8)
    assert "✓" in task.vocab and "日" in task.vocab
    inputs, targets = task.make_batch(4, torch.Generator().manual_seed(0))
    assert int(inputs.max()) < task.vocab_size


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def test_missing_file_is_refused(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="does not exist") as error:
        char_task(missing)
    assert "nope.txt" in one_line(error)


def test_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a directory") as error:
        char_task(str(tmp_path))
    assert str(tmp_path) in one_line(error)


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is empty") as error:
        char_task(text_file(tmp_path, b""))
    assert "corpus.txt" in one_line(error)


def test_binary_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"binary \(NUL byte at byte offset 3\)") as error:
        char_task(text_file(tmp_path, b"abc\x00def" * 10, name="image.png"))
    assert "image.png" in one_line(error)


def test_invalid_utf8_is_refused_with_the_byte_offset(tmp_path):
    content = "ok text é ".encode() + b"\xff" + b" more text" * 3  # é is two bytes: offset 11
    with pytest.raises(ConfigError, match=r"not valid UTF-8.*0xff at byte offset 11") as error:
        char_task(text_file(tmp_path, content, name="latin1.txt"))
    assert "latin1.txt" in one_line(error)


def test_text_shorter_than_a_window_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"has 5 characters but seq_len 50 needs at least 51") as error:
        char_task(text_file(tmp_path, "short"), seq_len=50)
    assert "set seq_len to 4 or less" in one_line(error)


def test_file_over_50_mb_is_refused(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(51 * 1024 * 1024)  # sparse: no 51 MB actually written
    with pytest.raises(ConfigError, match=r"over the 50 MB limit") as error:
        char_task(str(path))
    assert "huge.txt" in one_line(error) and "51.0 MB" in one_line(error)


def test_more_than_256_distinct_characters_is_refused(tmp_path):
    text = "".join(chr(0x400 + index) for index in range(300)) * 2
    with pytest.raises(ConfigError, match=r"300 distinct characters, over the cap of 256") as error:
        char_task(text_file(tmp_path, text, name="wide.txt"), seq_len=10)
    assert "wide.txt" in one_line(error)


def test_exactly_256_distinct_characters_is_accepted(tmp_path):
    text = "".join(chr(0x400 + index) for index in range(256))
    task = char_task(text_file(tmp_path, text), seq_len=10)
    assert task.vocab_size == 256
    inputs, _ = task.make_batch(64, torch.Generator().manual_seed(0))
    assert task.decode(inputs[0]) in text


# -- names ---------------------------------------------------------------------------------


def test_names_asset_holds_thousands_of_unique_lowercase_names():
    lines = NAMES_PATH.read_text(encoding="ascii").splitlines()
    assert len(lines) >= 2000
    assert len(set(lines)) == len(lines)
    assert lines == sorted(lines)
    assert all(re.fullmatch(r"[a-z]+", line) for line in lines)
    assert {"emma", "oliver", "sophia", "james", "zoe"} <= set(lines)


def test_names_text_has_every_name_between_newlines():
    task = char_task("names", seq_len=32)
    names = NAMES_PATH.read_text(encoding="ascii").split()
    assert task.text == "\n" + "\n".join(names) + "\n"
    assert task.vocab == ["\n"] + [chr(code) for code in range(ord("a"), ord("z") + 1)]
    assert task.known_lines == set(names)


def test_names_probe_starts_at_a_newline_and_is_fixed_per_seed():
    task = char_task("names", seq_len=32, seed=3)
    inputs, targets = task.probe()
    assert inputs.shape == (1, 32)
    probe_text = task.decode(inputs[0]) + task.decode(targets[0, -1:])
    assert probe_text.startswith("\n") and probe_text in task.text
    assert torch.equal(inputs, task.probe()[0])
    assert torch.equal(inputs, char_task("names", seq_len=32, seed=3).probe()[0])
    assert not torch.equal(inputs, char_task("names", seq_len=32, seed=4).probe()[0])
    assert task.labels(inputs)[0] == "⏎"


class BatchRecorder(torch.nn.Module):
    """Wraps a model and records the batch size and length of every forward call."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.calls = []

    def forward(self, inputs, state=None):
        self.calls.append(tuple(inputs.shape))
        return self.model(inputs, state)


def test_sampling_runs_all_names_as_one_batch_and_stops_at_newlines():
    config = RunConfig(task="chars", text="names", hidden=16, seq_len=16, seed=0)
    task = make_task(config)
    model = BatchRecorder(build_model(config, task))
    names = task.sample(model, 7, 25, 1.0, torch.Generator().manual_seed(0))
    assert len(names) == 7 and all(isinstance(name, str) and "\n" not in name for name in names)
    assert all(len(name) <= 25 for name in names)
    assert model.calls[0] == (7, 1)  # the start "\n"
    assert all(call == (7, 1) for call in model.calls)
    assert len(model.calls) <= 25
    again = task.sample(model, 7, 25, 1.0, torch.Generator().manual_seed(0))
    assert again == names


def test_sampling_a_text_keeps_newlines_and_uses_the_vocabulary(tmp_path):
    config = RunConfig(task="chars", text=text_file(tmp_path, "ab\nba\n" * 5), hidden=8, seq_len=5)
    task = make_task(config)
    model = build_model(config, task)
    samples = task.sample(model, 3, 40, 1.0, torch.Generator().manual_seed(0), start="a")
    assert [len(sample) for sample in samples] == [40, 40, 40]
    assert set("".join(samples)) <= set(task.vocab)
    assert any("\n" in sample for sample in samples)
    view = task.view(model, None, 1.0, torch.Generator().manual_seed(0))
    assert set(view) == {"sample", "vocab"} and len(view["sample"]) == 120
    assert view["vocab"] == "\nab"  # the ids in order: the window decodes the probe with it


def test_sampling_from_an_unknown_character_is_refused():
    task = char_task()
    model = build_model(RunConfig(task="chars", hidden=4, seq_len=6), task)
    with pytest.raises(ConfigError, match="not in the vocabulary"):
        task.sample(model, 2, 5, 1.0, torch.Generator(), start="x")


def test_names_lstm_invents_new_names_and_beats_the_no_memory_line():
    config = RunConfig(task="chars", text="names", cell="lstm", hidden=64, seq_len=32, lr=1e-2, seed=0)
    task = make_task(config)
    model = train(task, config, steps=300, batch_size=32)
    inputs, targets = task.make_batch(512, torch.Generator().manual_seed(99))
    with torch.no_grad():
        held_out_loss = task.loss(model(inputs)[0], targets).item()
    assert held_out_loss < task.baseline_loss - 0.3, (held_out_loss, task.baseline_loss)  # memory: ~0.42 nats

    names = task.sample(model, 200, 30, 1.0, torch.Generator().manual_seed(1))
    assert 3 <= sum(map(len, names)) / len(names) <= 9  # name-like lengths; an untrained net rambles on
    assert any(name in task.known_lines for name in names)  # it has learned some real names...
    assert task.new_name_share(model, 200, 1.0, torch.Generator().manual_seed(1)) > 0.5  # ...but mostly invents

    view = task.view(model, None, 1.0, torch.Generator().manual_seed(2))
    assert len(view["sample"].split(", ")) == 10
    assert 0.0 <= view["new_share"] <= 1.0


def test_hihello_view_is_a_120_character_sample_starting_with_h():
    config = RunConfig(task="chars", text="hihello", hidden=4, seq_len=6)
    task = make_task(config)
    view = task.view(build_model(config, task), None, 1.0, torch.Generator().manual_seed(0))
    assert set(view) == {"sample", "vocab"} and view["vocab"] == "ehilo"
    assert len(view["sample"]) == 120 and view["sample"][0] == "h" and set(view["sample"]) <= set("hielo")


def test_view_of_a_diverged_model_says_so_instead_of_crashing():
    config = RunConfig(task="chars", text="names", hidden=4, seq_len=8)
    task = make_task(config)
    model = build_model(config, task)
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    view = task.view(model, None, 1.0, torch.Generator())
    assert "not finite" in view["sample"] and math.isnan(view["new_share"])


# -- a probe text of the user's ------------------------------------------------------------------


def test_a_probe_text_is_read_character_by_character_and_scored_on_the_next():
    task = char_task("names", seq_len=32, probe_text="\nanna\nbob\n")
    inputs, targets = task.probe()
    alphabet = "\nabcdefghijklmnopqrstuvwxyz"  # the names' vocabulary: newline, then a-z
    assert inputs.tolist() == [[alphabet.index(char) for char in "\nanna\nbob"]]
    assert targets.tolist() == [[alphabet.index(char) for char in "anna\nbob\n"]]
    assert task.labels(inputs) == ["⏎", "a", "n", "n", "a", "⏎", "b", "o", "b"]


def test_an_empty_probe_text_is_the_texts_own_probe():
    own = char_task("hihello").probe()
    task = char_task("hihello", probe_text="hello")
    assert task.decode(task.probe()[0][0]) == "hell"
    task.set_probe_text("")
    assert [tensor.tolist() for tensor in task.probe()] == [tensor.tolist() for tensor in own]


def test_a_probe_text_with_unknown_characters_names_them_and_keeps_the_probe():
    task = char_task("names", seq_len=32, probe_text="\nann\n")
    before = [tensor.clone() for tensor in task.probe()]
    with pytest.raises(ConfigError) as error:
        task.set_probe_text("Anna, Bob!")
    message = one_line(error)
    for char in ("'A'", "'B'", "','", "'!'", "'␣'"):
        assert char in message, message
    assert "'n'" not in message and "⏎ a-z" in message  # what the model knows, as a range
    assert all(torch.equal(now, then) for now, then in zip(task.probe(), before, strict=True))
    with pytest.raises(ConfigError, match="'H'"):
        char_task("hihello", probe_text="Hello")  # a config with such a text builds no task


def test_only_character_models_take_a_probe_text():
    with pytest.raises(ConfigError, match="character models"):
        RunConfig(task="sine", probe_text="hello")
    with pytest.raises(ConfigError, match="character models"):
        make_task(RunConfig(task="adding", seq_len=20)).set_probe_text("hello")
