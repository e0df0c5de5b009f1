"""A next-base DNA language model: an LSTM/GRU over tokens.

Contract: `forward(tokens) -> logits`, tokens `(N, L)` int64 (PAD=0, A=1, C=2, G=3, T=4, N=5),
logits `(N, L, vocab_size)`; `logits[:, t]` predicts `tokens[:, t + 1]` from `tokens[:, :t + 1]`
(the loss compares `logits[:, :-1]` with `tokens[:, 1:]`, ignoring PAD). Being causal, right
padding never changes the logits at valid positions, so no `lengths` are needed.

Why a recurrent model rather than a causal transformer: DNA windows here are long and the
vocabulary tiny, so a recurrent state carries context at O(1) cost per base with no maximum
length or positional table, sampling is one cheap step per base with the state carried over,
and the model stays small (about 0.8M parameters) for CPU training.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from biodl.errors import BiodlError
from biodl.models.rnn import RNNS, Cell
from biodl.vocab import PAD

BASES = (1, 2, 3, 4)  # the tokens of A, C, G, T: `sample` draws only these


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

    @torch.no_grad()
    def sample(self, n: int, length: int, temperature: float = 1.0, prompt: Tensor | None = None,
               generator: torch.Generator | None = None) -> Tensor:
        """(n, length) int64 tokens: the prompt (P,) or (n, P) first, then sampled bases.

        Without a prompt the first base is uniform over ACGT. Draws only A, C, G, T. Put the
        model in eval mode first for sampling without dropout; pass a seeded `generator` (on
        the model's device) for reproducible samples.
        """
        if temperature <= 0:
            raise BiodlError(f"temperature must be > 0, got {temperature}")
        device = self.out.weight.device
        bases = torch.tensor(BASES, device=device)
        if prompt is None:
            first = torch.randint(len(BASES), (n, 1), generator=generator, device=device)
            prompt = bases[first]  # (n, 1)
        prompt = prompt.to(device).long().expand(n, -1)  # (n, P)
        tokens = [prompt[:, :length]]
        logits, state = self.step(prompt)
        for _ in range(length - prompt.shape[1]):
            probs = (logits[:, -1, bases] / temperature).softmax(dim=-1)  # (n, 4)
            token = bases[torch.multinomial(probs, 1, generator=generator)]  # (n, 1)
            tokens.append(token)
            logits, state = self.step(token, state)
        return torch.cat(tokens, dim=1)  # (n, length)
