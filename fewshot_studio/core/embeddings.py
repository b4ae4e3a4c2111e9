"""Images a classifier has not been told about -> its features and class probabilities, in batches.

Both "what to label next" (:mod:`.label_next`) and the embedding map (:mod:`.embedding_map`) start here.
:func:`embed_images` is a generator of :class:`~.runs.Stage` events (so a window can show progress and
stop it between batches) that returns an :class:`ImageEmbeddings`.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .backbones.cache import cached_features, file_ids, remember_features, shared_key, variant_of
from .classifier import FewShotClassifier, expand_paths
from .devices import inference_batch
from .errors import FewShotError, ImageError
from .images import Skipped, file_key
from .runs import Stage

MSG_NOT_FOUND = "not found; give a folder of images (or image files)"
MSG_NO_IMAGES = ("no usable images in {what}{why}; give a folder of image files (PNG, JPEG...; sub-folders are "
                 "searched too)")
MSG_ALL_LABELLED = ("every image in {what} is already one of the model's support images; give a folder of "
                    "images that are not labelled yet")


CACHE_PER_MODEL = 20000  # images remembered per classifier (features + probabilities, ~5 KB each at D=1280)

# classifier -> {(path, mtime, size): (pooled features (D,), probabilities (C,))}. Ranking again with another
# score, then drawing the map of the same folder, embeds each image once; a new model starts afresh.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def forget(classifier=None) -> None:
    """Drop what was remembered about ``classifier``'s images (every classifier's by default)."""
    with _cache_lock:
        if classifier is None:
            _cache.clear()
        else:
            _cache.pop(classifier, None)


def _remembered(classifier) -> dict:
    with _cache_lock:
        memo = _cache.get(classifier)
        if memo is None:
            memo = _cache[classifier] = {}
        return memo


class NoImagesError(FewShotError):
    """Nothing usable was given: an empty folder, only non-images, or only images the model knows."""


@dataclass
class ImageEmbeddings:
    """What the classifier makes of some images.

    paths: the images that could be read, in order.
    features: pooled backbone features, float32 of shape (N, D), on the CPU.
    probs: class probabilities, float32 of shape (N, n_classes), on the CPU.
    skipped: files left out, with the reason.
    already_labelled: images left out because they are support images of the model.
    """

    paths: list[Path]
    features: torch.Tensor
    probs: torch.Tensor
    class_names: list[str]
    skipped: list[Skipped] = field(default_factory=list)
    already_labelled: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)


def _describe(paths: list[Path]) -> str:
    return str(paths[0]) if len(paths) == 1 else f"the {len(paths)} paths given"


def _from_feature_cache(classifier: FewShotClassifier, todo: list[Path]):
    """(still to embed, {path: pooled features (D,)} known to the feature cache, (key, variant, ids) to store new
    ones under, or None). Only a shared, untrained backbone with a pooled-feature method uses the cache."""
    key = None if classifier.backbone_trained else shared_key(classifier.backbone)
    if (key is None or classifier.method.feature_kind != "pooled" or not todo
            or classifier.preprocess != classifier.spec.preprocess):
        return todo, {}, None
    ids = dict(zip(todo, file_ids(todo)))
    variant = variant_of(classifier.device)
    found = cached_features(key, [ids[f] for f in todo], variant)
    known = {f: v for f, v in zip(todo, found) if v is not None}
    return [f for f in todo if f not in known], known, (key, variant, ids)


def embed_images(classifier: FewShotClassifier, paths: Iterable[str | os.PathLike], *,
                 batch_size: int | None = None, exclude_support: bool = True,
                 ) -> Generator[Stage, None, ImageEmbeddings]:
    """Embed image files (folders are walked), yielding ``Stage("embedding images", done, total)``.

    Unreadable files are skipped with the reason; with ``exclude_support`` the model's own support images
    are left out. Raises :class:`NoImagesError` when nothing is left, :class:`ImageError` for a missing path.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists():
            raise ImageError(path, MSG_NOT_FOUND)
    files, skipped = expand_paths(given)
    labelled: list[Path] = []
    if exclude_support and classifier.support_paths:
        known = {os.path.normcase(os.path.abspath(p)) for p in classifier.support_paths}
        keep = []
        for f in files:
            (labelled if os.path.normcase(os.path.abspath(f)) in known else keep).append(f)
        files = keep
    batch_size = batch_size or inference_batch(classifier.device)
    memo = _remembered(classifier)
    keys = {f: file_key(f) for f in files}
    with _cache_lock:
        done = {f: memo[keys[f]] for f in files if keys[f] in memo}
    todo = [f for f in files if f not in done]
    total = len(files)
    todo, known, store = _from_feature_cache(classifier, todo)
    if known:
        pooled = torch.stack([known[f] for f in known]).to(classifier.device)
        with torch.no_grad():
            probs = F.softmax(classifier.method.logits(pooled).float(), dim=-1).float().cpu()
        with _cache_lock:
            for i, path in enumerate(known):
                done[path] = (known[path], probs[i])
                if len(memo) < CACHE_PER_MODEL:
                    memo[keys[path]] = done[path]
    for start in range(0, len(todo), batch_size):
        yield Stage("embedding images", len(done), total)
        batch, names = [], []
        for path in todo[start:start + batch_size]:
            try:
                batch.append(classifier.preprocess.load([path]))
                names.append(path)
            except ImageError as exc:
                skipped.append(Skipped(Path(path), exc.reason))
        if batch:
            with torch.no_grad():
                x = classifier.preprocess.view(torch.cat(batch).to(classifier.device))
                feats, pooled = classifier.features(x)
                probs = F.softmax(classifier.method.logits(feats.float()), dim=-1).float().cpu()
                pooled = pooled.float().cpu()
            if store is not None:
                remember_features(store[0], [(store[2][p], f) for p, f in zip(names, pooled)], store[1])
            with _cache_lock:
                for i, path in enumerate(names):
                    done[path] = (pooled[i], probs[i])
                    if len(memo) < CACHE_PER_MODEL:
                        memo[keys[path]] = done[path]
        done.update({p: None for p in todo[start:start + batch_size] if p not in done})  # counted, unusable
    yield Stage("embedding images", total, total)
    kept = [f for f in files if done.get(f) is not None]
    features = [torch.stack([done[f][0] for f in kept])] if kept else []
    probs = [torch.stack([done[f][1] for f in kept])] if kept else []
    if not kept:
        if labelled and not skipped:
            raise NoImagesError(MSG_ALL_LABELLED.format(what=_describe(given)))
        why = f" ({len(skipped)} file{'s' * (len(skipped) != 1)} skipped: {skipped[0]})" if skipped else ""
        raise NoImagesError(MSG_NO_IMAGES.format(what=_describe(given), why=why))
    return ImageEmbeddings(kept, torch.cat(features), torch.cat(probs), list(classifier.class_names),
                           skipped, labelled)
