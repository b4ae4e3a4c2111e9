"""The one small interface every few-shot method implements, the task it adapts to, and the meta-learning
interface of the methods that can also be meta-trained."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
from torch import nn

from ..backbones import Backbone
from ..devices import Precision
from ..params import defaults_for, describe, make_params, validate
from ..preprocess import Preprocess


@dataclass
class FitTask:
    """A support set prepared for one backbone on one device.

    images: uint8 base tensors of shape (N, 3, R, R) on ``device`` (see :mod:`..preprocess`).
    labels: int64 of shape (N,), values in [0, n_classes).
    features: pooled features of shape (N, D) from the frozen backbone, when the method does not train it.
    unlabelled_features: pooled features (M, D) of the unlabelled target images (the support set's pool), from
    the backbone as the method receives it, when the task has a pool (transductive methods use it).
    """

    backbone: Backbone
    preprocess: Preprocess
    images: torch.Tensor
    labels: torch.Tensor
    n_classes: int
    device: torch.device
    precision: Precision
    generator: torch.Generator
    features: torch.Tensor | None = None
    embed_batch: int = 16
    unlabelled_features: torch.Tensor | None = None

    def views(self, index: torch.Tensor | None = None, *, augment: bool = False) -> torch.Tensor:
        """Model inputs for the images at ``index`` (all by default): (n, 3, S, S), normalised."""
        base = self.images if index is None else self.images[index]
        return self.preprocess.augment(base, self.generator) if augment else self.preprocess.view(base)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (n, D) of model inputs x (n, 3, S, S), in float32, with gradients if enabled."""
        with self.precision.autocast():
            return self.backbone(x).float()

    @torch.no_grad()
    def embed_all(self) -> torch.Tensor:
        """Pooled features (N, D) of every support image's plain view, in batches, without gradients."""
        n = self.images.shape[0]
        return torch.cat([self.embed(self.views(torch.arange(i, min(n, i + self.embed_batch), device=self.device)))
                          for i in range(0, n, self.embed_batch)])


@dataclass(frozen=True)
class StepReport:
    """What one optimisation step of a method reports."""

    loss: float
    accuracy: float  # on the support images (or pseudo-queries) of this step, 0..1
    lr: float


class FewShotMethod(ABC):
    """Fit on a support set, then give class logits for query features.

    Subclasses declare ``name``, ``title``, ``description``, a ``Params`` dataclass of :func:`hparam`
    fields, and whether they read pooled features (N, D) or feature maps (N, C, h, w).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type]
    feature_kind: ClassVar[str] = "pooled"
    steps_param: ClassVar[str | None] = "steps"  # the hyperparameter that ``--steps`` sets
    transductive: ClassVar[bool] = False  # classifies a batch of queries jointly (see :meth:`logits_transductive`)

    def __init__(self, params=None, **values):
        self.params = params if params is not None else make_params(self.Params, values)
        validate(self.params)
        self.n_classes = 0

    @classmethod
    def param_specs(cls):
        return describe(cls.Params)

    @classmethod
    def for_backbone(cls, kind: str | None, values: dict | None = None) -> FewShotMethod:
        """The method with the defaults for a backbone of ``kind`` (``BackboneSpec.kind``: "pretrained",
        "meta-trained", "random"), then ``values`` (strings are parsed), which always win."""
        return cls(make_params(cls.Params, values, kind=kind))

    @classmethod
    def defaults(cls, kind: str | None = None) -> dict:
        """Every hyperparameter's default on a backbone of ``kind`` (None: the plain defaults)."""
        return defaults_for(cls.Params, kind)

    def params_dict(self) -> dict:
        return asdict(self.params)

    def trains_backbone(self) -> bool:
        """Whether :meth:`fit` changes the backbone (if not, features are computed once and cached)."""
        return False

    @abstractmethod
    def total_steps(self) -> int:
        """How many :class:`StepReport` :meth:`fit` will yield."""

    @abstractmethod
    def fit(self, task: FitTask) -> Iterator[StepReport]:
        """Adapt to ``task``, yielding one report per step. Stopping early must leave no partial state
        that :meth:`logits` would use."""

    @abstractmethod
    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Class scores of shape (N, n_classes) for query features (N, D) (or maps (N, C, h, w))."""

    def logits_transductive(self, features: torch.Tensor, unlabelled: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores (N, n_classes) of query features classified jointly, with ``unlabelled`` features (M, D)
        as extra unlabelled data; an inductive method answers each on its own (:meth:`logits`)."""
        return self.logits(features)

    @abstractmethod
    def head_state(self) -> dict[str, torch.Tensor]:
        """The tensors :meth:`logits` needs, for saving."""

    @abstractmethod
    def load_head_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`head_state` returned."""


class MetaLearner(FewShotMethod):
    """A method that can also be meta-trained on episodes of a base dataset (the episodic and MAML families).

    Meta-training (:mod:`..meta_train`) minimises :meth:`meta_objective` over meta-batches, optimising the
    backbone and :meth:`meta_modules`; it validates, and the evaluation of a checkpoint answers, with
    :meth:`episode_predict`. A checkpoint's modules come back with :meth:`load_meta_state` (adaptation, cross-
    validation and evaluation do this when the checkpoint was trained with this method).

    Inputs are model inputs: ``xs`` (ways * shots, 3, S, S) with labels ``ys``, ``xq`` (n_query, 3, S, S); a
    meta-batch stacks B episodes in front: xs (B, ways * shots, 3, S, S), ys (B, ways * shots), and so on.
    """

    feature_shape: tuple[int, ...] | None = None  # the feature shape the method's modules were built for

    @abstractmethod
    def meta_objective(self, backbone, xs, ys, xq, yq, ways: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss to differentiate, loss to report, accuracy) over a meta-batch, scalar tensors."""

    @abstractmethod
    def episode_predict(self, backbone, xs, ys, xq, ways: int) -> torch.Tensor:
        """Evaluation: predicted query labels (n_query,) of one episode."""

    def meta_chunk(self, device) -> int:
        """How many tasks of a meta-batch to back-propagate at once on ``device`` (:mod:`..meta_step`): one,
        so that only one task's activations are alive at a time; a method that batches tasks (vmap) says
        more where that pays."""
        return 1

    def meta_modules(self) -> nn.Module:
        """The method's own meta-learned modules (trained with the backbone; saved in checkpoints)."""
        return nn.ModuleDict()

    def on_meta_step(self, step: int, total: int) -> None:
        """Meta-training calls this before each meta-step: ``step`` meta-steps of ``total`` are done (0 before the
        first; a resumed run continues from its step). For what changes over a run (MAML++'s annealing)."""

    def use_vmap(self, device) -> bool:
        """Whether :meth:`meta_objective` batches its tasks with ``torch.func.vmap`` on ``device`` (which rules out
        channels-last tensors, the faster layout on CPUs)."""
        return False

    def prepare_backbone(self, backbone):
        """The backbone as meta-training and adaptation run it (the MAML family: batch statistics)."""
        return backbone

    def finish_backbone(self, backbone, calibration_batches):
        """The backbone as it is saved after meta-training (the MAML family: calibrated standard batch norm)."""
        return backbone

    def load_meta_state(self, state: dict[str, torch.Tensor]) -> None:
        """Take the meta-trained modules from a checkpoint's method state (nothing to take by default)."""
