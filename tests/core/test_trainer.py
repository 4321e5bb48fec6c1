import copy
import math

import numpy as np
import pytest
import torch

from lstm_viz.core.config import Clip, ConfigError, RunConfig
from lstm_viz.core.runs import load_checkpoint, restore_trainer, save_checkpoint
from lstm_viz.core.trainer import Trainer, architecture_differences, needs_new_model

SMALL = RunConfig(hidden=8, seq_len=20, batch=8)


def gradients(trainer: Trainer) -> list[torch.Tensor]:
    return [p.grad.clone() for p in trainer.parameters]


def global_norm(tensors) -> float:
    return math.sqrt(sum(float(t.pow(2).sum()) for t in tensors))


def unclipped_gradients(trainer: Trainer) -> list[torch.Tensor]:
    """The raw gradients the trainer's next batch will produce, without stepping."""
    state = trainer.batch_generator.get_state()
    inputs, targets = trainer.task.make_batch(trainer.config.batch, trainer.batch_generator)
    trainer.batch_generator.set_state(state)
    trainer.model.zero_grad(set_to_none=False)
    trainer.task.loss(trainer.model(inputs)[0], targets).backward()
    return gradients(trainer)


def step_without_update(trainer: Trainer):
    """Step, but capture the gradients the optimizer saw instead of applying them."""
    seen = {}
    trainer.optimizer.step = lambda: seen.setdefault("grads", gradients(trainer))
    result = trainer.step()
    return result, seen["grads"]


def test_block_norms_partition_the_global_norm():
    trainer = Trainer(SMALL.replace(task="adding", bidirectional=True, layers=2))
    raw = unclipped_gradients(trainer)
    result = trainer.step()
    metrics = trainer.metrics.as_columns()
    blocks = np.array([metrics[name][-1] for name in trainer.block_names])
    assert result.grad_norm == pytest.approx(global_norm(raw), rel=1e-5)
    assert math.sqrt((blocks**2).sum()) == pytest.approx(result.grad_norm, rel=1e-5)
    weight = trainer.model.layers[1].weight_hh_l0_reverse
    forget_rows = raw[[p is weight for p in trainer.parameters].index(True)][8:16]  # torch order i|f|g|o, H = 8
    assert metrics["l1r.W_hh.f"][-1] == pytest.approx(float(forget_rows.norm()), rel=1e-5)


def test_clip_by_norm_scales_every_gradient_to_the_threshold():
    trainer = Trainer(SMALL.replace(clip="norm:0.01"))
    raw = unclipped_gradients(trainer)
    result, seen = step_without_update(trainer)
    scale = 0.01 / global_norm(raw)
    assert scale < 1 and result.clipped
    for before, after in zip(raw, seen):
        assert torch.allclose(after, before * scale, rtol=1e-5, atol=1e-9)
    assert result.grad_norm_clipped == pytest.approx(0.01, rel=1e-5)
    assert global_norm(seen) == pytest.approx(0.01, rel=1e-5)


def test_clip_by_value_clamps_only_the_large_entries():
    trainer = Trainer(SMALL.replace(clip="value:0.01"))
    raw = unclipped_gradients(trainer)
    result, seen = step_without_update(trainer)
    assert result.clipped
    for before, after in zip(raw, seen):
        assert torch.equal(after, before.clamp(-0.01, 0.01))
    assert any((before.abs() < 0.01).any() and (before.abs() > 0.01).any() for before in raw)
    assert result.grad_norm_clipped == pytest.approx(global_norm(seen), rel=1e-5)


@pytest.mark.parametrize("clip", ["norm:1000", "value:1000", "off"])
def test_clipping_under_the_threshold_changes_nothing(clip):
    trainer = Trainer(SMALL.replace(clip=clip))
    raw = unclipped_gradients(trainer)
    result, seen = step_without_update(trainer)
    assert not result.clipped
    assert result.grad_norm_clipped == result.grad_norm
    assert all(torch.equal(before, after) for before, after in zip(raw, seen))


def test_clipping_changes_between_steps_without_a_new_model():
    trainer = Trainer(SMALL)
    trainer.step()
    model = trainer.model
    trainer.set_clip("norm:0.001")
    result = trainer.step()
    assert trainer.model is model and result.clipped and result.grad_norm_clipped <= 0.001 * (1 + 1e-5)
    trainer.set_clip(Clip("off"))
    assert not trainer.step().clipped


def test_same_seed_same_losses_other_seed_other_losses():
    def losses(seed):
        trainer = Trainer(SMALL.replace(seed=seed))
        return [trainer.step().loss for _ in range(5)]

    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


