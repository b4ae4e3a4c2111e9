"""Prototypical Networks: each class is the mean of its examples' features; nearest mean wins.

With ``finetune_steps`` > 0 the backbone is first fine-tuned on the support set, as P>M>F does: each
step splits every class into pseudo-support and pseudo-query images (a class of one image is
paired with an augmented view of itself), and the prototypical loss is minimised on augmented views.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import hparam
from .base import FewShotMethod, FitTask, StepReport
from .heads import accuracy, prototype_logits, prototypes
from .registry import register_method


@dataclass
class ProtoParams:
    distance: str = hparam("cosine", "How queries are compared with class means", choices=("cosine", "euclidean"))
    scale: float = hparam(10.0, "Cosine temperature: higher gives more confident probabilities", low=0.1, high=100)
    finetune_steps: int = hparam(0, "Fine-tune the backbone on pseudo-episodes first (0 = frozen, fastest)",
                                 low=0, high=10000)
    lr: float = hparam(5e-5, "Backbone learning rate when fine-tuning", low=1e-8, high=1.0, log_scale=True)
    augment: bool = hparam(True, "Random crops, flips and colour jitter while fine-tuning")


@register_method("prototypical")
class PrototypicalNetworks(FewShotMethod):
    title = "Prototypical Networks"
    description = "Nearest class mean in feature space; optionally fine-tunes the backbone first (P>M>F)"
    Params = ProtoParams
    steps_param = "finetune_steps"

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.protos: torch.Tensor | None = None

    def trains_backbone(self) -> bool:
        return self.params.finetune_steps > 0

    def total_steps(self) -> int:
        return max(1, self.params.finetune_steps)

    def logits(self, features):
        return prototype_logits(features, self.protos.to(features.device), self.params.distance, self.params.scale)

    def _pseudo_episode(self, task: FitTask):
        """Indices of pseudo-support and pseudo-query images, at least one of each per class."""
        support, query = [], []
        for c in range(task.n_classes):
            idx = torch.nonzero(task.labels == c).flatten().cpu()
            idx = idx[torch.randperm(len(idx), generator=task.generator)]
            if len(idx) == 1:
                support.append(idx)
                query.append(idx)
            else:
                n_query = max(1, len(idx) // 2)
                query.append(idx[:n_query])
                support.append(idx[n_query:])
        return torch.cat(support).to(task.device), torch.cat(query).to(task.device)

    def fit(self, task: FitTask):
        self.n_classes = task.n_classes
        p = self.params
        if p.finetune_steps > 0:
            params = [q for q in task.backbone.parameters() if q.requires_grad]
            optimizer = torch.optim.Adam(params, lr=p.lr)
            for _ in range(p.finetune_steps):
                s_idx, q_idx = self._pseudo_episode(task)
                with torch.enable_grad():
                    f_s = task.embed(task.views(s_idx, augment=p.augment))
                    f_q = task.embed(task.views(q_idx, augment=p.augment))
                    logits = prototype_logits(f_q, prototypes(f_s, task.labels[s_idx], task.n_classes),
                                              p.distance, p.scale)
                    loss = F.cross_entropy(logits, task.labels[q_idx])
                    task.precision.step(loss, optimizer)
                yield StepReport(loss.item(), accuracy(logits, task.labels[q_idx]), p.lr)
        features = task.features if task.features is not None else task.embed_all()
        self.protos = prototypes(features, task.labels, task.n_classes)
        if p.finetune_steps == 0:
            logits = self.logits(features)
            yield StepReport(F.cross_entropy(logits, task.labels).item(), accuracy(logits, task.labels), 0.0)

    def head_state(self):
        return {"prototypes": self.protos}

    def load_head_state(self, state):
        self.protos = state["prototypes"]
        self.n_classes = self.protos.shape[0]

