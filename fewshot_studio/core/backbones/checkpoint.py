"""A meta-training (or multi-task training) checkpoint offered as a backbone: its base architecture with the
trained weights.

The spec is given its base backbone's spec; looking the base up by name is the registry's job
(:func:`~fewshot_studio.core.backbones.checkpoint_spec`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..checkpoints import MULTI_TASK, Checkpoint
from ..preprocess import Preprocess
from ..params import META_TRAINED
from .base import Backbone, BackboneSpec, WeightsStatus


def _describe(meta: dict) -> str:
    """One line: what was trained, how, on what, and its best validation score."""
    best = meta.get("best") or {}
    if meta.get("training") == MULTI_TASK:
        names = ", ".join(Path(d).name for d in meta["config"]["datasets"])
        score = f", mean validation accuracy {100 * best['mean']:.1f}%" if best else ""
        return f"{meta['backbone']} trained on {names} with a head each ({meta['step']} steps{score})"
    score = f", validation {100 * best['mean']:.1f}% ± {100 * best['ci95']:.1f}%" if best else ""
    config = meta["config"]  # "datasets" (a list); checkpoints from before several domains: "dataset"
    datasets = " + ".join(Path(d).name for d in config.get("datasets") or [config.get("dataset", "?")])
    return (f"{meta['backbone']} meta-trained with {meta['method']['name']} on {datasets} "
            f"({meta['step']} steps{score})")


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
        self.description = _describe(self.meta)

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
        if self.meta["method"]["name"] != method_name or self.meta.get("training") == MULTI_TASK:
            return None  # a multi-task checkpoint's modules are its datasets' heads, no method's
        return Checkpoint(self.path).method_state()
