"""Methods that learn from episodes: meta-trained on many small tasks, fine-tuned on the user's task.

An :class:`EpisodicMethod` splits classification into two halves: :meth:`support_context` turns the
support set's features into a context (class means, a memory of embeddings, a task representation...)
and :meth:`query_logits` scores query features against it. The same computation serves

- meta-training: :meth:`episode_loss` on episodes from a base dataset (the trainer in
  :mod:`..meta_train` optimises the backbone and :attr:`nets`, the method's own learned modules);
- adaptation (:meth:`fit`): optional fine-tuning on pseudo-episodes cut from the user's support set
  (P>M>F's last stage), then the context of the whole support set is kept for prediction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..params import hparam
from .base import FitTask, MetaLearner, StepReport
from .heads import accuracy


def pseudo_episode(labels: torch.Tensor, n_classes: int, generator: torch.Generator):
    """Split a support set's indices into pseudo-support and pseudo-query, at least one of each per class.

    A class with a single image is both (its two augmented views then differ).
    """
    support, query = [], []
    for c in range(n_classes):
        idx = torch.nonzero(labels.cpu() == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        if len(idx) == 1:
            support.append(idx)
            query.append(idx)
        else:
            n_query = max(1, len(idx) // 2)
            query.append(idx[:n_query])
            support.append(idx[n_query:])
    return torch.cat(support).to(labels.device), torch.cat(query).to(labels.device)


# A backbone that was never trained (the built-in Conv-4 before meta-training) gives features that barely
# tell generated shapes apart (Conv-4, 4 classes x 3 images: ProtoNet 6/12 held-out, CNP 4/12); a few
# fine-tuning steps on pseudo-episodes train it enough (12/12 and 9/12). Pretrained and meta-trained
# backbones stay frozen by default.
RANDOM_FINETUNE_STEPS, RANDOM_BACKBONE_LR = 30, 1e-3


@dataclass
class EpisodicParams:
    """Fine-tuning on pseudo-episodes of the user's support set, shared by the episodic methods."""

    finetune_steps: int = hparam(0, "Fine-tuning steps on pseudo-episodes of your support set", low=0, high=10000,
                                 random=RANDOM_FINETUNE_STEPS)
    lr: float = hparam(1e-3, "Learning rate of the method's own modules when fine-tuning", low=0.0, high=1.0,
                       log_scale=True)
    backbone_lr: float = hparam(0.0, "Backbone learning rate when fine-tuning (0 = frozen)", low=0.0, high=1.0,
                                log_scale=True, random=RANDOM_BACKBONE_LR)
    augment: bool = hparam(False, "Re-embed augmented images at every fine-tuning step (slower)")


