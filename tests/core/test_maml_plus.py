"""MAML++ options of the MAML family and the outer learning-rate schedule, each seen in what it trains."""

from __future__ import annotations

import math

import pytest
import torch
from imagegen import make_image_folder, make_look_dataset
from torch import nn

from fewshot_studio.core.algorithms import get_method
from fewshot_studio.core.algorithms.functional import BatchStatNorm2d, to_batch_stat_norm
from fewshot_studio.core.algorithms.maml_plus import step_loss_weights
from fewshot_studio.core.backbones import get_backbone
from fewshot_studio.core.backbones.base import Backbone
from fewshot_studio.core.checkpoints import Checkpoint
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.errors import UnknownNameError
from fewshot_studio.core.meta_train import MetaObjective, MetaTrainConfig, MetaTrainRun
from fewshot_studio.core.runs import Progress
from fewshot_studio.core.schedules import scheduled_lr
from fewshot_studio.core.support import SupportSet


def tiny_backbone() -> Backbone:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), BatchStatNorm2d(4), nn.ReLU())
    return Backbone("tiny", net, lambda t, x: t(x).mean(dim=(2, 3))).double()


def batch(b=2, ways=3, shots=2, queries=2, size=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(b, ways * shots, 3, size, size, generator=g, dtype=torch.float64)
    xq = torch.randn(b, ways * queries, 3, size, size, generator=g, dtype=torch.float64)
    ys = torch.arange(ways).repeat_interleave(shots).expand(b, -1).contiguous()
    yq = torch.arange(ways).repeat_interleave(queries).expand(b, -1).contiguous()
    return xs, ys, xq, yq, ways


def meta_gradient(method, backbone, data, step: int = 0):
    """(loss, gradients of the backbone and of the method's modules) at meta-step ``step``."""
    method.on_meta_step(step, 100)
    objective = MetaObjective(method, backbone)
    objective.zero_grad(set_to_none=True)
    loss, _, _ = objective(*data)
    loss.backward()
    return loss.item(), {k: p.grad.clone() for k, p in objective.named_parameters() if p.grad is not None}


def close(a: dict, b: dict, rtol=1e-9) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], rtol=rtol, atol=1e-12) for k in a)


# --- learned per-layer per-step inner learning rates (LSLR) -----------------------------------------------------
@pytest.mark.parametrize("name", ["maml", "fomaml", "anil"])
def test_learned_inner_rates_are_meta_trained_and_start_as_plain_maml(name):
    backbone, data = tiny_backbone(), batch()
    plain_loss, plain = meta_gradient(get_method(name)(inner_steps=2, batched="loop"), backbone, data)
    method = get_method(name)(inner_steps=2, batched="loop", learned_inner_lr=True)
    method.prepare_backbone(backbone)
    method.meta_modules().double()
    loss, got = meta_gradient(method, backbone, data)
    rates = {k: v for k, v in got.items() if k.startswith("nets.")}
    adapted = ["head.weight", "head.bias"] + ([] if name == "anil" else [n for n, _ in backbone.named_parameters()])
    assert set(rates) == {"nets.inner_lr." + k.replace(".", "__") for k in adapted}  # ANIL adapts only the head
    assert all(g.shape == (2,) and g.abs().sum() > 0 for g in rates.values())  # every layer's rates learn,
    assert bool((sum(g.abs() for g in rates.values()) > 0).all())  # and so do those of every inner step
    # (not each tensor at each step: from a zero head, a balanced support set's first bias gradient is 0)
    # the rates start at inner_lr: the backbone's meta-gradient is MAML's until they move
    assert loss == pytest.approx(plain_loss, rel=1e-12)
    assert close({k: v for k, v in got.items() if k not in rates}, plain)


def test_learned_rates_replace_inner_lr_when_adapting_after_a_checkpoint():
    backbone, data = tiny_backbone(), batch()
    xs, ys, xq, _, ways = data
    method = get_method("maml")(inner_steps=2, batched="loop", learned_inner_lr=True)
    method.prepare_backbone(backbone)
    state = {f"nets.{k}": torch.zeros_like(v) for k, v in method.meta_modules().state_dict().items()}
    frozen = get_method("maml")()  # a later session, default options: the checkpoint's rates still apply
    frozen.load_meta_state(state)
    # rates of zero: adapting changes nothing, the head stays at zero, every query gets class 0
    assert frozen.episode_predict(backbone, xs[0], ys[0], xq[0], ways).tolist() == [0] * len(xq[0])
    assert get_method("maml")().episode_predict(backbone, xs[0], ys[0], xq[0], ways).tolist() != [0] * len(xq[0])


