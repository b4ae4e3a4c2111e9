"""Multi-task training: one backbone on two generated labelled datasets, a head each, then used as a backbone."""

from __future__ import annotations

import json

import pytest
import torch
from imagegen import save_pool, shape_pool
from safetensors import safe_open

from fewshot_studio.core.backbones import get_backbone
from fewshot_studio.core.episodes import DatasetError, EpisodeSampler
from fewshot_studio.core.errors import ParameterError, RunCancelled
from fewshot_studio.core.evaluation import evaluate_episodes
from fewshot_studio.core.multitask import MultiTaskConfig, MultiTaskRun, MultiTaskValidation
from fewshot_studio.core.runs import Progress


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Two labelled datasets of 12 classes each (colours 0-2 and 3-5 of the generated shapes, as class folders)
    and 8 held-out classes (colours 6-7) that training never sees."""
    pool = shape_pool(per_class=10, size=28)
    root = tmp_path_factory.mktemp("multitask")
    by_colour = lambda lo, hi: [c for c in range(len(pool)) if lo <= int(pool.groups[c][6:]) < hi]  # noqa: E731
    a, b = save_pool(pool, root / "A", by_colour(0, 3)), save_pool(pool, root / "B", by_colour(3, 6))
    return a, b, pool.subset(by_colour(6, 8))


def centroid_accuracy(spec, held_out, pre=None):
    """5-way 1-shot nearest-centroid accuracy of ``spec``'s backbone (its default weights) on held-out classes
    (fixed episodes); ``pre``: its preprocessing (default: the spec's)."""
    backbone, pre = spec.build().eval(), pre or spec.preprocess

    @torch.no_grad()
    def predict(ep):
        support, query = backbone(pre.view(ep.support)), backbone(pre.view(ep.query))
        centroids = torch.stack([support[ep.support_labels == k].mean(0) for k in range(ep.ways)])
        return torch.cdist(query, centroids).argmin(-1)

    return evaluate_episodes(predict, EpisodeSampler(held_out, 5, 1, 5, seed=99), 100).mean


def test_multi_task_backbone_beats_the_untrained_one_on_held_out_classes(shapes, tmp_path):
    """Seen on this machine: the untrained Conv-4 (its fixed initialisation) 35.8%, after these 60 steps 54.1%."""
    a, b, held_out = shapes
    out = tmp_path / "mt.safetensors"
    run = MultiTaskRun(MultiTaskConfig([str(a), str(b)], image_size=28, steps=60, batch_size=16, lr=3e-3,
                                       val_every=0, device="cpu", output=str(out)))
    events = list(run)
    assert run.result == out and out.exists()
    steps = [e for e in events if isinstance(e, Progress)]
    assert [e.step for e in steps] == list(range(1, 61)) and steps[-1].lr < steps[0].lr / 100  # cosine, to ~0
    spec = get_backbone(str(out))
    assert spec.family == "checkpoint" and "trained on A, B with a head each (60 steps" in spec.description
    assert spec.method_state("prototypical") is None  # the heads are not a method's modules
    conv4 = get_backbone("conv4")  # the run's starting point: the default, fixed initialisation
    untrained = centroid_accuracy(conv4, held_out, conv4.preprocess.at_size(28))
    trained = centroid_accuracy(spec, held_out)
    assert trained >= untrained + 0.10, f"multi-task {trained:.1%}, untrained {untrained:.1%}"
    with safe_open(str(out), framework="pt") as f:
        meta = json.loads(f.metadata()["fewshot_studio"])
        heads = {k: f.get_slice(k).get_shape() for k in f.keys() if k.startswith("nets.")}
    assert [len(h["classes"]) for h in meta["heads"]] == [12, 12]
    assert heads["nets.0.weight"] == [12, 64] and heads["nets.1.weight"] == [12, 64]


def test_validation_reports_each_dataset_and_keeps_the_best(shapes, tmp_path):
    a, b, _ = shapes
    out = tmp_path / "mt.safetensors"
    run = MultiTaskRun(MultiTaskConfig([a, b], image_size=28, steps=5, batch_size=4, val_every=2,
                                       val_fraction=0.2, device="cpu", output=str(out)))
    checks = [e for e in run if isinstance(e, MultiTaskValidation)]
    assert [e.step for e in checks] == [2, 4, 5]  # and the last step
    assert all(list(e.accuracies) == [str(a), str(b)] for e in checks)
    assert all(e.mean == pytest.approx(sum(e.accuracies.values()) / 2) for e in checks)
    best = max(checks, key=lambda e: (e.mean, -e.step))
    assert [e.best for e in checks if e.best][-1] and best.best
    with safe_open(str(out), framework="pt") as f:
        meta = json.loads(f.metadata()["fewshot_studio"])
    assert meta["training"] == "multi-task" and meta["best"]["mean"] == pytest.approx(best.mean)
    assert meta["step"] == best.step and meta["config"]["datasets"] == [str(a), str(b)]


def test_cancel_stops_between_steps(shapes, tmp_path):
    a, b, _ = shapes
    run = MultiTaskRun(MultiTaskConfig([a, b], image_size=28, steps=50, batch_size=2, val_every=0, device="cpu",
                                       output=str(tmp_path / "mt.safetensors")))
    seen = []
    with pytest.raises(RunCancelled):
        for event in run:
            if isinstance(event, Progress):
                seen.append(event.step)
                run.cancel()
    assert seen == [1] and run.result is None
    assert get_backbone(str(tmp_path / "mt.safetensors")).meta["step"] == 1  # what was learnt is kept


def test_bad_datasets_are_refused_in_words(shapes, tmp_path):
    a, _, _ = shapes
    with pytest.raises(DatasetError, match="dataset not found"):
        MultiTaskRun(MultiTaskConfig([a, tmp_path / "nope"], output=str(tmp_path / "x.safetensors")))
    with pytest.raises(ParameterError, match="given twice"):
        MultiTaskRun(MultiTaskConfig([a, a], output=str(tmp_path / "x.safetensors")))
    one = tmp_path / "one"
    (one / "only").mkdir(parents=True)
    (one / "only" / "0.png").write_bytes((a / "cross-0" / "0.png").read_bytes())
    run = MultiTaskRun(MultiTaskConfig([a, one], image_size=28, output=str(tmp_path / "x.safetensors")))
    with pytest.raises(DatasetError, match="at least 2 classes"):
        list(run)