def test_divergence_is_caught_on_its_step_and_weights_stay_finite():
    trainer = Trainer(SMALL.replace(optimizer="sgd", lr=1e6, momentum=0.0))
    results = [trainer.step() for _ in range(30)]
    diverged = [r.step for r in results if r.diverged]
    assert diverged and trainer.diverged_at_step == diverged[0]
    assert all(np.isfinite(r.loss) for r in results[: diverged[0] - 1])
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    # Lowering the learning rate recovers from the last finite weights.
    trainer.apply(trainer.config.replace(lr=1e-9))
    trainer.step()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_a_non_finite_gradient_is_not_applied():
    trainer = Trainer(SMALL)
    before = [p.detach().clone() for p in trainer.parameters]
    original_loss = trainer.task.loss
    trainer.task.loss = lambda outputs, targets: original_loss(outputs, targets) * float("nan")
    result = trainer.step()
    assert result.diverged and math.isnan(result.loss) and trainer.diverged_at_step == 1
    assert all(torch.equal(b, p) for b, p in zip(before, trainer.parameters))


def test_snapshot_is_a_frozen_copy():
    trainer = Trainer(SMALL)
    trainer.step()
    snapshot = trainer.snapshot()
    loss_before = snapshot.metrics["loss"].copy()
    forget_before = snapshot.trace["forget_gate"].copy()
    trainer.step()
    assert np.array_equal(snapshot.metrics["loss"], loss_before) and len(loss_before) == 1
    assert np.array_equal(snapshot.trace["forget_gate"], forget_before)
    assert not snapshot.metrics["loss"].flags.writeable
    with pytest.raises(AttributeError):
        snapshot.step = 5


def test_snapshot_later_probes_the_weights_of_when_it_was_called_whatever_trained_since():
    trainer = Trainer(SMALL)
    trainer.step()
    weights_then = copy.deepcopy(trainer.model)
    finish = trainer.snapshot_later()
    for _ in range(3):  # what the training thread does while the capture thread probes
        trainer.step()
    snapshot = finish()
    recurrent = weights_then.layers[0]  # the torch nn.LSTM as it was when snapshot_later was called
    probe_inputs, _ = trainer.task.probe()
    with torch.no_grad():
        expected_hidden, _ = recurrent(weights_then.adapter(probe_inputs))  # (1, T, H)
        hidden_now, _ = trainer.model.layers[0](trainer.model.adapter(probe_inputs))  # (1, T, H)
    np.testing.assert_allclose(snapshot.trace["hidden"][0, 0], expected_hidden[0].numpy(), atol=1e-5)
    assert not np.allclose(snapshot.trace["hidden"][0, 0], hidden_now[0].numpy(), atol=1e-5)  # it could fail
    assert snapshot.step == 1 and len(snapshot.metrics["loss"]) == 1
    without_probe = finish(with_trace=False)
    assert without_probe.trace is None and without_probe.step == 1


def test_checkpoint_resumes_to_the_same_next_losses(tmp_path):
    trainer = Trainer(SMALL)
    for _ in range(5):
        trainer.step()
    path = tmp_path / "checkpoint.pt"
    torch.save(trainer.checkpoint(), path)
    uninterrupted = [trainer.step().loss for _ in range(3)]
    resumed = Trainer(SMALL)
    resumed.load_checkpoint(torch.load(path, weights_only=True))
    assert resumed.step_count == 5 and len(resumed.metrics.as_columns()["loss"]) == 5
    assert [resumed.step().loss for _ in range(3)] == uninterrupted


def test_a_checkpoint_of_another_architecture_says_what_differs():
    checkpoint = Trainer(SMALL).checkpoint()
    with pytest.raises(ConfigError, match="hidden 8 .this run: 16."):
        Trainer(SMALL.replace(hidden=16)).load_checkpoint(checkpoint)


def test_live_settings_do_not_need_a_new_model():
    assert not needs_new_model(SMALL, SMALL.replace(lr=0.5, clip="value:1", temperature=0.3))
    assert needs_new_model(SMALL, SMALL.replace(hidden=9))
    with pytest.raises(ConfigError):
        Trainer(SMALL).apply(SMALL.replace(cell="gru"))


