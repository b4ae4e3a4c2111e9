"""The embedding map: a classifier's support images and query images as points in 2-D.

Features are L2-normalised (the studio's methods compare them by cosine), then projected by PCA (torch,
exact SVD of the centred features; a randomised low-rank one beyond :data:`EXACT_PCA_MAX` images) or by
t-SNE from scikit-learn, an optional extra (``pip install 'fewshot-studio[tsne]'``). Support points carry
their class; query points carry the class the model predicts for them.

>>> run = EmbeddingMapRun(classifier, ["unlabelled/"], method="pca")
>>> for event in run: print(event)
>>> run.result.to_csv("map.csv")
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import strict_json
from .classifier import FewShotClassifier
from .embeddings import embed_images
from .errors import FewShotError, ParameterError
from .images import Skipped
from .runs import Run, Stage
from .safe_write import OutputPathError, atomic_write

METHODS = ("pca", "tsne")
DEFAULT_METHOD = "pca"
EXACT_PCA_MAX = 4000
TSNE_MIN_POINTS = 5

MSG_NO_TSNE = ("t-SNE needs scikit-learn, which is not installed; install it with "
               "pip install 'fewshot-studio[tsne]' (or pip install scikit-learn), or use PCA")
MSG_BAD_METHOD = "unknown projection {method!r}; choose one of: " + ", ".join(METHODS)
MSG_TOO_FEW_TSNE = "t-SNE needs at least {n} images (there are {have}); use PCA, or add query images"
MSG_NO_POINTS = ("there is nothing to map: the model has no stored support features and no query images "
                 "were given; give a folder of images")
MSG_WRITE = "cannot write {path}: {error}; choose another place"
MSG_FORMAT = "{path}: the map is written as .csv or .json; give a file name ending in one of those"


class EmbeddingMapError(FewShotError):
    """A map that cannot be made or written as asked."""


def tsne_available() -> bool:
    """Whether scikit-learn (which provides t-SNE) is installed."""
    return importlib.util.find_spec("sklearn") is not None


def pca_2d(features: torch.Tensor) -> tuple[np.ndarray, list[float]]:
    """Features (N, D) -> coordinates (N, 2) on the two principal axes, and the share of variance each holds.

    The sign of each axis is fixed (its largest loading is positive) so the same data gives the same map.
    """
    x = features.double()
    x = x - x.mean(0, keepdim=True)
    n = x.shape[0]
    if n < 2:
        return np.zeros((n, 2), dtype=np.float32), [0.0, 0.0]
    if n <= EXACT_PCA_MAX:
        _, s, vh = torch.linalg.svd(x, full_matrices=False)
        axes = vh[:2]
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            _, s, v = torch.pca_lowrank(x, q=min(8, x.shape[1]), center=False, niter=6)
        axes = v[:, :2].T
    if axes.shape[0] < 2:
        axes = torch.cat([axes, torch.zeros(2 - axes.shape[0], x.shape[1], dtype=x.dtype)])
    flip = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    axes = axes * torch.where(flip == 0, torch.ones_like(flip), flip)
    coords = x @ axes.T
    total = float((x ** 2).sum())
    explained = [float((coords[:, i] ** 2).sum()) / total if total > 0 else 0.0 for i in range(2)]
    return coords.float().numpy(), explained


def tsne_2d(features: torch.Tensor, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Features (N, D) -> t-SNE coordinates (N, 2), with scikit-learn (PCA initialisation, fixed seed)."""
    if not tsne_available():
        raise EmbeddingMapError(MSG_NO_TSNE)
    n = features.shape[0]
    if n < TSNE_MIN_POINTS:
        raise EmbeddingMapError(MSG_TOO_FEW_TSNE.format(n=TSNE_MIN_POINTS, have=n))
    from sklearn.manifold import TSNE

    x = features.double().numpy()
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca", random_state=seed,
                learning_rate="auto")
    return tsne.fit_transform(x).astype(np.float32)


def project(features: torch.Tensor, method: str = DEFAULT_METHOD, seed: int = 0) -> tuple[np.ndarray, list[float] | None]:
    """Features (N, D) -> 2-D coordinates (N, 2) and, for PCA, the variance share of each axis."""
    if method not in METHODS:
        raise ParameterError(MSG_BAD_METHOD.format(method=method))
    x = F.normalize(features.float(), dim=-1)
    if method == "pca":
        return pca_2d(x)
    return tsne_2d(x, seed=seed), None


