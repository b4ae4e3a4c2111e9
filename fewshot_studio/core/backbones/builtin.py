"""Small backbones of the few-shot literature, randomly initialised or from this project's checkpoints."""

from __future__ import annotations

from torch import nn

from ..preprocess import Preprocess
from .base import Backbone, BackboneSpec

# Images of few-shot benchmarks (miniImageNet 84x84) are not ImageNet-normalised at this size; plain 0.5.
SMALL = Preprocess(84, 96, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


# Max-pooling before the activation: max and a monotonic activation commute, so the outputs (and the state-dict
# keys: neither layer has parameters) are those of the textbook order, but the activation and its gradient run on
# a quarter of the values (Conv-4 forward and backward, 100 images of 28 px, 1 CPU thread: x1.27; with
# channels-last tensors, which meta-training uses on CPUs, x1.89 over the textbook block in the default layout).
def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.MaxPool2d(2), nn.ReLU())


class Conv4(nn.Sequential):
    """The classic four 64-channel blocks (conv 3x3, batch norm, max-pool 2, ReLU): (N,3,S,S) -> (N,64,S/16,S/16)."""

    def __init__(self, channels: int = 64, in_channels: int = 3):
        super().__init__(conv_block(in_channels, channels), conv_block(channels, channels),
                         conv_block(channels, channels), conv_block(channels, channels))


class ResidualBlock12(nn.Module):
    """ResNet-12 block: three 3x3 convs with batch norm and leaky ReLU, a 1x1 shortcut, max-pool 2, leaky ReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.out = nn.Sequential(nn.MaxPool2d(2), nn.LeakyReLU(0.1))  # pool first: see conv_block

    def forward(self, x):
        return self.out(self.body(x) + self.shortcut(x))


class ResNet12(nn.Sequential):
    """ResNet-12 with widths (64, 160, 320, 640): (N,3,S,S) -> (N,640,S/16,S/16)."""

    def __init__(self, widths=(64, 160, 320, 640), in_channels: int = 3):
        chans = (in_channels, *widths)
        super().__init__(*(ResidualBlock12(a, b) for a, b in zip(chans, chans[1:])))


def _map(trunk, x):
    return trunk(x)


def _flatten(trunk, x):
    return trunk(x).flatten(1)


def _avg(trunk, x):
    return trunk(x).mean(dim=(2, 3))


class Conv4Spec(BackboneSpec):
    name = "conv4"
    family = "builtin"
    description = "Conv-4: four 64-channel conv blocks, the classic few-shot backbone (random until meta-trained)"
    preprocess = SMALL
    pretrained = False

    @property
    def feature_dim(self) -> int:
        side = self.preprocess.input_size // 16
        return 64 * side * side

    def architecture(self) -> nn.Module:
        return Conv4()

    def wrap(self, model: nn.Module) -> Backbone:
        return Backbone(self.name, model, _flatten, _map)


class ResNet12Spec(BackboneSpec):
    name = "resnet12"
    family = "builtin"
    description = "ResNet-12 (64-160-320-640), the usual meta-learning backbone (random until meta-trained)"
    preprocess = SMALL
    pretrained = False

    @property
    def feature_dim(self) -> int:
        return 640

    def architecture(self) -> nn.Module:
        return ResNet12()

    def wrap(self, model: nn.Module) -> Backbone:
        return Backbone(self.name, model, _avg, _map)
