"""Issue 11, item 1 at the command line: ``adapt SUPPORT --algorithm fomaml`` then ``predict`` on
EfficientNet-Lite0 answered one class for nearly everything; its defaults now follow the backbone."""

from __future__ import annotations

import json

from clihelp import cli
from imagegen import make_image_folder, make_queries

CLASSES = ("red_circle", "blue_square", "green_triangle")


def test_first_order_maml_with_its_defaults_tells_the_classes_apart(tmp_path):
    support = make_image_folder(tmp_path / "support", CLASSES, per_class=1, size=64)
    truth = make_queries(tmp_path / "photos", CLASSES, per_class=3, size=64)
    model = tmp_path / "fomaml.safetensors"
    out = cli("adapt", support, "--algorithm", "fomaml", "--quiet", "--output", model)
    assert "efficientnet_lite0 + fomaml" in out.stdout
    meta = json.loads(cli("inspect", model, "--json").stdout)
    params = meta["method"]["params"]
    assert (params["inner_lr"], params["adapt_steps"], params["batch_norm"]) == (0.01, 20, "backbone"), \
        "the model records the values used: the pretrained backbone's defaults"
    answers = {a["path"]: a["label"] for a in json.loads(cli("predict", model, tmp_path / "photos", "--json").stdout)}
    assert set(answers.values()) == set(CLASSES), f"not one class for everything: {answers}"
    assert sum(answers[str(p)] == t for p, t in truth.items()) >= 8, answers


def test_an_explicit_value_wins_over_the_backbones_default(tmp_path):
    support = make_image_folder(tmp_path / "support", CLASSES, per_class=1, size=64)
    model = tmp_path / "m.safetensors"
    cli("adapt", support, "--algorithm", "fomaml", "--steps", "1", "--param", "inner_lr=0.003", "--quiet",
        "--output", model)
    params = json.loads(cli("inspect", model, "--json").stdout)["method"]["params"]
    assert (params["inner_lr"], params["adapt_steps"], params["batch_norm"]) == (0.003, 1, "backbone")


def test_algorithms_json_lists_the_defaults_for_each_kind_of_backbone():
    methods = {m["name"]: m for m in json.loads(cli("algorithms", "--json").stdout)}
    inner_lr = next(p for p in methods["fomaml"]["params"] if p["name"] == "inner_lr")
    assert inner_lr["default"] == 0.4
    assert inner_lr["defaults_by_kind"] == {"pretrained": 0.01, "meta-trained": 0.4, "random": 0.4}
    text = cli("algorithms").stdout
    assert "inner_lr=0.4" in text and "0.01 on a pretrained backbone" in text
