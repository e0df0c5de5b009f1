"""A configurable 1D CNN over one-hot DNA: (N, 4, L) -> (N, num_outputs)."""

from __future__ import annotations

from typing import Callable, Literal

import torch
from torch import nn

from biodl.errors import BiodlError
from biodl.models import layers
from biodl.models.layers import Activation, Init


class ConvBlock(nn.Module):
    """conv -> batch norm -> activation -> pooling -> dropout, with an optional residual."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, pool: int,
                 pool_type: str, batch_norm: bool, dropout: float, act: str, residual: bool):
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2  # "same" length for odd kernels
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, padding=padding, dilation=dilation,
                              bias=not batch_norm)
        self.norm = nn.BatchNorm1d(c_out) if batch_norm else nn.Identity()
        self.act = layers.activation(act)
        self.skip = None
        if residual:
            self.skip = nn.Identity() if c_in == c_out else nn.Conv1d(c_in, c_out, 1, bias=False)
        pool_cls = nn.MaxPool1d if pool_type == "max" else nn.AvgPool1d
        self.pool = pool_cls(pool, ceil_mode=True) if pool > 1 else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def local_layers(self) -> list[nn.Module]:
        """The block as a chain of position-local layers, the same function as forward."""
        if self.skip is None:
            return [self.conv, self.norm, self.act, self.pool, self.drop]
        return [layers.Residual(self.conv, self.norm, self.skip), self.act, self.pool, self.drop]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.conv(x))  # (N, C_out, L)
        if self.skip is not None:
            y = y + self.skip(x)
        return self.drop(self.pool(self.act(y)))  # (N, C_out, ceil(L / pool))


class CNN1D(nn.Module):
    """Blocks of conv/BN/activation/pool/dropout, global pooling and a linear head.

    With the defaults (4 -> 128 -> 128 channels, kernel 9, 1 output) it has 152,705 parameters.
    `global_pool="flatten"` keeps position instead (e.g. promoter boxes at fixed offsets from
    the TSS): the head sees every position, so the input length `seq_len` must be known (the
    data gives it).
    """

    def __init__(
        self,
        in_channels: int = 4,
        num_outputs: int = 1,
        channels: tuple[int, ...] = (128, 128),
        kernel_size: int = 9,
        dilation: tuple[int, ...] = (1,),
        pool: int = 2,
        pool_type: Literal["max", "avg"] = "max",
        global_pool: Literal["max", "avg", "maxavg", "flatten"] = "max",
        batch_norm: bool = True,
        dropout: float = 0.2,
        activation: Activation = "relu",
        residual: bool = False,
        hidden: int = 0,
        init: Init = "kaiming",
        seq_len: int = 0,
    ):
        super().__init__()
        dilations = list(dilation) + [dilation[-1]] * (len(channels) - len(dilation))
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(*[
            ConvBlock(widths[i], widths[i + 1], kernel_size, dilations[i], pool, pool_type,
                      batch_norm, dropout, activation, residual)
            for i in range(len(channels))
        ])
        self.global_pool = global_pool
        self.global_max = layers.GlobalMaxPool1d()
        features = channels[-1] * (2 if global_pool == "maxavg" else 1)
        if global_pool == "flatten":
            if seq_len <= 0:
                raise BiodlError("model.global_pool=flatten needs model.seq_len (the input "
                                 "length), which the data sets when the model is built by fit")
            self.positions = seq_len
            for _ in channels:
                self.positions = -(-self.positions // pool) if pool > 1 else self.positions
            features = channels[-1] * self.positions
        head: list[nn.Module] = []
        if hidden:
            head += [nn.Linear(features, hidden), layers.activation(activation), nn.Dropout(dropout)]
            features = hidden
        self.head = nn.Sequential(*head, nn.Linear(features, num_outputs))
        layers.init_weights(self, init, activation)

    def local_split(self) -> tuple[list[nn.Module], Callable[[torch.Tensor], torch.Tensor]]:
        """forward(x) == head(layers(x)), the conv blocks as position-local layers (for ISM
        that recomputes only what a substitution reaches, biodl.interpret.regional_ism)."""
        return [layer for block in self.blocks for layer in block.local_layers()], \
            self._from_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._from_features(self.blocks(x))

    def _from_features(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, L')
        if self.global_pool == "max":
            x = self.global_max(x)[..., 0]
        elif self.global_pool == "avg":
            x = x.mean(dim=-1)
        elif self.global_pool == "flatten":
            x = x.flatten(1)  # (N, C * L')
        else:
            x = torch.cat([self.global_max(x)[..., 0], x.mean(dim=-1)], dim=1)  # (N, 2C)
        return self.head(x)  # (N, num_outputs)

