"""TIM, transductive information maximisation (Boudiaf et al. 2020): a cosine classifier trained on the
support's cross-entropy while maximising the mutual information between the unlabelled images and their
predicted classes (confident answers, classes used evenly)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import hparam
from .heads import prototypes
from .registry import register_method
from .transductive import TransductiveMethod, centred


@dataclass
class TIMParams:
    steps: int = hparam(100, "Gradient steps on the classifier (full batch)", low=1, high=10000)
    lr: float = hparam(1e-3, "Adam learning rate of the class weights", low=1e-6, high=1.0, log_scale=True)
    scale: float = hparam(10.0, "Cosine temperature of the logits", low=0.1, high=100.0)
    ce_weight: float = hparam(0.1, "Weight of the support cross-entropy", low=0.0, high=100.0)
    marginal_weight: float = hparam(1.0, "Weight of the marginal entropy (classes used evenly)", low=0.0, high=100.0)
    conditional_weight: float = hparam(0.1, "Weight of the conditional entropy (confident answers)", low=0.0,
                                       high=100.0)


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-12).log()).sum(-1)


@register_method("tim")
class TIM(TransductiveMethod):
    title = "TIM (transductive)"
    description = ("A classifier that learns from the support set and makes confident, evenly spread answers on "
                   "the unlabelled images (Boudiaf et al. 2020)")
    Params = TIMParams

    def solve(self, support, labels, n_classes, joint):
        p = self.params
        mean = torch.cat([support, joint]).mean(0)
        fs, fj = centred(support, mean), centred(joint, mean)
        weights = F.normalize(prototypes(fs, labels, n_classes), dim=-1).clone().requires_grad_(True)
        optimizer = torch.optim.Adam([weights], lr=p.lr)
        with torch.enable_grad():
            for _ in range(p.steps if fj.shape[0] else 0):
                w = F.normalize(weights, dim=-1)
                loss = p.ce_weight * F.cross_entropy(p.scale * fs @ w.T, labels)
                probs = F.softmax(p.scale * fj @ w.T, dim=-1)
                loss = loss + p.conditional_weight * entropy(probs).mean() - p.marginal_weight * entropy(probs.mean(0))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        w = F.normalize(weights.detach(), dim=-1)
        return p.scale * fj @ w.T, {"mean": mean, "weights": w}

    def inductive_logits(self, features, head):
        return self.params.scale * centred(features, head["mean"]) @ head["weights"].T
