"""Reptile (Nichol et al. 2018): move the initialisation toward the weights adapted to each task.

Meta-update: theta <- theta + meta_lr * mean_i (theta_i - theta), where theta_i is theta after
``inner_steps`` SGD steps on task i (its support and query images together). It is expressed as the
gradient ``theta - mean_i theta_i`` of a surrogate loss, so that any optimiser and DistributedDataParallel
apply it unchanged (with plain SGD at learning rate meta_lr it is exactly the formula above).
Adaptation to a user's support set is the MAML family's (SGD steps; the head starts at zero by default, as
Reptile was measured in BENCHMARKS.md, or at the prototypes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad

from ..params import hparam
from .maml import (BATCH_NORM_HELP, HEAD_B, HEAD_W, PRETRAINED_ADAPT_STEPS, PRETRAINED_INNER_LR, MAMLFamily,
                   feature_dim, init_head)
from .registry import register_method


@dataclass
class ReptileParams:
    inner_lr: float = hparam(0.1, "Inner-loop SGD learning rate", low=1e-6, high=10.0, log_scale=True,
                             pretrained=PRETRAINED_INNER_LR)
    inner_steps: int = hparam(5, "Inner-loop steps per task while meta-training", low=1, high=1000)
    adapt_steps: int = hparam(10, "SGD steps when adapting to your support set or an evaluation task",
                              low=1, high=1000, pretrained=PRETRAINED_ADAPT_STEPS)
    head_init: str = hparam("zero", "How each task's classification head starts: at zero, or at the class "
                            "prototypes of the support features", choices=("zero", "prototypes"))
    batch_norm: str = hparam("support", BATCH_NORM_HELP, choices=("support", "backbone"), pretrained="backbone")
    # written by Few-shot Studio 0.1.0 in saved models and checkpoints, and read by nothing: accepted, ignored
    RETIRED: ClassVar[tuple[str, ...]] = ("first_order", "batched")


@register_method("reptile")
class Reptile(MAMLFamily):
    title = "Reptile"
    description = "First-order meta-learning that pulls the initialisation toward each task's solution"
    Params = ReptileParams

    def use_vmap(self, device) -> bool:
        """Never: each task's inner loop runs detached, one task after another (no per-task graph to batch)."""
        return False

    def meta_chunk(self, device) -> int:
        return 1

    def adapted_weights(self, backbone, params, buffers, x, y, ways: int, dim: int) -> dict[str, torch.Tensor]:
        """theta_i and its head: ``inner_steps`` SGD steps from ``params`` on (x, y), head from ``head_init``."""
        fast = {k: v.detach() for k, v in params.items()}
        with torch.no_grad():
            features = functional_call(backbone, (fast, buffers), (x,)) if self.params.head_init != "zero" else \
                x.new_zeros(1, dim)
        fast.update(init_head(features, y, ways, self.params.head_init))

        def loss(f):
            return F.cross_entropy(self._logits(backbone, {k: f[k] for k in params}, buffers,
                                                {HEAD_W: f[HEAD_W], HEAD_B: f[HEAD_B]}, x), y)

        for _ in range(self.params.inner_steps):
            g = grad(loss)(fast)
            fast = {k: v - self.params.inner_lr * g[k] for k, v in fast.items()}
        return fast

    def meta_objective(self, backbone, xs, ys, xq, yq, ways: int):
        """Surrogate loss whose gradient is theta - mean_i theta_i; reports the adapted query loss and
        accuracy (the query images are part of what each task adapts to, so these are optimistic)."""
        params = dict(backbone.named_parameters())
        buffers = dict(backbone.named_buffers())
        dim = feature_dim(backbone, xs[0])
        deltas = {k: torch.zeros_like(v) for k, v in params.items()}
        losses, accs = [], []
        for i in range(xs.shape[0]):
            fast = self.adapted_weights(backbone, params, buffers, torch.cat([xs[i], xq[i]]),
                                        torch.cat([ys[i], yq[i]]), ways, dim)
            with torch.no_grad():
                for k in params:
                    deltas[k] += (params[k] - fast[k]) / xs.shape[0]
                logits = self._logits(backbone, {k: fast[k] for k in params}, buffers,
                                      {HEAD_W: fast[HEAD_W], HEAD_B: fast[HEAD_B]}, xq[i])
            losses.append(F.cross_entropy(logits, yq[i]))
            accs.append((logits.argmax(-1) == yq[i]).float().mean())
        surrogate = sum((p * deltas[k]).sum() for k, p in params.items())
        return surrogate, torch.stack(losses).mean(), torch.stack(accs).mean()