@dataclass
class EmbeddingMap:
    """Points of a map, in one order: support images first (class order), then query images.

    coords: float32 (N, 2). kinds: "support" or "query". labels: the class (support) or the predicted class
    (query). confidence: the predicted probability for queries, None for support images.
    """

    method: str
    class_names: list[str]
    coords: np.ndarray
    kinds: list[str]
    labels: list[str]
    paths: list[str]
    confidence: list[float | None]
    explained: list[float] | None = None
    skipped: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def indices(self, label: str | None = None, kind: str | None = None) -> list[int]:
        return [i for i in range(len(self)) if (label is None or self.labels[i] == label)
                and (kind is None or self.kinds[i] == kind)]

    def rows(self) -> list[dict]:
        return [{"kind": k, "path": p, "label": lab, "x": float(x), "y": float(y), "confidence": c}
                for k, p, lab, (x, y), c in zip(self.kinds, self.paths, self.labels, self.coords.tolist(),
                                                self.confidence)]

    def to_json(self) -> str:
        return strict_json.dumps({"method": self.method, "class_names": self.class_names,
                                  "explained_variance": self.explained, "points": self.rows()}, indent=2)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["kind", "path", "label", "x", "y", "confidence"],
                                lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({**row, "confidence": "" if row["confidence"] is None else row["confidence"]})
        return out.getvalue()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the map as CSV or JSON, by the file's suffix."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".json"):
            raise EmbeddingMapError(MSG_FORMAT.format(path=path))
        try:
            text = self.to_csv() if suffix == ".csv" else self.to_json()
            atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                         inputs=[("an image of the map", p) for p in self.paths])
        except OutputPathError as exc:
            raise EmbeddingMapError(str(exc)) from None
        except OSError as exc:
            raise EmbeddingMapError(MSG_WRITE.format(path=path, error=exc.strerror or exc)) from None
        return path


class EmbeddingMapRun(Run[EmbeddingMap]):
    """Embed the query images (if any), then project them with the model's support features.

    Iterate it for :class:`Stage` events; ``result`` holds the :class:`EmbeddingMap` at the end. ``cancel()``
    stops it before the next batch (iteration ends, ``result`` stays None).
    """

    def __init__(self, classifier: FewShotClassifier, queries: Iterable[str | os.PathLike] = (), *,
                 method: str = DEFAULT_METHOD, include_support: bool = True, seed: int = 0,
                 batch_size: int | None = None):
        super().__init__()
        if method not in METHODS:
            raise ParameterError(MSG_BAD_METHOD.format(method=method))
        if method == "tsne" and not tsne_available():
            raise EmbeddingMapError(MSG_NO_TSNE)
        self.classifier = classifier
        self.queries = [Path(p) for p in queries]
        self.method = method
        self.include_support = include_support
        self.seed = seed
        self.batch_size = batch_size

    def _events(self) -> Iterator[Stage]:
        clf = self.classifier
        names = list(clf.class_names)
        feats, kinds, labels, paths, conf = [], [], [], [], []
        if self.include_support and len(clf.support_features):
            feats.append(clf.support_features.float().cpu())
            labels += [names[int(i)] for i in clf.support_labels.tolist()]
            kinds += ["support"] * len(clf.support_features)
            paths += [str(p) for p in clf.support_paths] or [""] * len(clf.support_features)
            conf += [None] * len(clf.support_features)
        skipped: list[Skipped] = []
        if self.queries:
            emb = yield from self._until_cancelled(
                embed_images(clf, self.queries, batch_size=self.batch_size, exclude_support=self.include_support))
            if emb is None:
                return
            feats.append(emb.features)
            best, idx = emb.probs.max(-1)
            labels += [names[int(i)] for i in idx.tolist()]
            kinds += ["query"] * len(emb)
            paths += [str(p) for p in emb.paths]
            conf += [float(b) for b in best.tolist()]
            skipped = emb.skipped
        if not feats:
            raise EmbeddingMapError(MSG_NO_POINTS)
        if self.cancelled:
            return
        yield Stage(f"projecting ({'t-SNE' if self.method == 'tsne' else 'PCA'})", 0, 1)
        coords, explained = project(torch.cat(feats), self.method, self.seed)
        self.result = EmbeddingMap(self.method, names, coords, kinds, labels, paths, conf, explained, skipped)
        yield Stage("projecting", 1, 1)


def embedding_map(classifier: FewShotClassifier, queries: Iterable[str | os.PathLike] = (),
                  method: str = DEFAULT_METHOD, **options) -> EmbeddingMap:
    """The map without progress reporting. See :class:`EmbeddingMapRun`."""
    return EmbeddingMapRun(classifier, queries, method=method, **options).run()
