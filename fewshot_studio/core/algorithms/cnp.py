"""Conditional Neural Process classifier (Garnelo et al. 2018), class-wise.

Each support pair (embedding, label) is encoded by an MLP h; the encodings are aggregated by a
permutation-invariant mean, per class (r_c) and over the whole task (r). The decoder g scores a query
embedding against each class. Per-class aggregation keeps the decoder independent of the number and order of
classes, so one meta-trained model serves any N-way task.

What the decoder sees (``decoder``):

- ``compare`` (the default): the query is encoded by the same h, q = h(e(x)), and the decoder scores
  logit_c = g([q, r_c, q - r_c, q * r_c, r]). A one-hidden-layer MLP on a plain concatenation has to learn a
  comparison (a product of its inputs) from sums, and does it badly: on held-out Omniglot alphabets the
  concatenating CNP stayed far behind the distance-based methods (issue 12); given the difference and product
  the decoder reads how close a query is to each class directly.
- ``concat``: logit_c = g([e(x), r_c, r]), Garnelo et al.'s decoder input. Files saved before ``compare``
  existed hold this decoder (their modules are named ``decoder``) and load as such.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    decoder: str = hparam("compare", "What the decoder sees: compare (the query's and the class's encodings, their "
                          "difference and product) or concat (the query's features beside the encodings, as in "
                          "Garnelo et al.)", choices=("compare", "concat"))


@register_method("cnp")
class CNPClassifier(EpisodicMethod):
    title = "Conditional Neural Process"
    description = "Encodes your examples into a task representation (a permutation-invariant mean) and decodes queries"
    Params = CNPParams

    def build_nets(self, feature_shape):
        d, h = feature_shape[0], self.params.hidden
        encoder = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h))
        if self.params.decoder == "concat":
            return nn.ModuleDict({"encoder": encoder,
                                  "decoder": nn.Sequential(nn.Linear(d + 2 * h, h), nn.ReLU(), nn.Linear(h, 1))})
        return nn.ModuleDict({"encoder": encoder,
                              "comparer": nn.Sequential(nn.Linear(5 * h, h), nn.ReLU(), nn.Linear(h, 1))})

    def support_context(self, features, labels, ways):
        per_class = prototypes(self.nets["encoder"](features), labels, ways)  # r_c: (ways, H)
        return {"classes": per_class, "task": per_class.mean(dim=0, keepdim=True)}

    def query_logits(self, features, context):
        r_c, r = context["classes"], context["task"]
        n, ways = features.shape[0], r_c.shape[0]
        classes, task = r_c[None].expand(n, -1, -1), r[None].expand(n, ways, -1)
        if self.params.decoder == "concat":
            x = torch.cat([features[:, None].expand(-1, ways, -1), classes, task], dim=-1)
            return self.nets["decoder"](x).squeeze(-1)
        q = self.nets["encoder"](features)[:, None].expand(-1, ways, -1)
        return self.nets["comparer"](torch.cat([q, classes, q - classes, q * classes, task], dim=-1)).squeeze(-1)

    def _follow_saved(self, state: dict) -> None:
        """A file's modules say which decoder it has (files from before ``compare`` have no such parameter)."""
        saved = "concat" if any(k.startswith("nets.decoder.") for k in state) else \
            "compare" if any(k.startswith("nets.comparer.") for k in state) else self.params.decoder
        if saved != self.params.decoder:
            self.params = replace(self.params, decoder=saved)
            self.feature_shape = None  # rebuild the modules for it

    def load_head_state(self, state):
        self._follow_saved(state)
        super().load_head_state(state)

    def load_meta_state(self, state):
        self._follow_saved(state)
        super().load_meta_state(state)
