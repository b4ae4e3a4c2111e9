"""Cross-validation on the support set, comparing methods, and "None of these" (open-set rejection)."""

from __future__ import annotations

import pytest
import torch
from imagegen import make_confusable_folder, make_image_folder, make_queries

from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.runs import Stage
from fewshot_studio.core.errors import FewShotError, RunCancelled, SupportSetError
from fewshot_studio.core.classifier import load_classifier
from fewshot_studio.core.model_io import read_metadata
from fewshot_studio.core.openset import calibrate_from_features
from fewshot_studio.core.support import SupportSet
from fewshot_studio.core.validation import (Candidate, Comparison, CrossValidation, FoldDone, plan_folds,
                                            wilson_interval)


@pytest.fixture(scope="module")
def confusable(tmp_path_factory):
    return SupportSet.from_folder(make_confusable_folder(tmp_path_factory.mktemp("cv") / "set", per_class=6))[0]


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    root = tmp_path_factory.mktemp("openset")
    support = SupportSet.from_folder(make_image_folder(root / "known", per_class=6, size=64))[0]
    unseen = make_queries(root / "unseen", classes=("yellow_cross",), per_class=8, size=64)
    queries = make_queries(root / "queries", per_class=4, size=64)
    return support, list(unseen), queries


def test_a_confusable_pair_shows_in_the_confusion_matrix_and_the_distinct_class_is_clean(confusable):
    cv = CrossValidation(confusable, "efficientnet_lite0", "prototypical")
    events = list(cv)
    folds = [e for e in events if isinstance(e, FoldDone)]
    assert any(isinstance(e, Stage) for e in events), "embedding is reported before the folds"
    assert [e.fold for e in folds] == list(range(1, 19)) and folds[-1].seen == 18
    r = cv.result
    assert r.scheme == "leave-one-out" and r.n == 18 and r.fast
    names = r.class_names
    a, b, d = names.index("circle_a"), names.index("circle_b"), names.index("blue_square")
    m = r.confusion()
    assert m[a][b] > 0 and m[b][a] > 0, m
    assert m[d] == [6 if j == d else 0 for j in range(3)] and m[a][d] == m[b][d] == 0, m
    rows = {c["name"]: c for c in r.per_class()}
    assert rows["blue_square"]["accuracy"] == 1.0 and rows["blue_square"]["precision"] == 1.0
    assert rows["circle_a"]["accuracy"] < 1.0
    low, high = r.ci95
    assert 0 <= low < r.accuracy < high <= 1
    wrong = r.misclassified()
    assert len(wrong) == m[a][b] + m[b][a] and folds[-1].correct == r.correct == 18 - len(wrong)
    assert {(w.true, w.predicted) for w in wrong} <= {("circle_a", "circle_b"), ("circle_b", "circle_a")}
    assert all(0 < w.confidence <= 1 for w in wrong)
    assert set(r.cell(a, b)) == {w.path for w in r.misclassified(a, b)}
    data = r.to_dict()
    assert data["confusion"] == m and len(data["misclassified"]) == len(wrong)


def test_folds_are_stratified_and_bad_input_says_what_to_do(tmp_path):
    labels = [0] * 7 + [1] * 3 + [2] * 12
    plan, scheme = plan_folds(labels, 5, frozen=True)
    assert scheme == "stratified 5-fold" and sorted(i for f in plan for i in f) == list(range(22))
    for test in plan:
        left = [y for i, y in enumerate(labels) if i not in test]
        assert set(left) == {0, 1, 2}, "every class keeps an image to learn from"
    assert plan_folds(labels, "auto", frozen=True)[1] == "leave-one-out"
    assert plan_folds(labels * 3, "auto", frozen=True)[1] == "stratified 5-fold"
    assert plan_folds(labels, "auto", frozen=False)[1] == "stratified 5-fold"
    with pytest.raises(SupportSetError, match="folds must be"):
        plan_folds(labels, "many", frozen=True)
    root = make_image_folder(tmp_path / "s", per_class=2, size=32)
    support = SupportSet.from_folder(root)[0]
    support.remove_images("red_circle", support["red_circle"].images[1:])
    with pytest.raises(SupportSetError, match="'red_circle' has only one image.*add at least one more image"):
        CrossValidation(support, "conv4", "prototypical")
    assert wilson_interval(10, 10)[0] > 0.65 and wilson_interval(10, 10)[1] == 1.0


