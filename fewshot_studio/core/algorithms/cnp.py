"""Conditional Neural Process classifier (Garnelo et al. 2018), class-wise.

Each support pair (embedding, label) is encoded by an MLP h; the encodings are aggregated by a
permutation-invariant mean, per class (r_c) and over the whole task (r). The decoder g scores a query
embedding against each class: logit_c = g([e(x), r_c, r]). Per-class aggregation keeps the decoder
independent of the number and order of classes, so one meta-trained model serves any N-way task.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..params import hparam
from .episodic import EpisodicMethod, EpisodicParams
from .heads import prototypes
from .registry import register_method


@dataclass
class CNPParams(EpisodicParams):
    hidden: int = hparam(128, "Width of the encoder and decoder", low=8, high=4096)
    finetune_steps: int = hparam(100, "Training steps on pseudo-episodes of your support set (needed unless "
                                 "meta-trained)", low=0, high=10000)


@register_method("cnp")
class CNPClassifier(EpisodicMethod):
    title = "Conditional Neural Process"
    description = "Encodes your examples into a task representation (a permutation-invariant mean) and decodes queries"
    Params = CNPParams

    def build_nets(self, feature_shape):
        d, h = feature_shape[0], self.params.hidden
        return nn.ModuleDict({
            "encoder": nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h)),
            "decoder": nn.Sequential(nn.Linear(d + 2 * h, h), nn.ReLU(), nn.Linear(h, 1)),
        })

    def support_context(self, features, labels, ways):
        per_class = prototypes(self.nets["encoder"](features), labels, ways)  # r_c: (ways, H)
        return {"classes": per_class, "task": per_class.mean(dim=0, keepdim=True)}

    def query_logits(self, features, context):
        r_c, r = context["classes"], context["task"]
        q, ways = features.shape[0], r_c.shape[0]
        x = torch.cat([features[:, None].expand(-1, ways, -1), r_c[None].expand(q, -1, -1),
                       r[None].expand(q, ways, -1)], dim=-1)
        return self.nets["decoder"](x).squeeze(-1)
