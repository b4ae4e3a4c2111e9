"""Unlabelled images, domain adaptation and transductive methods on a generated domain shift: shapes (the
classes) labelled in one palette, classified in another (see imagegen.make_domain_shift).

Seen on this machine (EfficientNet-Lite0, 4-way 1-shot, 10 unlabelled images per class, 20 queries, seed 0):
inductive nearest centroid 50%; coral 75%, soft_kmeans 70%, pseudo_label 70%, adabn 50%; pt_map 90% (100%
transductive), tim 95% (100%), laplacian_shot 75% (80%).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from imagegen import make_domain_shift, shape_pool

from fewshot_studio.core.adaptation import MSG_NO_PROTOTYPES, AdaptationError
from fewshot_studio.core.algorithms import TransductiveFallback, get_method
from fewshot_studio.core.backbones import get_backbone
from fewshot_studio.core.backbones.cache import load_backbone
from fewshot_studio.core.classifier import FewShotClassifier
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.episodes import EpisodeSampler
from fewshot_studio.core.errors import FewShotError
from fewshot_studio.core.fingerprint import support_fingerprint
from fewshot_studio.core.support import SupportSet


@pytest.fixture(scope="module")
def shift(tmp_path_factory):
    root = tmp_path_factory.mktemp("shift")
    support_dir, pool_dir, truth = make_domain_shift(root, shots=1, unlabelled=10, queries=5, colours=1)
    return support_dir, pool_dir, truth


def support_with_pool(shift) -> SupportSet:
    support_dir, pool_dir, _ = shift
    support, _ = SupportSet.from_folder(support_dir)
    assert support.add_unlabelled_files([pool_dir]) == []
    return support


def accuracy(clf, truth, transductive=False) -> float:
    preds, skipped = clf.predict(sorted(truth), transductive=transductive)
    assert not skipped
    return sum(p.label == truth[Path(p.path)] for p in preds) / len(preds)


@pytest.fixture(scope="module")
def baseline(shift):
    """Inductive nearest centroid (Prototypical Networks, frozen features): the answer to beat."""
    support, _ = SupportSet.from_folder(shift[0])
    acc = accuracy(AdaptRun(support, "efficientnet_lite0", "prototypical").run(), shift[2])
    assert 0.3 <= acc <= 0.6, f"the generated shift should be hard for nearest centroid, got {acc:.0%}"
    return acc


@pytest.mark.parametrize("method", ["pt_map", "tim", "laplacian_shot"])
def test_transductive_methods_beat_nearest_centroid_across_the_domain_gap(shift, baseline, method):
    clf = AdaptRun(support_with_pool(shift), "efficientnet_lite0", method).run()
    assert clf.method.transductive and clf.info["support"]["unlabelled"] == 40
    inductive, jointly = accuracy(clf, shift[2]), accuracy(clf, shift[2], transductive=True)
    print(f"{method}: inductive {inductive:.0%}, transductive {jointly:.0%}, nearest centroid {baseline:.0%}")
    assert inductive >= baseline + 0.2 and jointly >= baseline + 0.25


@pytest.mark.parametrize("stages", ["coral", "soft_kmeans", "pseudo_label"])
def test_feature_stages_beat_nearest_centroid_on_the_same_features(shift, baseline, stages):
    run = AdaptRun(support_with_pool(shift), "efficientnet_lite0", "prototypical", domain_adaptation=stages)
    clf = run.run()
    acc = accuracy(clf, shift[2])
    print(f"prototypical + {stages}: {acc:.0%}, nearest centroid {baseline:.0%}")
    assert acc >= baseline + 0.15
    assert [s["name"] for s in clf.info["domain_adaptation"]] == [stages]
    assert clf.support_features.shape[0] == 4  # pseudo-labelled images join the fit, not the saved support


def test_adabn_adapts_a_private_copy_and_the_model_file_keeps_it(shift, baseline, tmp_path):
    shared, _ = load_backbone(get_backbone("efficientnet_lite0"), "pretrained")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    clf = AdaptRun(support_with_pool(shift), "efficientnet_lite0", "prototypical", domain_adaptation="adabn").run()
    assert all(torch.equal(v, shared.state_dict()[k]) for k, v in before.items()), "the cached backbone changed"
    changed = [k for k, v in clf.backbone.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all("running" in k or "num_batches" in k for k in changed)  # statistics only
    acc = accuracy(clf, shift[2])
    print(f"prototypical + adabn: {acc:.0%}, nearest centroid {baseline:.0%}")
    assert acc >= baseline
    again = FewShotClassifier.load(clf.save(tmp_path / "adabn.safetensors"))
    assert again.meta["backbone"]["included"] and accuracy(again, shift[2]) == acc


def test_adabn_embeds_the_support_with_its_own_statistics_or_with_the_target_s(shift):
    """``source``: the support keeps its own batch-norm statistics (two domains) or is embedded like the queries,
    with the target's (one domain). A support image classified by the model then is, or is not, its own twin."""
    support = support_with_pool(shift)
    images = [str(p) for c in support.classes for p in c.images]

    def self_similarity(source):
        clf = AdaptRun(support, "efficientnet_lite0", "prototypical", domain_adaptation=f"adabn:source={source}").run()
        (stage,) = clf.info["domain_adaptation"]
        assert stage["name"] == "adabn" and stage["params"]["source"] == source
        preds, _ = clf.predict(images)
        return min(next((s for path, _, s in p.nearest if path == p.path), 0.0) for p in preds)

    assert self_similarity("target") > 0.999, "one domain: the support went through the queries' backbone"
    assert self_similarity("support") < 0.99, "two domains: the support kept its own statistics"


