"""Relation Networks (Sung et al. 2018): a learned module scores (class, query) pairs of feature maps.

Each class is the mean of its examples' feature maps (``class_pool="mean"``; the paper sums them, ``"sum"``,
which makes the module's input grow with the number of shots: meta-trained on 1-shot tasks, the summed
variant fell to 22% on 5-way 5-shot Omniglot in the anchors benchmark); the relation module (two conv blocks, then two
linear layers and a sigmoid) sees the class map and the query map stacked on channels and outputs a
relation score in 0..1, trained with a mean-squared error toward the one-hot labels (``loss="mse"``, the
paper's) or with cross-entropy over the scores' logits (``"ce"``). The conv blocks pool
only while the map is larger than 1x1, so the module fits any backbone's map size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..params import hparam
from .episodic import EpisodicMethod, EpisodicParams
from .heads import accuracy
from .registry import register_method


@dataclass
class RelationParams(EpisodicParams):
    hidden: int = hparam(64, "Channels of the relation module", low=4, high=1024)
    class_pool: str = hparam("mean", "How a class's feature maps are combined: mean (works for any number of "
                             "shots) or sum (the paper's)", choices=("mean", "sum"))
    loss: str = hparam("mse", "Training loss: mse (the paper's: relation scores toward one-hot labels) or ce "
                       "(cross-entropy over the scores' logits)", choices=("mse", "ce"))
    finetune_steps: int = hparam(100, "Training steps of the relation module on pseudo-episodes of your "
                                 "support set (needed unless it was meta-trained)", low=0, high=10000)


class RelationModule(nn.Module):
    def __init__(self, channels: int, hidden: int, size: int):
        super().__init__()
        layers, side = [], size
        for cin in (2 * channels, hidden):
            layers += [nn.Conv2d(cin, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU()]
            if side > 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
                side = (side + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(hidden, 8), nn.ReLU(), nn.Linear(8, 1))

    def raw(self, pairs: torch.Tensor) -> torch.Tensor:
        """(P, 2C, h, w) -> relation logits (P,), before the sigmoid."""
        return self.fc(self.convs(pairs).mean(dim=(2, 3))).squeeze(-1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """(P, 2C, h, w) -> relation scores (P,) in 0..1."""
        return torch.sigmoid(self.raw(pairs))


@register_method("relation")
class RelationNetworks(EpisodicMethod):
    title = "Relation Networks"
    description = "A learned module compares feature maps of each class with the query"
    Params = RelationParams
    feature_kind = "map"

    def build_nets(self, feature_shape):
        c, h, _ = feature_shape
        return nn.ModuleDict({"relation": RelationModule(c, self.params.hidden, h)})

    def support_context(self, features, labels, ways):
        classes = torch.zeros(ways, *features.shape[1:], device=features.device, dtype=features.dtype)
        classes = classes.index_add(0, labels, features)
        if self.params.class_pool == "mean":
            counts = torch.zeros(ways, device=features.device, dtype=features.dtype).index_add(
                0, labels, torch.ones_like(labels, dtype=features.dtype))
            classes = classes / counts.clamp_min(1).view(ways, *([1] * (features.dim() - 1)))
        return {"class_maps": classes}

    def scores(self, features, context) -> torch.Tensor:
        """Query maps (Q, C, h, w) -> relation scores (Q, ways)."""
        # shape[0], not len(): the ONNX export traces len() as a constant and the graph would fix the queries
        return self.nets["relation"](self.pairs(features, context)).view(features.shape[0],
                                                                          context["class_maps"].shape[0])

    @staticmethod
    def pairs(features, context) -> torch.Tensor:
        """Query maps (Q, C, h, w) and the class maps -> every (class, query) pair stacked on channels
        (Q * ways, 2C, h, w), query-major."""
        maps = context["class_maps"]
        q, ways = features.shape[0], maps.shape[0]
        return torch.cat([maps[None].expand(q, -1, -1, -1, -1), features[:, None].expand(-1, ways, -1, -1, -1)],
                         dim=2).flatten(0, 1)

    def query_logits(self, features, context):
        return torch.logit(self.scores(features, context), eps=1e-6)

    def features_loss(self, fs, ys, fq, yq, ways):
        context = self.support_context(fs, ys, ways)
        if self.params.loss == "ce":
            logits = self.nets["relation"].raw(self.pairs(fq, context)).view(fq.shape[0], ways)
            return F.cross_entropy(logits, yq), accuracy(logits, yq)
        scores = self.scores(fq, context)
        return F.mse_loss(scores, F.one_hot(yq, ways).to(scores.dtype)), accuracy(scores, yq)
