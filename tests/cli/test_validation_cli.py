"""validate, compare and open-set prediction from the command line, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import make_confusable_folder, make_image_folder, make_queries


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cv-cli")
    return {"confusable": make_confusable_folder(root / "confusable", per_class=5),
            "known": make_image_folder(root / "known", per_class=6, size=64),
            "unseen": list(make_queries(root / "unseen", classes=("yellow_cross",), per_class=6, size=64)),
            "queries": make_queries(root / "queries", per_class=3, size=64), "root": root}


def test_validate_prints_the_table_and_json_has_the_confusion_matrix(data):
    out = cli("validate", data["confusable"], "--backbone", "efficientnet_lite0", "--algorithm", "prototypical",
              "--json")
    r = json.loads(out.stdout)
    assert r["scheme"] == "leave-one-out" and r["images"] == 15
    names = [c["name"] for c in r["classes"]]
    a, b, d = names.index("circle_a"), names.index("circle_b"), names.index("blue_square")
    m = r["confusion"]
    assert m[a][b] + m[b][a] > 0 and m[d][d] == 5 and m[a][d] == m[b][d] == m[d][a] == m[d][b] == 0
    assert r["ci95"][0] <= r["accuracy"] <= r["ci95"][1]
    assert {x["true"] for x in r["misclassified"]} <= {"circle_a", "circle_b"}
    assert all(Path(x["path"]).is_file() and 0 < x["confidence"] <= 1 for x in r["misclassified"])
    assert 0 < r["open_set"]["threshold"] < 1

    text = cli("validate", data["confusable"], "--backbone", "conv4", "--folds", "3").stdout
    assert "stratified 3-fold" in text and "confusion matrix" in text and "blue_square" in text
    assert "accuracy" in text.splitlines()[1] and "95% CI" in text.splitlines()[1]


def test_compare_ranks_methods_and_bad_input_is_one_line(data, tmp_path):
    out = cli("compare", data["confusable"], "--backbone", "efficientnet_lite0", "--algorithm", "prototypical",
              "--algorithm", "linear_probe", "--param", "steps=20", "--json")
    r = json.loads(out.stdout)
    assert [(x["method"], x["backbone"]) for x in r["rows"]] == [("prototypical", "efficientnet_lite0"),
                                                                 ("linear_probe", "efficientnet_lite0")]
    assert r["rows"][1]["params"] == {"steps": "20"} and r["rows"][0]["params"] == {}
    assert all(x["seconds"] > 0 and x["ci95"][0] <= x["accuracy"] <= x["ci95"][1] for x in r["rows"])
    assert r["best"]["accuracy"] == max(x["accuracy"] for x in r["rows"])

    single = make_image_folder(tmp_path / "single", per_class=1, size=32)
    assert_one_line_error(cli("validate", single, "--backbone", "conv4", check_rc=None),
                          "only one image", "add at least one more image")


def test_adapt_open_set_then_predict_reports_unknown_images(data):
    model = data["root"] / "open.safetensors"
    out = cli("adapt", data["known"], "--backbone", "efficientnet_lite0", "--algorithm", "prototypical",
              "--open-set", "--output", model)
    assert "open set:" in out.stdout and "saved" in out.stdout
    rows = json.loads(cli("predict", model, *data["unseen"], *data["queries"], "--json").stdout)
    unseen = [r for r in rows if Path(r["path"]) in set(data["unseen"])]
    known = [r for r in rows if Path(r["path"]) in data["queries"]]
    assert sum(r["unknown"] for r in unseen) >= 4, unseen
    assert all(r["label"] is None and r["top_k"] for r in unseen if r["unknown"])
    accepted = [r for r in known if not r["unknown"]]
    assert len(accepted) >= 6 and all(r["label"] == data["queries"][Path(r["path"])] for r in accepted)

    off = cli("predict", model, *data["unseen"], "--no-open-set").stdout
    assert "unknown" not in off and len(off.strip().splitlines()) == len(data["unseen"])


def test_predict_open_set_on_a_model_saved_without_a_threshold_calibrates_from_its_support_features(data):
    from fewshot_studio.core.engine import AdaptRun
    from fewshot_studio.core.support import SupportSet

    model = data["root"] / "plain.safetensors"
    AdaptRun(SupportSet.from_folder(data["known"])[0], "efficientnet_lite0", "prototypical").run().save(model)
    out = cli("predict", model, *data["unseen"], "--open-set", "--json")
    assert "has no open-set threshold" in out.stderr and "leave-one-out" in out.stderr
    rows = json.loads(out.stdout)
    assert sum(r["unknown"] for r in rows) >= 4 and all(r["label"] is None for r in rows if r["unknown"])
