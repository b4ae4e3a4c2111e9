""""None of these": rejecting queries that are unlike every class of the support set.

The score is the cosine similarity between a query's pooled backbone features and its *nearest support
image* (any class): the same number the window shows beside "Closest examples". A query whose nearest
support image is less similar than the threshold is reported as unknown.

The rule, calibrated on the support set by cross-validation: hold each support image out (or each fold),
score it against the images that remain, and keep the scores of the held-out images the method classified
*correctly*. The threshold is their ``quantile`` (5% by default): about 95% of images like the support
set's own, never seen by the model, are accepted. With no correct held-out image, all held-out scores are
used. The threshold is stored in the model file (metadata key ``open_set``) and rejection is off unless
switched on (``enabled``, ``predict --open-set``, the window's "None of these" toggle).

How far to trust it: the rule keeps how many held-out scores it came from (``held_out``). A 5% quantile of
fewer than 20 scores (``min_reliable``: 1 / quantile) is little more than the lowest score seen, so with one
or two examples per class the threshold is a guess: :attr:`OpenSetRule.reliable` is False, and the window
says so. Model files saved before ``held_out`` was kept load with 0 ("not recorded").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

SCORE = "nearest_similarity"
DEFAULT_QUANTILE = 0.05

MSG_NO_RULE = ("this model has no open-set threshold; adapt it again with --open-set (or switch on "
               "\"None of these\" in the window), which calibrates one on the support set")


@dataclass
class OpenSetRule:
    """Reject a query when its similarity to the nearest support image is below ``threshold``."""

    threshold: float
    quantile: float = DEFAULT_QUANTILE
    score: str = SCORE
    calibration: str = "cross-validation"  # how the held-out scores were obtained
    held_out: int = 0  # how many held-out scores the threshold came from
    enabled: bool = False  # whether predictions reject by default

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> OpenSetRule | None:
        if not isinstance(data, dict) or "threshold" not in data:
            return None
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        number = (int, float)
        kinds = {"threshold": number, "quantile": number, "score": str, "calibration": str, "held_out": int,
                 "enabled": bool}
        for key, value in known.items():  # a file from elsewhere: a rule that cannot be right is no rule
            if not isinstance(value, kinds[key]) or (key in ("threshold", "quantile", "held_out")
                                                      and isinstance(value, bool)):
                return None
            if isinstance(value, float) and not math.isfinite(value):
                return None
        if not 0 < known.get("quantile", DEFAULT_QUANTILE) < 1 or known.get("held_out", 0) < 0:
            return None
        return cls(**known)

    def rejects(self, similarity: float) -> bool:
        return similarity < self.threshold

    @property
    def min_reliable(self) -> int:
        """How many held-out scores a ``quantile`` threshold needs before it is more than the lowest one seen."""
        return math.ceil(1 / self.quantile - 1e-9) if self.quantile > 0 else 1

    @property
    def reliable(self) -> bool:
        """Whether the threshold came from enough held-out images (False also when the count was not recorded)."""
        return self.held_out >= self.min_reliable


def nearest_similarity(queries: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of each query to its nearest support image. queries (N, D), support (M, D) -> (N,)."""
    if support.shape[0] == 0:
        return torch.full((queries.shape[0],), float("-inf"))
    sims = F.normalize(queries.float(), dim=-1) @ F.normalize(support.float(), dim=-1).T
    return sims.max(dim=1).values


def calibrate(scores, correct, *, quantile: float = DEFAULT_QUANTILE, calibration: str = "cross-validation",
              enabled: bool = True) -> OpenSetRule:
    """The rule from held-out scores (N,) and whether each held-out image was classified correctly (N,)."""
    scores = torch.as_tensor(scores, dtype=torch.float32).flatten()
    correct = torch.as_tensor(correct, dtype=torch.bool).flatten()
    kept = scores[correct] if bool(correct.any()) else scores
    if kept.numel() == 0:
        raise ValueError("no held-out scores to calibrate on")
    threshold = float(torch.quantile(kept, quantile, interpolation="linear"))
    return OpenSetRule(threshold, quantile, SCORE, calibration, int(kept.numel()), enabled)


def calibrate_from_features(features: torch.Tensor, labels: torch.Tensor, *,
                            quantile: float = DEFAULT_QUANTILE, enabled: bool = True) -> OpenSetRule:
    """Leave-one-out on stored support features alone (for a model file without a threshold).

    Each support image is scored against the others, and counts as correct when its nearest other image
    has its class. Exact for a frozen backbone; with a trained one its features saw every image, so the
    scores are optimistic and the threshold a little strict.
    """
    f = F.normalize(features.float(), dim=-1)
    sims = f @ f.T
    sims.fill_diagonal_(float("-inf"))
    best, nearest = sims.max(dim=1)
    correct = labels.cpu()[nearest.cpu()] == labels.cpu()
    return calibrate(best, correct, quantile=quantile, calibration="support features (leave-one-out)",
                     enabled=enabled)
