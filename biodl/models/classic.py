"""Published sequence models at their published settings: DeepBind, Basset, DanQ, DeepSEA.

Contract: one-hot DNA `(N, in_channels, L)` float (channels ACGT) -> `(N, num_outputs)` logits
(no sigmoid: the task applies it in its loss). DeepBind takes any L; Basset, DanQ and DeepSEA
flatten their last feature map into a dense layer, so L must equal their `seq_len`.
Parameter counts count trainable parameters (BatchNorm running statistics are buffers).
"""

from __future__ import annotations

from typing import Callable, Literal

import torch
from torch import Tensor, nn

from biodl.errors import BiodlError
from biodl.models import layers
from biodl.models.layers import Activation, Init


def conv_tower(widths: list[int], kernels: tuple[int, ...], pools: tuple[int, ...],
               dropouts: tuple[float, ...], batch_norm: bool, act: str) -> nn.Sequential:
    """Unpadded conv -> (BN) -> activation -> max pool (floor) -> dropout, once per layer."""
    if not len(widths) - 1 == len(kernels) == len(pools) == len(dropouts):
        raise BiodlError(f"model: give one kernel size, pool and dropout per conv layer "
                         f"({len(widths) - 1} layers; got {len(kernels)}, {len(pools)}, "
                         f"{len(dropouts)})")
    modules: list[nn.Module] = []
    for i, (kernel, pool, dropout) in enumerate(zip(kernels, pools, dropouts)):
        modules.append(nn.Conv1d(widths[i], widths[i + 1], kernel))
        if batch_norm:
            modules.append(nn.BatchNorm1d(widths[i + 1]))
        modules.append(layers.activation(act))
        if pool > 1:
            modules.append(nn.MaxPool1d(pool))
        if dropout:
            modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)


def tower_length(name: str, seq_len: int, kernels: tuple[int, ...], pools: tuple[int, ...]) -> int:
    """Length of the feature map after unpadded convs and floor pooling; fail if nothing is left."""
    length = seq_len
    for kernel, pool in zip(kernels, pools):
        length = (length - kernel + 1) // pool
    if length < 1:
        raise BiodlError(f"model.seq_len: {seq_len} bp is too short for {name}; "
                         f"use a longer seq_len or smaller kernels/pools")
    return length


def dense_stack(sizes: list[int], dropout: float, batch_norm: bool, act: str) -> nn.Sequential:
    """Linear -> (BN) -> activation -> dropout between consecutive sizes."""
    modules: list[nn.Module] = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:]):
        modules.append(nn.Linear(size_in, size_out))
        if batch_norm:
            modules.append(nn.BatchNorm1d(size_out))
        modules += [layers.activation(act), nn.Dropout(dropout)]
    return nn.Sequential(*modules)


def check_length(name: str, x: Tensor, seq_len: int) -> None:
    if x.shape[-1] != seq_len:
        raise BiodlError(f"{name} was built for {seq_len} bp inputs but got {x.shape[-1]} bp; "
                         f"set model.seq_len={x.shape[-1]} or crop the data")


