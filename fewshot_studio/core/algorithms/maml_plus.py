"""MAML++ pieces (Antoniou et al. 2019, "How to train your MAML") used by :mod:`.maml`: learned per-layer
per-step inner learning rates (LSLR) and the annealed weights of the multi-step loss (MSL).

The learned rates are an ``nn.ParameterDict`` with one tensor of shape (inner steps,) per adapted parameter,
keyed by the parameter's name with its dots written ``__`` (``head.weight`` -> ``head__weight``: a
ParameterDict's keys cannot hold dots). A step past the learned ones uses the last learned rate (adapting to a
user's support set may take more steps than meta-training did).
"""

from __future__ import annotations

import torch
from torch import nn

RATES = "inner_lr"  # the learned rates' name among the method's meta-modules (checkpoint keys nets.inner_lr.*)


def rate_key(name: str) -> str:
    return name.replace(".", "__")


def build_rates(names, steps: int, lr: float, like: torch.Tensor) -> nn.ParameterDict:
    """Learned inner learning rates for parameters ``names``, ``steps`` of them each, all starting at ``lr``."""
    return nn.ParameterDict({rate_key(n): nn.Parameter(torch.full((steps,), float(lr), dtype=like.dtype,
                                                                  device=like.device)) for n in names})


def step_rates(rates: nn.ParameterDict, names, step: int, default: float) -> dict:
    """{name: rate of inner step ``step``} (0-d tensors; ``default`` for a name without learned rates)."""
    out = {}
    for name in names:
        key = rate_key(name)
        out[name] = rates[key][min(step, rates[key].shape[0] - 1)] if key in rates else default
    return out


def step_loss_weights(steps: int, meta_step: int, anneal_steps: int) -> list[float]:
    """Weights of the query losses after inner steps 1..``steps`` at meta-step ``meta_step``: uniform (1/steps
    each) at meta-step 0, moving linearly to the last step alone (0, ..., 0, 1) at ``anneal_steps`` and after.

    They always sum to 1. MAML++ keeps the earlier steps at a floor of 0.03/steps; here they reach 0, so that
    after annealing the objective is MAML's own.
    """
    done = 1.0 if anneal_steps <= 0 else min(1.0, meta_step / anneal_steps)
    weights = [(1 - done) / steps] * steps
    weights[-1] += done
    return weights
