"""Recurrent models over DNA: a sequence classifier and a per-position tagger.

Input, chosen by `input`:
- ``tokens``: `(N, L)` int64 in the alphabet PAD=0, A=1, C=2, G=3, T=4, N=5 (`vocab_size=6`);
- ``onehot``: `(N, in_channels, L)` float, channels ACGT.
`lengths`: `(N,)` int64 numbers of valid positions, padding on the right; None means every
position is valid. With lengths, padding never reaches a valid position's output (rows of
each length run on their own): a sequence gives the same result alone or padded in a batch.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn
import torch.nn.functional as F

from biodl.models import layers
from biodl.models.layers import Activation, Init
from biodl.vocab import PAD

Cell = Literal["lstm", "gru"]
InputKind = Literal["tokens", "onehot"]
Pooling = Literal["last", "mean", "max"]
RNNS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU}


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int,
             bidirectional: bool, dropout: float) -> nn.RNNBase:
    return RNNS[cell](input_size, hidden_size, num_layers, batch_first=True,
                      bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)


def run_rnn(rnn: nn.RNNBase, x: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
    """(N, L, D) -> outputs (N, L, dirs * H), zero at padding, and the last layer's final
    states (N, dirs * H), forward then backward (the backward one is its state at position 0)."""
    out, state = run_by_length(rnn, x, lengths)
    return out, final_states(state, 2 if rnn.bidirectional else 1, x.shape[0])


def run_by_length(rnn: nn.RNNBase, x: Tensor, lengths: Tensor | None):
    """(N, L, D) -> outputs (N, L, dirs * H), zero at padding, and the full final state
    (layers * dirs, N, H) (an (h, c) pair for an LSTM), as if each row ran alone.

    Rows of one length run together without packing: on CPUs a packed RNN's backward pass
    fills a full-size gradient at every step (minutes for a batch of 2 kbp windows), while a
    few unpacked calls give the same numbers in seconds.
    """
    if lengths is None or bool((lengths == x.shape[1]).all()):
        return rnn(x)
    lengths = lengths.to(x.device)
    dirs = 2 if rnn.bidirectional else 1
    out = x.new_zeros(x.shape[0], x.shape[1], dirs * rnn.hidden_size)
    shape = (rnn.num_layers * dirs, x.shape[0], rnn.hidden_size)
    states = [x.new_zeros(shape) for _ in range(2 if isinstance(rnn, nn.LSTM) else 1)]
    for n in lengths.unique().tolist():
        rows = (lengths == n).nonzero().squeeze(1)
        group_out, group_state = rnn(x[rows, :n])  # (G, n, dirs * H)
        out = out.index_copy(0, rows, F.pad(group_out, (0, 0, 0, x.shape[1] - n)))
        group_state = group_state if isinstance(group_state, tuple) else (group_state,)
        states = [s.index_copy(1, rows, g) for s, g in zip(states, group_state)]
    return out, tuple(states) if len(states) == 2 else states[0]


def final_states(state: Tensor | tuple[Tensor, Tensor], dirs: int, n: int) -> Tensor:
    h = state[0] if isinstance(state, tuple) else state  # (layers * dirs, N, H)
    return h[-dirs:].transpose(0, 1).reshape(n, -1)


def pool_positions(out: Tensor, lengths: Tensor | None, how: str) -> Tensor:
    """(N, L, D) -> (N, D): the mean or max over each sequence's valid positions."""
    if lengths is None:
        return out.mean(dim=1) if how == "mean" else out.amax(dim=1)
    valid = layers.length_mask(lengths, out.shape[1]).unsqueeze(-1)  # (N, L, 1)
    if how == "mean":
        return (out * valid).sum(dim=1) / valid.sum(dim=1).clamp(min=1)
    return out.masked_fill(~valid, float("-inf")).amax(dim=1)


class SequenceInput(nn.Module):
    """Tokens (N, L) through an embedding, or one-hot (N, C, L), to features (N, L, D).

    Positions past `lengths` are set to zero, so a conv after it sees zero padding there.
    """

    def __init__(self, kind: str, vocab_size: int, in_channels: int, embedding_dim: int):
        super().__init__()
        tokens = kind == "tokens"
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD) if tokens else None
        self.size = embedding_dim if tokens else in_channels

    def forward(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        x = self.embed(x) if self.embed is not None else x.transpose(1, 2)  # (N, L, D)
        if lengths is not None:
            x = x * layers.length_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)
        return x