def test_tent_trains_only_the_normalisation_layers_of_a_copy(shift):
    shared, _ = load_backbone(get_backbone("efficientnet_lite0"), "pretrained")
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    clf = AdaptRun(support_with_pool(shift), "efficientnet_lite0", "prototypical",
                   domain_adaptation=["tent:steps=2:batch_size=4"]).run()
    assert all(torch.equal(v, shared.state_dict()[k]) for k, v in before.items())
    norms = {n for n, m in clf.backbone.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    changed = {k for k, v in clf.backbone.state_dict().items() if not torch.equal(v, before[k])}
    assert any(k.endswith(".weight") for k in changed)
    assert all(k.rsplit(".", 1)[0] in norms for k in changed), "only normalisation layers may change"
    assert not any(p.requires_grad for p in clf.backbone.parameters())


def test_stages_refuse_without_a_pool_or_with_a_method_they_cannot_serve(shift):
    support, _ = SupportSet.from_folder(shift[0])
    with pytest.raises(AdaptationError, match="needs unlabelled images"):
        AdaptRun(support, "efficientnet_lite0", "prototypical", domain_adaptation="adabn")
    with pytest.raises(AdaptationError) as info:
        AdaptRun(support_with_pool(shift), "efficientnet_lite0", "linear_probe", domain_adaptation="soft_kmeans")
    assert str(info.value) == MSG_NO_PROTOTYPES.format(method="linear_probe")
    with pytest.raises(AdaptationError, match="keep the backbone frozen"):
        AdaptRun(support_with_pool(shift), "efficientnet_lite0", "prototypical", {"finetune_steps": 2},
                 domain_adaptation="coral")
    with pytest.raises(FewShotError, match="unknown domain adaptation 'bogus'; choose one of: adabn"):
        AdaptRun(support_with_pool(shift), "efficientnet_lite0", "prototypical", domain_adaptation="bogus")


def test_the_guard_keeps_the_inductive_answer_for_too_few_images_and_says_so(shift):
    support, _ = SupportSet.from_folder(shift[0])
    clf = AdaptRun(support, "efficientnet_lite0", "tim").run()  # no pool: only the images given classify jointly
    few = sorted(shift[2])[:3]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        joint, _ = clf.predict(few, transductive=True)
    assert [str(w.message).split(";")[0] for w in caught if w.category is TransductiveFallback] == [
        "only 3 image(s) to classify jointly for 4 classes (fewer than 8)"]
    alone, _ = clf.predict(few)
    assert [p.top_k for p in joint] == [p.top_k for p in alone]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransductiveFallback)
        clf.predict(sorted(shift[2]), transductive=True)  # 20 images: enough, no warning


def test_an_inductive_method_refuses_transductive_prediction(shift):
    support, _ = SupportSet.from_folder(shift[0])
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()
    with pytest.raises(FewShotError, match="prototypical classifies each image on its own"):
        clf.predict(sorted(shift[2]), transductive=True)


def test_a_saved_transductive_model_keeps_its_pool_and_answers_the_same(shift, tmp_path):
    clf = AdaptRun(support_with_pool(shift), "efficientnet_lite0", "pt_map").run()
    again = FewShotClassifier.load(clf.save(tmp_path / "ptmap.safetensors"))
    assert again.meta["support"]["unlabelled"] == 40 and again.method.pool.shape == (40, 1280)
    for transductive in (False, True):
        a, _ = clf.predict(sorted(shift[2]), transductive=transductive)
        b, _ = again.predict(sorted(shift[2]), transductive=transductive)
        assert [p.label for p in a] == [p.label for p in b]