def test_cancel_stops_between_folds(confusable):
    cv = CrossValidation(confusable, "conv4", "prototypical", folds="loo")
    seen = []
    with pytest.raises(RunCancelled):
        for event in cv:
            if isinstance(event, FoldDone):
                seen.append(event.fold)
                if event.fold == 3:
                    cv.cancel()
    assert seen == [1, 2, 3] and cv.result is None


def test_a_method_that_trains_the_backbone_adapts_once_per_fold(confusable):
    cv = CrossValidation(confusable, "conv4", "finetune", {"steps": 3, "batch_size": 8}, folds=2)
    events = list(cv)
    assert not cv.result.fast and cv.result.scheme == "stratified 2-fold" and cv.result.n == 18
    assert sum(isinstance(e, FoldDone) for e in events) == 2
    assert any(isinstance(e, Stage) and e.name.startswith("fold 2 of 2: adapting") for e in events)


def test_compare_methods_reports_accuracy_and_time_side_by_side(confusable):
    comparison = Comparison(confusable, [Candidate("conv4", "prototypical"), Candidate("conv4", "linear_probe",
                                                                                        {"steps": 20}),
                                         Candidate("resnet18", "prototypical")])
    list(comparison)
    ok = [r for r in comparison.rows if r.result is not None]
    assert [r.candidate.method for r in ok] == ["prototypical", "linear_probe"]
    failed = comparison.rows[-1]
    assert failed.result is None and "resnet18" in failed.error, "missing weights: reported, not fatal"
    assert comparison.best in ok
    row = ok[0].to_dict()
    assert row["ci95"][0] <= row["accuracy"] <= row["ci95"][1] and row["seconds"] > 0


def test_open_set_rejects_an_unseen_class_and_keeps_the_known_ones(known, tmp_path):
    support, unseen, queries = known
    cv = CrossValidation(support, "efficientnet_lite0", "prototypical")
    list(cv)
    rule = cv.result.open_set_rule()
    assert rule.enabled and rule.held_out == cv.result.correct and 0 < rule.threshold < 1
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical").run()

    plain, _ = clf.predict(unseen)
    assert not any(p.unknown for p in plain) and all(p.label for p in plain), "off by default"
    with pytest.raises(FewShotError, match="no open-set threshold"):
        clf.predict(unseen, open_set=True)

    clf.open_set = rule
    rejected, _ = clf.predict(unseen)
    assert sum(p.unknown for p in rejected) >= 6, [p.similarity for p in rejected]
    assert all(p.label is None and p.top_k for p in rejected if p.unknown)
    kept, _ = clf.predict(list(queries))
    accepted = [p for p in kept if not p.unknown]
    assert len(accepted) >= 2 * len(kept) // 3, [p.similarity for p in kept]
    assert all(p.label == queries[__import__("pathlib").Path(p.path)] for p in accepted)
    assert clf.predict(unseen, open_set=False)[0][0].label is not None
    row = rejected[0].to_dict()
    assert row["unknown"] is True and row["label"] is None and row["similarity"] < rule.threshold

    path = clf.save(tmp_path / "m.safetensors")
    assert read_metadata(path)["open_set"]["threshold"] == pytest.approx(rule.threshold)
    again = load_classifier(path)
    assert again.open_set == rule
    assert [p.unknown for p in again.predict(unseen)[0]] == [p.unknown for p in rejected]

    clf.open_set = None  # a model file from before open-set support: no key, loads, no rejection
    old = load_classifier(clf.save(tmp_path / "old.safetensors"))
    assert "open_set" not in read_metadata(tmp_path / "old.safetensors") and old.open_set is None
    quick = calibrate_from_features(old.support_features, old.support_labels)
    assert quick.threshold == pytest.approx(rule.threshold, abs=0.05)
    assert torch.is_tensor(old.support_features)


