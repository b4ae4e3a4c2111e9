"""Prototypical Networks (Snell et al. 2017): each class is the mean of its examples' features.

Adapting: with ``finetune_steps`` > 0 the backbone is first fine-tuned on pseudo-episodes cut from the
support set, with augmentation, as P>M>F's last stage does (Hu et al. 2022). ``pmf`` registers the
recommended pipeline: a pretrained backbone, ProtoNet meta-training, then that fine-tuning.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import hparam
from .episodic import RANDOM_BACKBONE_LR, RANDOM_FINETUNE_STEPS, EpisodicMethod, EpisodicParams
from .heads import DISTANCES, prototype_logits, prototypes
from .registry import register_method


@dataclass
class ProtoParams(EpisodicParams):
    distance: str = hparam("cosine", "How queries are compared with class means: cosine (pretrained backbones), "
                           "euclidean (squared, Snell et al.), l2 (plain distance: best from scratch)",
                           choices=DISTANCES)
    scale: float = hparam(10.0, "Cosine temperature: higher gives more confident probabilities", low=0.1, high=100)
    finetune_steps: int = hparam(0, "Fine-tune the backbone on pseudo-episodes first (0 = frozen, fastest)",
                                 low=0, high=10000, random=RANDOM_FINETUNE_STEPS)
    backbone_lr: float = hparam(5e-5, "Backbone learning rate when fine-tuning", low=0.0, high=1.0, log_scale=True,
                                random=RANDOM_BACKBONE_LR)
    augment: bool = hparam(True, "Random crops, flips and colour jitter while fine-tuning")


@register_method("prototypical")
class PrototypicalNetworks(EpisodicMethod):
    title = "Prototypical Networks"
    description = "Nearest class mean in feature space; optionally fine-tunes the backbone first"
    Params = ProtoParams

    def has_learned_nets(self) -> bool:
        return False

    def support_context(self, features, labels, ways):
        return {"prototypes": prototypes(features, labels, ways)}

    def query_logits(self, features, context):
        return prototype_logits(features, context["prototypes"], self.params.distance, self.params.scale)

    @property
    def class_prototypes(self) -> torch.Tensor:
        """The fitted class means (n_classes, D), which domain adaptation may refine (``soft_kmeans``)."""
        return self.context["prototypes"]

    @class_prototypes.setter
    def class_prototypes(self, value: torch.Tensor) -> None:
        self.context = {**self.context, "prototypes": value.detach()}


@dataclass
class PMFParams(ProtoParams):
    finetune_steps: int = hparam(20, "Fine-tuning steps on pseudo-episodes of the support set", low=0, high=10000)


@register_method("pmf")
class PMF(PrototypicalNetworks):
    title = "P>M>F (recommended)"
    description = ("Pretrained backbone, ProtoNet meta-training, then fine-tuning on your examples: "
                   "the most accurate pipeline (Hu et al. 2022)")
    Params = PMFParams
