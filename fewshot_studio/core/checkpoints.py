"""Meta-training checkpoints: one safetensors file, usable as a backbone and as a place to resume from.

Tensors: ``backbone.*`` (the backbone, standard batch norm with calibrated statistics), ``nets.*`` and
``feature_shape`` (the method's own modules), ``optim.*`` (optimiser state, for resuming). Metadata key
``fewshot_studio`` holds JSON: format, version, backbone name, preprocessing, method and
hyperparameters, the training configuration, the step, validation history and the best validation score.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from .backbones.base import Backbone, BackboneSpec, WeightsStatus
from .errors import BackboneError, ModelFileError
from .paths import studio_home
from .preprocess import Preprocess
from .weights_files import write_atomically

FORMAT = "fewshot-studio-checkpoint"
FORMAT_VERSION = 1
META_KEY = "fewshot_studio"


def checkpoints_dir() -> Path:
    return studio_home() / "checkpoints"


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, rest = {}, {"param_groups": state["param_groups"], "state": {}}
    for idx, slots in state["state"].items():
        rest["state"][str(idx)] = {}
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{key}"] = value
                rest["state"][str(idx)][key] = "tensor"
            else:
                rest["state"][str(idx)][key] = value
    return tensors, rest


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    state = {}
    for idx, slots in rest["state"].items():
        state[int(idx)] = {k: tensors[f"optim.{idx}.{k}"] if v == "tensor" else v for k, v in slots.items()}
    return {"state": state, "param_groups": rest["param_groups"]}


def save_checkpoint(path: Path, *, backbone: nn.Module, nets: nn.Module, feature_shape, meta: dict,
                    optimizer: torch.optim.Optimizer | None = None) -> Path:
    from .. import __version__

    path = Path(path)
    tensors = {f"backbone.{k}": v for k, v in backbone.state_dict().items()}
    tensors.update({f"nets.{k}": v for k, v in nets.state_dict().items()})
    if feature_shape:
        tensors["feature_shape"] = torch.tensor(feature_shape)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": {"fewshot_studio": __version__, "torch": torch.__version__}, **meta}
    if optimizer is not None:
        opt_tensors, meta["optimizer"] = _flatten_optimizer(optimizer.state_dict())
        tensors.update(opt_tensors)
    return write_atomically(tensors, path, {META_KEY: json.dumps(meta)})


class Checkpoint:
    """A checkpoint file opened for reading: ``meta`` and ``tensors``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFileError(f"{self.path}: checkpoint not found")
        try:
            with safe_open(str(self.path), framework="pt") as f:
                raw = (f.metadata() or {}).get(META_KEY)
                self.tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelFileError(f"{self.path}: not a readable checkpoint ({str(exc)[:160]}); it may be "
                                 "truncated or damaged") from None
        try:
            self.meta = json.loads(raw or "{}")
        except ValueError:
            self.meta = {}
        if self.meta.get("format") != FORMAT:
            raise ModelFileError(f"{self.path}: not a Few-shot Studio meta-training checkpoint")
        if int(self.meta.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFileError(f"{self.path}: written by a newer Few-shot Studio (format "
                                 f"{self.meta['format_version']}); upgrade to read it")

    def part(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}

    def method_state(self) -> dict[str, torch.Tensor]:
        state = {f"nets.{k}": v for k, v in self.part("nets.").items()}
        if "feature_shape" in self.tensors:
            state["feature_shape"] = self.tensors["feature_shape"]
        return state

    def optimizer_state(self) -> dict | None:
        rest = self.meta.get("optimizer")
        return _unflatten_optimizer(self.part(""), rest) if rest else None


class CheckpointSpec(BackboneSpec):
    """A meta-trained checkpoint offered as a backbone: the base architecture with the trained weights."""

    family = "checkpoint"
    pretrained = True

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        from .backbones import get_backbone

        self.path = Path(path)
        ckpt = Checkpoint(self.path)
        self.meta = ckpt.meta
        self.base = get_backbone(self.meta["backbone"])
        self.name = name or self.path.stem
        self.preprocess = Preprocess.from_dict(self.meta["preprocess"])
        best = self.meta.get("best") or {}
        score = f", validation {100 * best['mean']:.1f}% ± {100 * best['ci95']:.1f}%" if best else ""
        self.description = (f"{self.meta['backbone']} meta-trained with {self.meta['method']['name']} on "
                            f"{Path(self.meta['config']['dataset']).name} ({self.meta['step']} steps{score})")

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


def checkpoint_spec(path: str | os.PathLike) -> CheckpointSpec:
    try:
        return CheckpointSpec(path)
    except (KeyError, TypeError) as exc:
        raise BackboneError(f"{path}: checkpoint metadata is incomplete ({exc})") from None


def register_checkpoints(registry) -> None:
    """Offer every checkpoint in the studio's checkpoints folder as a backbone (named by file stem)."""
    folder = checkpoints_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.safetensors")):
        if path.stem.endswith(".last") or path.stem in registry.names(load=False):
            continue
        with contextlib.suppress(ModelFileError, BackboneError, KeyError):
            registry.add(path.stem, checkpoint_spec(path))
