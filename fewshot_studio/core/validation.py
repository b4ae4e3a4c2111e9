"""How good is the model? Cross-validation on the support set, and comparing methods side by side.

:class:`CrossValidation` is a :class:`~.runs.Run`, like :class:`~.engine.AdaptRun`: iterate it,
``cancel()`` between folds, read ``result`` at the end. Each fold adapts a fresh method to the images that
remain and classifies the held-out ones.

- ``folds="auto"``: leave-one-out up to :data:`LOO_MAX_IMAGES` images when the method keeps the backbone
  frozen (a fold then costs milliseconds), otherwise stratified 5-fold.
- A frozen backbone embeds each image once (the engine's feature cache is shared with Adapt), and every
  fold only refits the method's head on those features. A method that trains the backbone runs a whole
  adaptation per fold.
- ``domain_adaptation`` (and the support set's unlabelled pool) cross-validate what Adapt would make with them:
  each fold is then a whole adaptation with those stages and that pool (the pool is never held out, it has no
  labels), as it is for a transductive method when the support set has a pool.
- Accuracy's 95% interval is Wilson's score interval on the held-out images (it stays inside 0..100% and
  is honest at 100% accuracy with few images, where the normal approximation gives a zero width).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import calibration as calib
from .adaptation import AdaptationStage, check_stages, make_stages, uses_pool
from .algorithms import DEFAULT_METHOD, FitTask, MetaLearner, get_method
from .backbones import DEFAULT_BACKBONE, get_backbone
from .backbones.cache import load_backbone
from .devices import MSG_OOM_VALIDATE, Precision, device_label, guard_out_of_memory, inference_batch, resolve_device
from .engine import AdaptRun
from .errors import FewShotError, RunCancelled, SupportSetError
from .openset import DEFAULT_QUANTILE, OpenSetRule, calibrate, nearest_similarity
from .runs import Progress, Run, Stage
from .support import SupportSet

LOO_MAX_IMAGES = 50
DEFAULT_FOLDS = 5

MSG_ONE_IMAGE = ("cannot cross-validate: class {names} {has} only one image, so no fold could learn "
                 "{it} while holding {it} out; add at least one more image to {each}")
MSG_FOLDS = "folds must be 'auto', 'loo' or a whole number of at least 2, not {value!r}"


@dataclass(frozen=True)
class FoldDone:
    """One fold finished: its held-out images were classified."""

    fold: int  # 1-based
    total: int
    correct: int  # held-out images classified correctly so far, over all folds
    seen: int  # held-out images classified so far
    elapsed: float  # seconds since the run started


@dataclass(frozen=True)
class _Fold:
    test: torch.Tensor  # held-out indices
    predicted: torch.Tensor
    confidence: torch.Tensor
    similarity: torch.Tensor
    logits: torch.Tensor  # (n, C) held-out logits, before calibration


@dataclass
class Misclassified:
    path: str
    true: str
    predicted: str
    confidence: float

    def to_dict(self) -> dict:
        return {"path": self.path, "true": self.true, "predicted": self.predicted, "confidence": self.confidence}


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% score interval (low, high) for a proportion ``correct / n``."""
    if n == 0:
        return float("nan"), float("nan")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class ValidationResult:
    """Held-out predictions of every support image, and what follows from them."""

    class_names: list[str]
    paths: list[str]
    true: list[int]
    predicted: list[int]
    confidence: list[float]  # probability of the predicted class
    similarity: list[float]  # cosine similarity to the nearest image of the training folds (open-set score)
    folds: int
    scheme: str  # "leave-one-out" or "stratified 5-fold"
    backbone: str
    method: str
    params: dict
    seconds: float
    device: str = "CPU"
    fast: bool = True  # each image embedded once (frozen backbone)
    logits: list[list[float]] = field(default_factory=list)  # held-out logits (N, C), before calibration
    domain_adaptation: list[str] = field(default_factory=list)  # the stages every fold adapted with, in order
    unlabelled: int = 0  # the support set's unlabelled pool, given to every fold's stages (0: none, or unused)

    def calibration(self) -> calib.Calibration:
        """The temperature fitted on these held-out logits, with the ECE before and after (in-sample: the same
        predictions fit and measure it; see benchmarks/calibration.py for held-out queries)."""
        if not self.logits:
            return calib.UNCALIBRATED
        return calib.calibration_from_logits(torch.tensor(self.logits), torch.tensor(self.true),
                                             calib.scheme_method(self.scheme))

    def reliability(self, temperature: float = 1.0, bins: int = calib.DEFAULT_BINS) -> list[dict]:
        """Reliability bins of the held-out predictions at ``temperature`` (see :func:`.calibration.reliability_bins`)."""
        if not self.logits:
            return []
        probs = F.softmax(torch.tensor(self.logits) / temperature, dim=-1)
        return calib.reliability_bins(probs, torch.tensor(self.true), bins)

    def calibration_dict(self) -> dict:
        cal = self.calibration()
        return {**cal.to_dict(), "bins_before": self.reliability(1.0), "bins_after": self.reliability(cal.temperature)}

    @property
    def n(self) -> int:
        return len(self.true)

    @property
    def correct(self) -> int:
        return sum(t == p for t, p in zip(self.true, self.predicted))

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    def confusion(self) -> list[list[int]]:
        """Counts: row = true class, column = predicted class."""
        k = len(self.class_names)
        m = [[0] * k for _ in range(k)]
        for t, p in zip(self.true, self.predicted):
            m[t][p] += 1
        return m

    def per_class(self) -> list[dict]:
        """For each class: images, correct, accuracy (recall) and precision (None when nothing was predicted
        as that class)."""
        m = self.confusion()
        out = []
        for i, name in enumerate(self.class_names):
            n, right = sum(m[i]), m[i][i]
            predicted = sum(row[i] for row in m)
            out.append({"name": name, "images": n, "correct": right,
                        "accuracy": right / n if n else float("nan"),
                        "precision": right / predicted if predicted else None})
        return out

    def misclassified(self, true: int | None = None, predicted: int | None = None) -> list[Misclassified]:
        """Held-out images classified wrongly (optionally only those of one confusion-matrix cell)."""
        return [Misclassified(self.paths[i], self.class_names[t], self.class_names[p], self.confidence[i])
                for i, (t, p) in enumerate(zip(self.true, self.predicted))
                if t != p and (true is None or t == true) and (predicted is None or p == predicted)]

    def cell(self, true: int, predicted: int) -> list[str]:
        """Paths of the held-out images of class ``true`` predicted as ``predicted``."""
        return [self.paths[i] for i, (t, p) in enumerate(zip(self.true, self.predicted))
                if t == true and p == predicted]

    def open_set_rule(self, quantile: float = DEFAULT_QUANTILE, enabled: bool = True) -> OpenSetRule:
        """The "None of these" threshold calibrated on these held-out predictions (see :mod:`.openset`)."""
        correct = [t == p for t, p in zip(self.true, self.predicted)]
        return calibrate(self.similarity, correct, quantile=quantile,
                         calibration=f"cross-validation ({self.scheme})", enabled=enabled)

    def to_dict(self) -> dict:
        low, high = self.ci95
        return {"backbone": self.backbone, "method": self.method, "params": self.params, "scheme": self.scheme,
                "domain_adaptation": self.domain_adaptation, "unlabelled": self.unlabelled,
                "folds": self.folds, "images": self.n, "correct": self.correct, "accuracy": self.accuracy,
                "ci95": [low, high], "seconds": self.seconds, "device": self.device,
                "classes": self.per_class(), "confusion": self.confusion(),
                "misclassified": [m.to_dict() for m in self.misclassified()], "calibration": self.calibration_dict()}


