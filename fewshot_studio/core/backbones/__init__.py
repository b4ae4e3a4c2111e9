"""Registry of feature extractors: the offline EfficientNet-Lite0 (default; Lite1 and Lite2 with the ``lite12``
extra), every torchvision classification model, and the built-in Conv-4 and ResNet-12.

>>> spec = get_backbone("efficientnet_lite0")
>>> backbone = spec.build()            # ImageNet weights, eval mode
>>> backbone(torch.zeros(1, 3, 224, 224)).shape
torch.Size([1, 1280])
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..checkpoints import Checkpoint, checkpoints_dir
from ..errors import BackboneError, ModelFileError
from ..registry import Registry
from ..weights_files import read_state_dict, write_state_dict
from .base import Backbone, BackboneSpec, WeightsStatus, load_into
from .builtin import Conv4Spec, ResNet12Spec
from .checkpoint import CheckpointSpec
from .efficientnet_lite import EfficientNetLite
from .torchvision_models import register_all

DEFAULT_BACKBONE = "efficientnet_lite0"

BACKBONES: Registry[BackboneSpec] = Registry("backbone")


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Offer ``spec`` under its name (the counterpart of ``register_method`` for backbones)."""
    return BACKBONES.add(spec.name, spec)


for _spec in (EfficientNetLite(0), Conv4Spec(), ResNet12Spec(), EfficientNetLite(1), EfficientNetLite(2)):
    register_backbone(_spec)


def _load_torchvision() -> None:
    register_all(BACKBONES)  # imports torchvision: seconds


def _load_checkpoints() -> None:
    """Offer every checkpoint in the studio's checkpoints folder as a backbone (named by file stem)."""
    folder = checkpoints_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.safetensors")):
        if path.stem.endswith(".last") or path.stem in BACKBONES.names(load=False):
            continue
        with contextlib.suppress(ModelFileError, BackboneError, KeyError):
            register_backbone(checkpoint_spec(path))


BACKBONES.add_loader(_load_torchvision)
BACKBONES.add_loader(_load_checkpoints)


def get_backbone(name: str) -> BackboneSpec:
    """A registered backbone's spec by name (``.build(weights)`` makes the network), or a meta-training
    checkpoint given by its path. (A method's entry is its class, see ``get_method``.)"""
    if name.endswith(".safetensors") and Path(name).is_file():
        return checkpoint_spec(name)
    return BACKBONES.get(name)


def checkpoint_spec(path: str | os.PathLike) -> CheckpointSpec:
    """A meta-training checkpoint file as a backbone (its base backbone is looked up by name)."""
    checkpoint = Checkpoint(path)
    try:
        return CheckpointSpec(checkpoint, get_backbone(checkpoint.meta["backbone"]))
    except (KeyError, TypeError) as exc:
        raise BackboneError(f"{path}: checkpoint metadata is incomplete ({exc})") from None


def list_backbones() -> list[BackboneSpec]:
    return [spec for _, spec in BACKBONES.items()]


def import_weights(name: str, path: str | os.PathLike) -> Path:
    """Check that a weights file fits backbone ``name`` and keep a safetensors copy in the studio's folder.

    Afterwards ``get_backbone(name).build()`` uses these weights, with no network.
    """
    spec = get_backbone(name)
    state = read_state_dict(Path(path))
    load_into(spec.wrap(spec.architecture()), state, name)
    target = spec.imported_weights_path()
    try:
        write_state_dict(state, target, metadata={"imported_from": str(Path(path).resolve())},
                         inputs=[("the weights file", path)])
    except OSError as exc:
        raise BackboneError(f"cannot write {target}: {exc.strerror or exc}; set FEWSHOT_STUDIO_HOME to a "
                            "writable folder") from None
    return target


__all__ = ["BACKBONES", "DEFAULT_BACKBONE", "Backbone", "BackboneSpec", "CheckpointSpec", "WeightsStatus",
           "checkpoint_spec", "get_backbone", "import_weights", "list_backbones", "register_backbone",
           "rescan_checkpoints"]


def rescan_checkpoints() -> None:
    """Offer checkpoints saved since start-up (by a meta-training run) as backbones too."""
    _load_checkpoints()