class ConvFrontEnd(nn.Module):
    """'Same'-length conv layers (conv -> BN -> activation -> dropout) over (N, L, D) features."""

    def __init__(self, size: int, channels: tuple[int, ...], kernel_size: int,
                 batch_norm: bool, dropout: float, act: str):
        super().__init__()
        widths = [size, *channels]
        self.layers = nn.ModuleList(nn.Sequential(
            nn.Conv1d(widths[i], widths[i + 1], kernel_size, padding="same", bias=not batch_norm),
            nn.BatchNorm1d(widths[i + 1]) if batch_norm else nn.Identity(),
            layers.activation(act), nn.Dropout(dropout)) for i in range(len(channels)))
        self.size = widths[-1]

    def forward(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        mask = None if lengths is None else layers.length_mask(lengths, x.shape[1])[:, None]
        x = x.transpose(1, 2)  # (N, D, L)
        for layer in self.layers:
            x = layer(x)  # (N, C, L)
            if mask is not None:
                x = x * mask  # keep padding at zero for the next conv
        return x.transpose(1, 2)  # (N, L, C)


class RNNClassifier(nn.Module):
    """An LSTM/GRU over a sequence, pooled to `(N, num_outputs)`: `forward(x, lengths=None)`.

    `pooling`: ``last`` concatenates the last layer's final hidden states of both directions;
    ``mean``/``max`` pool the outputs over valid positions. At the defaults (tokens, embedding
    16, one bidirectional LSTM layer of 64, 1 output) it has 42,209 parameters.
    """

    def __init__(self, vocab_size: int = 6, num_outputs: int = 1, input: InputKind = "tokens",
                 in_channels: int = 4, embedding_dim: int = 16, hidden_size: int = 64,
                 num_layers: int = 1, cell: Cell = "lstm", bidirectional: bool = True,
                 pooling: Pooling = "last", dropout: float = 0.2, hidden: int = 0,
                 activation: Activation = "relu", init: Init = "default"):
        super().__init__()
        self.pooling = pooling
        self.input = SequenceInput(input, vocab_size, in_channels, embedding_dim)
        self.rnn = make_rnn(cell, self.input.size, hidden_size, num_layers, bidirectional, dropout)
        features = hidden_size * (2 if bidirectional else 1)
        self.head = layers.rnn_head(features, hidden, num_outputs, dropout, activation)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        x = self.input(x, lengths)  # (N, L, D)
        out, last = run_rnn(self.rnn, x, lengths)  # (N, L, dirs * H), (N, dirs * H)
        pooled = last if self.pooling == "last" else pool_positions(out, lengths, self.pooling)
        return self.head(pooled)  # (N, num_outputs)


class RNNTagger(nn.Module):
    """Per-position outputs `(N, L, num_outputs)` from a (Bi)LSTM/GRU: `forward(x, lengths=None)`.

    An optional conv front end (`conv_channels`, 'same' length, `conv_kernel`) runs before the
    RNN. Outputs at padding positions are meaningless: mask them in the loss. At the defaults
    (tokens, embedding 16, no conv, one bidirectional LSTM layer of 64, 1 output) it has
    42,209 parameters.
    """

    def __init__(self, vocab_size: int = 6, num_outputs: int = 1, input: InputKind = "tokens",
                 in_channels: int = 4, embedding_dim: int = 16,
                 conv_channels: tuple[int, ...] = (), conv_kernel: int = 9,
                 hidden_size: int = 64, num_layers: int = 1, cell: Cell = "lstm",
                 bidirectional: bool = True, dropout: float = 0.2, batch_norm: bool = False,
                 activation: Activation = "relu", init: Init = "default"):
        super().__init__()
        self.input = SequenceInput(input, vocab_size, in_channels, embedding_dim)
        self.conv = ConvFrontEnd(self.input.size, conv_channels, conv_kernel, batch_norm,
                                 dropout, activation)
        self.rnn = make_rnn(cell, self.conv.size, hidden_size, num_layers, bidirectional, dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_outputs)
        layers.init_weights(self, init, activation)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        x = self.conv(self.input(x, lengths), lengths)  # (N, L, C)
        out, _ = run_rnn(self.rnn, x, lengths)  # (N, L, dirs * H)
        return self.head(self.drop(out))  # (N, L, num_outputs)
