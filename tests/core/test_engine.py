"""Adaptation runs as the Python API's user sees them: events, accuracy, cancel, NaN, seeds, caching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from imagegen import make_image_folder, make_queries

from fewshot_studio.core.algorithms import METHODS, FewShotMethod, StepReport
from fewshot_studio.core.backbones.cache import clear_caches
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.runs import Progress, Stage
from fewshot_studio.core.errors import DeviceError, DivergedError, RunCancelled, SupportSetError
from fewshot_studio.core.params import hparam
from fewshot_studio.core.support import SupportSet


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", per_class=4, size=64))
    truth = make_queries(root / "query", per_class=3, size=64)
    return support, truth


def accuracy(clf, truth) -> float:
    preds, skipped = clf.predict(list(truth))
    assert not skipped
    return sum(p.label == truth[Path(p.path)] for p in preds) / len(preds)


@pytest.mark.parametrize("method, params", [
    ("prototypical", {}),
    ("prototypical", {"distance": "euclidean"}),
    ("prototypical", {"distance": "l2"}),
    ("linear_probe", {"steps": 30}),
    # fine-tuning asked for, but nothing to train (frozen backbone, no learned modules): one step, no crash
    ("matching", {"finetune_steps": 5, "backbone_lr": 0.0}),
    ("prototypical", {"finetune_steps": 5, "backbone_lr": 0.0}),
])
def test_frozen_methods_classify_held_out_images(shapes, method, params):
    support, truth = shapes
    run = AdaptRun(support, "efficientnet_lite0", method, params)
    events = list(run)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.step for p in progress] == list(range(1, run.method.total_steps() + 1))
    assert all(p.total == run.method.total_steps() and p.device == "CPU" for p in progress)
    assert progress[-1].accuracy == 1.0
    assert accuracy(run.result, truth) == 1.0


@pytest.mark.parametrize("method, params", [
    ("prototypical", {"finetune_steps": 2}),
    ("finetune", {"steps": 2, "batch_size": 6}),
])
def test_methods_that_train_the_backbone_leave_the_shared_backbone_alone(shapes, method, params):
    support, truth = shapes
    frozen = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    before = {k: v.clone() for k, v in frozen.backbone.state_dict().items()}
    run = AdaptRun(support, "efficientnet_lite0", method, params)
    trained = run.run()
    assert trained.backbone is not frozen.backbone
    assert all(torch.equal(v, frozen.backbone.state_dict()[k]) for k, v in before.items())
    changed = [k for k, v in trained.backbone.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "fine-tuning should change the backbone"
    assert accuracy(trained, truth) >= 8 / 9


def test_events_start_with_preparation_and_frozen_features_are_cached(shapes):
    support, _ = shapes
    clear_caches()
    first = list(AdaptRun(support, "efficientnet_lite0", "prototypical"))
    assert isinstance(first[0], Stage) and first[0].name == "building backbone"
    assert any(isinstance(e, Stage) and e.name == "embedding support images" for e in first)
    again = list(AdaptRun(support, "efficientnet_lite0", "linear_probe", {"steps": 3}))
    assert not any(isinstance(e, Stage) and e.name == "embedding support images" for e in again)


def test_cancel_stops_between_steps(shapes):
    support, _ = shapes
    run = AdaptRun(support, "conv4", "finetune", {"steps": 50})
    steps = []
    with pytest.raises(RunCancelled) as info:
        for event in run:
            if isinstance(event, Progress):
                steps.append(event.step)
                if event.step == 2:
                    run.cancel()
    assert steps == [1, 2]
    assert info.value.step == 2 and "previous model is kept" in str(info.value)
    assert run.result is None


@dataclass
class _NaNParams:
    nan_at: int = hparam(3, "step at which the loss becomes NaN", low=1, high=100)


class _Diverging(FewShotMethod):
    """Test double: trains the backbone into NaN at a chosen step."""

    name = title = description = "diverging"
    Params = _NaNParams

    def trains_backbone(self):
        return True

    def total_steps(self):
        return 10

    def fit(self, task):
        for step in range(1, 11):
            loss = 1.0 / step
            if step == self.params.nan_at:
                with torch.no_grad():
                    for p in task.backbone.parameters():
                        p.fill_(float("nan"))
                loss = float("nan")
            yield StepReport(loss, 0.5, 0.1)

    def logits(self, features):
        return features[:, :2]

    def head_state(self):
        return {}

    def load_head_state(self, state):
        pass


def test_nan_loss_stops_the_run_and_keeps_the_last_good_model(shapes):
    support, truth = shapes
    good = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    METHODS.add("diverging", _Diverging)
    try:
        run = AdaptRun(support, "efficientnet_lite0", "diverging")
        steps = []
        with pytest.raises(DivergedError, match="the loss became nan at step 3.*previous model is kept"):
            for e in run:
                if isinstance(e, Progress):
                    steps.append(e.step)
        assert steps == [1, 2] and run.result is None
    finally:
        METHODS.remove("diverging")
    assert accuracy(good, truth) == 1.0
    assert accuracy(AdaptRun(support, "efficientnet_lite0", "prototypical").run(), truth) == 1.0


def test_same_seed_same_model_other_seed_other_model(shapes):
    support, _ = shapes

    def weights(seed):
        clf = AdaptRun(support, "conv4", "finetune", {"steps": 3}, seed=seed, weights="random").run()
        return clf.method.head.weight.detach().clone()

    a, b, c = weights(1), weights(1), weights(2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_bad_support_sets_and_devices_are_refused_before_anything_runs(tmp_path, shapes):
    with pytest.raises(SupportSetError, match="at least 2 classes"):
        AdaptRun(SupportSet([("only", [tmp_path / "a.png"])]))
    support, _ = shapes
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            AdaptRun(support, device="cuda")


def test_a_support_image_deleted_after_import_is_named(tmp_path):
    root = make_image_folder(tmp_path / "s", per_class=2, size=32)
    support, _ = SupportSet.from_folder(root)
    victim = support["red_circle"].images[0]
    victim.unlink()
    from fewshot_studio.core.errors import ImageError

    with pytest.raises(ImageError, match="red_circle_0.png: file not found"):
        AdaptRun(support, "conv4", "prototypical").run()


class _Greedy(_Diverging):
    """Test double: the GPU runs out of memory in the middle of fitting."""

    def fit(self, task):
        yield StepReport(1.0, 0.5, 0.1)
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_becomes_advice(shapes):
    support, _ = shapes
    METHODS.add("greedy", _Greedy)
    try:
        with pytest.raises(DeviceError, match="ran out of memory.*previous model is kept.*--device cpu"):
            AdaptRun(support, "conv4", "greedy").run()
    finally:
        METHODS.remove("greedy")
