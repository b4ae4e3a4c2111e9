"""LaplacianShot (Ziko et al. 2020): nearest rectified class centre, plus a Laplacian term that pulls each image
towards the classes of its nearest neighbours among the images classified jointly (bound optimisation)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import hparam
from .heads import prototypes
from .registry import register_method
from .transductive import TransductiveMethod, centred, one_hot, sq_dist


@dataclass
class LaplacianShotParams:
    steps: int = hparam(20, "Bound-optimisation iterations", low=1, high=1000)
    neighbours: int = hparam(3, "Nearest neighbours in the affinity graph", low=1, high=50)
    lam: float = hparam(0.7, "Weight of the Laplacian (neighbour agreement) term", low=0.0, high=10.0)
    scale: float = hparam(10.0, "Inverse temperature of the distances to class centres", low=0.1, high=100.0)
    rectify: bool = hparam(True, "Move the class centres towards the unlabelled images first (prototype "
                                 "rectification)")


@register_method("laplacian_shot")
class LaplacianShot(TransductiveMethod):
    title = "LaplacianShot (transductive)"
    description = ("Nearest class centre with neighbours voting together among the images classified jointly "
                   "(Ziko et al. 2020)")
    Params = LaplacianShotParams

    def solve(self, support, labels, n_classes, joint):
        p = self.params
        mean = torch.cat([support, joint]).mean(0)
        fs, fj = centred(support, mean), centred(joint, mean)
        centres = prototypes(fs, labels, n_classes)
        if fj.shape[0] == 0:
            return fj.new_zeros(0, n_classes), {"mean": mean, "centres": centres}
        if p.rectify:
            w = torch.cat([one_hot(labels, n_classes), F.softmax(-p.scale * sq_dist(fj, centres), dim=-1)])
            centres = (w.T @ torch.cat([fs, fj])) / w.sum(0).clamp_min(1e-12)[:, None]
        unary = p.scale * sq_dist(fj, centres)
        k = min(p.neighbours, fj.shape[0] - 1)
        affinity = fj.new_zeros(fj.shape[0], fj.shape[0])
        if k > 0:
            sims = fj @ fj.T
            sims.fill_diagonal_(-float("inf"))
            affinity.scatter_(1, sims.topk(k, dim=1).indices, 1.0)
            affinity = (affinity + affinity.T) / 2
        y = F.softmax(-unary, dim=-1)
        for _ in range(p.steps):
            y = F.softmax(-unary + p.lam * p.scale * affinity @ y, dim=-1)
        return y.clamp_min(1e-12).log(), {"mean": mean, "centres": centres}

    def inductive_logits(self, features, head):
        return -self.params.scale * sq_dist(centred(features, head["mean"]), head["centres"])
