"""File > Export model to ONNX... and File > Export support set as folder..., as a user does them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import RUN_TIMEOUT, drop_and_wait, url_mime

from fewshot_studio.core.engine import AdaptRun
from fewshot_studio.core.support import SupportSet
from fewshot_studio.gui import exports


def contents(support: SupportSet) -> dict[str, list[bytes]]:
    return {c.name: sorted(p.read_bytes() for p in c.images) for c in support.classes}


def test_export_support_set_as_folders_and_import_it_back(qtbot, window, shapes, tmp_path, monkeypatch):
    drop_and_wait(qtbot, window.board, window.board.canvas, url_mime([shapes]))
    busy = tmp_path / "exports"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    monkeypatch.setattr(exports, "ask_support_folder", lambda parent, folder: str(busy))
    with qtbot.waitSignal(window.exports.sig_support_exported, timeout=RUN_TIMEOUT) as blocker:
        window.exports.act_export_support.trigger()
    folder = blocker.args[0]
    assert folder == str(busy / "Untitled")  # the chosen folder was not empty: a new sub-folder in it
    assert (busy / "notes.txt").read_text() == "mine"
    again, skipped = SupportSet.from_folder(folder)
    assert not skipped and contents(again) == contents(window.support)
    assert "Exported 12 images in 3 class folders" in window.message_bar.text()


def test_export_model_to_onnx_gives_a_file_onnxruntime_runs(qtbot, window, shapes, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    support, _ = SupportSet.from_folder(shapes)
    model = AdaptRun(support, "conv4", "prototypical").run().save(tmp_path / "shapes.safetensors")
    assert not window.exports.act_export_onnx.isEnabled()  # no model yet
    with qtbot.waitSignal(window.sig_model_loaded, timeout=RUN_TIMEOUT):
        window.model_files.load_model(str(model))
    assert window.exports.act_export_onnx.isEnabled()
    target = tmp_path / "out" / "shapes.onnx"
    monkeypatch.setattr(exports, "ask_onnx_path", lambda parent, suggested: str(target))
    with qtbot.waitSignal(window.exports.sig_onnx_exported, timeout=RUN_TIMEOUT):
        window.exports.act_export_onnx.trigger()
    assert target.is_file() and "Exported the model" in window.message_bar.text()
    assert (target.parent / "onnx_predict.py").is_file() and "onnx_predict.py" in window.message_bar.text()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["class_names"]) == support.class_names
    probs = session.run(["probabilities"], {"image": np.zeros((2, 3, 84, 84), np.uint8)})[0]
    assert probs.shape == (2, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)

    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("x")
    monkeypatch.setattr(exports, "ask_onnx_path", lambda parent, suggested: str(blocker_file / "m.onnx"))
    with qtbot.waitSignal(window.exports.sig_export_failed, timeout=RUN_TIMEOUT) as failed:
        window.exports.act_export_onnx.trigger()
    assert "Cannot write" in failed.args[0] and "choose a folder you can write to" in failed.args[0]
