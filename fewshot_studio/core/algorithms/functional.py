"""Functional building blocks for meta-learning: batch norm from primitive ops, and parameter dicts.

``torch.func.vmap`` over ``nn.BatchNorm2d`` gives wrong second-order MAML meta-gradients (torch 2.14,
seen here: 1-2% off, non-zero gradients on conv biases that feed batch norm). :class:`BatchStatNorm2d`
computes the same normalisation from ``mean``/``var``/``rsqrt`` and batches correctly under vmap.
It always normalises with the statistics of the batch it sees (learn2learn's and MAML's reference
behaviour), unless :func:`calibrate` has stored statistics for prediction. Outside vmap it runs PyTorch's
fused ``F.batch_norm`` (same maths; the engine's second-order MAML meta-step on Conv-4, 2 tasks, went from 586 ms
to 480 ms on this CPU, benchmarks/anchors/inner_loop_overhead.py); code that vmaps wraps itself in
:func:`primitive_batch_norm`.
"""

from __future__ import annotations

import contextlib
import contextvars

import torch
import torch.nn.functional as F
from torch import nn

_PRIMITIVE = contextvars.ContextVar("primitive_batch_norm", default=False)


@contextlib.contextmanager
def primitive_batch_norm():
    """Within this block :class:`BatchStatNorm2d` computes from primitive ops (required under vmap)."""
    token = _PRIMITIVE.set(True)
    try:
        yield
    finally:
        _PRIMITIVE.reset(token)


class BatchStatNorm2d(nn.Module):
    """Batch norm over (N, H, W) written from primitive ops; optional frozen statistics for inference."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.frozen = False  # True after calibrate(): use the stored statistics

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen:
            mean, var = self.running_mean, self.running_var
        elif not _PRIMITIVE.get():
            return F.batch_norm(x, None, None, self.weight, self.bias, training=True, eps=self.eps)
        else:
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
        scale = self.weight * torch.rsqrt(var + self.eps)
        return x * scale[None, :, None, None] + (self.bias - mean * scale)[None, :, None, None]


def to_batch_stat_norm(module: nn.Module) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` of ``module`` (in place) by a :class:`BatchStatNorm2d` with its affine."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            new = BatchStatNorm2d(child.num_features, child.eps).to(child.weight.device)
            with torch.no_grad():
                if child.affine:
                    new.weight.copy_(child.weight)
                    new.bias.copy_(child.bias)
                if child.running_mean is not None:
                    new.running_mean.copy_(child.running_mean)
                    new.running_var.copy_(child.running_var)
            setattr(module, name, new)
        else:
            to_batch_stat_norm(child)
    return module


def to_standard_norm(module: nn.Module) -> nn.Module:
    """Inverse of :func:`to_batch_stat_norm`: back to ``nn.BatchNorm2d`` carrying the stored statistics."""
    for name, child in module.named_children():
        if isinstance(child, BatchStatNorm2d):
            new = nn.BatchNorm2d(len(child.weight), child.eps).to(child.weight.device)
            with torch.no_grad():
                new.weight.copy_(child.weight)
                new.bias.copy_(child.bias)
                new.running_mean.copy_(child.running_mean)
                new.running_var.copy_(child.running_var)
            setattr(module, name, new)
        else:
            to_standard_norm(child)
    return module


@torch.no_grad()
def calibrate(module: nn.Module, batches) -> None:
    """Store the mean batch statistics that each BatchStatNorm2d sees over ``batches`` and freeze them."""
    norms = [m for m in module.modules() if isinstance(m, BatchStatNorm2d)]
    sums = {id(m): [0, 0, 0] for m in norms}

    def hook(m, inputs, _):
        x = inputs[0]
        s = sums[id(m)]
        s[0] = s[0] + x.mean(dim=(0, 2, 3))
        s[1] = s[1] + x.var(dim=(0, 2, 3), unbiased=False)
        s[2] += 1

    handles = [m.register_forward_hook(hook) for m in norms]
    try:
        for m in norms:
            m.frozen = False
        for x in batches:
            module(x)
    finally:
        for h in handles:
            h.remove()
    for m in norms:
        total_mean, total_var, n = sums[id(m)]
        if n:
            m.running_mean.copy_(total_mean / n)
            m.running_var.copy_(total_var / n)
        m.frozen = True