# --- multi-step loss (MSL) --------------------------------------------------------------------------------------
def test_step_loss_weights_anneal_from_uniform_to_the_last_step():
    assert step_loss_weights(4, 0, 10) == [0.25] * 4
    assert step_loss_weights(4, 5, 10) == pytest.approx([0.125, 0.125, 0.125, 0.625])
    assert step_loss_weights(4, 10, 10) == [0, 0, 0, 1] == step_loss_weights(4, 50, 10)
    assert step_loss_weights(3, 0, 0) == [0, 0, 1]
    assert all(sum(step_loss_weights(5, t, 7)) == pytest.approx(1) for t in range(10))


@pytest.mark.parametrize("name", ["maml", "fomaml", "anil"])
def test_multi_step_loss_weighs_every_inner_step_then_becomes_the_last_steps_loss(name):
    backbone, data = tiny_backbone(), batch()
    after_one, _ = meta_gradient(get_method(name)(inner_steps=1, batched="loop"), backbone, data)
    after_two, last = meta_gradient(get_method(name)(inner_steps=2, batched="loop"), backbone, data)
    msl = get_method(name)(inner_steps=2, batched="loop", multi_step_loss=True, msl_anneal_steps=10)
    start, _ = meta_gradient(msl, backbone, data, step=0)
    assert start == pytest.approx((after_one + after_two) / 2, rel=1e-12)
    half, _ = meta_gradient(msl, backbone, data, step=5)
    assert half == pytest.approx(0.25 * after_one + 0.75 * after_two, rel=1e-12)
    done, annealed = meta_gradient(msl, backbone, data, step=10)
    assert done == after_two and close(annealed, last)  # after N meta-steps: MAML's own objective


# --- derivative-order annealing ---------------------------------------------------------------------------------
def test_derivative_order_annealing_is_first_order_before_n_then_second_order():
    backbone, data = tiny_backbone(), batch()
    _, first = meta_gradient(get_method("fomaml")(batched="loop"), backbone, data)
    _, second = meta_gradient(get_method("maml")(batched="loop"), backbone, data)
    assert not close(first, second, rtol=1e-3)
    annealed = get_method("maml")(batched="loop", first_order_steps=3)
    for step in (0, 2):
        assert close(meta_gradient(annealed, backbone, data, step)[1], first)
    for step in (3, 50):
        assert close(meta_gradient(annealed, backbone, data, step)[1], second)


@pytest.mark.parametrize("name", ["maml", "fomaml", "anil"])
def test_vmap_and_loop_agree_with_every_option(name):
    torch.manual_seed(0)
    backbone = to_batch_stat_norm(get_backbone("conv4").build("random")).double()
    xs, ys, xq, yq, ways = batch(b=2, ways=3, shots=1, queries=2, size=28)
    options = dict(inner_steps=2, multi_step_loss=True, learned_inner_lr=True, first_order_steps=5)
    grads = {}
    for mode in ("loop", "vmap"):
        method = get_method(name)(batched=mode, **options)
        method.prepare_backbone(backbone)
        method.meta_modules().double()
        grads[mode] = meta_gradient(method, backbone, (xs, ys, xq, yq, ways), step=2)[1]
    assert any(k.startswith("nets.") for k in grads["loop"])
    assert close(grads["vmap"], grads["loop"], rtol=1e-7)


# --- meta-training: the schedule, and the rates in checkpoints --------------------------------------------------
def test_cosine_schedule_from_lr_to_about_zero():
    lrs = [scheduled_lr("cosine", 1e-3, s, 200) for s in range(200)]
    assert lrs[0] == 1e-3 and lrs[-1] < 1e-3 * 1e-3 and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert lrs[100] == pytest.approx(5e-4)
    assert scheduled_lr("constant", 1e-3, 199, 200) == 1e-3
    with pytest.raises(UnknownNameError, match="constant, cosine"):
        scheduled_lr("linear", 1e-3, 0, 10)


