"""A configurable DanQ-like hybrid: conv blocks over one-hot DNA, a (Bi)LSTM/GRU, pooling, head.

Contract: `forward(x, lengths=None)`, x `(N, in_channels, L)` float one-hot (channels ACGT),
lengths `(N,)` valid positions (padding on the right) or None -> `(N, num_outputs)`.
With lengths, convs see zeros past each sequence's end, pooling windows cover only valid
positions and the RNN never reads padding, so a padded sequence gives the same output as alone.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from biodl.models import layers
from biodl.models.layers import Activation, Init
from biodl.models.rnn import Cell, Pooling, make_rnn, pool_positions, run_rnn


class MaskedConvBlock(nn.Module):
    """conv ('same') -> BN -> activation -> pool -> dropout that ignores positions past the end."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, pool: int, pool_type: str,
                 batch_norm: bool, dropout: float, act: str):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, padding="same", bias=not batch_norm)
        self.norm = nn.BatchNorm1d(c_out) if batch_norm else nn.Identity()
        self.act = layers.activation(act)
        self.pool, self.pool_type = pool, pool_type
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        if mask is not None:
            x = x * mask[:, None]  # zeros past the end, as if the sequence were alone
        x = self.act(self.norm(self.conv(x)))  # (N, C_out, L)
        x, mask = layers.masked_pool1d(x, mask, self.pool, self.pool_type)  # (N, C_out, L')
        return self.drop(x), mask


class CNNLSTM(nn.Module):
    """Conv blocks, then an LSTM/GRU over the pooled motif map, then pooling and a dense head.

    `global_pool`: ``last`` (final hidden states of both directions), ``mean`` or ``max``
    over valid positions. At the defaults (one conv of 128 x 19, pool 8, BiLSTM 64, max
    pooling, 1 output) it has 109,441 parameters.
    """

    def __init__(self, in_channels: int = 4, num_outputs: int = 1,
                 channels: tuple[int, ...] = (128,), kernel_size: int = 19, pool: int = 8,
                 pool_type: Literal["max", "avg"] = "max", batch_norm: bool = True,
                 conv_dropout: float = 0.2, hidden_size: int = 64, num_layers: int = 1,
                 cell: Cell = "lstm", bidirectional: bool = True, rnn_dropout: float = 0.5,
                 global_pool: Pooling = "max", hidden: int = 0,
                 activation: Activation = "relu", init: Init = "kaiming"):
        super().__init__()
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(
            MaskedConvBlock(widths[i], widths[i + 1], kernel_size, pool, pool_type, batch_norm,
                            conv_dropout, activation) for i in range(len(channels)))
        self.rnn = make_rnn(cell, widths[-1], hidden_size, num_layers, bidirectional, rnn_dropout)
        self.global_pool = global_pool
        features = hidden_size * (2 if bidirectional else 1)
        self.head = layers.rnn_head(features, hidden, num_outputs, rnn_dropout, activation)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        mask = None if lengths is None else layers.length_mask(lengths, x.shape[-1])
        for block in self.blocks:
            x, mask = block(x, mask)  # (N, C, L'), (N, L')
        lengths = None if mask is None else mask.sum(dim=1)  # valid positions after pooling
        out, last = run_rnn(self.rnn, x.transpose(1, 2), lengths)  # (N, L', dirs * H)
        if self.global_pool != "last":
            last = pool_positions(out, lengths, self.global_pool)
        return self.head(last)  # (N, num_outputs)