def test_metrics_seen_earlier_never_change_as_the_log_grows():
    from lstm_viz.core.trainer import MetricsLog

    log = MetricsLog(("step", "loss"))
    seen = []
    for row in range(3000):  # grows the buffer twice
        log.append([row, row * 0.5])
        if row % 700 == 0:
            seen.append(log.as_columns())
    for columns in seen:
        steps = len(columns["step"])
        assert np.array_equal(columns["step"], np.arange(steps))
        assert np.array_equal(columns["loss"], np.arange(steps) * 0.5)
        assert not columns["loss"].flags.writeable
    assert len(log.as_columns()["loss"]) == 3000


TORCH_OPTIMIZERS = {  # what each optimizer should be after a live change to lr 0.003: torch's, lr aside at defaults
    "sgd": lambda params, **fused: torch.optim.SGD(params, lr=0.003, momentum=SMALL.momentum, **fused),
    "adam": lambda params, **fused: torch.optim.Adam(params, lr=0.003, **fused),
    "rmsprop": lambda params, **fused: torch.optim.RMSprop(params, lr=0.003, **fused),
    "adagrad": lambda params, **fused: torch.optim.Adagrad(params, lr=0.003, **fused),
}
FUSED_ON_THE_CPU = ("sgd", "adam", "adagrad")  # the trainer uses torch's fused update where torch has one


def group_settings(optimizer: torch.optim.Optimizer) -> list[dict]:
    return [{key: value for key, value in group.items() if key != "params"} for group in optimizer.param_groups]


@pytest.mark.parametrize("optimizer", TORCH_OPTIMIZERS)
def test_a_live_change_sets_the_learning_rate_and_nothing_of_another_optimizer(optimizer):
    """SGD's momentum once went into RMSprop's groups too (their own momentum, 0): steps then failed."""
    trainer = Trainer(SMALL.replace(optimizer=optimizer))
    trainer.step()
    trainer.apply(trainer.config.replace(lr=0.003))
    fused = {"fused": True} if optimizer in FUSED_ON_THE_CPU else {}
    reference = TORCH_OPTIMIZERS[optimizer]([torch.zeros(1)], **fused)
    assert group_settings(trainer.optimizer) == group_settings(reference)
    assert np.isfinite(trainer.step().loss)


@pytest.mark.parametrize("optimizer", TORCH_OPTIMIZERS)
def test_each_optimizer_updates_the_weights_as_torchs_default_loop_does(optimizer):
    """The fused update (one call for every parameter) is the update of torch's default, step after step."""
    config = SMALL.replace(optimizer=optimizer, lr=0.003)
    trainer = Trainer(config)
    model = copy.deepcopy(trainer.model)
    reference = TORCH_OPTIMIZERS[optimizer](list(model.parameters()))
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(5):
        trainer.step()
        inputs, targets = trainer.task.make_batch(config.batch, generator)
        reference.zero_grad()
        trainer.task.loss(model(inputs)[0], targets).backward()
        reference.step()
    initial = Trainer(config).model.state_dict()
    assert max(float((weight - initial[name]).abs().max()) for name, weight in model.state_dict().items()) > 1e-3
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(trainer.model.state_dict()[name], weight, rtol=0, atol=1e-6, msg=name)


def test_a_checkpoint_of_torchs_default_adam_resumes_in_the_fused_one(tmp_path):
    """Checkpoints saved before the trainer used the fused update hold the default Adam's state: such a run
    resumes with the fused one and goes on as the default would have."""
    before = Trainer(SMALL)
    before._optimizer = torch.optim.Adam(before.parameters, lr=SMALL.lr)  # what the trainer built until now
    for _ in range(3):
        before.step()
    save_checkpoint(tmp_path / "old.pt", before)
    checkpoint = load_checkpoint(tmp_path / "old.pt")
    assert checkpoint["optimizer"]["param_groups"][0]["fused"] is None  # the default's state, not the fused one's
    resumed = restore_trainer(checkpoint)
    assert resumed.optimizer.param_groups[0]["fused"]
    for _ in range(3):
        assert math.isclose(resumed.step().loss, before.step().loss, rel_tol=1e-5)


def test_clipping_by_value_acts_on_the_mean_loss_as_the_readme_says():
    """The loss is a mean over batch and steps: clipping a sequence of T steps at value 5/T is clipping
    min-char-rnn's summed loss to [-5, 5], then dividing by T."""
    steps = 100
    config = RunConfig(task="chars", text="names", seq_len=steps, batch=1, hidden=8, clip=f"value:{5 / steps}")
    trainer = Trainer(config)
    state = trainer.batch_generator.get_state()
    inputs, targets = trainer.task.make_batch(1, trainer.batch_generator)
    trainer.batch_generator.set_state(state)
    logits = trainer.model(inputs)[0][0]  # (T, V)
    summed_loss = torch.nn.functional.cross_entropy(logits, targets[0], reduction="sum")
    summed_grads = torch.autograd.grad(summed_loss, trainer.parameters)
    assert any((grad.abs() > 5).any() for grad in summed_grads)  # min-char-rnn would clip some
    result, seen = step_without_update(trainer)
    assert result.clipped
    for summed_grad, clipped in zip(summed_grads, seen, strict=True):
        assert torch.allclose(clipped, summed_grad.clamp(-5, 5) / steps, rtol=1e-5, atol=1e-8)


