"""Every torchvision classification model, with ImageNet weights through torchvision's own weights API.

Weights are looked for in this order: weights imported into the studio (``import-weights``), torch's
hub cache (``$TORCH_HOME/hub/checkpoints``, where torchvision downloads them), and then a download,
unless ``$FEWSHOT_STUDIO_OFFLINE`` is set. The cached file is read with ``weights_only=True``.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from ..errors import WeightsUnavailableError
from ..paths import offline
from ..preprocess import Preprocess
from ..weights_files import read_state_dict
from .base import Backbone, BackboneSpec, WeightsStatus

# Builder arguments that give the architecture the pretrained state dict was saved from.
ARCH_KWARGS = {
    "googlenet": {"aux_logits": True, "transform_input": True, "init_weights": False},
    "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": False},
}

MSG_NOT_CACHED = ("no network: {name} weights are not in the cache at {path}; use Backbone > Import weights... "
                  "(or: fewshot-studio import-weights {name} FILE) or connect once to download them")
MSG_DOWNLOAD_FAILED = ("could not download {name} weights ({error}); they are expected in the cache at {path}; "
                       "use Backbone > Import weights... (or: fewshot-studio import-weights {name} FILE) "
                       "or try again when online")


def _last_linear(model: nn.Module) -> tuple[str, nn.Linear] | None:
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def _set_module(model: nn.Module, dotted: str, new: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def _pooled(trunk, x):
    out = trunk(x)
    return out.logits if hasattr(out, "logits") else out


def _features_map(trunk, x):
    return trunk.features(x)


def _features_pooled(trunk, x):
    """For SqueezeNet, whose classifier is a convolution: global mean of the last feature map."""
    return trunk.features(x).mean(dim=(2, 3))


def _resnet_map(trunk, x):
    x = trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(x))))
    return trunk.layer4(trunk.layer3(trunk.layer2(trunk.layer1(x))))


def _regnet_map(trunk, x):
    return trunk.trunk_output(trunk.stem(x))


def _map_fn(model: nn.Module):
    if isinstance(getattr(model, "features", None), nn.Module) and not hasattr(model, "heads"):
        return _features_map if not hasattr(model, "head") else None  # swin's features are NHWC
    if hasattr(model, "layer4") and hasattr(model, "conv1"):
        return _resnet_map
    if hasattr(model, "trunk_output"):
        return _regnet_map
    return None


class TorchvisionSpec(BackboneSpec):
    family = "torchvision"
    pretrained = True

    def __init__(self, name: str):
        import torchvision.models as tvm

        self.name = name
        self._weights = tvm.get_model_weights(name).DEFAULT
        meta = self._weights.meta
        kw = getattr(self._weights.transforms, "keywords", {})
        crop = int(kw.get("crop_size", 224))
        self.preprocess = Preprocess(crop, int(kw.get("resize_size", round(crop * 256 / 224))),
                                     tuple(kw.get("mean", (0.485, 0.456, 0.406))),
                                     tuple(kw.get("std", (0.229, 0.224, 0.225))))
        acc = next(iter(meta.get("_metrics", {}).values()), {}).get("acc@1")
        params = meta.get("num_params", 0) / 1e6
        self.description = (f"{name} from torchvision, {self._weights} weights"
                            + (f" (ImageNet top-1 {acc:.1f}%" if acc else " (")
                            + f", {params:.1f} M parameters)")

    @functools.cached_property
    def feature_dim(self) -> int | None:
        try:
            with torch.device("meta"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = self._raw_architecture()
                head = _last_linear(model)
                return head[1].in_features if head else model.features[-1].expand3x3.out_channels * 2
        except Exception:  # noqa: BLE001 - some builders cannot run on the meta device
            return None

    def cache_path(self) -> Path:
        return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(self._weights.url).path)

    def _raw_architecture(self) -> nn.Module:
        import torchvision.models as tvm

        kwargs = ARCH_KWARGS.get(self.name, {})
        return tvm.get_model(self.name, weights=None, **kwargs)

    def architecture(self) -> nn.Module:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self._raw_architecture()

    def wrap(self, model: nn.Module) -> Backbone:
        head = _last_linear(model)
        if head is None:  # SqueezeNet
            del model.classifier
            return Backbone(self.name, model, _features_pooled, _features_map, head_prefixes=("classifier",))
        head_name, layer = head
        self.__dict__["feature_dim"] = layer.in_features
        map_fn = _map_fn(model)
        _set_module(model, head_name, nn.Identity())
        return Backbone(self.name, model, _pooled, map_fn, head_prefixes=(head_name,))

    def _default_weights_status(self) -> WeightsStatus:
        path = self.cache_path()
        source = f"ImageNet-1k via torchvision ({self._weights})"
        if path.is_file():
            return WeightsStatus(True, source, str(path))
        if offline():
            return WeightsStatus(False, source, MSG_NOT_CACHED.format(name=self.name, path=path))
        return WeightsStatus(False, source, f"not cached yet; downloaded on first use to {path}")

    def _default_state_dict(self) -> dict[str, torch.Tensor]:
        path = self.cache_path()
        if not path.is_file():
            if offline():
                raise WeightsUnavailableError(MSG_NOT_CACHED.format(name=self.name, path=path))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                match = torch.hub.HASH_REGEX.search(path.name)
                torch.hub.download_url_to_file(self._weights.url, str(path), progress=True,
                                               hash_prefix=match.group(1) if match else None)
            except Exception as exc:  # noqa: BLE001 - any network failure means the same to the user
                raise WeightsUnavailableError(
                    MSG_DOWNLOAD_FAILED.format(name=self.name, error=str(exc)[:120], path=path)) from None
        return read_state_dict(path)


def register_all(registry) -> None:
    """Add one spec per torchvision classification model (imports torchvision: seconds)."""
    import torchvision.models as tvm

    for name in tvm.list_models(module=tvm):
        if name not in registry.names(load=False):
            registry.add(name, TorchvisionSpec(name))