def plan_folds(labels: list[int], folds: str | int, frozen: bool, seed: int = 0) -> tuple[list[list[int]], str]:
    """Held-out index lists, one per fold, and the scheme's name. Every class keeps an image in training."""
    planned = calib.plan_folds(labels, folds, frozen, seed, LOO_MAX_IMAGES, DEFAULT_FOLDS)
    if planned is None:
        raise SupportSetError(MSG_FOLDS.format(value=folds))
    return planned


def check_support(support: SupportSet) -> None:
    """Cross-validation needs two classes and at least two images in every class."""
    support.validate()
    single = [c.name for c in support.classes if len(c.images) < 2]
    if single:
        many = len(single) > 1
        raise SupportSetError(MSG_ONE_IMAGE.format(
            names=", ".join(repr(s) for s in single), has="have" if many else "has",
            it="them" if many else "it", each="each of them" if many else "it"))


class CrossValidation(Run[ValidationResult]):
    """Cross-validate ``method`` with ``backbone`` on a support set. Iterate for events; ``result`` at the end.

    >>> cv = CrossValidation(support, "efficientnet_lite0", "prototypical")
    >>> for event in cv: print(event)      # Stage (embedding) and FoldDone events
    >>> cv.result.accuracy, cv.result.ci95, cv.result.confusion()
    """

    def __init__(self, support: SupportSet, backbone: str = DEFAULT_BACKBONE, method: str = DEFAULT_METHOD,
                 params: dict | None = None, *, folds: str | int = "auto", weights: str | os.PathLike = "pretrained",
                 device: str = "auto", seed: int | None = 0,
                 domain_adaptation: str | Sequence[str | AdaptationStage] = ()):
        super().__init__()
        check_support(support)
        self.class_names = support.class_names
        self.samples = support.samples()
        self.backbone_name = backbone
        self.spec = get_backbone(backbone)
        self.method_cls = get_method(method)
        self.kind = self.spec.kind_for(weights)  # the method's defaults follow the backbone, as in AdaptRun
        self.explicit = dict(params or {})
        probe = self.method_cls.for_backbone(self.kind, self.explicit)  # checks the hyperparameters now
        self.params = probe.params_dict()  # the values used: explicit ones, then the backbone kind's defaults
        self.method_name = probe.name
        self.method_title = probe.title
        self.stages = make_stages(domain_adaptation)
        check_stages(self.stages, probe, len(support.unlabelled))
        # the pool counts when the model would use it (stages, a transductive method): a whole adaptation per fold
        pool = list(support.unlabelled) if support.unlabelled and uses_pool(self.stages, probe) else []
        self.support = SupportSet(((c.name, list(c.images)) for c in support.classes), pool)  # a snapshot
        self.fast = not probe.trains_backbone() and not pool
        self.weights = weights
        self.device = resolve_device(device)
        self.seed = seed
        labels = [c for _, c in self.samples]
        self.plan, self.scheme = plan_folds(labels, folds, self.fast, seed or 0)

    @property
    def total_folds(self) -> int:
        return len(self.plan)

    def _events(self) -> Iterator:
        """Cancelled runs raise RunCancelled after the current fold (or the current step of its adaptation)."""
        start = time.perf_counter()
        n = len(self.samples)
        labels = torch.tensor([c for _, c in self.samples])
        pred = torch.zeros(n, dtype=torch.long)
        conf = torch.zeros(n)
        sim = torch.zeros(n)
        logits = torch.zeros(n, len(self.class_names))
        gen = guard_out_of_memory(self._fast_folds(labels) if self.fast else self._slow_folds(), self.device,
                                  MSG_OOM_VALIDATE)
        seen = correct = fold = 0
        for item in gen:
            if not isinstance(item, _Fold):
                yield item  # a Stage: embedding, or a fold's adaptation step
                self._raise_if_cancelled(fold, self.total_folds)
                continue
            fold += 1
            test = item.test
            pred[test], conf[test], sim[test] = item.predicted.cpu(), item.confidence.cpu(), item.similarity.cpu()
            logits[test] = item.logits.cpu()
            seen += len(test)
            correct += int((pred[test] == labels[test]).sum())
            yield FoldDone(fold, self.total_folds, correct, seen, time.perf_counter() - start)
            self._raise_if_cancelled(fold, self.total_folds)
        self.result = ValidationResult(
            self.class_names, [str(p) for p, _ in self.samples], labels.tolist(), pred.tolist(), conf.tolist(),
            sim.tolist(), self.total_folds, self.scheme, self.backbone_name, self.method_name, self.params,
            round(time.perf_counter() - start, 3), device_label(self.device), self.fast, logits.tolist(),
            [s.name for s in self.stages], len(self.support.unlabelled))

    # --- frozen backbone: embed once, refit the head per fold ----------------------------------------------------
    def _fast_folds(self, labels: torch.Tensor):
        # The engine's own embedding: the same backbone cache and per-file feature cache as Adapt.
        run = AdaptRun(self.support, self.backbone_name, self._fresh_method(), weights=self.weights,
                       device=str(self.device), seed=self.seed)
        self._follow(run)
        yield Stage("building backbone", 0, 1)
        shared, key = load_backbone(self.spec, self.weights)
        backbone = shared.to(self.device).eval()
        pre = self.spec.preprocess
        paths = [p for p, _ in self.samples]
        images = []
        for i, path in enumerate(paths):
            if i % 8 == 0:
                yield Stage("loading images", i, len(paths))
            images.append(pre.load([path]))
        images = torch.cat(images).to(self.device)
        dev_labels = labels.to(self.device)
        task = FitTask(backbone, pre, images, dev_labels, len(self.class_names), self.device, Precision(self.device),
                       self._generator(), embed_batch=inference_batch(self.device))
        pooled = yield from run._cached_features(task, key, paths)
        self._follow(None)
        if run.method.feature_kind == "map":
            with torch.no_grad():
                feats = torch.cat([backbone.feature_map(pre.view(images[i:i + 16])).float()
                                   for i in range(0, len(images), 16)])
        else:
            feats = pooled
        task.features = pooled
        cancelled = self._cancel.is_set
        for test_t, logits in calib.frozen_held_out(task, feats, self._fresh_method, self.plan, cancelled):
            self._raise_if_cancelled(0, self.total_folds)
            c, p = F.softmax(logits, dim=-1).max(dim=-1)
            keep = torch.ones(len(labels), dtype=torch.bool, device=self.device)
            keep[test_t] = False
            yield _Fold(test_t.cpu(), p, c, nearest_similarity(pooled[test_t], pooled[keep]), logits)
        self._raise_if_cancelled(0, self.total_folds)

    # --- a trained backbone: one adaptation per fold ------------------------------------------------------------
    def _slow_folds(self):
        for f, test in enumerate(self.plan, 1):
            held = set(test)
            train = SupportSet(((name, [p for i, (p, c) in enumerate(self.samples) if c == k and i not in held])
                                for k, name in enumerate(self.class_names)), self.support.unlabelled)
            run = AdaptRun(train, self.backbone_name, self._fresh_method(), weights=self.weights,
                           device=str(self.device), seed=self.seed, domain_adaptation=self.stages, calibrate=False)
            self._follow(run)
            for event in run:
                if isinstance(event, Progress):
                    yield Stage(f"fold {f} of {self.total_folds}: adapting", event.step, event.total)
            self._follow(None)
            clf = run.result
            base = torch.cat([clf.preprocess.load([self.samples[i][0]]) for i in test])
            with torch.no_grad():
                feats, pooled = clf.features(clf.preprocess.view(base.to(clf.device)))
                logits = clf.method.logits(feats.float()).float().cpu()
            c, p = F.softmax(logits, dim=-1).max(dim=-1)
            yield _Fold(torch.tensor(test), p, c, nearest_similarity(pooled.cpu(), clf.support_features), logits)

    def _fresh_method(self):
        """A new, unfitted method, with the modules a meta-training checkpoint holds for it (as Adapt does)."""
        method = self.method_cls.for_backbone(self.kind, self.explicit)
        if not hasattr(self, "_meta_state"):
            self._meta_state = self.spec.method_state(method.name)
        if self._meta_state is not None and isinstance(method, MetaLearner):
            method.load_meta_state(self._meta_state)
        return method

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed if self.seed is not None else 0)


