"""What every backbone is: a spec in the registry, and the feature-extractor module it builds."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import BackboneError
from ..params import META_TRAINED, PRETRAINED, RANDOM
from ..paths import weights_dir
from ..preprocess import Preprocess
from ..weights_files import read_state_dict

MSG_NO_FEATURE_MAP = ("{name} gives pooled features only; methods that need feature maps (Relation Networks) "
                      "work with conv4, resnet12, efficientnet_lite0, ResNets and other convolutional backbones")


class Backbone(nn.Module):
    """A feature extractor. ``forward``: images (N, 3, S, S), normalised -> features (N, D).

    ``trunk`` is the wrapped network; ``pooled`` maps it to (N, D) features and ``feature_map`` (optional)
    maps it to (N, C, h, w) maps, for methods that compare spatial features.
    """

    def __init__(self, name: str, trunk: nn.Module, pooled: Callable, feature_map: Callable | None = None,
                 head_prefixes: tuple[str, ...] = ()):
        super().__init__()
        self.name = name
        self.head_prefixes = head_prefixes  # trunk keys of a discarded classifier head
        self.channels_last = False  # set for inference: faster on CPU, not allowed under torch.func.vmap
        self.trunk = trunk
        self._pooled = pooled
        self._feature_map = feature_map

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._pooled(self.trunk, self._layout(x))

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def use_channels_last(self, on: bool = True) -> Backbone:
        self.channels_last = on
        return self.to(memory_format=torch.channels_last if on else torch.contiguous_format)

    @property
    def has_feature_map(self) -> bool:
        return self._feature_map is not None

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        if self._feature_map is None:
            raise BackboneError(MSG_NO_FEATURE_MAP.format(name=self.name))
        return self._feature_map(self.trunk, self._layout(x))


@dataclass(frozen=True)
class WeightsStatus:
    """Whether a backbone's pretrained weights can be loaded right now, and from where."""

    available: bool
    source: str  # one line: where the weights come from
    detail: str = ""  # a path, or what is missing and how to get it


class BackboneSpec(ABC):
    """A registered backbone: everything known about it before anything heavy is built."""

    name: str
    description: str
    family: str
    preprocess: Preprocess
    pretrained: bool  # whether the default build loads pretrained weights

    @property
    @abstractmethod
    def feature_dim(self) -> int | None:
        """Length of the pooled feature vector (None when it cannot be known without building)."""

    @abstractmethod
    def architecture(self) -> nn.Module:
        """The bare network, randomly initialised, whose state dict pretrained files hold."""

    @abstractmethod
    def wrap(self, model: nn.Module) -> Backbone:
        """Wrap the bare network as a :class:`Backbone`."""

    def weights_status(self) -> WeightsStatus:
        imported = self.imported_weights_path()
        if imported.exists():
            return WeightsStatus(True, "imported weights", str(imported))
        return self._default_weights_status()

    def _default_weights_status(self) -> WeightsStatus:
        return WeightsStatus(True, "random initialisation (train or meta-train it first)")

    def _default_state_dict(self) -> dict[str, torch.Tensor] | None:
        """Pretrained weights for :meth:`architecture`, or None when it has none."""
        return None

    def imported_weights_path(self) -> Path:
        return weights_dir() / f"{self.name}.safetensors"

    @property
    def kind(self) -> str:
        """What the default build's weights are, which decides the methods' defaults (``hparam(...,
        pretrained=...)``): "pretrained" (trained on a large dataset such as ImageNet), "meta-trained" (a
        meta-training checkpoint, or weights imported for a built-in few-shot backbone) or "random"."""
        if self.pretrained:
            return PRETRAINED
        return META_TRAINED if self.imported_weights_path().exists() else RANDOM

    def kind_for(self, weights: str | os.PathLike | None = "pretrained") -> str:
        """The kind of the backbone :meth:`build` makes from ``weights`` (a file counts as the default's kind,
        a never-trained built-in's file as meta-trained)."""
        if weights == "random" or weights is None:
            return RANDOM
        if weights == "pretrained" or self.pretrained:
            return self.kind
        return META_TRAINED

    def method_state(self, method_name: str) -> dict[str, torch.Tensor] | None:
        """The modules of ``method_name`` meta-trained together with these weights (a checkpoint's), or None."""
        return None

    def build(self, weights: str | os.PathLike | None = "pretrained") -> Backbone:
        """Build the backbone: ``"pretrained"`` (the default weights), ``"random"``, or a weights file.

        ``"random"`` draws from torch's global generator (callers seed it). A backbone without pretrained
        weights built as ``"pretrained"`` gets the same fixed initialisation in every process (seed 0), so that
        two runs or two commands on the same images give the same features.
        """
        if weights == "random" or weights is None:
            model, state = self.architecture(), None
        elif weights == "pretrained":
            imported = self.imported_weights_path()
            state = read_state_dict(imported) if imported.exists() else self._default_state_dict()
            if state is None:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(0)
                    model = self.architecture()
            else:
                model = self.architecture()
        else:
            model, state = self.architecture(), read_state_dict(Path(weights))
        backbone = self.wrap(model)
        if state is not None:
            load_into(backbone, state, self.name)
        return backbone.eval()

    def to_dict(self) -> dict:
        status = self.weights_status()
        return {"name": self.name, "description": self.description, "family": self.family,
                "input_size": self.preprocess.input_size, "feature_dim": self.feature_dim,
                "normalisation": {"mean": list(self.preprocess.mean), "std": list(self.preprocess.std)},
                "weights": status.source, "weights_detail": status.detail,
                "available_offline": status.available, "kind": self.kind}


def load_into(backbone: Backbone, state: dict[str, torch.Tensor], name: str) -> None:
    """Load a state dict of the bare network or of the whole :class:`Backbone` (keys ``trunk.*``).

    Keys of the discarded classification head may be missing or of another shape; anything else that
    does not fit is an error naming the first mismatches.
    """
    state = {k.removeprefix("module."): v for k, v in state.items()}
    if not any(k.startswith("trunk.") for k in state):
        state = {f"trunk.{k}": v for k, v in state.items()}
    own = backbone.state_dict()
    unused = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in state if k in own and state[k].shape != own[k].shape]
    ignorable = {k for k in unused + unexpected + wrong if _is_head_key(backbone, k)}
    unused, unexpected, wrong = ([k for k in ks if k not in ignorable] for ks in (unused, unexpected, wrong))
    if unused or unexpected or wrong:
        parts = []
        if unused:
            parts.append(f"missing {', '.join(unused[:3])}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}")
        if wrong:
            parts.append(f"wrong shape {', '.join(wrong[:3])}")
        raise BackboneError(f"these weights do not fit {name} ({'; '.join(parts)}); "
                            f"choose the backbone they were trained for")
    backbone.load_state_dict({k: v for k, v in state.items() if k in own and k not in ignorable},
                             strict=False)


def _is_head_key(backbone: Backbone, key: str) -> bool:
    heads = getattr(backbone, "head_prefixes", ())
    return any(key.startswith(f"trunk.{h}.") for h in heads)
