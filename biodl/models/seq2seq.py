"""An LSTM/GRU encoder-decoder with Luong attention: DNA tokens in, protein tokens out.

Contract:
- `src`: `(N, S)` int64 DNA tokens (PAD=0, A=1, C=2, G=3, T=4, N=5); `src_lengths`: `(N,)`
  valid positions (padding on the right) or None for all valid.
- `tgt_in`: `(N, T)` int64 target tokens, BOS first (the decoder's inputs under teacher forcing).
- `forward(src, src_lengths, tgt_in) -> (N, T, tgt_vocab_size)` logits; `logits[:, t]`
  predicts the target token after `tgt_in[:, t]` (so the loss target is tgt_in shifted left,
  ending with EOS, padded with PAD to ignore).
- `greedy_decode` and `beam_search` return one list of token ids per sequence (BOS left out),
  ending with EOS, or `max_len` long if EOS never came; they never emit PAD or BOS. Call
  `.eval()` first to decode without dropout.

Attention is Luong's "general" score with input feeding (Luong et al. 2015): the decoder state
h_t scores encoder outputs as h_t^T W_a e_s, and the attentional state tanh(W_c [c_t; h_t])
feeds the output layer and the next step's input.

`input_feeding=False` drops that feed from the decoder's input (Luong's plain global
attention): under full teacher forcing the decoder then runs over all target steps in one
LSTM call and attention is one batched product, instead of a Python loop of T steps whose
backward pass touches the whole (N, S, E) memory at every step (64x faster on long pairs).

Two options for monotonic tasks such as translating a CDS:
- `src_stride=3` reads the source through a conv of kernel and stride 3 before the encoder, so
  each encoder position is a codon (and the encoder runs a third as many steps);
- `relative_attention=True` adds a learned kernel of the offset between decoder step t and
  encoder position s to every score, sum_k d_k cos(w_k (t - s)) over geometric frequencies w_k:
  it starts peaked at s = t (one target token per encoder position, as codon -> residue) and
  training sharpens or moves it. Content alone has to count positions; this does not.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from biodl.models import layers
from biodl.models.rnn import Cell, run_by_length
from biodl.vocab import BOS, DNA_VOCAB_SIZE, EOS, PAD, PROTEIN_VOCAB_SIZE

SRC_VOCAB_SIZE = DNA_VOCAB_SIZE  # DNA tokens: PAD, A, C, G, T, N
TGT_VOCAB_SIZE = PROTEIN_VOCAB_SIZE  # PAD, BOS, EOS and 22 residue symbols


class Memory(NamedTuple):
    """The encoder outputs the decoder attends to, for a batch of B rows."""

    values: Tensor  # (B, S, E) encoder outputs
    keys: Tensor  # (B, S, H) W_a applied to the values
    mask: Tensor  # (B, S) True at valid source positions

    def expand(self, rows: int) -> "Memory":
        return Memory(*(t.expand(rows, *t.shape[1:]) for t in self))


class RelativePosition(nn.Module):
    """Score bias sum_k d_k cos(w_k (t - s)) for decoder step t and encoder positions s.

    Frequencies are geometric from period 2 to 2 * 2**(frequencies / 2); the weights d_k start
    equal, which puts the peak at s = t.
    """

    def __init__(self, frequencies: int = 32, init: float = 0.5):
        super().__init__()
        periods = 2.0 ** torch.linspace(1.0, 1.0 + frequencies / 2, frequencies)
        self.register_buffer("omega", 2 * torch.pi / periods, persistent=False)  # (K,)
        self.weight = nn.Parameter(torch.full((frequencies,), init))

    def forward(self, t: int, length: int) -> Tensor:
        return self.table(length, 1, start=t)[0]  # (S,)

    def table(self, length: int, steps: int, start: int = 0) -> Tensor:
        """(steps, length) bias for decoder steps start .. start + steps - 1."""
        positions = torch.arange(length, device=self.omega.device, dtype=self.omega.dtype)
        t = torch.arange(start, start + steps, device=self.omega.device, dtype=self.omega.dtype)
        offsets = t[:, None] - positions[None, :]  # (T, S)
        return torch.cos(offsets[..., None] * self.omega) @ self.weight  # (T, S)


def select_state(state: Tensor | tuple[Tensor, Tensor], rows: Tensor):
    """Reorder a decoder state (layers, B, H) (or an LSTM's (h, c) pair) along the batch."""
    if isinstance(state, tuple):
        return tuple(s.index_select(1, rows) for s in state)
    return state.index_select(1, rows)


def never_pad_or_bos(logits: Tensor, bos: int) -> Tensor:
    """Logits (B, V) with PAD and BOS ruled out: decoding never emits them."""
    return logits.index_fill(1, torch.tensor([PAD, bos], device=logits.device), float("-inf"))


def trim_at(row: list[int], eos: int) -> list[int]:
    return row[: row.index(eos) + 1] if eos in row else row


class Seq2Seq(nn.Module):
    """A (bidirectional) encoder, a bridge to the decoder's initial state and an attentive decoder.

    At the defaults (embedding 32, hidden 128, one layer, LSTM, bidirectional encoder,
    25 target tokens) it has 433,401 parameters; `src_stride=3` adds 3,104 (the codon conv),
    `relative_attention` 32.
    """

    def __init__(self, src_vocab_size: int = SRC_VOCAB_SIZE, tgt_vocab_size: int = TGT_VOCAB_SIZE,
                 embedding_dim: int = 32, hidden_size: int = 128, num_layers: int = 1,
                 cell: Cell = "lstm", bidirectional_encoder: bool = True, dropout: float = 0.1,
                 src_stride: int = 1, relative_attention: bool = False,
                 input_feeding: bool = True):
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.dirs = 2 if bidirectional_encoder else 1
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        between = dropout if num_layers > 1 else 0.0
        self.src_embed = nn.Embedding(src_vocab_size, embedding_dim, padding_idx=PAD)
        self.src_stride = src_stride
        self.frontend = (nn.Conv1d(embedding_dim, embedding_dim, src_stride, stride=src_stride)
                         if src_stride > 1 else None)
        self.relative = RelativePosition() if relative_attention else None
        self.input_feeding = input_feeding
        self.encoder = rnn(embedding_dim, hidden_size, num_layers, batch_first=True,
                           bidirectional=bidirectional_encoder, dropout=between)
        enc_size = hidden_size * self.dirs
        self.bridge = nn.Linear(enc_size, hidden_size)  # encoder final states -> decoder's first
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embedding_dim, padding_idx=PAD)
        fed = hidden_size if input_feeding else 0
        self.decoder = rnn(embedding_dim + fed, hidden_size, num_layers, batch_first=True,
                           dropout=between)
        self.attend = nn.Linear(enc_size, hidden_size, bias=False)  # W_a
        self.combine = nn.Linear(enc_size + hidden_size, hidden_size, bias=False)  # W_c
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)

    def encode(self, src: Tensor, src_lengths: Tensor | None):
        """Memory for attention and the decoder's initial state (layers, N, H) (pair for LSTM)."""
        x = self.drop(self.src_embed(src))  # (N, S, E)
        if self.frontend is not None:  # (N, S // stride, E): one position per codon
            x = self.frontend(x.transpose(1, 2)).transpose(1, 2)
            if src_lengths is not None:
                src_lengths = (src_lengths // self.src_stride).clamp(min=1)
        out, state = run_by_length(self.encoder, x, src_lengths)  # (N, S', dirs * H)
        if src_lengths is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=src.device)
        else:
            mask = layers.length_mask(src_lengths.to(src.device), x.shape[1])
        memory = Memory(out, self.attend(out), mask)  # (N, S, dirs * H), (N, S, H), (N, S)
        if isinstance(state, tuple):
            return memory, tuple(self._bridge(s) for s in state)
        return memory, self._bridge(state)

    def _bridge(self, state: Tensor) -> Tensor:
        """(layers * dirs, N, H) -> (layers, N, H): each layer's directions joined and projected."""
        n = state.shape[1]
        state = state.view(self.num_layers, self.dirs, n, self.hidden_size).transpose(1, 2)
        return torch.tanh(self.bridge(state.reshape(self.num_layers, n, -1)))

    def step(self, token: Tensor, state, feed: Tensor, memory: Memory, t: int = 0):
        """Decoder step t: token (B,), feed (B, H) -> logits (B, V), new state, new feed."""
        x = self.drop(self.tgt_embed(token))  # (B, E)
        if self.input_feeding:
            x = torch.cat([x, feed], dim=-1)  # (B, E + H)
        out, state = self.decoder(x.unsqueeze(1), state)  # (B, 1, H)
        h = out[:, 0]  # (B, H)
        scores = torch.bmm(memory.keys, h.unsqueeze(2)).squeeze(2)  # (B, S)
        if self.relative is not None:
            scores = scores + self.relative(t, scores.shape[1])
        weights = scores.masked_fill(~memory.mask, float("-inf")).softmax(dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory.values).squeeze(1)  # (B, dirs * H)
        feed = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))  # (B, H)
        return self.out(self.drop(feed)), state, feed

    def forward(self, src: Tensor, src_lengths: Tensor | None, tgt_in: Tensor,
                teacher_forcing_ratio: float = 1.0) -> Tensor:
        memory, state = self.encode(src, src_lengths)
        if not self.input_feeding and teacher_forcing_ratio >= 1.0:
            return self._forced(tgt_in, state, memory)
        feed = memory.values.new_zeros(src.shape[0], self.hidden_size)
        token, logits = tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, feed = self.step(token, state, feed, memory, t)  # (N, V)
            logits.append(step_logits)
            if t + 1 < tgt_in.shape[1]:
                token = tgt_in[:, t + 1]
                if teacher_forcing_ratio < 1.0:  # per sequence: the truth or its own guess
                    truth = torch.rand(token.shape, device=token.device) < teacher_forcing_ratio
                    token = torch.where(truth, token, step_logits.argmax(dim=-1))
        return torch.stack(logits, dim=1)  # (N, T, V)

    def _forced(self, tgt_in: Tensor, state, memory: Memory) -> Tensor:
        """All T steps at once under teacher forcing (no input feeding): the same numbers as
        T calls of `step`."""
        out, _ = self.decoder(self.drop(self.tgt_embed(tgt_in)), state)  # (N, T, H)
        scores = torch.bmm(out, memory.keys.transpose(1, 2))  # (N, T, S)
        if self.relative is not None:
            scores = scores + self.relative.table(scores.shape[2], scores.shape[1])
        weights = scores.masked_fill(~memory.mask[:, None, :], float("-inf")).softmax(dim=-1)
        context = torch.bmm(weights, memory.values)  # (N, T, dirs * H)
        feed = torch.tanh(self.combine(torch.cat([context, out], dim=-1)))  # (N, T, H)
        return self.out(self.drop(feed))  # (N, T, V)

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, src_lengths: Tensor | None = None, max_len: int = 100,
                      bos: int = BOS, eos: int = EOS) -> list[list[int]]:
        """The most likely next token at each step, for the whole batch at once."""
        memory, state = self.encode(src, src_lengths)
        feed = memory.values.new_zeros(src.shape[0], self.hidden_size)
        token = torch.full((src.shape[0],), bos, dtype=torch.long, device=src.device)
        done = torch.zeros_like(token, dtype=torch.bool)
        tokens = []
        for t in range(max_len):
            logits, state, feed = self.step(token, state, feed, memory, t)
            token = never_pad_or_bos(logits, bos).argmax(dim=-1)  # (N,)
            tokens.append(token)
            done |= token == eos
            if done.all():
                break
        rows = torch.stack(tokens, dim=1).tolist() if tokens else [[] for _ in range(len(src))]
        return [trim_at(row, eos) for row in rows]

    @torch.no_grad()
    def beam_search(self, src: Tensor, src_lengths: Tensor | None = None, beam_size: int = 4,
                    max_len: int = 100, bos: int = BOS, eos: int = EOS,
                    length_penalty: float = 1.0) -> list[list[int]]:
        """Beam search, one source at a time; the best finished hypothesis by summed log
        probability / length ** length_penalty. beam_size=1 gives greedy_decode's output."""
        results = []
        for i in range(src.shape[0]):
            lengths = None if src_lengths is None else src_lengths[i:i + 1]
            memory, state = self.encode(src[i:i + 1], lengths)
            results.append(self._beam(memory, state, beam_size, max_len, bos, eos, length_penalty))
        return results

    def _beam(self, memory: Memory, state, beam_size: int, max_len: int, bos: int, eos: int,
              length_penalty: float) -> list[int]:
        device = memory.values.device
        token = torch.tensor([bos], device=device)
        feed = memory.values.new_zeros(1, self.hidden_size)
        scores, hyps, finished, alive = torch.zeros(1, device=device), [[]], [], []
        for t in range(max_len):
            logits, state, feed = self.step(token, state, feed, memory.expand(len(hyps)), t)
            total = scores[:, None] + never_pad_or_bos(logits, bos).log_softmax(dim=-1)  # (K, V)
            best, flat = total.flatten().topk(min(beam_size, total.numel()))
            alive = []
            for score, index in zip(best.tolist(), flat.tolist()):
                row, tok = divmod(index, total.shape[1])
                (finished if tok == eos else alive).append((score, row, hyps[row] + [tok]))
            if len(finished) >= beam_size or not alive:
                break
            rows = torch.tensor([row for _, row, _ in alive], device=device)
            scores = torch.tensor([score for score, _, _ in alive], device=device)
            hyps = [hyp for _, _, hyp in alive]
            token = torch.tensor([hyp[-1] for hyp in hyps], device=device)
            state, feed = select_state(state, rows), feed.index_select(0, rows)
        else:
            finished += alive  # max_len reached: unfinished hypotheses compete too
        if not finished:
            return []
        return max(finished, key=lambda f: f[0] / len(f[2]) ** length_penalty)[2]
