"""Linear probe: logistic regression on frozen backbone features (each image embedded once)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import hparam
from .base import FewShotMethod, FitTask, StepReport
from .heads import CosineHead, CosineHeadMixin, accuracy, prototypes
from .registry import register_method


@dataclass
class LinearProbeParams:
    steps: int = hparam(100, "Optimisation steps (full batch: every support image each step)", low=1, high=100000)
    lr: float = hparam(0.01, "Adam learning rate", low=1e-6, high=10.0, log_scale=True)
    weight_decay: float = hparam(1e-4, "L2 penalty on the weights", low=0.0, high=1.0)
    scale: float = hparam(10.0, "Initial logit scale (the head starts as a cosine nearest-mean classifier)",
                          low=0.1, high=100)


@register_method("linear_probe")
class LinearProbe(CosineHeadMixin, FewShotMethod):
    title = "Linear probe"
    description = "Logistic regression on frozen features: fast, robust with very few images"
    Params = LinearProbeParams

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.head: CosineHead | None = None

    def total_steps(self) -> int:
        return self.params.steps

    def fit(self, task: FitTask):
        p = self.params
        self.n_classes = task.n_classes
        features = task.features
        head = CosineHead(prototypes(features, task.labels, task.n_classes), p.scale)
        optimizer = torch.optim.Adam(head.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        for _ in range(p.steps):
            with torch.enable_grad():
                logits = head(features)
                loss = F.cross_entropy(logits, task.labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            yield StepReport(loss.item(), accuracy(logits, task.labels), p.lr)
        self.head = head.eval()