def test_each_fold_starts_from_the_modules_a_meta_training_checkpoint_holds(tmp_path, confusable):
    from fewshot_studio.core.backbones import BACKBONES, get_backbone, rescan_checkpoints
    from fewshot_studio.core.meta_train import MetaTrainConfig, MetaTrainRun

    base = make_image_folder(tmp_path / "base", classes=("red_circle", "blue_square", "green_triangle",
                                                          "yellow_cross"), per_class=4, size=32)
    run = MetaTrainRun(MetaTrainConfig(datasets=[str(base)], method="relation", backbone="conv4", image_size=28,
                                       ways=2, shots=1, queries=1, meta_batch=1, steps=2, val_every=100,
                                       val_episodes=2, val_fraction=0.5))
    list(run)
    rescan_checkpoints()
    name = run.config.output_path().stem
    try:
        state = get_backbone(name).method_state("relation")
        fold_method = CrossValidation(confusable, name, "relation")._fresh_method()
    finally:
        BACKBONES.remove(name)  # its file goes with this test's folder: no stale backbone for later tests
    nets = fold_method.nets.state_dict()
    assert state and all(torch.equal(nets[k[len("nets."):]], v) for k, v in state.items() if k.startswith("nets."))


@pytest.fixture(scope="module")
def shifted(tmp_path_factory):
    from imagegen import make_domain_shift

    support_dir, pool_dir, _ = make_domain_shift(tmp_path_factory.mktemp("cv-shift"), kinds=("circle", "square"),
                                                 shots=3, unlabelled=4, queries=0, colours=1)
    support = SupportSet.from_folder(support_dir)[0]
    assert support.add_unlabelled_files([pool_dir]) == []
    return support


def test_with_domain_adaptation_every_fold_adapts_with_the_stages_and_the_pool(shifted):
    plain = CrossValidation(shifted, "efficientnet_lite0", "prototypical")
    plain.run()
    assert plain.fast and plain.result.domain_adaptation == [] and plain.result.unlabelled == 0, \
        "no stage and an inductive method: the pool plays no part"
    cv = CrossValidation(shifted, "efficientnet_lite0", "prototypical", domain_adaptation="soft_kmeans")
    folds = [e for e in cv if isinstance(e, FoldDone)]
    r = cv.result
    assert not cv.fast and len(folds) == cv.total_folds == 5 and r.scheme == "stratified 5-fold", \
        "a whole adaptation per fold: k-fold, not leave-one-out"
    assert r.domain_adaptation == ["soft_kmeans"] and r.unlabelled == 8 and r.n == 6
    assert r.to_dict()["domain_adaptation"] == ["soft_kmeans"] and r.to_dict()["unlabelled"] == 8
    assert not torch.allclose(torch.tensor(r.logits), torch.tensor(plain.result.logits)), \
        "the refined prototypes classify the held-out images differently"


def test_a_stage_the_method_cannot_take_is_refused_and_in_a_comparison_reported_as_that_candidate_s_error(shifted):
    with pytest.raises(FewShotError, match="soft_kmeans refines class prototypes"):
        CrossValidation(shifted, "efficientnet_lite0", "linear_probe", domain_adaptation="soft_kmeans")
    with pytest.raises(FewShotError, match="needs unlabelled images"):
        CrossValidation(SupportSet((c.name, c.images) for c in shifted.classes), "efficientnet_lite0",
                        "prototypical", domain_adaptation="coral")
    comparison = Comparison(shifted, [Candidate("efficientnet_lite0", "prototypical"),
                                      Candidate("efficientnet_lite0", "linear_probe")], domain_adaptation="soft_kmeans")
    comparison.run()
    ok, refused = comparison.rows
    assert ok.result is not None and ok.result.domain_adaptation == ["soft_kmeans"]
    assert refused.result is None and "soft_kmeans refines class prototypes" in refused.error