def test_architecture_differences_name_the_text_only_between_two_character_models():
    sine, names = RunConfig(task="sine"), RunConfig(task="chars", text="names")
    assert sine.text == "hihello"  # a default no sine model uses
    assert architecture_differences(names, sine, current_is="was") == "task 'chars' (was: 'sine')"
    assert architecture_differences(sine.replace(text="names"), sine) == ""
    hihello = RunConfig(task="chars", text="hihello", seq_len=5)
    assert architecture_differences(names, hihello) == "text 'names' (this run: 'hihello')"  # another vocabulary


# ---- a probe text of the user's ------------------------------------------------------------------
NAMES_ALPHABET = "\nabcdefghijklmnopqrstuvwxyz"  # the names' vocabulary in id order


def test_a_probe_text_is_what_the_trace_shows_exactly():
    """The trace of a typed probe text: its inputs are the text's one-hot codes, its gates and states those of an
    nn.LSTM run on the text, its gradients through time those of the loss on the text's own next characters."""
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=8, seq_len=20, batch=4, seed=2))
    for _ in range(20):
        trainer.step()
    text = "\nmaria\nzoe\nanna"
    trainer.apply(trainer.config.replace(probe_text=text))
    trace = trainer.snapshot(with_view=False).trace
    ids = torch.tensor([NAMES_ALPHABET.index(char) for char in text])  # (T+1,)
    one_hot = torch.nn.functional.one_hot(ids[:-1], len(NAMES_ALPHABET)).double()  # (T, V)
    assert np.array_equal(trace.lstm_input, one_hot.numpy())
    assert list(trace.probe_target) == ids[1:].tolist()

    reference = torch.nn.LSTM(len(NAMES_ALPHABET), 8).double()
    reference.load_state_dict({name: value.double() for name, value in trainer.model.layers[0].state_dict().items()})
    with torch.no_grad():
        fused_hidden = reference(one_hot)[0]  # (T, H)
    weight_ih, weight_hh = reference.weight_ih_l0.detach(), reference.weight_hh_l0.detach()  # (4H, V) (4H, H)
    bias = (reference.bias_ih_l0 + reference.bias_hh_l0).detach()  # (4H,)
    head_weight, head_bias = (parameter.detach().double() for parameter in trainer.model.head.parameters())
    hidden, cell = torch.zeros(8, dtype=torch.float64, requires_grad=True), torch.zeros(8, dtype=torch.float64)
    gates, hiddens, cells = [], [], []
    for step in range(len(text) - 1):
        pre_activations = weight_ih @ one_hot[step] + weight_hh @ hidden + bias  # (4H,) torch's order i|f|g|o
        input_gate, forget_gate, candidate, output_gate = pre_activations.chunk(4)
        input_gate, forget_gate, output_gate = (torch.sigmoid(gate) for gate in (input_gate, forget_gate, output_gate))
        candidate = torch.tanh(candidate)
        cell = forget_gate * cell + input_gate * candidate  # (H,)
        hidden = output_gate * torch.tanh(cell)  # (H,)
        hidden.retain_grad()
        gates.append(torch.stack([input_gate, forget_gate, candidate, output_gate]).detach())
        hiddens.append(hidden)
        cells.append(cell)
    logits = torch.stack(hiddens) @ head_weight.T + head_bias  # (T, V)
    torch.nn.functional.cross_entropy(logits, ids[1:]).backward()  # the text's own next characters

    gates = torch.stack(gates)  # (T, 4, H)
    names = ("input_gate", "forget_gate", "cell_candidate", "output_gate")
    for index, name in enumerate(names):
        assert np.abs(trace[name][0, 0] - gates[:, index].numpy()).max() < 1e-5, name
    assert np.abs(trace["hidden"][0, 0] - fused_hidden.numpy()).max() < 1e-5
    assert np.abs(trace["hidden"][0, 0] - torch.stack(hiddens).detach().numpy()).max() < 1e-5
    assert np.abs(trace["cell"][0, 0] - torch.stack(cells).detach().numpy()).max() < 1e-5
    grad_hidden = torch.stack([hidden.grad for hidden in hiddens]).numpy()  # (T, H)
    assert np.abs(trace["grad_hidden"][0, 0] - grad_hidden).max() < 1e-5 * max(1.0, np.abs(grad_hidden).max())
    assert trace.labels == tuple("⏎maria⏎zoe⏎ann")


