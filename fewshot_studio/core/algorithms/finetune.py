"""Fine-tuning: a new classification head and the backbone trained together on augmented support images.

The backbone learns ``backbone_lr_factor`` times slower than the head, and its batch-norm statistics are
kept as pretrained (a handful of images would ruin them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import hparam
from .base import FewShotMethod, FitTask, StepReport
from .heads import CosineHead, CosineHeadMixin, accuracy, prototypes
from .registry import register_method


@dataclass
class FinetuneParams:
    steps: int = hparam(50, "Optimisation steps", low=1, high=100000)
    lr: float = hparam(1e-3, "Head learning rate (Adam)", low=1e-7, high=10.0, log_scale=True)
    backbone_lr_factor: float = hparam(0.1, "Backbone learning rate as a fraction of the head's", low=0.0, high=1.0)
    batch_size: int = hparam(32, "Images per step (all of them when there are fewer)", low=1, high=4096)
    augment: bool = hparam(True, "Random crops, flips and colour jitter")
    scale: float = hparam(10.0, "Initial logit scale of the cosine head", low=0.1, high=100)


@register_method("finetune")
class Finetune(CosineHeadMixin, FewShotMethod):
    title = "Fine-tuning"
    description = "New head plus gentle backbone training with augmentation: best with more examples"
    Params = FinetuneParams

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.head: CosineHead | None = None

    def trains_backbone(self) -> bool:
        return self.params.backbone_lr_factor > 0

    def total_steps(self) -> int:
        return self.params.steps

    def fit(self, task: FitTask):
        p = self.params
        self.n_classes = task.n_classes
        n = task.labels.shape[0]
        start = task.features if task.features is not None else task.embed_all()
        head = CosineHead(prototypes(start, task.labels, task.n_classes), p.scale).to(task.device)
        groups = [{"params": head.parameters(), "lr": p.lr}]
        if self.trains_backbone():
            groups.append({"params": [q for q in task.backbone.parameters() if q.requires_grad],
                           "lr": p.lr * p.backbone_lr_factor})
        optimizer = torch.optim.Adam(groups)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=p.steps)
        for _ in range(p.steps):
            idx = torch.randperm(n, generator=task.generator)[: p.batch_size].to(task.device)
            with torch.enable_grad():
                if self.trains_backbone():
                    features = task.embed(task.views(idx, augment=p.augment))
                else:
                    features = start[idx]
                logits = head(features)
                loss = F.cross_entropy(logits, task.labels[idx])
                task.precision.step(loss, optimizer)
            lr = optimizer.param_groups[0]["lr"]
            schedule.step()
            yield StepReport(loss.item(), accuracy(logits, task.labels[idx]), lr)
        self.head = head.eval()
