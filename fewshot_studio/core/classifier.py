"""An adapted classifier: backbone + method head + class names; predicts class probabilities for images."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from .adaptation import uses_pool
from .algorithms import FewShotMethod, TransductiveFallback, transductive_logits
from .backbones import Backbone, BackboneSpec
from .calibration import UNCALIBRATED
from .devices import MSG_OOM_PREDICT, inference_batch, out_of_memory_as_error, resolve_device
from .errors import FewShotError, ImageError, ModelFileError, ParameterError
from .images import Skipped, scan_folder
from .model_io import MSG_NOT_FINITE, MSG_TENSORS, read_model, save_classifier
from .openset import MSG_NO_RULE

MSG_TOP_K = "top_k must be at least 1, not {k}"
MSG_HEAD = "the method's head does not fit the backbone ({error})"
MSG_HEAD_ROWS = "the head scores {rows} classes but the file names {names}"
MSG_FEATURE_DIM = "support features have {stored} values each but the backbone gives {given}"


@dataclass
class Prediction:
    """The answer for one image."""

    path: str
    label: str | None  # None when open-set rejection is on and the image is unlike every class
    confidence: float
    top_k: list[tuple[str, float]]  # (class, probability), best first
    nearest: list[tuple[str, str, float]] = field(default_factory=list)  # (support image, class, cosine similarity)
    unknown: bool = False  # "None of these": rejected by the open-set threshold (top_k still holds the guesses)
    similarity: float | None = None  # cosine similarity to the nearest support image (the open-set score)

    def to_dict(self) -> dict:
        out = {"path": self.path, "label": self.label, "confidence": self.confidence,
               "top_k": [{"label": c, "score": s} for c, s in self.top_k],
               "nearest": [{"path": p, "label": c, "similarity": s} for p, c, s in self.nearest]}
        if self.similarity is not None:
            out.update(unknown=self.unknown, similarity=self.similarity)
        return out


def expand_paths(paths) -> tuple[list[Path], list[Skipped]]:
    """Files stay, folders are walked (images kept, other files reported as skipped)."""
    files, skipped = [], []
    for path in map(Path, paths):
        if path.is_dir():
            scan = scan_folder(path, validate=False)
            files += scan.images
            skipped += scan.skipped
        else:
            files.append(path)
    return files, skipped


class FewShotClassifier:
    """What an adaptation run produces, and what a saved model file holds."""

    def __init__(self, *, spec: BackboneSpec, backbone: Backbone, method: FewShotMethod, class_names: list[str],
                 weights: str, backbone_trained: bool, support_paths: list[str], support_labels: torch.Tensor,
                 support_features: torch.Tensor, info: dict | None = None, preprocess=None):
        self.spec = spec
        self._preprocess = preprocess or spec.preprocess
        self.backbone = backbone.eval()
        self.method = method
        self.class_names = list(class_names)
        self.weights = weights
        self.backbone_trained = backbone_trained
        self.support_paths = list(support_paths)
        self.support_labels = support_labels
        self.support_features = support_features
        self.info = dict(info or {})
        self.open_set = None  # an openset.OpenSetRule once calibrated; rejects only when enabled or asked to
        self.calibration = UNCALIBRATED  # a calibration.Calibration: probabilities are softmax(logits / T)

    @property
    def uses_unlabelled(self) -> bool:
        """Whether this model depends on the unlabelled pool it was adapted with (see :func:`.adaptation.uses_pool`)."""
        return uses_pool(self.info.get("domain_adaptation"), self.method)

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters()).device

    def to(self, device) -> FewShotClassifier:
        self.backbone = self.backbone.to(device)
        return self

    @property
    def preprocess(self):
        return self._preprocess

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Model inputs (N, 3, S, S) -> (method features, pooled features (N, D))."""
        x = x.to(self.device)
        if self.method.feature_kind == "map":
            maps = self.backbone.feature_map(x)
            pooled = maps.mean(dim=(2, 3))
            if pooled.shape[-1] != self.support_features.shape[-1]:
                pooled = self.backbone(x)  # support features are the backbone's pooled output (conv4: flattened)
            return maps, pooled
        pooled = self.backbone(x)
        return pooled, pooled

    @torch.no_grad()
    def predict_images(self, base: torch.Tensor, *, top_k: int = 3, nearest: int = 3,
                       names: list[str] | None = None, open_set: bool | None = None,
                       transductive: bool = False) -> list[Prediction]:
        """uint8 base tensors (N, 3, R, R) -> one :class:`Prediction` each.

        ``open_set``: True rejects images unlike every class (label None, ``unknown`` True; it needs a
        calibrated :attr:`open_set` rule), False never does, None follows the rule's ``enabled``.
        ``transductive``: classify the N images jointly (a transductive method; see :meth:`predict`).
        """
        if top_k < 1:
            raise ParameterError(MSG_TOP_K.format(k=top_k))
        self._open_set_rule(open_set)  # a missing rule is said before the images are embedded
        feats, pooled = self.features(self.preprocess.view(base.to(self.device)))
        return self._answers(feats, pooled, names, top_k=top_k, nearest=nearest, open_set=open_set,
                             transductive=transductive)

    def _answers(self, feats, pooled, names, *, top_k, nearest, open_set, transductive) -> list[Prediction]:
        rule = self._open_set_rule(open_set)
        if transductive:
            logits, note = transductive_logits(self.method, feats.float())
            if note:
                warnings.warn(note, TransductiveFallback, stacklevel=3)
        else:
            logits = self.method.logits(feats.float())
        probs = F.softmax(self.calibration.apply(logits.float()), dim=-1).cpu()
        sims = F.normalize(pooled.float().cpu(), dim=-1) @ F.normalize(self.support_features, dim=-1).T
        k = min(top_k, len(self.class_names))
        out = []
        for i in range(feats.shape[0]):
            scores, idx = probs[i].topk(k)
            ranked = [(self.class_names[j], float(s)) for s, j in zip(scores.tolist(), idx.tolist())]
            near = []
            if nearest and len(self.support_paths):
                ns, nj = sims[i].topk(min(nearest, len(self.support_paths)))
                near = [(self.support_paths[j], self.class_names[int(self.support_labels[j])], float(s))
                        for s, j in zip(ns.tolist(), nj.tolist())]
            name = names[i] if names else str(i)
            pred = Prediction(name, ranked[0][0], ranked[0][1], ranked, near)
            if rule is not None and sims.shape[1]:
                pred.similarity = float(sims[i].max())
                if rule.rejects(pred.similarity):
                    pred.unknown, pred.label = True, None
            out.append(pred)
        return out

    def _open_set_rule(self, open_set: bool | None):
        if open_set is False or (open_set is None and (self.open_set is None or not self.open_set.enabled)):
            return None
        if self.open_set is None:
            raise FewShotError(MSG_NO_RULE)
        return self.open_set

    def predict(self, paths, *, top_k: int = 3, nearest: int = 3, batch_size: int | None = None,
                on_progress=None, open_set: bool | None = None,
                transductive: bool = False) -> tuple[list[Prediction], list[Skipped]]:
        """Classify image files (folders are walked). Unusable files are skipped, with the reason.

        ``transductive``: the images are classified together, as unlabelled data for one another (and with the
        pool the model was adapted with); it needs a transductive method (``method.transductive``). With too
        few images to help, the inductive answer is kept and a :class:`TransductiveFallback` warning says so.
        """
        if top_k < 1:
            raise ParameterError(MSG_TOP_K.format(k=top_k))
        files, skipped = expand_paths(paths)
        batch_size = batch_size or inference_batch(self.device)
        if transductive:
            return self._predict_jointly(files, skipped, batch_size, top_k=top_k, nearest=nearest,
                                         on_progress=on_progress, open_set=open_set)
        predictions = []
        for start in range(0, len(files), batch_size):
            batch, names = [], []
            for path in files[start:start + batch_size]:
                try:
                    batch.append(self.preprocess.load([path]))
                    names.append(str(path))
                except ImageError as exc:
                    skipped.append(Skipped(Path(path), exc.reason))
            if batch:
                with out_of_memory_as_error(self.device, MSG_OOM_PREDICT):
                    predictions += self.predict_images(torch.cat(batch), top_k=top_k, nearest=nearest, names=names,
                                                       open_set=open_set)
            if on_progress:
                on_progress(min(start + batch_size, len(files)), len(files))
        return predictions, skipped

    @torch.no_grad()
    def _predict_jointly(self, files, skipped, batch_size, *, on_progress, **options):
        if not getattr(self.method, "transductive", False):
            transductive_logits(self.method, torch.zeros(0))  # raises: the method classifies each image alone
        feats, pooled, names = [], [], []
        for start in range(0, len(files), batch_size):
            batch = []
            for path in files[start:start + batch_size]:
                try:
                    batch.append(self.preprocess.load([path]))
                    names.append(str(path))
                except ImageError as exc:
                    skipped.append(Skipped(Path(path), exc.reason))
            if batch:
                with out_of_memory_as_error(self.device, MSG_OOM_PREDICT):
                    f, p = self.features(self.preprocess.view(torch.cat(batch).to(self.device)))
                feats.append(f)
                pooled.append(p)
            if on_progress:
                on_progress(min(start + batch_size, len(files)), len(files))
        if not feats:
            return [], skipped
        return self._answers(torch.cat(feats), torch.cat(pooled), names, transductive=True, **options), skipped

    def save(self, path: str | os.PathLike) -> Path:
        return save_classifier(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> FewShotClassifier:
        return load_classifier(path, device=device)


def load_classifier(path: str | os.PathLike, device: str = "auto") -> FewShotClassifier:
    """A classifier saved by :meth:`FewShotClassifier.save`, on ``device``. Raises ModelFileError."""
    saved = read_model(path)
    clf = FewShotClassifier(**saved.parts)
    clf.meta = saved.meta
    clf.open_set = saved.open_set
    clf.source_path = Path(path)
    clf.calibration = saved.calibration
    clf = clf.to(resolve_device(device))
    with out_of_memory_as_error(clf.device, MSG_OOM_PREDICT):
        problem = _probe(clf)
    if problem:
        message, detail = problem
        raise ModelFileError(message.format(path=path, problem=detail, name=detail))
    return clf


def _probe(clf: FewShotClassifier) -> tuple[str, str] | None:
    """Run one blank image through a loaded model: its head must give one finite score per class name, and
    its backbone features the size of the stored support features. ``(message, detail)`` when not."""
    r = clf.preprocess.resize_size
    blank = torch.full((1, 3, r, r), 128, dtype=torch.uint8, device=clf.device)
    try:
        feats, pooled = clf.features(clf.preprocess.view(blank))
        with torch.no_grad():
            logits = clf.method.logits(feats.float())
    except (RuntimeError, ValueError, IndexError, TypeError, AttributeError, KeyError) as exc:
        return MSG_TENSORS, MSG_HEAD.format(error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    if logits.dim() != 2 or logits.shape[-1] != len(clf.class_names):
        return MSG_TENSORS, MSG_HEAD_ROWS.format(rows=logits.shape[-1] if logits.dim() else 0,
                                                 names=len(clf.class_names))
    if len(clf.support_features) and pooled.shape[-1] != clf.support_features.shape[-1]:
        return MSG_TENSORS, MSG_FEATURE_DIM.format(stored=clf.support_features.shape[-1], given=pooled.shape[-1])
    if not bool(torch.isfinite(logits).all()):
        return MSG_NOT_FINITE, "the scores it gives"
    return None
