"""AlexNet and VGG-11/13/16/19 (with and without batch norm), module for module torchvision's.

Contract: images `(N, in_channels, H, W)` float -> `(N, num_outputs)` logits.
Module names and state_dict keys are torchvision's (`features.0.weight`, `classifier.6.bias`,
...), so a torchvision weights file loads with `load_state_dict(strict=True)` into a model with
3 channels and 1000 outputs. Parameters at 3 channels and 1000 outputs: AlexNet 61,100,840;
VGG-11 132,863,336, -13 133,047,848, -16 138,357,544, -19 143,667,240; with batch norm
132,868,840 / 133,053,736 / 138,365,992 / 143,678,248.

`small_input=True` (28-64 px images): AlexNet's stem becomes a 3x3 stride-1 conv; VGG drops
its last two max pools (kept as `nn.Identity`, so indices and keys stay torchvision's); both
pool to 1x1 and use `hidden` (default 512) units in the classifier, since a 4096-wide head on
a 1x1 map is nearly all of the parameters and none of the accuracy. `channels_last=True`
keeps weights and activations NHWC, as the ResNets do.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor, nn

# conv widths, "M" a 2x2 max pool (torchvision's configurations A, B, D, E)
VGG_LAYERS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


def classifier(features: int, hidden: int, num_outputs: int, dropout: float,
               dropout_first: bool) -> nn.Sequential:
    """Two hidden linear layers; AlexNet puts dropout before each, VGG after each ReLU."""
    if dropout_first:
        layers = [nn.Dropout(dropout), nn.Linear(features, hidden), nn.ReLU(inplace=True),
                  nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True)]
    else:
        layers = [nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                  nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
    return nn.Sequential(*layers, nn.Linear(hidden, num_outputs))


def use_channels_last(model: nn.Module, channels_last: bool) -> bool:
    """NHWC weights (oneDNN's fast path; the same numbers, layout only), as in the ResNets."""
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return channels_last


class AlexNet(nn.Module):
    """Five convs (64-384 channels) with three max pools, an adaptive pool, three linears."""

    def __init__(self, in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
                 dropout: float = 0.5, hidden: Optional[int] = None, channels_last: bool = False):
        super().__init__()
        stem = (nn.Conv2d(in_channels, 64, 3, stride=1, padding=1) if small_input else
                nn.Conv2d(in_channels, 64, 11, stride=4, padding=2))
        self.features = nn.Sequential(
            stem, nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2))
        side = 1 if small_input else 6
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        width = hidden or (512 if small_input else 4096)
        self.classifier = classifier(256 * side * side, width, num_outputs, dropout, True)
        self.channels_last = use_channels_last(self, channels_last)

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6); (N, 256, 1, 1) if small
        return self.classifier(torch.flatten(x, 1))  # (N, num_outputs)


def vgg_features(layers: list, in_channels: int, batch_norm: bool,
                 small_input: bool) -> nn.Sequential:
    """3x3 convs (+ BN) + ReLU, and max pools; `small_input` keeps only the first three pools."""
    modules: list[nn.Module] = []
    pools = 0
    for width in layers:
        if width == "M":
            pools += 1
            modules.append(nn.Identity() if small_input and pools > 3 else nn.MaxPool2d(2, 2))
            continue
        modules.append(nn.Conv2d(in_channels, width, 3, padding=1))
        if batch_norm:
            modules.append(nn.BatchNorm2d(width))
        modules.append(nn.ReLU(inplace=True))
        in_channels = width
    return nn.Sequential(*modules)


class VGG(nn.Module):
    """Stacks of 3x3 convs between max pools, an adaptive pool, three linears."""

    def __init__(self, layers: list, batch_norm: bool = False, in_channels: int = 3,
                 num_outputs: int = 1000, small_input: bool = False, dropout: float = 0.5,
                 hidden: Optional[int] = None, channels_last: bool = False):
        super().__init__()
        self.features = vgg_features(layers, in_channels, batch_norm, small_input)
        side = 1 if small_input else 7
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        width = hidden or (512 if small_input else 4096)
        self.classifier = classifier(512 * side * side, width, num_outputs, dropout, False)
        self._init_weights()
        self.channels_last = use_channels_last(self, channels_last)

    def _init_weights(self) -> None:
        """torchvision's: He-normal convs, N(0, 0.01) linears, zero biases, unit BN."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7); (N, 512, 1, 1) if small
        return self.classifier(torch.flatten(x, 1))  # (N, num_outputs)


def alexnet(in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
            dropout: float = 0.5, hidden: Optional[int] = None,
            channels_last: bool = False) -> AlexNet:
    """AlexNet (torchvision's one-GPU variant): 61,100,840 parameters at 3 channels,
    1000 outputs."""
    return AlexNet(in_channels, num_outputs, small_input, dropout, hidden, channels_last)


def _vgg(depth: int, batch_norm: bool, count: str) -> Callable[..., VGG]:
    def build(in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
              dropout: float = 0.5, hidden: Optional[int] = None,
              channels_last: bool = False) -> VGG:
        return VGG(VGG_LAYERS[depth], batch_norm, in_channels, num_outputs, small_input,
                   dropout, hidden, channels_last)

    build.__name__ = f"vgg{depth}{'_bn' if batch_norm else ''}"
    build.__doc__ = (f"VGG-{depth}{' with batch norm' if batch_norm else ''}: {count} parameters "
                     "at 3 channels, 1000 outputs (torchvision's keys).")
    return build


vgg11, vgg11_bn = _vgg(11, False, "132,863,336"), _vgg(11, True, "132,868,840")
vgg13, vgg13_bn = _vgg(13, False, "133,047,848"), _vgg(13, True, "133,053,736")
vgg16, vgg16_bn = _vgg(16, False, "138,357,544"), _vgg(16, True, "138,365,992")
vgg19, vgg19_bn = _vgg(19, False, "143,667,240"), _vgg(19, True, "143,678,248")
