"""Calibrated confidence from the command line: validate reports the calibration error, predict the calibrated
probabilities, adapt --no-calibrate keeps the raw softmax."""

from __future__ import annotations

import json

import pytest
from clihelp import cli
from imagegen import make_confusable_folder, make_queries


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib-cli")
    return {"support": make_confusable_folder(root / "set", per_class=5),
            "queries": sorted(make_queries(root / "queries", classes=("red_circle", "blue_square"), per_class=2,
                                           size=64)),
            "root": root}


def test_validate_reports_the_calibration_error_before_and_after_with_bins(data):
    r = json.loads(cli("validate", data["support"], "--algorithm", "prototypical", "--json").stdout)
    cal = r["calibration"]
    assert cal["method"] == "loo-nll" and cal["images"] == 15 and cal["temperature"] > 0
    assert 0 <= cal["ece_after"] <= cal["ece_before"] + 1e-9 <= 1
    assert len(cal["bins_before"]) == len(cal["bins_after"]) == 10
    assert sum(b["count"] for b in cal["bins_before"]) == sum(b["count"] for b in cal["bins_after"]) == 15
    text = cli("validate", data["support"], "--algorithm", "prototypical").stdout
    line = next(x for x in text.splitlines() if x.startswith("calibration: expected calibration error"))
    assert f"{cal['ece_before']:.3f} before" in line and f"{cal['ece_after']:.3f} after" in line


def test_predict_prints_the_calibrated_numbers(data):
    calibrated, raw = data["root"] / "cal.safetensors", data["root"] / "raw.safetensors"
    out = cli("adapt", data["support"], "--algorithm", "prototypical", "-o", calibrated).stdout
    assert "confidence: calibrated, temperature" in out
    out = cli("adapt", data["support"], "--algorithm", "prototypical", "--no-calibrate", "-o", raw).stdout
    assert "confidence: uncalibrated" in out
    meta = json.loads(cli("inspect", calibrated, "--json").stdout)
    t = meta["calibration"]["temperature"]
    assert "calibration" not in json.loads(cli("inspect", raw, "--json").stdout)

    got = json.loads(cli("predict", calibrated, *data["queries"], "--json", "--top-k", "3").stdout)
    base = json.loads(cli("predict", raw, *data["queries"], "--json", "--top-k", "3").stdout)
    import math

    for g, b in zip(got, base):
        assert g["label"] == b["label"]  # a temperature never changes the order of the classes
        # softmax(z / T) from softmax(z): p_i^(1/T) renormalised (all three classes are listed)
        powered = {s["label"]: s["score"] ** (1 / t) for s in b["top_k"]}
        total = sum(powered.values())
        for s in g["top_k"]:
            assert math.isclose(s["score"], powered[s["label"]] / total, rel_tol=1e-3, abs_tol=1e-6)
    assert any(abs(g["confidence"] - b["confidence"]) > 1e-3 for g, b in zip(got, base))
    text = cli("predict", calibrated, data["queries"][0]).stdout
    assert f"{got[0]['confidence']:.1%}" in text