class DeepBind(nn.Module):
    """DeepBind (Alipanahi et al. 2015): motif detectors, rectification, global pooling, MLP.

    Any length L. At the defaults (16 motifs of length 24, max pooling, 32 hidden units,
    1 output) it has 2,129 parameters; with `global_pool="maxavg"`, 2,641.
    Choices: the input is padded with `motif_length - 1` columns of 0.25 (an N) on each
    side so motifs may overhang the ends, as in the paper; the rectification threshold is the
    conv bias; dropout (the paper tuned it per experiment) defaults to 0.5 and is applied to
    the pooled features and the hidden layer; `hidden=0` gives the paper's no-hidden-layer model.
    """

    def __init__(self, in_channels: int = 4, num_outputs: int = 1, num_motifs: int = 16,
                 motif_length: int = 24, global_pool: Literal["max", "maxavg"] = "max",
                 hidden: int = 32, dropout: float = 0.5, pad_value: float = 0.25,
                 activation: Activation = "relu", init: Init = "default"):
        super().__init__()
        self.pad, self.pad_value, self.global_pool = motif_length - 1, pad_value, global_pool
        self.pad_input = nn.ConstantPad1d(self.pad, pad_value)  # (N, C, L + 2 (m - 1))
        self.conv = nn.Conv1d(in_channels, num_motifs, motif_length)
        self.act = layers.activation(activation)
        self.global_max = layers.GlobalMaxPool1d()
        features = num_motifs * (2 if global_pool == "maxavg" else 1)
        sizes = [features, hidden] if hidden else [features]
        self.drop = nn.Dropout(dropout)
        self.hidden = dense_stack(sizes, dropout, False, activation)
        self.out = nn.Linear(sizes[-1], num_outputs)
        layers.init_weights(self, init, activation)

    def local_split(self) -> tuple[list[nn.Module], Callable[[Tensor], Tensor]]:
        """forward(x) == head(layers(x)), padding and motif scan as position-local layers (for
        ISM that recomputes only what a substitution reaches, biodl.interpret.regional_ism)."""
        return [self.pad_input, self.conv, self.act], self._from_features

    def forward(self, x: Tensor) -> Tensor:
        return self._from_features(self.act(self.conv(self.pad_input(x))))

    def _from_features(self, x: Tensor) -> Tensor:  # (N, motifs, L + m - 1)
        pooled = [self.global_max(x)[..., 0]]  # (N, motifs)
        if self.global_pool == "maxavg":
            pooled.append(x.mean(dim=-1))
        x = self.hidden(self.drop(torch.cat(pooled, dim=1)))  # (N, hidden)
        return self.out(x)  # (N, num_outputs)


class Basset(nn.Module):
    """Basset (Kelley et al. 2016): three conv layers and two dense layers over 600 bp.

    Conv 300x19, 200x11, 200x7, each with BN + ReLU + max pool 3/4/4; dense 1000, 1000 with
    BN + ReLU + dropout 0.3; 164 outputs. At the defaults it has 4,135,064 parameters.
    Choices (as in the authors' Torch7 model and its Kipoi port): unpadded convs that keep
    their bias before BN, BN on the dense layers too, floor pooling (600 bp -> 200 x 10 features).
    """

    def __init__(self, in_channels: int = 4, num_outputs: int = 164, seq_len: int = 600,
                 channels: tuple[int, ...] = (300, 200, 200),
                 kernel_sizes: tuple[int, ...] = (19, 11, 7),
                 pools: tuple[int, ...] = (3, 4, 4), hidden: tuple[int, ...] = (1000, 1000),
                 dropout: float = 0.3, batch_norm: bool = True, activation: Activation = "relu",
                 init: Init = "default"):
        super().__init__()
        self.seq_len = seq_len
        length = tower_length("basset", seq_len, kernel_sizes, pools)
        self.conv = conv_tower([in_channels, *channels], kernel_sizes, pools,
                               (0.0,) * len(channels), batch_norm, activation)
        self.dense = dense_stack([channels[-1] * length, *hidden], dropout, batch_norm, activation)
        self.out = nn.Linear(hidden[-1] if hidden else channels[-1] * length, num_outputs)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor) -> Tensor:
        check_length("basset", x, self.seq_len)
        return self._from_features(self.conv(x))

    def local_split(self) -> tuple[list[nn.Module], Callable[[Tensor], Tensor]]:
        """forward(x) == head(layers(x)), the conv tower as position-local layers (for ISM
        that recomputes only what a substitution reaches, biodl.interpret.regional_ism)."""
        return list(self.conv), self._from_features

    def _from_features(self, x: Tensor) -> Tensor:  # (N, 200, 10) at 600 bp
        return self.out(self.dense(x.flatten(1)))  # (N, num_outputs)


