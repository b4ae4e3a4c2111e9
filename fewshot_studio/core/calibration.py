"""Calibrated confidence: one temperature per model, fitted on the support set's own held-out predictions.

A method's logits are divided by a temperature ``T`` before the softmax. ``T`` is the value that minimises the
negative log-likelihood of held-out logits from cross-validation on the support set (leave-one-out for a frozen
backbone, whose folds only refit the head on cached features; the folds of :func:`plan_folds` otherwise), so
that "80%" is right about 80% of the time on images like the support set. The order of the classes never changes
(argmax of logits / T is argmax of logits), so accuracy and the open-set rule (similarity) are untouched.

The expected calibration error (ECE) bins predictions by confidence and averages |accuracy - confidence| over the
bins, weighted by their share of the predictions (Guo et al., 2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .algorithms import FitTask

METHOD = "loo-nll"  # metadata "method" for a temperature fitted by leave-one-out
T_MIN, T_MAX = 1e-3, 1e3
DEFAULT_BINS = 10


@dataclass(frozen=True)
class Calibration:
    """How a model's probabilities are calibrated: ``softmax(logits / temperature)``."""

    temperature: float = 1.0
    method: str = "uncalibrated"  # "loo-nll" (leave-one-out), "cv-nll" (k-fold), or "uncalibrated"
    images: int = 0  # held-out predictions the temperature was fitted on
    ece_before: float | None = None  # on those held-out predictions, at T = 1 and at the fitted T
    ece_after: float | None = None

    @property
    def calibrated(self) -> bool:
        return self.method != "uncalibrated"

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) -> calibrated logits (N, C), whose softmax are the calibrated probabilities."""
        return logits / self.temperature if self.temperature != 1.0 else logits

    def to_dict(self) -> dict:
        out = {"temperature": self.temperature, "method": self.method, "images": self.images}
        if self.ece_before is not None:
            out.update(ece_before=self.ece_before, ece_after=self.ece_after)
        return out

    @classmethod
    def from_dict(cls, data: dict | None) -> Calibration:
        """A model file's ``calibration`` entry; files without one (older files) are uncalibrated, T = 1."""
        if not isinstance(data, dict) or not data:
            return UNCALIBRATED
        try:  # a file from elsewhere: anything that is not a usable temperature means uncalibrated
            t = float(data.get("temperature", 1.0))
            images = int(data.get("images", 0))
        except (TypeError, ValueError, OverflowError):
            return UNCALIBRATED
        if not math.isfinite(t) or t <= 0:
            return UNCALIBRATED

        def ece(value):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            return float(value) if ok else None

        return cls(t, str(data.get("method", METHOD)), max(images, 0), ece(data.get("ece_before")),
                   ece(data.get("ece_after")))

    def describe(self) -> str:
        if not self.calibrated:
            return "uncalibrated"
        return f"calibrated (temperature {self.temperature:.3g}, {self.method} on {self.images} images)"


UNCALIBRATED = Calibration()


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature T > 0 minimising the NLL of ``softmax(logits / T)``; logits (N, C), labels (N,).

    The NLL is convex in 1/T, so a golden-section search over log T on [1e-3, 1e3] finds the optimum; with no
    predictions (or only one class) T = 1. When every held-out prediction is right the NLL has no optimum (it
    falls as T goes to 0, claiming 100%); then T is where the mean confidence is Laplace's rule of succession,
    (n + 1) / (n + 2) for n held-out images: 12 of 12 right makes about 93%, not certainty.
    """
    logits = torch.as_tensor(logits, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] < 2:
        return 1.0
    logits = logits - logits.max(dim=-1, keepdim=True).values  # finite, and the same softmax

    def nll(log_t: float) -> float:
        return float(F.cross_entropy(logits / math.exp(log_t), labels))

    lo, hi = math.log(T_MIN), math.log(T_MAX)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    if bool((logits.argmax(dim=-1) == labels).all()):
        return _temperature_for_confidence(logits, (len(labels) + 1) / (len(labels) + 2))
    return float(math.exp((lo + hi) / 2))


def _temperature_for_confidence(logits: torch.Tensor, target: float) -> float:
    """The T whose mean top probability of ``softmax(logits / T)`` is ``target`` (it falls as T grows)."""
    def confidence(log_t: float) -> float:
        return float(F.softmax(logits / math.exp(log_t), dim=-1).max(dim=-1).values.mean())

    lo, hi = math.log(T_MIN), math.log(T_MAX)
    if confidence(lo) <= target:
        return T_MIN
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if confidence(mid) > target else (lo, mid)
    return float(math.exp((lo + hi) / 2))


def reliability_bins(probs: torch.Tensor, labels: torch.Tensor, bins: int = DEFAULT_BINS) -> list[dict]:
    """Equal-width confidence bins over [0, 1]: for each, ``low``, ``high``, ``count``, mean ``confidence`` and
    ``accuracy`` (None for an empty bin). probs (N, C) are probabilities, labels (N,)."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.long)
    out = []
    if probs.numel() == 0:
        conf = correct = torch.zeros(0)
    else:
        conf, pred = probs.max(dim=-1)
        correct = (pred == labels).double()
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = (conf > low) & (conf <= high) if b else (conf >= low) & (conf <= high)
        n = int(inside.sum())
        out.append({"low": low, "high": high, "count": n,
                    "confidence": float(conf[inside].mean()) if n else None,
                    "accuracy": float(correct[inside].mean()) if n else None})
    return out


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = DEFAULT_BINS) -> float:
    """ECE of probabilities (N, C) against labels (N,): sum over bins of share x |accuracy - confidence|."""
    table = reliability_bins(probs, labels, bins)
    n = sum(b["count"] for b in table)
    if not n:
        return float("nan")
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in table if b["count"])


