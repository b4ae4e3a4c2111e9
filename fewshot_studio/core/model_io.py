"""The saved-model format: one safetensors file, tensors plus JSON metadata, nothing pickled.

Tensors: ``head.*`` (the method's state), ``support.features`` and ``support.labels`` (for nearest
examples), and ``backbone.*`` whenever the backbone cannot be rebuilt exactly from its registered
weights (it was trained, or came from a file or a random start). Metadata key ``fewshot_studio`` holds
JSON: format and version, class names, backbone and weights source, preprocessing, method and
hyperparameters, support-set summary and library versions; optional ``open_set`` and ``calibration`` entries
(a file without ``calibration`` loads uncalibrated, temperature 1).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .. import __version__
from .algorithms import get_method
from .backbones import get_backbone
from .backbones.cache import load_backbone
from .calibration import Calibration
from .errors import FewShotError, ModelFileError, UnknownNameError
from .openset import OpenSetRule
from .params import make_params
from .preprocess import Preprocess
from .weights_files import write_atomically

FORMAT = "fewshot-studio-model"
FORMAT_VERSION = 1
META_KEY = "fewshot_studio"

MSG_NOT_FOUND = "{path}: model file not found"
MSG_CORRUPT = "{path}: not a readable model file ({error}); it may be truncated or damaged, save it again"
MSG_FOREIGN = ("{path}: this is a safetensors file but not a Few-shot Studio model; to use it as backbone "
               "weights, import it with: fewshot-studio import-weights BACKBONE {path}")
MSG_SCHEMA = ("{path}: the model file's description is not valid ({problem}); it was not written by Few-shot Studio "
              "or was edited afterwards. Adapt and save the model again")
MSG_NOT_FINITE = ("{path}: the model holds NaN or infinite values (in {name}); it cannot give meaningful answers. "
                  "Adapt and save the model again")
MSG_TENSORS = ("{path}: the model's tensors do not match its description ({problem}); it was not written by "
               "Few-shot Studio or was edited afterwards. Adapt and save the model again")
MSG_NEWER = ("{path}: this model was saved by a newer Few-shot Studio (format {version}, this version reads up to "
             "{supported}); upgrade Few-shot Studio to open it")


def _versions() -> dict:
    out = {"fewshot_studio": __version__, "torch": torch.__version__, "python": platform.python_version()}
    if "torchvision" in sys.modules:
        out["torchvision"] = sys.modules["torchvision"].__version__
    return out


def save_classifier(clf, path: str | os.PathLike) -> Path:
    """Write a :class:`~.classifier.FewShotClassifier` to ``path`` (see the module docstring)."""
    path = Path(path)
    shipped = clf.spec.family in ("efficientnet-lite", "torchvision")  # weights every install can get again
    include_backbone = (clf.backbone_trained or clf.weights != "pretrained" or not shipped
                        or clf.spec.weights_status().source == "imported weights")
    tensors = {f"head.{k}": v for k, v in clf.method.head_state().items()}
    tensors["support.features"] = clf.support_features
    tensors["support.labels"] = clf.support_labels.to(torch.int64)
    if include_backbone:
        tensors.update({f"backbone.{k}": v for k, v in clf.backbone.state_dict().items()})
    status = clf.spec.weights_status()
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "class_names": clf.class_names,
        "backbone": {"name": clf.spec.name, "family": clf.spec.family, "weights": clf.weights,
                     "architecture": getattr(getattr(clf.spec, "base", None), "name", clf.spec.name),
                     "weights_source": status.source, "included": include_backbone,
                     "trained": clf.backbone_trained},
        "preprocess": clf.preprocess.to_dict(),
        "method": {"name": clf.method.name, "params": clf.method.params_dict()},
        "support": {"images": clf.support_paths, **clf.info.get("support", {})},
        "run": {k: v for k, v in clf.info.items() if k != "support"},
        "versions": _versions(),
    }
    if getattr(clf, "open_set", None) is not None:  # optional key: files without it load as before
        meta["open_set"] = clf.open_set.to_dict()
    if getattr(clf, "calibration", None) is not None and clf.calibration.calibrated:  # absent: T = 1
        meta["calibration"] = clf.calibration.to_dict()
    inputs = [("a support image", p) for p in clf.support_paths]
    return write_atomically(tensors, path, {META_KEY: json.dumps(meta)}, inputs=inputs)


_NONE = type(None)
#: The metadata's schema: dotted key -> (types, required). Optional keys may be absent, not of another type.
SCHEMA = {
    "class_names": (list, True), "backbone": (dict, True), "backbone.name": (str, True),
    "backbone.weights": (str, True), "backbone.included": (bool, True), "backbone.trained": (bool, True),
    "backbone.weights_source": (str, False), "backbone.architecture": (str, False), "backbone.family": (str, False),
    "preprocess": (dict, True), "method": (dict, True), "method.name": (str, True), "method.params": (dict, True),
    "created": (str, False), "versions": (dict, False), "support": (dict, False), "support.images": (list, False),
    "run": (dict, False), "open_set": ((dict, _NONE), False), "calibration": (dict, False),
}


def _type_name(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    words = {list: "a list", dict: "an object", str: "a string", bool: "true or false", _NONE: "null"}
    return " or ".join(words[t] for t in types)


def schema_problem(meta: dict) -> str | None:
    """What is wrong with a model file's metadata against :data:`SCHEMA` (None: nothing)."""
    for key, (types, required) in SCHEMA.items():
        node, present = meta, True
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                present = False
                break
            node = node[part]
        if not present:
            if required:
                return f"{key!r} is missing"
            continue
        if not isinstance(node, types) or (types is int and isinstance(node, bool)):
            return f"{key!r} must be {_type_name(types)}"
    names = meta["class_names"]
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        return "'class_names' must be a list of non-empty names"
    if len(set(names)) != len(names):
        return "'class_names' has the same name twice"
    images = meta.get("support", {}).get("images", [])
    if not all(isinstance(p, str) for p in images):
        return "'support.images' must be a list of file names"
    return None


