"""A next-base DNA language model: an LSTM/GRU over tokens.

Contract: `forward(tokens) -> logits`, tokens `(N, L)` int64 (PAD=0, A=1, C=2, G=3, T=4, N=5),
logits `(N, L, vocab_size)`; `logits[:, t]` predicts `tokens[:, t + 1]` from `tokens[:, :t + 1]`
(the loss compares `logits[:, :-1]` with `tokens[:, 1:]`, ignoring PAD). Being causal, right
padding never changes the logits at valid positions, so no `lengths` are needed.

Why a recurrent model rather than a causal transformer: DNA windows here are long and the
vocabulary tiny, so a recurrent state carries context at O(1) cost per base with no maximum
length or positional table, sampling is one cheap step per base with the state carried over
(`biodl.inference.sample`), and the model stays small (about 0.8M parameters) for CPU training.
"""

from __future__ import annotations

from torch import Tensor, nn

from biodl.models.rnn import RNNS, Cell
from biodl.vocab import PAD


class DNALM(nn.Module):
    """Embedding -> stacked LSTM/GRU -> linear over the vocabulary.

    At the defaults (embedding 16, two LSTM layers of 256, 6 tokens) it has 808,550 parameters.
    """

    def __init__(self, vocab_size: int = 6, embedding_dim: int = 16, hidden_size: int = 256,
                 num_layers: int = 2, cell: Cell = "lstm", dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.rnn = RNNS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                              dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)

    def step(self, tokens: Tensor, state=None):
        """(N, L) tokens and an optional carried state -> (N, L, V) logits and the new state."""
        out, state = self.rnn(self.drop(self.embed(tokens)), state)  # (N, L, H)
        return self.out(self.drop(out)), state

    def forward(self, tokens: Tensor) -> Tensor:
        return self.step(tokens)[0]  # (N, L, V)
