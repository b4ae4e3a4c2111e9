"""Caches shared by the runs of one process: built backbones, and the pooled features of support images.

A backbone is built once per (name, weights) and shared: callers must not train it (a run that trains
the backbone takes a copy). Features are keyed by the backbone's key and :func:`~..images.file_key`, so
an edited image is embedded again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import torch

from .base import Backbone, BackboneSpec


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
_features = _LRU(20000)  # (backbone key, path, mtime, size) -> pooled features (D,) on CPU
_cache_lock = threading.Lock()


def clear_caches() -> None:
    with _cache_lock:
        _backbones.clear()
        _features.clear()


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
    return backbone, key


def cached_features(keys: list[tuple]) -> list[torch.Tensor | None]:
    """The remembered pooled features (D,) for each key, None where not known."""
    with _cache_lock:
        return [_features.fetch(k) for k in keys]


def remember_features(pairs) -> None:
    """Remember pooled features: ``pairs`` of (key, features (D,) on the CPU)."""
    with _cache_lock:
        for key, features in pairs:
            _features.put(key, features)