class EpisodicMethod(MetaLearner):
    """Base of the methods that can be meta-trained. Params must define ``finetune_steps``, ``lr``
    (for :attr:`nets`), ``backbone_lr`` (0 keeps the backbone frozen while fine-tuning) and ``augment``."""

    steps_param = "finetune_steps"

    def __init__(self, params=None, **values):
        super().__init__(params, **values)
        self.nets = nn.ModuleDict()  # the method's own learned modules (relation module, CNP networks...)
        self.context: dict[str, torch.Tensor] | None = None
        self.feature_shape: tuple[int, ...] | None = None

    # --- what subclasses define ------------------------------------------------------------------------------
    def build_nets(self, feature_shape: tuple[int, ...]) -> nn.ModuleDict:
        """The method's learned modules for features of this shape (without the batch dimension)."""
        return nn.ModuleDict()

    def meta_modules(self) -> nn.ModuleDict:
        return self.nets

    def has_learned_nets(self) -> bool:
        """Whether :meth:`build_nets` gives modules with parameters (fine-tuning then has something to train
        even with a frozen backbone)."""
        return True

    def support_context(self, features: torch.Tensor, labels: torch.Tensor, ways: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def query_logits(self, features: torch.Tensor, context: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    # --- shared machinery ----------------------------------------------------------------------------------
    def ensure_nets(self, feature_shape: tuple[int, ...], device) -> None:
        if self.feature_shape != tuple(feature_shape):
            self.feature_shape = tuple(feature_shape)
            self.nets = self.build_nets(self.feature_shape).to(device)

    def features_of(self, backbone, x: torch.Tensor) -> torch.Tensor:
        return backbone.feature_map(x) if self.feature_kind == "map" else backbone(x)

    def episode_logits(self, backbone, xs, ys, xq, ways: int) -> torch.Tensor:
        """Query logits (Q, ways) of one episode from model inputs; differentiable."""
        f = self.features_of(backbone, torch.cat([xs, xq]))
        fs, fq = f[: len(xs)], f[len(xs):]
        return self.query_logits(fq, self.support_context(fs, ys, ways))

    def features_loss(self, fs, ys, fq, yq, ways: int) -> tuple[torch.Tensor, float]:
        """Loss and accuracy of one episode from support and query features."""
        logits = self.query_logits(fq, self.support_context(fs, ys, ways))
        return F.cross_entropy(logits, yq), accuracy(logits, yq)

    def episode_loss(self, backbone, xs, ys, xq, yq, ways: int) -> tuple[torch.Tensor, float]:
        f = self.features_of(backbone, torch.cat([xs, xq]))
        return self.features_loss(f[: len(xs)], ys, f[len(xs):], yq, ways)

    @torch.no_grad()
    def _embed_plain(self, task: FitTask) -> torch.Tensor:
        if self.feature_kind == "pooled" and task.features is not None:
            return task.features
        return torch.cat([self.features_of(task.backbone, task.views(idx)).float()
                          for idx in torch.arange(len(task.labels), device=task.device).split(task.embed_batch)])

    def meta_objective(self, backbone, xs, ys, xq, yq, ways: int):
        """Mean loss and accuracy over a meta-batch, a plain loop over its episodes.

        xs: (B, ways * shots, 3, S, S), ys: (B, ways * shots), xq: (B, ways * queries, 3, S, S), yq likewise.
        Returns (loss to differentiate, loss to report, accuracy), scalar tensors.
        """
        losses, accs = [], []
        for b in range(xs.shape[0]):
            loss, acc = self.episode_loss(backbone, xs[b], ys[b], xq[b], yq[b], ways)
            losses.append(loss)
            accs.append(acc)
        loss = torch.stack(losses).mean()
        return loss, loss.detach(), torch.tensor(accs).mean()

    @torch.no_grad()
    def episode_predict(self, backbone, xs, ys, xq, ways: int) -> torch.Tensor:
        """Evaluation: predicted query labels (Q,) of one episode."""
        return self.episode_logits(backbone, xs, ys, xq, ways).argmax(-1)

    def trains_backbone(self) -> bool:
        return self.params.finetune_steps > 0 and self.params.backbone_lr > 0

    def finetunes(self) -> bool:
        """Fine-tuning on pseudo-episodes happens only when there is something to train."""
        return self.params.finetune_steps > 0 and (self.trains_backbone() or self.has_learned_nets())

    def total_steps(self) -> int:
        return self.params.finetune_steps if self.finetunes() else 1

    def fit(self, task: FitTask) -> Iterator[StepReport]:
        p = self.params
        self.n_classes = task.n_classes
        if self.feature_kind == "pooled" and task.features is not None:
            probe = task.features[:1]  # (as _embed_plain): no forward pass, no image loaded for the shape
        else:
            with torch.no_grad():
                probe = self.features_of(task.backbone, task.views(torch.arange(1, device=task.device)))
        self.ensure_nets(tuple(probe.shape[1:]), task.device)
        groups = [{"params": list(self.nets.parameters()), "lr": p.lr}]
        if self.trains_backbone():
            groups.append({"params": [q for q in task.backbone.parameters() if q.requires_grad],
                           "lr": p.backbone_lr})
        groups = [g for g in groups if g["params"]]
        finetune_steps = p.finetune_steps if self.finetunes() and groups else 0
        if finetune_steps > 0:
            optimizer = torch.optim.Adam(groups)
            # a frozen backbone without augmentation sees the same images every step: embed them once
            cache = None if self.trains_backbone() or p.augment else self._embed_plain(task)
            self.nets.train()
            for _ in range(finetune_steps):
                s_idx, q_idx = pseudo_episode(task.labels, task.n_classes, task.generator)
                ys, yq = task.labels[s_idx], task.labels[q_idx]
                with torch.enable_grad(), task.precision.autocast():
                    if cache is not None:
                        loss, acc = self.features_loss(cache[s_idx], ys, cache[q_idx], yq, task.n_classes)
                    else:
                        loss, acc = self.episode_loss(task.backbone, task.views(s_idx, augment=p.augment), ys,
                                                      task.views(q_idx, augment=p.augment), yq, task.n_classes)
                task.precision.step(loss.float(), optimizer)
                yield StepReport(loss.item(), acc, groups[-1]["lr"] if self.trains_backbone() else p.lr)
        self.nets.eval()
        with torch.no_grad():
            features = self._embed_plain(task)
            self.context = {k: v.detach() for k, v in
                            self.support_context(features.float(), task.labels, task.n_classes).items()}
            if finetune_steps == 0:
                logits = self.query_logits(features.float(), self.context)
                yield StepReport(F.cross_entropy(logits, task.labels).item(), accuracy(logits, task.labels), 0.0)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        context = {k: v.to(features.device) for k, v in self.context.items()}
        return self.query_logits(features, context)

    def head_state(self) -> dict[str, torch.Tensor]:
        state = {f"context.{k}": v for k, v in self.context.items()}
        state.update({f"nets.{k}": v for k, v in self.nets.state_dict().items()})
        if self.feature_shape:
            state["feature_shape"] = torch.tensor(self.feature_shape)
        return state

    def load_head_state(self, state: dict[str, torch.Tensor]) -> None:
        if "feature_shape" in state:
            self.ensure_nets(tuple(int(v) for v in state["feature_shape"].tolist()), "cpu")
            self.nets.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("nets.")})
        self.nets.eval()
        self.context = {k[8:]: v for k, v in state.items() if k.startswith("context.")}
        self.n_classes = int(next(iter(self.context.values())).shape[0]) if self.context else 0

    def load_meta_state(self, state: dict[str, torch.Tensor]) -> None:
        """Take the meta-trained :attr:`nets` from a checkpoint (keys as in :meth:`head_state`)."""
        if "feature_shape" in state:
            self.ensure_nets(tuple(int(v) for v in state["feature_shape"].tolist()), "cpu")
            self.nets.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("nets.")})

