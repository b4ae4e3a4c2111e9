"""Meta-training checkpoints: one safetensors file, usable as a backbone and as a place to resume from.

Tensors: ``backbone.*`` (the backbone, standard batch norm with calibrated statistics), ``nets.*`` and
``feature_shape`` (the method's own modules), ``optim.*`` (optimiser state, for resuming). Metadata key
``fewshot_studio`` holds JSON: format, version, backbone name, preprocessing, method and
hyperparameters, the training configuration, the step, validation history and the best validation score.
A multi-task checkpoint (:mod:`.multitask`) has ``"training": "multi-task"``, its datasets' heads as ``nets.*``
(no method's modules) and their classes under ``heads``; ``method`` names how it is evaluated by default.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from .. import __version__
from .errors import ModelFileError
from .paths import studio_home
from .weights_files import write_atomically

FORMAT = "fewshot-studio-checkpoint"
FORMAT_VERSION = 1
META_KEY = "fewshot_studio"
MULTI_TASK = "multi-task"  # the metadata's "training" entry for core/multitask.py's checkpoints (meta-training: none)


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
                    optimizer: torch.optim.Optimizer | None = None, inputs=()) -> Path:
    """Write a checkpoint (see the module docstring); ``inputs``: ``(what, path)`` pairs never overwritten."""
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
    return write_atomically(tensors, path, {META_KEY: json.dumps(meta)}, inputs=inputs)


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
