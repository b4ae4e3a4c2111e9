"""Calibrated confidence: fitting the temperature, the expected calibration error, and the model keeping it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from imagegen import make_confusable_folder, make_queries

from fewshot_studio.core.calibration import (UNCALIBRATED, Calibration, expected_calibration_error,
                                             fit_temperature, reliability_bins)
from fewshot_studio.core.classifier import load_classifier
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.model_io import read_metadata
from fewshot_studio.core.runs import Stage
from fewshot_studio.core.support import SupportSet


def _sampled(true_t: float, n: int = 4000, c: int = 5, seed: int = 0):
    """Logits whose labels are drawn from softmax(logits / true_t): true_t is the right temperature."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=g) * 4
    labels = torch.multinomial(F.softmax(logits / true_t, dim=-1), 1, generator=g).flatten()
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 3.0])
def test_fitting_recovers_a_known_temperature(true_t):
    logits, labels = _sampled(true_t)
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.1)


def test_ece_of_a_calibrated_toy_is_near_zero_and_of_an_overconfident_one_is_not():
    logits, labels = _sampled(2.0, n=20000)
    assert expected_calibration_error(F.softmax(logits / 2.0, dim=-1), labels) < 0.02
    overconfident = expected_calibration_error(F.softmax(logits * 5, dim=-1), labels)
    assert overconfident > 0.2
    bins = reliability_bins(F.softmax(logits / 2.0, dim=-1), labels)
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 20000
    assert bins[0]["count"] == 0 and bins[0]["accuracy"] is None  # five classes: confidence is never below 0.2
    full = [b for b in bins if b["count"] > 500]
    assert all(abs(b["accuracy"] - b["confidence"]) < 0.05 for b in full)


def test_all_right_held_out_predictions_give_the_rule_of_succession_not_certainty():
    g = torch.Generator().manual_seed(3)
    labels = torch.arange(12) % 3
    logits = torch.randn(12, 3, generator=g) + 6 * F.one_hot(labels, 3)  # every prediction right
    t = fit_temperature(logits, labels)
    mean_top = float(F.softmax(logits / t, dim=-1).max(dim=-1).values.mean())
    assert mean_top == pytest.approx(13 / 14, abs=1e-3) and t > 1e-3


def test_degenerate_inputs_keep_temperature_one():
    assert fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)) == 1.0
    assert Calibration.from_dict(None) is UNCALIBRATED and not UNCALIBRATED.calibrated
    assert Calibration.from_dict({"temperature": -2}) is UNCALIBRATED


@pytest.fixture(scope="module")
def confusable(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib")
    support = SupportSet.from_folder(make_confusable_folder(root / "set", per_class=5))[0]
    return support, list(make_queries(root / "queries", classes=("blue_square", "red_circle"), per_class=2, size=64))


def test_adapt_with_a_frozen_backbone_calibrates_and_the_file_keeps_it(confusable, tmp_path):
    support, queries = confusable
    run = AdaptRun(support, "efficientnet_lite0", "prototypical")
    events = list(run)
    assert any(isinstance(e, Stage) and e.name == "calibrating confidence" for e in events)
    clf = run.result
    cal = clf.calibration
    assert cal.calibrated and cal.method == "loo-nll" and cal.images == 15 and cal.temperature != 1.0
    assert cal.ece_after <= cal.ece_before + 1e-9
    with torch.no_grad():
        base = torch.cat([clf.preprocess.load([q]) for q in queries])
        feats, _ = clf.features(clf.preprocess.view(base))
        raw = F.softmax(clf.method.logits(feats.float()), dim=-1)
    shown, _ = clf.predict(queries, top_k=3)
    expected = F.softmax(clf.method.logits(feats.float()) / cal.temperature, dim=-1)
    for p, row, raw_row in zip(shown, expected, raw):
        assert p.confidence == pytest.approx(float(row.max()), abs=1e-5)
        assert p.confidence != pytest.approx(float(raw_row.max()), abs=1e-4)
    path = clf.save(tmp_path / "m.safetensors")
    meta = read_metadata(path)
    assert meta["calibration"]["temperature"] == pytest.approx(cal.temperature)
    again = load_classifier(path)
    assert again.calibration.temperature == pytest.approx(cal.temperature)
    assert again.predict(queries)[0][0].confidence == pytest.approx(shown[0].confidence, abs=1e-5)


def test_no_calibration_when_asked_and_older_files_load_uncalibrated(confusable, tmp_path):
    support, queries = confusable
    clf = AdaptRun(support, "efficientnet_lite0", "prototypical", calibrate=False).run()
    assert clf.calibration is UNCALIBRATED
    path = clf.save(tmp_path / "old.safetensors")
    assert "calibration" not in read_metadata(path)  # what files saved before calibration look like
    again = load_classifier(path)
    assert again.calibration.temperature == 1.0 and again.calibration.describe() == "uncalibrated"


def test_the_onnx_export_gives_predicts_calibrated_probabilities(confusable, tmp_path):
    pytest.importorskip("onnxruntime")
    import json

    import numpy as np

    from fewshot_studio.core.export_onnx import export_onnx, open_session, read_onnx_metadata, studio_input

    support, queries = confusable
    # frozen Conv-4 (an untrained Conv-4 fine-tunes by default, and then calibrates only when asked)
    clf = AdaptRun(support, "conv4", "prototypical", {"finetune_steps": 0, "backbone_lr": 0.0}, seed=0).run()
    assert clf.calibration.calibrated and abs(clf.calibration.temperature - 1) > 0.05
    path = export_onnx(clf, tmp_path / "m.onnx")
    meta = json.loads(read_onnx_metadata(path)["calibration"])
    assert meta["temperature"] == pytest.approx(clf.calibration.temperature) and "softmax" in meta["applied"]
    shown, _ = clf.predict(queries, top_k=3)
    base = torch.cat([clf.preprocess.load([q]) for q in queries])
    probs = open_session(path).run(["probabilities"], {"image": studio_input(clf.preprocess, base)})[0]
    for p, row in zip(shown, probs):
        assert clf.class_names[int(np.argmax(row))] == p.label
        for name, score in p.top_k:
            assert row[clf.class_names.index(name)] == pytest.approx(score, abs=1e-4)


def test_a_method_that_trains_the_backbone_calibrates_only_when_asked_by_adapting_per_fold(confusable):
    support, _ = confusable
    assert AdaptRun(support, "conv4", "maml", {"adapt_steps": 2}).run().calibration is UNCALIBRATED
    run = AdaptRun(support, "conv4", "maml", {"adapt_steps": 2}, calibrate=True)
    stages = {e.name for e in run if isinstance(e, Stage)}
    assert {f"calibrating confidence: fold {f} of 5" for f in range(1, 6)} <= stages
    cal = run.result.calibration
    assert cal.method == "cv-nll" and cal.images == 15 and cal.temperature > 0