def test_the_pool_is_part_of_the_support_set_file_and_its_fingerprint(shift, tmp_path):
    support = support_with_pool(shift)
    plain, _ = SupportSet.from_folder(shift[0])
    assert support_fingerprint(support) != support_fingerprint(plain)
    assert support.summary()["unlabelled"] == 40 and plain.summary()["unlabelled"] == 0
    support.save(tmp_path / "set.json")
    data = json.loads((tmp_path / "set.json").read_text())
    assert len(data["unlabelled"]) == 40 and not Path(data["unlabelled"][0]).is_absolute()
    again = SupportSet.load(tmp_path / "set.json")
    assert [p.resolve() for p in again.unlabelled] == [p.resolve() for p in support.unlabelled]
    plain.save(tmp_path / "plain.json")
    assert "unlabelled" not in json.loads((tmp_path / "plain.json").read_text())  # files as before
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    skipped = support.add_unlabelled_files([bad, shift[1]])
    assert [s.path for s in skipped] == [bad] and len(support.unlabelled) == 40
    support.clear_unlabelled()
    assert support.unlabelled == [] and support_fingerprint(support) == support_fingerprint(plain)


def test_episodes_draw_their_own_pool_of_the_same_classes_disjoint_from_support_and_queries():
    pool = shape_pool(per_class=12, size=16)
    plain = EpisodeSampler(pool, 4, 1, 3, seed=3).episode(5)
    ep = EpisodeSampler(pool, 4, 1, 3, seed=3, unlabelled=5).episode(5)
    assert torch.equal(ep.support, plain.support) and torch.equal(ep.query, plain.query)
    assert ep.unlabelled.shape == (20, 3, 16, 16) and plain.unlabelled is None
    seen = {t.numpy().tobytes() for t in torch.cat([ep.support, ep.query])}
    assert not seen & {t.numpy().tobytes() for t in ep.unlabelled}
    mine = {pool.images(c, torch.arange(pool.count(c)))[i].numpy().tobytes() for c in ep.classes
            for i in range(pool.count(c))}
    assert {t.numpy().tobytes() for t in ep.unlabelled} <= mine


def test_every_transductive_method_declares_itself_and_has_an_inductive_fallback():
    for name in ("pt_map", "tim", "laplacian_shot"):
        assert get_method(name).transductive
    assert not get_method("prototypical").transductive


def test_soft_kmeans_caps_what_a_large_pool_weighs_against_the_labelled_examples():
    """Ren et al.'s weighting lets 100 unlabelled images drag a one-shot prototype onto themselves (the 5-shot,
    100-per-class loss of the first benchmark); ``pool_weight`` keeps the labelled example's share."""
    from types import SimpleNamespace

    from fewshot_studio.core.adaptation import AdaptationContext, SoftKMeans

    e = torch.eye(4)
    leaning = torch.nn.functional.normalize(0.3 * e[0] + e[2], dim=0)  # nearer class 0 than class 1
    pool = leaning.repeat(100, 1)

    def refined(**params):
        method = get_method("prototypical").for_backbone("pretrained", {})
        method.context = {"prototypes": e[:2].clone()}
        task = SimpleNamespace(labels=torch.tensor([0, 1]), n_classes=2)
        SoftKMeans(**params).apply(AdaptationContext(task=task, method=method, pool_features=pool))
        return method.class_prototypes

    free, capped = refined(pool_weight=0.0, sharpness=1.0), refined(pool_weight=1.0, sharpness=1.0)
    assert free[0, 0] < 0.4, "uncapped: the pool outweighs the labelled example a hundred to one"
    assert capped[0, 0] >= (1 + leaning[0]) / 2 - 1e-5, "capped at 1x: the labelled example keeps half the weight"
    assert refined()[0, 0] > free[0, 0], "the default caps the pool too"


def test_adabn_s_prior_keeps_that_share_of_the_pretrained_statistics():
    import copy
    from types import SimpleNamespace

    from fewshot_studio.core.adaptation import reestimate_batch_norm

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    pretrained = net[1].running_mean.clone(), net[1].running_var.clone()
    task = SimpleNamespace(embed_batch=8, preprocess=SimpleNamespace(view=lambda x: x))
    target = torch.randn(16, 3, 8, 8) * 3 + 2

    def stats(prior):
        adapted = copy.deepcopy(net)
        reestimate_batch_norm(adapted, task, target, "adabn", prior)
        assert not adapted.training
        return adapted[1].running_mean, adapted[1].running_var

    own, half, kept = stats(0.0), stats(0.5), stats(1.0)
    assert not torch.allclose(own[0], pretrained[0]), "the target's statistics differ from the pretrained ones"
    assert torch.allclose(half[0], (own[0] + pretrained[0]) / 2) and torch.allclose(half[1], (own[1] + pretrained[1]) / 2)
    assert torch.equal(kept[0], pretrained[0]) and torch.equal(kept[1], pretrained[1])