@pytest.fixture(scope="module")
def looks(tmp_path_factory):
    return [str(make_look_dataset(tmp_path_factory.mktemp("light") / "light", "light"))]


def config(datasets, tmp_path, **changes) -> MetaTrainConfig:
    base = dict(datasets=datasets, method="maml", params={"learned_inner_lr": True, "batched": "loop"},
                backbone="conv4", weights="random", image_size=28, ways=3, shots=1, queries=2, meta_batch=2,
                steps=4, val_every=0, val_episodes=3, val_fraction=0.5, device="cpu", lr=1e-2,
                lr_schedule="cosine", output=str(tmp_path / "m.safetensors"))
    return MetaTrainConfig(**{**base, **changes})


def heard(run: MetaTrainRun) -> list:
    """The meta-steps the run's method hears of (MAML++'s annealing reads them)."""
    calls, hook = [], run.method.on_meta_step
    run.method.on_meta_step = lambda step, total: (calls.append((step, total)), hook(step, total))
    return calls


def test_meta_training_follows_the_schedule_across_resume_and_saves_the_rates_it_learns(looks, tmp_path):
    run = MetaTrainRun(config(looks, tmp_path / "a"))
    steps = heard(run)
    whole = [e.lr for e in run if isinstance(e, Progress)]
    assert steps == [(0, 4), (1, 4), (2, 4), (3, 4)] and run.method.meta_step == 3
    assert whole == pytest.approx([0.5e-2 * (1 + math.cos(math.pi * s / 4)) for s in range(4)])
    assert whole[0] == 1e-2
    list(MetaTrainRun(config(looks, tmp_path / "b", steps=2)))
    last = tmp_path / "b" / "m.last.safetensors"
    rates = {k: v for k, v in Checkpoint(last).method_state().items() if k.startswith("nets.inner_lr.")}
    assert len(rates) == 2 + len(list(get_backbone("conv4").build("random").parameters()))
    assert all(v.shape == (2,) for v in rates.values())  # one per inner step
    assert any((v - 0.4).abs().max() > 1e-3 for v in rates.values())  # moved from inner_lr by the meta-steps
    resumed = MetaTrainRun(config(["ignored"], tmp_path / "b", steps=4), resume=last)
    assert resumed.config.lr_schedule == "cosine"
    steps = heard(resumed)
    lrs = [e.lr for e in resumed if isinstance(e, Progress)]
    assert steps == [(2, 4), (3, 4)]
    assert lrs == pytest.approx(whole[2:])  # the schedule's position follows the step, over the new total


def test_a_resumed_run_continues_from_the_learned_rates(looks, tmp_path):
    def rates(path):
        return {k: v for k, v in Checkpoint(path).method_state().items() if k.startswith("nets.inner_lr.")}

    constant = {"lr_schedule": "constant"}  # (a cosine run of 2 steps anneals over 2: not the 4-step run's first half)
    list(MetaTrainRun(config(looks, tmp_path / "a", **constant)))
    list(MetaTrainRun(config(looks, tmp_path / "b", steps=2, **constant)))
    list(MetaTrainRun(config(["ignored"], tmp_path / "b", steps=4), resume=tmp_path / "b" / "m.last.safetensors"))
    straight, interrupted = rates(tmp_path / "a" / "m.last.safetensors"), rates(tmp_path / "b" / "m.last.safetensors")
    assert straight.keys() == interrupted.keys()
    for k in straight:
        torch.testing.assert_close(interrupted[k], straight[k], rtol=1e-5, atol=1e-6)


def test_adapting_on_a_maml_plus_plus_checkpoint_uses_its_learned_rates(looks, tmp_path):
    run = MetaTrainRun(config(looks, tmp_path, steps=1, lr_schedule="constant", lr=0.05))
    list(run)
    saved = Checkpoint(run.result).method_state()
    first_step = [v[0].item() for k, v in saved.items() if k.startswith("nets.inner_lr.")]
    support, _ = SupportSet.from_folder(make_image_folder(tmp_path / "support", per_class=2, size=40))
    adapt = AdaptRun(support, str(run.result), "maml", {"adapt_steps": 2}, calibrate=False)
    lrs = [e.lr for e in adapt if isinstance(e, Progress)]
    assert lrs[0] == pytest.approx(sum(first_step) / len(first_step), rel=1e-5) and lrs[0] != pytest.approx(0.4)