def _first_line(exc: BaseException) -> str:
    """An exception's first line, shortened: the user's message stays one line (load_state_dict writes many)."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a model file, checked for format and version (tensors are not read)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(MSG_NOT_FOUND.format(path=path))
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(MSG_CORRUPT.format(path=path, error=_first_line(exc))) from None
    if raw is None:
        raise ModelFileError(MSG_FOREIGN.format(path=path))
    try:
        meta = json.loads(raw)
        version = int(meta["format_version"])
        if meta.get("format") != FORMAT:
            raise ValueError("wrong format tag")
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise ModelFileError(MSG_CORRUPT.format(path=path, error=f"metadata: {_first_line(exc)}")) from None
    if version > FORMAT_VERSION:
        raise ModelFileError(MSG_NEWER.format(path=path, version=version, supported=FORMAT_VERSION))
    problem = schema_problem(meta)
    if problem:
        raise ModelFileError(MSG_SCHEMA.format(path=path, problem=problem))
    return meta


def tensors_problem(tensors: dict[str, torch.Tensor], meta: dict) -> tuple[str, str] | None:
    """``(message, detail)`` for tensors that contradict the metadata or are not finite (None: all good)."""
    for name in ("support.features", "support.labels"):
        if name not in tensors:
            return MSG_TENSORS, f"{name} is missing"
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return MSG_NOT_FINITE, name
    features, labels = tensors["support.features"], tensors["support.labels"]
    n_classes = len(meta["class_names"])
    if features.dim() != 2 or labels.dim() != 1 or features.shape[0] != labels.shape[0]:
        return MSG_TENSORS, (f"support.features {tuple(features.shape)} and support.labels {tuple(labels.shape)} "
                             "must be (N, D) and (N,)")
    if labels.is_floating_point() or (labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < n_classes):
        return MSG_TENSORS, f"support.labels must be class numbers from 0 to {n_classes - 1}"
    images = meta.get("support", {}).get("images", [])
    if images and len(images) != labels.shape[0]:
        return MSG_TENSORS, f"{len(images)} support images are named but {labels.shape[0]} are stored"
    return None


@dataclass
class SavedModel:
    """A model file read back: the arguments of :class:`~.classifier.FewShotClassifier`, its metadata and its
    open-set rule (None when the file has none). :func:`~.classifier.load_classifier` assembles them."""

    parts: dict
    meta: dict
    open_set: OpenSetRule | None
    calibration: Calibration = Calibration()  # uncalibrated (T = 1) when the file has no "calibration" entry


def read_model(path: str | os.PathLike) -> SavedModel:
    """Read a model file: rebuild its backbone (from the file, or the shared pretrained one) and its method."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(MSG_CORRUPT.format(path=path, error=_first_line(exc))) from None
    problem = tensors_problem(tensors, meta)
    if problem:
        message, detail = problem
        raise ModelFileError(message.format(path=path, name=detail, problem=detail))
    try:
        try:
            spec = get_backbone(meta["backbone"]["name"])
        except UnknownNameError:
            if not meta["backbone"]["included"]:
                raise
            spec = get_backbone(meta["backbone"].get("architecture", meta["backbone"]["name"]))
        method = get_method(meta["method"]["name"])(make_params(get_method(meta["method"]["name"]).Params,
                                                                meta["method"]["params"]))
        backbone_state = {k[len("backbone."):]: v for k, v in tensors.items() if k.startswith("backbone.")}
        if meta["backbone"]["included"]:
            backbone = spec.build("random")
            backbone.load_state_dict(backbone_state)
            backbone = backbone.use_channels_last()
        else:
            backbone = load_backbone(spec, "pretrained")[0]
        method.load_head_state({k[len("head."):]: v for k, v in tensors.items() if k.startswith("head.")})
        support = meta.get("support", {})
        parts = dict(
            spec=spec, backbone=backbone, method=method, class_names=meta["class_names"],
            weights=meta["backbone"]["weights"], backbone_trained=meta["backbone"]["trained"],
            support_paths=support.get("images", []), support_labels=tensors["support.labels"],
            support_features=tensors["support.features"].float(),
            info={**meta.get("run", {}), "support": {k: v for k, v in support.items() if k != "images"}},
            preprocess=Preprocess.from_dict(meta["preprocess"]))
    except FewShotError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, OverflowError, RuntimeError, IndexError, AttributeError) as exc:
        raise ModelFileError(MSG_CORRUPT.format(path=path, error=f"{type(exc).__name__}: {_first_line(exc)}")) from None
    return SavedModel(parts, meta, OpenSetRule.from_dict(meta.get("open_set")),
                      Calibration.from_dict(meta.get("calibration")))