# --- comparing methods ------------------------------------------------------------------------------------------
@dataclass
class Candidate:
    backbone: str
    method: str
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} on {self.backbone}"


@dataclass(frozen=True)
class CandidateStarted:
    index: int  # 0-based
    total: int
    candidate: Candidate


@dataclass
class ComparisonRow:
    candidate: Candidate
    result: ValidationResult | None
    error: str = ""  # why this candidate could not be cross-validated (weights missing...)

    def to_dict(self) -> dict:
        out = {"backbone": self.candidate.backbone, "method": self.candidate.method, "params": self.candidate.params}
        if self.result is None:
            return {**out, "error": self.error}
        low, high = self.result.ci95
        return {**out, "accuracy": self.result.accuracy, "ci95": [low, high], "seconds": self.result.seconds,
                "scheme": self.result.scheme, "images": self.result.n}


class Comparison(Run[list]):
    """Cross-validate several (backbone, method) candidates on one support set; ``rows`` at the end,
    ``best`` the most accurate (ties: the faster). A candidate that cannot run is reported, not fatal."""

    def __init__(self, support: SupportSet, candidates: list[Candidate], *, folds: str | int = "auto",
                 device: str = "auto", seed: int | None = 0,
                 domain_adaptation: str | Sequence[str | AdaptationStage] = ()):
        super().__init__()
        check_support(support)
        if not candidates:
            raise SupportSetError("nothing to compare; choose at least one method and one backbone")
        self.support = support
        self.candidates = list(candidates)
        self.folds, self.device, self.seed = folds, device, seed
        self.domain_adaptation = domain_adaptation  # for every candidate (one that cannot take it is reported)
        self.rows: list[ComparisonRow] = []
        self.result = self.rows

    @property
    def best(self) -> ComparisonRow | None:
        done = [r for r in self.rows if r.result is not None]
        return max(done, key=lambda r: (r.result.accuracy, -r.result.seconds), default=None)

    def _events(self):
        for i, cand in enumerate(self.candidates):
            self._raise_if_cancelled(i, len(self.candidates))
            yield CandidateStarted(i, len(self.candidates), cand)
            try:
                cv = CrossValidation(self.support, cand.backbone, cand.method, cand.params, folds=self.folds,
                                     device=self.device, seed=self.seed, domain_adaptation=self.domain_adaptation)
                self._follow(cv)
                yield from cv
                self.rows.append(ComparisonRow(cand, cv.result))
            except RunCancelled:
                raise
            except FewShotError as exc:
                self.rows.append(ComparisonRow(cand, None, str(exc)))
            finally:
                self._follow(None)
