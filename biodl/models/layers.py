"""Building blocks shared by the model families: activations, weight initialisation, masks."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Activation = Literal["relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid"]
Init = Literal["default", "kaiming", "xavier"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
    "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def init_weights(module: nn.Module, scheme: str, nonlinearity: str = "relu") -> None:
    """Initialise conv and linear weights in place; biases to zero, norms to (1, 0).

    `default` keeps PyTorch's own initialisation.
    """
    if scheme == "default":
        return
    gain_name = nonlinearity if nonlinearity in ("relu", "leaky_relu", "tanh", "sigmoid") else "relu"
    for layer in module.modules():
        if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(layer.weight, nonlinearity=gain_name if gain_name in
                                        ("relu", "leaky_relu") else "relu")
            else:
                nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain_name))
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


class Residual(nn.Module):
    """norm(conv(x)) + skip(x), with a length-keeping conv and a 1x1 conv or identity skip."""

    def __init__(self, conv: nn.Conv1d, norm: nn.Module, skip: nn.Module):
        super().__init__()
        self.conv, self.norm, self.skip = conv, norm, skip

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.conv(x)) + self.skip(x)


class GlobalMaxPool1d(nn.MaxPool1d):
    """(N, C, L) -> (N, C, 1): the max over all positions, as one max-pool window.

    The same values as `x.amax(dim=-1, keepdim=True)`, but a module of the max-pool type, so
    attribution rules that hook max pooling (DeepLIFT's, in tangermeme) also cover the global
    max; a bare `amax` would be treated as linear and break DeepLIFT's sum-to-delta property.
    """

    def __init__(self):
        super().__init__(kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        self.kernel_size = self.stride = x.shape[-1]  # the window is the whole length
        return super().forward(x)  # (N, C, 1)


def length_mask(lengths: Tensor, length: int) -> Tensor:
    """(N,) valid lengths -> (N, length) bool, True at the valid (left-aligned) positions."""
    positions = torch.arange(length, device=lengths.device)
    return positions[None, :] < lengths[:, None]


def masked_pool1d(x: Tensor, mask: Tensor | None, size: int,
                  kind: str) -> tuple[Tensor, Tensor | None]:
    """Pool (N, C, L) by `size` (ceil mode), ignoring positions where `mask` (N, L) is False.

    A window's max or mean covers only its valid positions, so a padded sequence pools exactly
    as it would alone; windows with no valid position become 0. Returns the pooled (N, C, L')
    and the pooled mask (N, L'), or None when `mask` is None.
    """
    if size == 1:
        return x, mask
    if mask is None:
        pool = F.max_pool1d if kind == "max" else F.avg_pool1d
        return pool(x, size, ceil_mode=True), None
    valid = mask[:, None, :]  # (N, 1, L)
    weight = valid.to(x.dtype)
    if kind == "max":
        y = F.max_pool1d(x.masked_fill(~valid, float("-inf")), size, ceil_mode=True)
    else:
        counts = F.avg_pool1d(weight, size, ceil_mode=True).clamp(min=1e-12)
        y = F.avg_pool1d(x * weight, size, ceil_mode=True) / counts
    pooled = F.max_pool1d(weight, size, ceil_mode=True) > 0  # (N, 1, L')
    return y.masked_fill(~pooled, 0.0), pooled[:, 0]


def rnn_head(features: int, hidden: int, num_outputs: int, dropout: float,
             act: str) -> nn.Sequential:
    """dropout -> [linear -> activation -> dropout] -> linear: the head of the recurrent models."""
    head: list[nn.Module] = [nn.Dropout(dropout)]
    if hidden:
        head += [nn.Linear(features, hidden), activation(act), nn.Dropout(dropout)]
        features = hidden
    return nn.Sequential(*head, nn.Linear(features, num_outputs))
