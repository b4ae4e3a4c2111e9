"""A meta-training checkpoint offered as a backbone: its base architecture with the meta-trained weights.

The spec is given its base backbone's spec; looking the base up by name is the registry's job
(:func:`~fewshot_studio.core.backbones.checkpoint_spec`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..checkpoints import Checkpoint
from ..preprocess import Preprocess
from ..params import META_TRAINED
from .base import Backbone, BackboneSpec, WeightsStatus


class CheckpointSpec(BackboneSpec):
    """A meta-trained checkpoint offered as a backbone: the base architecture with the trained weights."""

    family = "checkpoint"
    pretrained = True
    kind = META_TRAINED  # whatever its base was: the methods' meta-training defaults apply

    def __init__(self, checkpoint: Checkpoint, base: BackboneSpec, name: str | None = None):
        self.path = checkpoint.path
        self.meta = checkpoint.meta
        self.base = base
        self.name = name or self.path.stem
        self.preprocess = Preprocess.from_dict(self.meta["preprocess"])
        best = self.meta.get("best") or {}
        score = f", validation {100 * best['mean']:.1f}% ± {100 * best['ci95']:.1f}%" if best else ""
        config = self.meta["config"]  # "datasets" (a list); checkpoints from before several domains: "dataset"
        datasets = " + ".join(Path(d).name for d in config.get("datasets") or [config.get("dataset", "?")])
        self.description = (f"{self.meta['backbone']} meta-trained with {self.meta['method']['name']} on "
                            f"{datasets} ({self.meta['step']} steps{score})")

    @property
    def feature_dim(self):
        return self.base.feature_dim

    def architecture(self) -> nn.Module:
        return self.base.architecture()

    def wrap(self, model: nn.Module) -> Backbone:
        backbone = self.base.wrap(model)
        backbone.name = self.name
        return backbone

    def _default_weights_status(self) -> WeightsStatus:
        return WeightsStatus(True, "meta-trained checkpoint", str(self.path))

    def _default_state_dict(self):
        return {k: v for k, v in Checkpoint(self.path).part("backbone.").items()}

    def imported_weights_path(self) -> Path:
        return self.path.with_suffix(".imported-weights-unused")

    def method_state(self, method_name: str) -> dict[str, torch.Tensor] | None:
        """The meta-trained modules of ``method_name``, if this checkpoint was trained with it."""
        if self.meta["method"]["name"] != method_name:
            return None
        return Checkpoint(self.path).method_state()
