"""Using a model and a support set elsewhere, from the command line: ``export --onnx`` (with its parity
check and the stand-alone example script) and ``export-support`` (an ImageFolder tree), as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from clihelp import assert_one_line_error, cli
from imagegen import make_image_folder, make_queries

from fewshot_studio.core.project import save_project
from fewshot_studio.core.support import SupportSet

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-cli")
    support = make_image_folder(root / "support", per_class=3, size=48)
    queries = list(make_queries(root / "query", per_class=2, size=48))
    model = root / "shapes.safetensors"
    cli("adapt", support, "--backbone", "conv4", "--algorithm", "prototypical", "--open-set", "--quiet",
        "--output", model)
    return root, support, queries, model


def test_export_onnx_checks_parity_and_the_example_labels_like_predict(adapted):
    root, _, queries, model = adapted
    onnx_path = root / "out" / "shapes.onnx"
    out = cli("export", model, "--onnx", onnx_path, "--check", root / "query", "--example")
    assert onnx_path.is_file() and (root / "out" / "onnx_predict.py").is_file()
    assert "uint8" in out.stdout and "blue_square, green_triangle, red_circle" in out.stdout
    assert f"match on {len(queries)} images" in out.stdout and "max abs difference" in out.stdout

    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert json.loads(meta["class_names"]) == ["blue_square", "green_triangle", "red_circle"]
    assert json.loads(meta["open_set"])["threshold"] > 0  # the rule adapt --open-set calibrated
    assert meta["method"] == "prototypical" and meta["studio_version"]

    studio = {r["path"]: r for r in json.loads(cli("predict", model, *queries, "--json").stdout)}
    example = subprocess.run([sys.executable, str(root / "out" / "onnx_predict.py"), str(onnx_path),
                              *map(str, queries), "--json"], capture_output=True, text=True, timeout=120,
                             env=os.environ.copy(), check=True)
    rows = {r["path"]: r for r in json.loads(example.stdout)}
    assert set(rows) == set(studio)
    for path, row in rows.items():
        assert row["label"] == studio[path]["label"]
        assert row["confidence"] == pytest.approx(studio[path]["confidence"], abs=1e-4)


def test_export_without_onnxruntime_says_how_to_install_it(adapted, tmp_path):
    _, _, _, model = adapted
    code = ("import sys; sys.modules['onnxruntime'] = None; from fewshot_studio.cli import main; "
            f"sys.exit(main(['export', {str(model)!r}, '--onnx', {str(tmp_path / 'x.onnx')!r}, '--check', '.']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert_one_line_error(out, "needs onnxruntime", 'pip install "fewshot-studio[export]"')
    assert not (tmp_path / "x.onnx").exists()


def test_export_support_from_a_project_round_trips_with_safe_names(tmp_path):
    a = make_image_folder(tmp_path / "a", per_class=2, size=32)
    b = make_image_folder(tmp_path / "b", classes=("red_circle",), per_class=1, size=32, seed=3)
    support = SupportSet([("cats/dogs", [a / "red_circle" / "red_circle_0.png", b / "red_circle" / "red_circle_0.png"]),
                          ("squares", sorted((a / "blue_square").iterdir()))])
    project = save_project(support, tmp_path / "pets.fsproj")
    out = cli("export-support", project, tmp_path / "folders")
    assert "4 images in 2 class folders" in out.stdout
    assert "renamed class 'cats/dogs' -> folder 'cats_dogs'" in out.stderr
    again, skipped = SupportSet.from_folder(tmp_path / "folders")
    assert not skipped and again.class_names == ["cats_dogs", "squares"]
    assert sorted(p.name for p in again["cats_dogs"].images) == ["red_circle_0 (2).png", "red_circle_0.png"]
    for name, cls in zip(again.class_names, support.classes):
        assert sorted(p.read_bytes() for p in again[name].images) == sorted(p.read_bytes() for p in cls.images)
    # a place that cannot be written: one line that says what to do, and nothing half-written
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = cli("export-support", project, blocker / "out", check_rc=2)
    assert_one_line_error(out, "cannot write to", "choose a folder you can write to")
