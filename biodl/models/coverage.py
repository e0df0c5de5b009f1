"""Coverage models: (N, 4, L) one-hot DNA -> (N, T, bins) log expected coverage.

The contract every coverage model keeps: `out[n, t, b]` is the log of the expected coverage
of output track t in bin b of the central `output_length` positions (bins of `bin_size`).
Its softmax over bins is the predicted profile and the exp of its logsumexp the expected
total, so the Poisson, multinomial and count losses (`biodl.tasks.coverage_losses`) all read
one tensor. Convolutions pad to keep the length; the centre is cropped at the end, so any
input of at least `output_length` bases works (BPNet trains on 2,114 for 1,000).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biodl.errors import BiodlError
from biodl.models import layers
from biodl.models.cnn1d import ConvBlock
from biodl.models.layers import Activation


def central(x: torch.Tensor, length: int) -> torch.Tensor:
    """The central `length` positions of (N, C, L)."""
    extra = x.shape[-1] - length
    if extra < 0:
        raise BiodlError(f"model: input of {x.shape[-1]} positions is shorter than the "
                         f"model's output_length {length}; give windows of at least {length} "
                         "bases (data.window)")
    return x[..., extra // 2: extra // 2 + length]


class DilatedResidual(nn.Module):
    """x + relu(conv(x)): a dilated convolution that keeps the length, as in BPNet."""

    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.relu(self.conv(x))  # (N, C, L)


class BPNet(nn.Module):
    """BPNet (Avsec et al. 2021; after bpnet-lite): a wide first convolution, `layers`
    residual convolutions of dilation 2, 4, ..., 2^layers, then per output track a profile
    head (a wide convolution) and a count head (mean over the output window -> linear).
    Returns log_softmax(profile) + log count: log expected coverage per bin. With bins, a
    bin's profile logit is the logsumexp of its bases' logits (probabilities add up).

    With the defaults (64 filters, 8 layers, 1 track) it has 109,122 parameters.
    """

    def __init__(self, in_channels: int = 4, num_tracks: int = 1, output_length: int = 1000,
                 bin_size: int = 1, filters: int = 64, layers: int = 8, kernel_size: int = 21,
                 profile_kernel: int = 75, seq_len: int = 0):
        super().__init__()
        if output_length % bin_size:
            raise BiodlError(f"model.bin_size {bin_size} must divide output_length "
                             f"{output_length}")
        self.output_length, self.bin_size, self.seq_len = output_length, bin_size, seq_len
        self.stem = nn.Conv1d(in_channels, filters, kernel_size, padding=kernel_size // 2)
        self.body = nn.Sequential(*[DilatedResidual(filters, 3, 2 ** (i + 1))
                                    for i in range(layers)])
        self.profile = nn.Conv1d(filters, num_tracks, profile_kernel, padding=profile_kernel // 2)
        self.count = nn.Linear(filters, num_tracks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(F.relu(self.stem(x)))  # (N, F, L)
        logits = central(self.profile(h), self.output_length)  # (N, T, L_out)
        n, t, length = logits.shape
        logits = logits.reshape(n, t, length // self.bin_size, self.bin_size).logsumexp(-1)
        log_counts = self.count(central(h, self.output_length).mean(dim=-1))  # (N, T)
        return logits.log_softmax(dim=-1) + log_counts[..., None]  # (N, T, bins)


class CNNCoverage(nn.Module):
    """Binned coverage on the CNN1D blocks (Basenji-style): conv/BN/activation blocks without
    pooling (dilations widen the view), the central `output_length` positions, an average
    per bin and a 1x1 convolution to one log rate per track and bin.

    With the defaults it has 76,737 parameters.
    """

    def __init__(self, in_channels: int = 4, num_tracks: int = 1, output_length: int = 1000,
                 bin_size: int = 1, channels: tuple[int, ...] = (64, 64, 64),
                 kernel_size: int = 9, dilation: tuple[int, ...] = (1, 2, 4),
                 batch_norm: bool = True, dropout: float = 0.1, activation: Activation = "relu",
                 residual: bool = True, seq_len: int = 0):
        super().__init__()
        if output_length % bin_size:
            raise BiodlError(f"model.bin_size {bin_size} must divide output_length "
                             f"{output_length}")
        self.output_length, self.bin_size, self.seq_len = output_length, bin_size, seq_len
        dilations = list(dilation) + [dilation[-1]] * (len(channels) - len(dilation))
        widths = [in_channels, *channels]
        self.blocks = nn.Sequential(*[
            ConvBlock(widths[i], widths[i + 1], kernel_size, dilations[i], 1, "max", batch_norm,
                      dropout, activation, residual) for i in range(len(channels))])
        self.head = nn.Conv1d(channels[-1], num_tracks, 1)
        layers.init_weights(self, "kaiming", activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = central(self.blocks(x), self.output_length)  # (N, C, L_out)
        h = F.avg_pool1d(h, self.bin_size) if self.bin_size > 1 else h  # (N, C, bins)
        return self.head(h)  # (N, T, bins)
