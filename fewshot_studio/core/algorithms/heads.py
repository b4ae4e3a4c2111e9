"""Classifier maths shared by the methods: prototypes, distances, a cosine linear head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def prototypes(features: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class means. features (N, D), labels (N,) -> (n_classes, D)."""
    sums = torch.zeros(n_classes, features.shape[1], device=features.device, dtype=features.dtype)
    sums.index_add_(0, labels, features)
    counts = torch.bincount(labels, minlength=n_classes).clamp_min(1).to(features.dtype)
    return sums / counts[:, None]


DISTANCES = ("cosine", "euclidean", "l2")


def prototype_logits(queries: torch.Tensor, protos: torch.Tensor, distance: str, scale: float) -> torch.Tensor:
    """queries (N, D), protos (C, D) -> (N, C).

    ``cosine``: ``scale`` x cosine similarity; ``euclidean``: minus the squared Euclidean distance (Snell et al.
    2017); ``l2``: minus the Euclidean distance itself (easyfsl's logits; the best from scratch on Omniglot).
    """
    if distance == "cosine":
        return scale * F.normalize(queries, dim=-1) @ F.normalize(protos, dim=-1).T
    distances = torch.cdist(queries, protos)
    return -distances.pow(2) if distance == "euclidean" else -distances


class CosineHead(nn.Module):
    """Linear classifier on L2-normalised features, started from the class prototypes.

    Starting at the prototypes makes step 0 a nearest-centroid classifier, so few steps are needed.
    """

    def __init__(self, protos: torch.Tensor, scale: float):
        super().__init__()
        self.weight = nn.Parameter(F.normalize(protos.detach(), dim=-1) * scale)
        self.bias = nn.Parameter(torch.zeros(protos.shape[0], device=protos.device))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(features, dim=-1) @ self.weight.T + self.bias


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return (logits.argmax(-1) == labels).float().mean().item()


class CosineHeadMixin:
    """logits / head_state / load_head_state for methods whose classifier is a :class:`CosineHead`."""

    head: CosineHead | None = None

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.head.to(features.device)(features)

    def head_state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.head.weight.detach(), "bias": self.head.bias.detach()}

    def load_head_state(self, state: dict[str, torch.Tensor]) -> None:
        self.head = CosineHead(state["weight"], 1.0).eval()
        with torch.no_grad():
            self.head.weight.copy_(state["weight"])
            self.head.bias.copy_(state["bias"])
        self.n_classes = state["weight"].shape[0]
