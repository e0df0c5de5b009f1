"""ResNet-18/34/50 for cell images, module for module torchvision's, and transfer helpers.

Contract: images `(N, in_channels, H, W)` float -> `(N, num_outputs)` logits.
Module names, order and state_dict keys are torchvision's (`conv1`, `bn1`, `layer1.0.conv1`,
`layer2.0.downsample.0`, `fc`, ...), so a torchvision weights file loads with
`load_state_dict(strict=True)` into a model with 3 channels and 1000 outputs, and into any
other with `load_backbone`. `small_input=True` swaps the stem for a 3x3 stride-1 conv with no
max pool (for 28-64 px images); the keys stay the same, only `conv1.weight`'s shape changes.
`channels_last=True` keeps weights and activations NHWC: with bf16-mixed precision that is
oneDNN's fast path on CPUs with AMX and on tensor-core GPUs (numbers unchanged, layout only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from biodl.errors import BiodlError


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)


def conv1x1(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual; the first may stride."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, as torchvision's "ResNet v1.5"), 1x1 expand by 4, residual."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


Block = type[BasicBlock] | type[Bottleneck]


class ResNet(nn.Module):
    """A stem, four stages of residual blocks (64-512 planes), global average pool, linear head."""

    def __init__(self, block: Block, layers: tuple[int, int, int, int], in_channels: int = 3,
                 num_outputs: int = 1000, small_input: bool = False,
                 zero_init_residual: bool = False, channels_last: bool = False):
        super().__init__()
        self.channels_last = channels_last
        self.inplanes = 64
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_outputs)
        self._init_weights(zero_init_residual)
        if channels_last:  # NHWC weights and activations: oneDNN's fast path (AMX bf16 on CPUs)
            self.to(memory_format=torch.channels_last)

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        stage = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        stage += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # each residual block starts as the identity
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4); H, W if small
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512 * e, H/32, W/32)
        return self.fc(torch.flatten(self.avgpool(x), 1))  # (N, num_outputs)


def resnet18(in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
             zero_init_residual: bool = False, channels_last: bool = False) -> ResNet:
    """ResNet-18: BasicBlocks (2, 2, 2, 2); 11,689,512 parameters at 3 channels, 1000 outputs."""
    return ResNet(BasicBlock, (2, 2, 2, 2), in_channels, num_outputs, small_input,
                  zero_init_residual, channels_last)


def resnet34(in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
             zero_init_residual: bool = False, channels_last: bool = False) -> ResNet:
    """ResNet-34: BasicBlocks (3, 4, 6, 3); 21,797,672 parameters at 3 channels, 1000 outputs."""
    return ResNet(BasicBlock, (3, 4, 6, 3), in_channels, num_outputs, small_input,
                  zero_init_residual, channels_last)


def resnet50(in_channels: int = 3, num_outputs: int = 1000, small_input: bool = False,
             zero_init_residual: bool = False, channels_last: bool = False) -> ResNet:
    """ResNet-50: Bottlenecks (3, 4, 6, 3); 25,557,032 parameters at 3 channels, 1000 outputs."""
    return ResNet(Bottleneck, (3, 4, 6, 3), in_channels, num_outputs, small_input,
                  zero_init_residual, channels_last)


@dataclass
class LoadReport:
    """What `load_backbone` did with each key."""

    loaded: list[str] = field(default_factory=list)  # copied as they were
    adapted: list[str] = field(default_factory=list)  # reshaped to fit (conv1 to new channels)
    skipped: list[str] = field(default_factory=list)  # in the file, not loaded (head, unknown)
    missing: list[str] = field(default_factory=list)  # in the model, left as initialised


def adapt_conv1(weight: Tensor, in_channels: int) -> Tensor:
    """Pretrained (64, 3, k, k) stem filters for `in_channels` inputs.

    One channel: the sum over RGB (a grey image then gives the response its RGB copy would).
    Otherwise the RGB filters repeat cyclically (R, G, B, R, G, ...) scaled by 3 / in_channels,
    so activations keep their pretrained scale.
    """
    old = weight.shape[1]
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    repeats = math.ceil(in_channels / old)
    return weight.repeat(1, repeats, 1, 1)[:, :in_channels] * (old / in_channels)


def plain_state_dict(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Accept a torchvision state_dict, a Lightning checkpoint, or a biodl task's `model.` keys."""
    state_dict = state_dict.get("state_dict", state_dict)
    if state_dict and all(key.startswith("model.") for key in state_dict):
        state_dict = {key[len("model."):]: value for key, value in state_dict.items()}
    return state_dict


def load_backbone(model: ResNet, state_dict: dict[str, Tensor],
                  new_head: bool = True) -> LoadReport:
    """Load pretrained weights into a ResNet with other outputs and/or input channels.

    `fc.*` is left as initialised when `new_head` or when its shape differs; a `conv1.weight`
    for another number of channels is adapted by `adapt_conv1`, one for another kernel size
    (the `small_input` stem) is skipped. Keys the model lacks or other shape mismatches mean
    another architecture: an error.
    """
    own, report, take = model.state_dict(), LoadReport(), {}
    state_dict = plain_state_dict(state_dict)
    check_same_depth(own, state_dict)
    for key, value in state_dict.items():
        mismatch = value.shape != own[key].shape
        if key.startswith("fc.") and (new_head or mismatch):
            report.skipped.append(key)
        elif not mismatch:
            take[key] = value
            report.loaded.append(key)
        elif key == "conv1.weight" and value.shape[2:] == own[key].shape[2:]:
            take[key] = adapt_conv1(value, own[key].shape[1])
            report.adapted.append(key)
        elif key == "conv1.weight":
            report.skipped.append(key)
        else:
            raise BiodlError(f"pretrained weights: '{key}' has shape {tuple(value.shape)} but the "
                             f"model's is {tuple(own[key].shape)}; is it the same ResNet depth?")
    model.load_state_dict(take, strict=False)
    report.missing = [key for key in own if key not in take]
    return report


def check_same_depth(own: dict[str, Tensor], state_dict: dict[str, Tensor]) -> None:
    """Both hold the same backbone keys (older torchvision files lack `num_batches_tracked`)."""
    unknown = [key for key in state_dict if key not in own]
    lacking = [key for key in own if key not in state_dict and not key.startswith("fc.")
               and not key.endswith("num_batches_tracked")]
    for keys, where in ((unknown, "are not in the model"), (lacking, "are missing from the file")):
        if keys:
            raise BiodlError(f"pretrained weights: {len(keys)} keys (e.g. '{keys[0]}') {where}; "
                             f"is it the same ResNet depth?")


def freeze_backbone(model: ResNet) -> ResNet:
    """Leave only `fc` trainable. BatchNorm running statistics still update in train mode;
    put the backbone in eval mode as well to keep them fixed."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("fc.")
    return model
