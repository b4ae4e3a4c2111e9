"""PT-MAP (Hu et al. 2021): power transform of the features, then class centres estimated jointly with an
optimal-transport (Sinkhorn) mapping of the images to classify, assuming roughly balanced classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import hparam
from .heads import prototypes
from .registry import register_method
from .transductive import TransductiveMethod, centred, one_hot, sq_dist


@dataclass
class PTMapParams:
    steps: int = hparam(30, "Centre updates (each with a Sinkhorn mapping of the unlabelled images)", low=1, high=1000)
    power: float = hparam(0.5, "Power transform exponent (1 = none; features are clipped at 0 first)", low=0.05,
                          high=1.0)
    lam: float = hparam(10.0, "Sharpness of the mapping (the transport cost's inverse temperature)", low=0.1,
                        high=100.0)
    alpha: float = hparam(0.2, "Step size of each centre update", low=0.01, high=1.0)
    sinkhorn_steps: int = hparam(20, "Sinkhorn iterations per mapping", low=1, high=500)


def sinkhorn(cost: torch.Tensor, lam: float, steps: int) -> torch.Tensor:
    """Transport plan (M, C) of cost (M, C): every row sums to 1 and every column to M / C."""
    plan = torch.exp(-lam * (cost - cost.min(dim=1, keepdim=True).values))
    cols = cost.shape[0] / cost.shape[1]
    for _ in range(steps):
        plan = plan * (cols / plan.sum(0).clamp_min(1e-12))[None, :]
        plan = plan / plan.sum(1, keepdim=True).clamp_min(1e-12)
    return plan


@register_method("pt_map")
class PTMap(TransductiveMethod):
    title = "PT-MAP (transductive)"
    description = ("Power-transformed features; class centres estimated jointly with the unlabelled images by "
                   "optimal transport (Hu et al. 2021). Best with many unlabelled images, balanced classes")
    Params = PTMapParams

    def transform(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        return centred(torch.nn.functional.normalize((x.clamp_min(0) + 1e-6).pow(self.params.power), dim=-1), mean)

    def solve(self, support, labels, n_classes, joint):
        p = self.params
        ps = torch.nn.functional.normalize((support.clamp_min(0) + 1e-6).pow(p.power), dim=-1)
        pj = torch.nn.functional.normalize((joint.clamp_min(0) + 1e-6).pow(p.power), dim=-1)
        mean = torch.cat([ps, pj]).mean(0)
        fs, fj = centred(ps, mean), centred(pj, mean)
        centres = prototypes(fs, labels, n_classes)
        plan = fj.new_zeros(0, n_classes)
        if fj.shape[0]:
            weights_s = one_hot(labels, n_classes)
            for _ in range(p.steps):
                plan = sinkhorn(sq_dist(fj, centres), p.lam, p.sinkhorn_steps)
                w = torch.cat([weights_s, plan])
                target = (w.T @ torch.cat([fs, fj])) / w.sum(0).clamp_min(1e-12)[:, None]
                centres = centres + p.alpha * (target - centres)
            plan = sinkhorn(sq_dist(fj, centres), p.lam, p.sinkhorn_steps)
        return plan.clamp_min(1e-12).log(), {"mean": mean, "centres": centres}

    def inductive_logits(self, features, head):
        return -self.params.lam * sq_dist(self.transform(features, head["mean"]), head["centres"])
