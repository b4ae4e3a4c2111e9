"""Saved models: exact round trips, and a clear error for every kind of wrong file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from imagegen import make_image_folder, make_queries
from safetensors.torch import save_file

from fewshot_studio.core.classifier import FewShotClassifier
from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.errors import ModelFileError
from fewshot_studio.core.model_io import read_metadata
from fewshot_studio.core.support import SupportSet


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("io")
    support, _ = SupportSet.from_folder(make_image_folder(root / "support", per_class=3, size=48))
    queries = list(make_queries(root / "q", per_class=2, size=48))
    return support, queries


def probs(clf, paths):
    preds, _ = clf.predict(paths, top_k=3)
    return [(p.label, [s for _, s in p.top_k]) for p in preds]


@pytest.mark.parametrize("backbone, method, params, included", [
    ("efficientnet_lite0", "prototypical", {}, False),  # pretrained and frozen: rebuilt from the wheel
    ("efficientnet_lite0", "linear_probe", {"steps": 5}, False),
    ("conv4", "finetune", {"steps": 2}, True),  # trained: the backbone travels in the file
])
def test_round_trip_gives_the_same_predictions(tmp_path, data, backbone, method, params, included):
    support, queries = data
    clf = AdaptRun(support, backbone, method, params).run()
    path = clf.save(tmp_path / "model.safetensors")
    meta = read_metadata(path)
    assert meta["class_names"] == support.class_names
    assert meta["method"] == {"name": method, "params": clf.method.params_dict()}
    assert meta["backbone"]["name"] == backbone and meta["backbone"]["included"] is included
    assert meta["support"]["n_images"] == support.n_images
    assert meta["versions"]["torch"] == torch.__version__
    again = FewShotClassifier.load(path)
    for (la, pa), (lb, pb) in zip(probs(clf, queries), probs(again, queries)):
        assert la == lb
        assert pa == pytest.approx(pb, abs=1e-5)
    preds, _ = again.predict(queries[:1], nearest=2)
    assert len(preds[0].nearest) == 2 and preds[0].nearest[0][1] in support.class_names


@pytest.fixture(scope="module")
def saved(tmp_path_factory, data):
    support, _ = data
    path = tmp_path_factory.mktemp("saved") / "good.safetensors"
    return AdaptRun(support, "conv4", "prototypical").run().save(path)


def test_truncated_and_corrupt_files(tmp_path, saved):
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    for path in (cut, junk):
        with pytest.raises(ModelFileError, match="not a readable model file"):
            FewShotClassifier.load(path)


def test_foreign_safetensors_points_to_import_weights(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ModelFileError, match="not a Few-shot Studio model.*import-weights"):
        FewShotClassifier.load(path)


def _rewrite_metadata(src: Path, dst: Path, change) -> None:
    from safetensors import safe_open

    with safe_open(str(src), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()["fewshot_studio"])
    change(meta)
    save_file(tensors, str(dst), metadata={"fewshot_studio": json.dumps(meta)})


def test_newer_format_asks_for_an_upgrade(tmp_path, saved):
    path = tmp_path / "future.safetensors"
    _rewrite_metadata(saved, path, lambda m: m.update(format_version=99))
    with pytest.raises(ModelFileError, match="newer Few-shot Studio.*upgrade"):
        FewShotClassifier.load(path)


def test_unknown_method_in_file_is_a_model_error(tmp_path, saved):
    path = tmp_path / "odd.safetensors"
    _rewrite_metadata(saved, path, lambda m: m["method"].update(name="telepathy"))
    with pytest.raises(ModelFileError, match="unknown algorithm 'telepathy'"):
        FewShotClassifier.load(path)


@pytest.mark.parametrize("preprocess", [{"resize_size": 10**12}, {"resize_size": -1, "input_size": -1},
                                        {"input_size": 1e400}, {"std": [0.2, 0.0, 0.2]}, {"mean": [0.5, "x", 0.5]}],
                         ids=["huge", "negative", "infinite", "zero_std", "text_mean"])
def test_impossible_preprocessing_in_a_file_is_a_model_error(tmp_path, saved, preprocess):
    """Found by benchmarks/fuzz.py: these reached torch (OverflowError, negative dimensions) as tracebacks."""
    path = tmp_path / "odd.safetensors"
    _rewrite_metadata(saved, path, lambda m: m["preprocess"].update(preprocess))
    with pytest.raises(ModelFileError, match="not a readable model file|damaged|cannot"):
        FewShotClassifier.load(path)


def test_an_infinite_format_version_is_a_model_error_on_one_line(tmp_path, saved):
    path = tmp_path / "odd.safetensors"
    _rewrite_metadata(saved, path, lambda m: m.update(format_version=float("inf")))
    with pytest.raises(ModelFileError, match="not a readable model file") as caught:
        FewShotClassifier.load(path)
    assert "\n" not in str(caught.value)


def test_an_open_set_rule_that_cannot_be_right_is_dropped(tmp_path, saved):
    path = tmp_path / "odd.safetensors"
    _rewrite_metadata(saved, path, lambda m: m.update(open_set={"threshold": "high", "enabled": True}))
    assert FewShotClassifier.load(path).open_set is None
    _rewrite_metadata(saved, path, lambda m: m.update(open_set={"threshold": 0.5, "quantile": 0, "enabled": True}))
    assert FewShotClassifier.load(path).open_set is None


def test_missing_file_and_unwritable_target(tmp_path, saved):
    with pytest.raises(ModelFileError, match="model file not found"):
        FewShotClassifier.load(tmp_path / "nope.safetensors")
    clf = FewShotClassifier.load(saved)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ModelFileError, match="cannot write"):
        clf.save(blocker / "model.safetensors")


def test_model_files_hold_no_pickle(saved):
    head = saved.read_bytes()[:8]
    header_len = int.from_bytes(head, "little")
    header = json.loads(saved.read_bytes()[8:8 + header_len])
    assert all(v["dtype"] in ("F32", "I64") for k, v in header.items() if k != "__metadata__")
