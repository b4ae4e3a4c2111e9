"""Few-shot Studio's engine, usable with no window: the Python API.

>>> from fewshot_studio.core import SupportSet, AdaptRun
>>> support, skipped = SupportSet.from_folder("my_classes")
>>> run = AdaptRun(support, backbone="efficientnet_lite0", method="prototypical")
>>> for event in run: print(event)
>>> predictions, skipped = run.result.predict(["query.jpg"])
>>> run.result.save("my_model.safetensors")

Names are imported lazily so that ``import fewshot_studio.core.support`` does not pay for torch.
This package never imports Qt.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SupportSet": "support", "ImageClass": "support",
    "load_image": "images", "scan_folder": "images", "ImageError": "errors",
    "FewShotError": "errors", "SupportSetError": "errors", "RunCancelled": "errors", "DivergedError": "errors",
    "ModelFileError": "errors", "BackboneError": "errors", "WeightsUnavailableError": "errors",
    "get_backbone": "backbones", "list_backbones": "backbones", "import_weights": "backbones",
    "DEFAULT_BACKBONE": "backbones",
    "get_method": "algorithms", "list_methods": "algorithms", "DEFAULT_METHOD": "algorithms",
    "AdaptRun": "engine", "adapt": "engine", "Progress": "runs", "Stage": "runs", "Run": "runs",
    "FewShotClassifier": "classifier", "Prediction": "classifier",
    "load_classifier": "classifier", "save_classifier": "model_io",
    "resolve_device": "devices", "device_label": "devices",
    "RankRun": "label_next", "rank_images": "label_next", "Ranking": "label_next",
    "EmbeddingMapRun": "embedding_map", "EmbeddingMap": "embedding_map",
    "CrossValidation": "validation", "Comparison": "validation", "Candidate": "validation",
    "OpenSetRule": "openset",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
