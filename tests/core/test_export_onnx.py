"""ONNX export: every method's graph gives onnxruntime the studio's probabilities, with the metadata a
consumer needs; the stand-alone example script labels images as ``predict --json`` does."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from imagegen import make_image_folder, make_queries

from fewshot_studio.core.algorithms import list_methods
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.export_onnx import (
    NOT_EXPORTABLE,
    PROBABILITY_TOLERANCE,
    ExportError,
    check_onnx,
    example_script,
    export_onnx,
    open_session,
    read_onnx_metadata,
    studio_input,
)
from fewshot_studio.core.support import SupportSet

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

# Quick settings that adapt every registered method in a second or two on conv4.
QUICK = {
    "prototypical": {},
    "pmf": {"finetune_steps": 2},
    "linear_probe": {"steps": 5},
    "finetune": {"steps": 2},
    "maml": {"adapt_steps": 2},
    "fomaml": {"adapt_steps": 2},
    "anil": {"adapt_steps": 2},
    "reptile": {"adapt_steps": 2},
    "matching": {},  # full-context embeddings: test_matching_full_context_embeddings
    "relation": {"finetune_steps": 2, "hidden": 8},
    "cnp": {"finetune_steps": 2, "hidden": 16},
    # transductive methods export their inductive head (solved over the pool they were adapted with)
    "pt_map": {}, "tim": {"steps": 5}, "laplacian_shot": {},
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", per_class=3, size=48))
    queries = list(make_queries(root / "q", per_class=2, size=48))
    return support, queries


def test_every_registered_method_is_covered():
    assert {m.name for m in list_methods()} == set(QUICK) | set(NOT_EXPORTABLE)


@pytest.mark.parametrize("method", sorted(QUICK))
def test_onnxruntime_matches_pytorch(tmp_path, data, method):
    support, queries = data
    clf = AdaptRun(support, "conv4", method, QUICK[method], seed=0).run()
    path = export_onnx(clf, tmp_path / f"{method}.onnx")
    report = check_onnx(clf, path, queries)
    print(f"{method}: {report}")
    assert report.ok, str(report)
    assert report.images == len(queries) and report.max_abs_diff_probabilities <= PROBABILITY_TOLERANCE
    meta = read_onnx_metadata(path)
    assert json.loads(meta["class_names"]) == support.class_names
    assert meta["method"] == method and meta["backbone"] == "conv4"
    assert (int(meta["input_size"]), int(meta["resize_size"])) == (84, 96)
    # the batch axis is free: one image, then five, give the same rows
    session = open_session(path)
    x = np.random.default_rng(0).integers(0, 256, (5, 3, 84, 84), dtype=np.uint8)
    five = session.run(["probabilities"], {"image": x})[0]
    one = session.run(["probabilities"], {"image": x[:1]})[0]
    assert five.shape == (5, 3) and np.allclose(one, five[:1], atol=1e-6)


def test_matching_full_context_embeddings(tmp_path, data):
    """The LSTMs of Matching Networks' full-context embeddings, on a small backbone (conv4's 1600-d features
    make them 41M parameters: slow to adapt here)."""
    from torch import nn

    from fewshot_studio.core.algorithms import get_method
    from fewshot_studio.core.backbones import Backbone, get_backbone
    from fewshot_studio.core.classifier import FewShotClassifier

    support, queries = data
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Conv2d(3, 16, 3, stride=4), nn.BatchNorm2d(16), nn.ReLU()).eval()
    backbone = Backbone("tiny", trunk, lambda t, x: t(x).mean(dim=(2, 3)), lambda t, x: t(x))
    method = get_method("matching")(fce=True, fce_steps=2)
    method.ensure_nets((16,), "cpu")
    method.nets.eval()
    spec = get_backbone("conv4")
    base = torch.cat([spec.preprocess.load([p]) for p, _ in support.samples()])
    labels = torch.tensor([c for _, c in support.samples()])
    with torch.no_grad():
        features = backbone(spec.preprocess.view(base))
        method.context = method.support_context(features, labels, len(support))
    clf = FewShotClassifier(spec=spec, backbone=backbone, method=method, class_names=support.class_names,
                            weights="random", backbone_trained=True, support_paths=[], support_labels=labels,
                            support_features=features)
    report = check_onnx(clf, export_onnx(clf, tmp_path / "fce.onnx"), queries)
    print(f"matching (fce): {report}")
    assert report.ok, str(report)


def test_efficientnet_export_with_metadata_and_example_script(tmp_path, data):
    support, queries = data
    clf = AdaptRun(support, "efficientnet_lite0", "linear_probe", {"steps": 5}, seed=0).run()
    path = export_onnx(clf, tmp_path / "effnet.onnx")
    report = check_onnx(clf, path, queries)
    print(f"efficientnet_lite0 + linear_probe: {report}")
    assert report.ok, str(report)
    meta = read_onnx_metadata(path)
    assert json.loads(meta["mean"]) == pytest.approx(list(clf.preprocess.mean))
    assert json.loads(meta["std"]) == pytest.approx(list(clf.preprocess.std))
    assert meta["studio_version"] and "uint8" in meta["input"]

    # the example runs with only onnxruntime, pillow and numpy: labels and confidences are the studio's,
    # also for a large JPEG (decoded in draft mode), a transparent PNG and a palette GIF
    from PIL import Image

    big = Image.open(queries[0]).convert("RGB").resize((640, 480))
    big.save(tmp_path / "big.jpg", quality=90)
    rgba = Image.open(queries[-1]).convert("RGBA")
    rgba.putalpha(180)
    rgba.save(tmp_path / "alpha.png")
    Image.open(queries[1]).convert("P").save(tmp_path / "palette.gif")
    queries = [*queries, tmp_path / "big.jpg", tmp_path / "alpha.png", tmp_path / "palette.gif"]
    out = subprocess.run([sys.executable, str(example_script()), str(path), *map(str, queries), "--json"],
                         capture_output=True, text=True, timeout=120, check=True)
    rows = {r["path"]: r for r in json.loads(out.stdout)}
    preds, _ = clf.predict(queries)
    assert len(rows) == len(preds)
    for p in preds:
        assert rows[p.path]["label"] == p.label
        assert rows[p.path]["confidence"] == pytest.approx(p.confidence, abs=PROBABILITY_TOLERANCE)


def test_unexportable_method_and_unwritable_place_are_clear_errors(tmp_path, data, monkeypatch):
    support, _ = data
    clf = AdaptRun(support, "conv4", "prototypical", {}).run()
    monkeypatch.setitem(NOT_EXPORTABLE, "prototypical", "its logits need the query batch")
    with pytest.raises(ExportError, match="prototypical cannot be exported to ONNX: its logits need"):
        export_onnx(clf, tmp_path / "x.onnx")
    monkeypatch.delitem(NOT_EXPORTABLE, "prototypical")
    from fewshot_studio.core.algorithms import get_method

    for name in ("maml", "linear_probe", "relation"):  # a method that was never fitted
        fresh = copy.copy(clf)
        fresh.method = get_method(name)()
        with pytest.raises(ExportError, match=f"has not been adapted yet \\(its {name} head is empty\\)"):
            export_onnx(fresh, tmp_path / "x.onnx")
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ExportError, match="cannot write .*choose a folder you can write to"):
        export_onnx(clf, blocker / "model.onnx")
    assert not list(tmp_path.glob("**/*.part"))


def test_the_graph_keeps_working_without_the_studio_objects(tmp_path, data):
    """The support-dependent tensors are constants in the file: deleting the classifier changes nothing."""
    support, queries = data
    clf = AdaptRun(support, "conv4", "cnp", QUICK["cnp"]).run()
    path = export_onnx(clf, tmp_path / "m.onnx")
    x = torch.randint(0, 256, (2, 3, 84, 84), dtype=torch.uint8).numpy()
    before = open_session(path).run(None, {"image": x})
    del clf
    after = open_session(path).run(None, {"image": x})
    assert len(before) == 3  # probabilities, logits, nearest_similarity
    for a, b in zip(before, after):
        assert np.array_equal(a, b)


def test_relation_on_conv4_predicts_and_its_export_agrees(tmp_path, data):
    """conv4's pooled features are its flattened maps (1600-d), not the maps' mean (64-d): the nearest
    support images are found with the former, in the studio and in the exported graph."""
    support, queries = data
    clf = AdaptRun(support, "conv4", "relation", QUICK["relation"]).run()
    preds, _ = clf.predict(queries, nearest=1)
    assert len(preds) == len(queries) and all(p.nearest for p in preds)
    path = export_onnx(clf, tmp_path / "relation.onnx")
    base = torch.cat([clf.preprocess.load([q]) for q in queries])
    probs, _, nearest = open_session(path).run(None, {"image": studio_input(clf.preprocess, base)})
    assert [support.class_names[i] for i in probs.argmax(1)] == [p.label for p in preds]
    assert nearest == pytest.approx([p.nearest[0][2] for p in preds], abs=1e-5)
