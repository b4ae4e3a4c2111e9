"""Matching Networks (Vinyals et al. 2016): attention over the support set's embeddings.

p(y | x) = sum_i softmax_i(scale * cos(f(x), g(x_i))) * onehot(y_i): the support set is the memory. With
full-context embeddings (``fce``) g is a bidirectional LSTM over the support embeddings (plus a skip
connection) and f attends to g(S) with an LSTM for ``fce_steps`` steps, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..params import hparam
from .episodic import EpisodicMethod, EpisodicParams
from .registry import register_method


@dataclass
class MatchingParams(EpisodicParams):
    fce: bool = hparam(False, "Full-context embeddings (LSTMs over the support set)")
    fce_steps: int = hparam(3, "Attention steps of the query LSTM with full-context embeddings", low=1, high=20)
    scale: float = hparam(10.0, "Temperature of the cosine attention", low=0.1, high=100)


class FullContext(nn.Module):
    """g: bidirectional LSTM over the support embeddings; f: attention LSTM for each query."""

    def __init__(self, dim: int, steps: int):
        super().__init__()
        self.g = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.f = nn.LSTMCell(dim, dim)
        self.steps = steps

    def support(self, s: torch.Tensor) -> torch.Tensor:
        """(n, D) -> (n, D)."""
        out, _ = self.g(s[None])
        d = s.shape[-1]
        return s + out[0, :, :d] + out[0, :, d:]

    def query(self, q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """(m, D) queries attending to g (n, D) -> (m, D)."""
        h, c = q, torch.zeros_like(q)
        for _ in range(self.steps):
            attn = F.softmax(h @ g.T, dim=-1)
            h, c = self.f(q, (h + attn @ g, c))
            h = h + q
        return h


@register_method("matching")
class MatchingNetworks(EpisodicMethod):
    title = "Matching Networks"
    description = "Cosine attention over your examples' embeddings (optional full-context LSTMs)"
    Params = MatchingParams

    def has_learned_nets(self) -> bool:
        return self.params.fce

    def build_nets(self, feature_shape):
        nets = nn.ModuleDict()
        if self.params.fce:
            nets["fce"] = FullContext(feature_shape[0], self.params.fce_steps)
        return nets

    def support_context(self, features, labels, ways):
        g = self.nets["fce"].support(features) if "fce" in self.nets else features
        return {"memory": g, "onehot": F.one_hot(labels, ways).to(features.dtype)}

    def query_logits(self, features, context):
        g = context["memory"]
        f = self.nets["fce"].query(features, g) if "fce" in self.nets else features
        attn = F.softmax(self.params.scale * F.normalize(f, dim=-1) @ F.normalize(g, dim=-1).T, dim=-1)
        return torch.log(attn @ context["onehot"] + 1e-8)