class DanQ(nn.Module):
    """DanQ (Quang & Xie 2016): conv motif scanner, BiLSTM over the motif map, dense layer.

    Conv 320x26 + ReLU, max pool 13, dropout 0.2, BiLSTM 320 per direction over all 75
    positions, dropout 0.5, flatten, dense 925 + ReLU, 919 outputs; 1000 bp input. At the
    defaults it has 46,929,039 parameters: PyTorch's LSTM has two bias vectors per gate, so
    it has 2,560 more than the authors' Keras model (46,926,479); the weights map one to one.
    """

    def __init__(self, in_channels: int = 4, num_outputs: int = 919, seq_len: int = 1000,
                 conv_channels: int = 320, kernel_size: int = 26, pool: int = 13,
                 hidden_size: int = 320, dense: int = 925, conv_dropout: float = 0.2,
                 rnn_dropout: float = 0.5, activation: Activation = "relu", init: Init = "default"):
        super().__init__()
        self.seq_len = seq_len
        length = tower_length("danq", seq_len, (kernel_size,), (pool,))
        self.conv = conv_tower([in_channels, conv_channels], (kernel_size,), (pool,),
                               (conv_dropout,), False, activation)
        self.lstm = nn.LSTM(conv_channels, hidden_size, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(rnn_dropout)
        self.dense = dense_stack([length * 2 * hidden_size, dense], 0.0, False, activation)
        self.out = nn.Linear(dense, num_outputs)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor) -> Tensor:
        check_length("danq", x, self.seq_len)
        return self._from_features(self.conv(x))

    def local_split(self) -> tuple[list[nn.Module], Callable[[Tensor], Tensor]]:
        """forward(x) == head(layers(x)), the conv tower as position-local layers (for ISM
        that recomputes only what a substitution reaches, biodl.interpret.regional_ism)."""
        return list(self.conv), self._from_features

    def _from_features(self, x: Tensor) -> Tensor:
        x = x.transpose(1, 2)  # (N, 75, 320) at 1000 bp
        x, _ = self.lstm(x)  # (N, 75, 640)
        x = self.dense(self.drop(x).flatten(1))  # (N, 925)
        return self.out(x)  # (N, num_outputs)


class DeepSEA(nn.Module):
    """DeepSEA (Zhou & Troyanskaya 2015): three conv layers and a 925-unit dense layer.

    Conv 320/480/960 filters of width 8 + ReLU, max pool 4 after the first two, dropout
    0.2/0.2/0.5, dense 925 + ReLU, 919 outputs; 1000 bp input (960 x 53 features). At the
    defaults it has exactly 52,843,119 parameters. Unpadded convs and floor pooling, as in
    the authors' Torch7 model.
    """

    def __init__(self, in_channels: int = 4, num_outputs: int = 919, seq_len: int = 1000,
                 channels: tuple[int, ...] = (320, 480, 960), kernel_size: int = 8,
                 pools: tuple[int, ...] = (4, 4, 1), dropout: tuple[float, ...] = (0.2, 0.2, 0.5),
                 hidden: int = 925, activation: Activation = "relu", init: Init = "default"):
        super().__init__()
        self.seq_len = seq_len
        kernels = (kernel_size,) * len(channels)
        length = tower_length("deepsea", seq_len, kernels, pools)
        self.conv = conv_tower([in_channels, *channels], kernels, pools, dropout, False, activation)
        self.dense = dense_stack([channels[-1] * length, hidden], 0.0, False, activation)
        self.out = nn.Linear(hidden, num_outputs)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor) -> Tensor:
        check_length("deepsea", x, self.seq_len)
        return self._from_features(self.conv(x))

    def local_split(self) -> tuple[list[nn.Module], Callable[[Tensor], Tensor]]:
        """forward(x) == head(layers(x)), the conv tower as position-local layers (for ISM
        that recomputes only what a substitution reaches, biodl.interpret.regional_ism)."""
        return list(self.conv), self._from_features

    def _from_features(self, x: Tensor) -> Tensor:  # (N, 960, 53) at 1000 bp
        return self.out(self.dense(x.flatten(1)))  # (N, num_outputs)