def test_a_refused_probe_text_changes_nothing():
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=4, seq_len=10, batch=2, probe_text="\nbob\n"))
    config, before = trainer.config, trainer.snapshot(with_view=False).trace
    with pytest.raises(ConfigError, match="'B'"):
        trainer.apply(config.replace(probe_text="Bob", lr=0.5))
    assert trainer.config == config
    after = trainer.snapshot(with_view=False).trace
    assert np.array_equal(after.probe_input, before.probe_input) and after.labels == tuple("⏎bob")


def test_a_probe_text_change_is_an_event(tmp_path):
    trainer = Trainer(RunConfig(task="chars", text="names", hidden=4, seq_len=10, batch=2))
    trainer.record_to(tmp_path / "run", history_mb=0)
    trainer.step()
    trainer.apply(trainer.config.replace(probe_text="\n" + "abcdefghij" * 5))
    trainer.apply(trainer.config.replace(probe_text=""))
    trainer.finish_recording()
    rows = (tmp_path / "run" / "events.csv").read_text(encoding="utf-8").splitlines()[1:]
    shortened = "'\\nabcdefghijabcdefghijabcdefghijabcdefgh…'"  # quoted: its first 39 characters, then "…"
    assert rows[0] == f"1,change,probe_text the text's own → {shortened}", rows[0]
    assert rows[1].startswith("1,change,probe_text '"), rows[1]
    assert rows[1].endswith("→ the text's own"), rows[1]


# ---- the device --------------------------------------------------------------------------------------
def test_device_auto_is_cuda_only_when_torch_sees_a_gpu_and_cuda_without_one_is_refused(monkeypatch):
    from lstm_viz.core.trainer import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="--device cuda: torch sees no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="auto, cpu, cuda"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda") and resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


def test_on_the_cpu_the_model_trained_is_the_model_probed_and_checkpoints_hold_cpu_tensors():
    trainer = Trainer(SMALL, device="cpu")
    trainer.step()
    assert trainer.cpu_model() is trainer.model
    checkpoint = trainer.checkpoint()
    tensors = [*checkpoint["model"].values(), *checkpoint["optimizer"]["state"][0].values()]
    assert all(tensor.device.type == "cpu" for tensor in tensors)
    assert checkpoint["model"]["head.weight"].data_ptr() != trainer.model.head.weight.data_ptr()  # a copy


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_the_gpu_probes_a_cpu_copy_equal_to_torchs_cpu_lstm(tmp_path):
    config = SMALL.replace(hidden=16, seq_len=30)
    gpu = Trainer(config, device="cuda")
    for _ in range(5):
        gpu.step()
    assert all(parameter.device.type == "cuda" for parameter in gpu.model.parameters())
    trace = gpu.snapshot().trace
    # The reference, on the CPU: torch's own nn.LSTM and head with the weights trained on the GPU.
    weights = {name: value.cpu() for name, value in gpu.model.state_dict().items()}
    lstm = torch.nn.LSTM(1, 16, batch_first=True)
    layer = {name.removeprefix("layers.0."): value for name, value in weights.items() if name.startswith("layers.0.")}
    lstm.load_state_dict(layer)
    head = torch.nn.Linear(16, 1)
    head.load_state_dict({"weight": weights["head.weight"], "bias": weights["head.bias"]})
    inputs, targets = gpu.task.probe()
    with torch.no_grad():
        output, (_, final_cell) = lstm(inputs)  # (1, T, H)
        loss = float(gpu.task.loss(head(output), targets))
    assert np.abs(trace["hidden"][0, 0] - output[0].numpy()).max() < 1e-5
    assert np.abs(trace["cell"][0, 0, -1] - final_cell[0, 0].numpy()).max() < 1e-5
    assert trace.loss == pytest.approx(loss, rel=1e-5)
    # A checkpoint saved on the GPU loads on the CPU and training goes on there.
    path = tmp_path / "checkpoint.pt"
    torch.save(gpu.checkpoint(), path)
    cpu = Trainer(config, device="cpu")
    cpu.load_checkpoint(torch.load(path, weights_only=True))
    assert cpu.step_count == 5 and np.isfinite(cpu.step().loss)
