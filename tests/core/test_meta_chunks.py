"""The meta-step back-propagates a chunk of tasks at a time (core/meta_step.py): the gradients are those of
the whole meta-batch's mean loss in one backward pass, for every meta-trainable method."""

from __future__ import annotations

import pytest
import torch

from fewshot_studio.core.algorithms import get_method, is_meta_learner, list_methods
from fewshot_studio.core.algorithms.episodic import EpisodicMethod
from fewshot_studio.core.backbones import get_backbone
from fewshot_studio.core.meta_step import chunk_bounds, meta_backward
from fewshot_studio.core.meta_train import MetaObjective

METHODS = [cls.name for cls in list_methods() if is_meta_learner(cls)]


# MAML++ options of the MAML family (core/algorithms/maml.py): multi-step loss, learned inner learning rates
# (the method's own meta-modules) and derivative-order annealing (first order at the meta-step these tests run)
MAML_PLUS = {"multi_step_loss": True, "learned_inner_lr": True, "first_order_steps": 1}
CASES = [(name, {}) for name in METHODS] + [(name, MAML_PLUS) for name in ("maml", "fomaml", "anil")] + [
    ("maml", {"multi_step_loss": True, "msl_anneal_steps": 0, "learned_inner_lr": True})]  # second order


def objective_for(name: str, seed: int = 0, options: dict | None = None) -> MetaObjective:
    torch.manual_seed(seed)
    method = get_method(name)(**({"batched": "loop"} if name in ("maml", "fomaml", "anil") else {}), **(options or {}))
    backbone = method.prepare_backbone(get_backbone("conv4").build("random")).double()
    method.meta_modules().double()
    if isinstance(method, EpisodicMethod):
        with torch.no_grad():
            probe = method.features_of(backbone, torch.zeros(1, 3, 28, 28, dtype=torch.float64))
        method.ensure_nets(tuple(probe.shape[1:]), "cpu")
        method.nets.double()
    return MetaObjective(method, backbone).train()


def meta_batch(b=3, ways=3, shots=2, queries=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(b, ways * shots, 3, 28, 28, generator=g, dtype=torch.float64)
    xq = torch.randn(b, ways * queries, 3, 28, 28, generator=g, dtype=torch.float64)
    ys = torch.stack([torch.randperm(ways, generator=g).repeat_interleave(shots) for _ in range(b)])
    yq = torch.arange(ways).repeat_interleave(queries).expand(b, -1).contiguous()
    return xs, ys, xq, yq, ways


def grads(objective) -> list[torch.Tensor]:
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in objective.parameters()]


def test_chunk_bounds_cover_the_batch_once():
    assert chunk_bounds(5, 2) == [(0, 2), (2, 4), (4, 5)]
    assert chunk_bounds(3, 1 << 30) == [(0, 3)]
    assert chunk_bounds(3, 0) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("name, options", CASES)
def test_chunked_gradients_equal_the_whole_batch_backward(name, options):
    data = meta_batch()
    whole = objective_for(name, options=options)
    loss, report, acc = whole(*data)
    loss.backward()
    expected = grads(whole)
    assert sum(g.abs().sum() for g in expected) > 0
    for chunk in (1, 2):  # one task at a time, and uneven chunks (2 + 1): each is weighted by its share
        chunked = objective_for(name, options=options)
        got_report, got_acc = meta_backward(chunked, chunk, *data)
        for a, b in zip(grads(chunked), expected):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
        assert got_report == pytest.approx(report.item(), rel=1e-9)
        assert got_acc == pytest.approx(acc.item(), rel=1e-6)  # accuracies are float32


def test_maml_keeps_the_whole_batch_in_one_chunk_where_it_vmaps():
    method = get_method("maml")()
    assert method.meta_chunk("cpu") == 1
    assert method.meta_chunk("cuda") >= 32  # vmap over every task on a GPU (the loop is faster on CPUs)
    assert get_method("maml")(batched="vmap").meta_chunk("cpu") >= 32
    assert get_method("prototypical")().meta_chunk("cuda") == 1


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_every_method_with_its_defaults_says_how_many_tasks_a_chunk_holds(name, device):
    """What meta-training asks each step (Reptile, a MAML relative without MAML's `batched`, once crashed)."""
    method = get_method(name)()
    assert method.meta_chunk(device) >= 1 and method.use_vmap(device) in (True, False)


def test_no_tensor_of_a_chunk_outlives_it():
    """While a chunk runs, nothing the previous chunk made is alive: its inputs, loss, report and accuracy are freed
    before the next chunk's are made (a pair of scalars kept per chunk fragmented the heap: ProtoNet 5-shot at
    meta-batch 32 peaked at 427 MB above the start against 178; BENCHMARKS.md, item 4 after the heap fix)."""
    import weakref

    objective = objective_for("prototypical")
    made = []  # weak references to what each chunk made, by chunk

    def view(x):
        out = x.clone()  # a new tensor, as the uint8-to-float view of meta-training makes
        made.append([weakref.ref(out)])
        return out

    class Recording(torch.nn.Module):
        def forward(self, xs, ys, xq, yq, ways):
            alive = [r for refs in made[:-2] for r in refs if r() is not None]  # the last two: this chunk's views
            assert not alive, f"{len(alive)} tensors of an earlier chunk are alive while a chunk runs"
            loss, report, acc = objective(xs, ys, xq, yq, ways)
            made[-1].extend(weakref.ref(t) for t in (loss, report, acc))
            return loss, report, acc

    xs, ys, xq, yq, ways = meta_batch(b=4)
    report, acc = meta_backward(Recording(), 1, xs, ys, xq, yq, ways, view)
    assert len(made) == 8  # support and query views of four chunks
    whole_loss, whole_report, whole_acc = objective_for("prototypical")(xs, ys, xq, yq, ways)
    assert report == pytest.approx(whole_report.item(), rel=1e-9)
    assert acc == pytest.approx(whole_acc.item(), rel=1e-6)
