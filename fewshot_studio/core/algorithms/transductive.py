"""What the transductive methods share: they classify a batch of query features jointly, with an unlabelled pool.

A :class:`TransductiveMethod` keeps the support features, their labels and the unlabelled pool it was adapted
with (``FitTask.unlabelled_features``). :meth:`~TransductiveMethod.solve` is the method: support (N, D) with
labels, and the images to classify jointly (M, D) in, their logits (M, C) and the tensors of an inductive head
out. Adapting solves over the pool, so the saved head (what :meth:`logits` and the ONNX export use) has
already moved towards the target images; :meth:`logits_transductive` solves again over the queries and the
pool together.

:func:`transductive_logits` is the one entry point (prediction and evaluation use it): it keeps the inductive
answer when the batch and the pool are too small to help, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from ..errors import FewShotError
from .base import FewShotMethod, FitTask, StepReport
from .heads import accuracy
from .registry import METHODS

MAX_POOL = 2000  # unlabelled features kept in a model (rows); more adds little and makes files large
MIN_PER_CLASS = 2  # the guard: fewer than this many images per class to classify jointly keeps the inductive answer

MSG_MAPS = "{method} works on pooled features; it cannot use a backbone that is trained while adapting"
MSG_NOT_TRANSDUCTIVE = ("{method} classifies each image on its own; transductive prediction needs a transductive "
                        "method ({names}): adapt with --algorithm {first}")
MSG_TOO_FEW = ("only {n} image(s) to classify jointly for {classes} classes (fewer than {need}); kept the inductive "
               "answer: give more images at once, or adapt with an unlabelled pool (--unlabelled)")


class TransductiveFallback(UserWarning):
    """Issued (``warnings.warn``) when transductive prediction kept the inductive answer; the message says why."""


def sq_dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (n, m) between rows of x (n, D) and y (m, D); traceable for ONNX."""
    return (x.pow(2).sum(-1, keepdim=True) + y.pow(2).sum(-1)[None, :] - 2 * x @ y.T).clamp_min(0)


def centred(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Rows centred on ``mean`` (D,) and scaled to unit length."""
    return F.normalize(x - mean, dim=-1)


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    return F.one_hot(labels, n_classes).float()


class TransductiveMethod(FewShotMethod):
    """Base of the transductive methods (frozen pooled features; one step).

    Subclasses define :meth:`solve` and :meth:`inductive_logits`; ``head`` holds what the latter needs.
    """

    transductive = True

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.head: dict[str, torch.Tensor] = {}
        self.support: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None
        self.pool: torch.Tensor | None = None

    # --- what subclasses define ------------------------------------------------------------------------------
    def solve(self, support: torch.Tensor, labels: torch.Tensor, n_classes: int,
              joint: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """support (N, D), labels (N,), joint (M, D) (M may be 0) -> (logits (M, C), inductive head tensors)."""
        raise NotImplementedError

    def inductive_logits(self, features: torch.Tensor, head: dict[str, torch.Tensor]) -> torch.Tensor:
        """features (n, D) -> (n, C), from the head alone; traceable for ONNX."""
        raise NotImplementedError

    # --- the interface ---------------------------------------------------------------------------------------
    def total_steps(self) -> int:
        return 1

    def fit(self, task: FitTask) -> Iterator[StepReport]:
        if task.features is None:
            raise FewShotError(MSG_MAPS.format(method=self.name))
        self.n_classes = task.n_classes
        support = task.features.float()
        pool = task.unlabelled_features
        pool = support.new_zeros(0, support.shape[1]) if pool is None else pool.float()[:MAX_POOL]
        with torch.no_grad():
            _, head = self.solve(support, task.labels, task.n_classes, pool)
            self.support, self.labels, self.pool, self.head = support, task.labels, pool, head
            logits = self.logits(support)
        yield StepReport(F.cross_entropy(logits, task.labels).item(), accuracy(logits, task.labels), 0.0)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.inductive_logits(features, {k: v.to(features.device) for k, v in self.head.items()})

    @torch.no_grad()
    def logits_transductive(self, features: torch.Tensor, unlabelled: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (n, C) of query features (n, D), solved jointly with them, the stored pool and ``unlabelled``."""
        dev = features.device
        joint = [features.float(), self.pool.to(dev)]
        if unlabelled is not None:
            joint.append(unlabelled.float().to(dev))
        logits, _ = self.solve(self.support.to(dev), self.labels.to(dev), self.n_classes, torch.cat(joint))
        return logits[: features.shape[0]]

    def head_state(self) -> dict[str, torch.Tensor]:
        state = {f"head.{k}": v for k, v in self.head.items()}
        state.update({"support": self.support, "labels": self.labels.to(torch.int64), "pool": self.pool})
        return state

    def load_head_state(self, state: dict[str, torch.Tensor]) -> None:
        self.head = {k[5:]: v for k, v in state.items() if k.startswith("head.")}
        self.support, self.labels, self.pool = state["support"].float(), state["labels"], state["pool"].float()
        self.n_classes = int(self.labels.max()) + 1


def transductive_logits(method: FewShotMethod, features: torch.Tensor,
                        unlabelled: torch.Tensor | None = None) -> tuple[torch.Tensor, str | None]:
    """(logits (n, C), a note or None): the method's transductive answer for query features (n, D), or its
    inductive one, with a note saying why, when fewer than :data:`MIN_PER_CLASS` images per class (queries,
    ``unlabelled`` and the model's stored pool together) are there to classify jointly."""
    if not getattr(method, "transductive", False):
        names = [n for n, cls in METHODS.items() if getattr(cls, "transductive", False)]
        raise FewShotError(MSG_NOT_TRANSDUCTIVE.format(method=method.name, names=", ".join(names), first=names[0]))
    n = features.shape[0] + (0 if unlabelled is None else unlabelled.shape[0])
    n += 0 if getattr(method, "pool", None) is None else method.pool.shape[0]
    need = MIN_PER_CLASS * method.n_classes
    if n < need:
        return method.logits(features), MSG_TOO_FEW.format(n=n, classes=method.n_classes, need=need)
    return method.logits_transductive(features, unlabelled), None