def calibration_from_logits(logits: torch.Tensor, labels: torch.Tensor, method: str = METHOD) -> Calibration:
    """Fit a temperature on held-out logits (N, C) and labels (N,), with the ECE before and after."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    labels = torch.as_tensor(labels, dtype=torch.long)
    t = fit_temperature(logits, labels)
    before = expected_calibration_error(F.softmax(logits, dim=-1), labels)
    after = expected_calibration_error(F.softmax(logits / t, dim=-1), labels)
    return Calibration(t, method, int(labels.numel()), before, after)


def scheme_method(scheme: str) -> str:
    """The metadata "method" for a cross-validation scheme's name."""
    return METHOD if scheme == "leave-one-out" else "cv-nll"


def plan_folds(labels: list[int], folds: str | int, frozen: bool, seed: int = 0,
               loo_max: int = 50, default_folds: int = 5) -> tuple[list[list[int]], str] | None:
    """Held-out index lists for ``folds`` in ("auto", "loo", k >= 2) and the scheme's name, or None when ``folds``
    is not one of those (the caller says why). Every class keeps an image in training."""
    n = len(labels)
    if isinstance(folds, str) and folds not in ("auto", "loo"):
        try:
            folds = int(folds)
        except ValueError:
            return None
    if folds == "auto":
        folds = "loo" if frozen and n <= loo_max else default_folds
    if folds == "loo":
        return [[i] for i in range(n)], "leave-one-out"
    if not isinstance(folds, int) or folds < 2:
        return None
    if folds >= n:
        return [[i] for i in range(n)], "leave-one-out"
    g = torch.Generator().manual_seed(seed)
    buckets: list[list[int]] = [[] for _ in range(folds)]
    offset = 0
    for c in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == c]
        idx = [idx[j] for j in torch.randperm(len(idx), generator=g).tolist()]
        for j, i in enumerate(idx):  # round robin, continuing where the last class stopped: balanced folds
            buckets[(offset + j) % folds].append(i)
        offset += len(idx)
    return [sorted(b) for b in buckets if b], f"stratified {folds}-fold"


def frozen_held_out(task: FitTask, feats: torch.Tensor, make_method: Callable, plan: list[list[int]],
                    cancelled: Callable[[], bool] = lambda: False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """With a frozen backbone: for each fold of ``plan``, refit a fresh method (``make_method()``) on the other
    images' cached features (``task.features``, pooled (N, D)) and yield (held-out indices, their logits (n, C)).
    ``feats`` are what the method classifies: pooled (N, D), or feature maps (N, D, h, w) for "map" methods."""
    n = task.labels.shape[0]
    for test in plan:
        test_t = torch.tensor(test, device=task.device)
        keep = torch.ones(n, dtype=torch.bool, device=task.device)
        keep[test_t] = False
        train = torch.nonzero(keep).flatten()
        method = make_method()
        fold = FitTask(task.backbone, task.preprocess, task.images[train], task.labels[train], task.n_classes,
                       task.device, task.precision, torch.Generator().manual_seed(task.generator.initial_seed()),
                       features=task.features[train], embed_batch=task.embed_batch)
        for _ in method.fit(fold):
            if cancelled():
                return
        with torch.no_grad():
            yield test_t, method.logits(feats[test_t]).float()
