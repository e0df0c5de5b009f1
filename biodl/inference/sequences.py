"""Predictions of the sequence tasks: per-base tags, proteins (seq2seq), language-model scores.

Plain functions of (task, spec, records): records are `(id, bases, where)` as
`biodl.inference.inputs.sequence_records` reads them; `table(...)` gives the header and a lazy
stream of rows that `biodl predict` writes and the fit records (with the true values) as
`evaluation/test_predictions.csv`. Inputs are checked with the spec's unknown-base and
lowercase policies (`biodl.data.sequences.check_bases`) and encoded by `spec.kind` (one-hot or
tokens), as training did.

- tags (`Target.TAGS`): each record (a contig) is cut into windows exactly as training cut it
  (`spec.window` every `spec.stride` bases until one reaches the end, so the last may be
  shorter). One row per base: `id, position (0-based), p_<class>..., predicted`. When windows
  overlap (stride < window) a base takes the probabilities of the window in which it lies
  nearest the centre (ties: the earlier window), where the model saw most context on both
  sides; bases no window covers (stride > window) get no row. `predicted` is the most
  probable class (ties to the first), the rule the metrics use.
- seq2seq (`Target.SEQ2SEQ`): one row per source: `id, protein, length` (residues), decoded
  with the task's own decoding (greedy, or beam search when `beam_size` > 1). Evaluation lets
  decoding run to twice the target's width; with no target, a source of n bases may decode
  `2 * (n // 3 + 1)` tokens: twice the residues its codons can code for, plus the stop.
- language model (`Target.LM`): windows cut as in training, one row per window: `id`
  (`contig:start-end`, 0-based, end excluded), `tokens` (the next-base predictions scored:
  window length - 1), `nll` (their summed negative log-likelihood, nats) and `perplexity`
  (exp(nll / tokens); nan for a 1-base window).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, NamedTuple, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from biodl.data import encoding
from biodl.data.labelled_windows import window_starts
from biodl.data.sequences import check_bases
from biodl.data.spec import InputSpec, Target
from biodl.inference.batches import chunks, encode, sequence_batches
from biodl.inference.inputs import Record
from biodl.vocab import PAD, PROTEIN_TOKENS

Rows = tuple[list[str], Iterator[list]]


class Piece(NamedTuple):
    """One window of one record."""

    record: int  # the record's number in input order
    id: str
    size: int  # the record's length in bases
    start: int
    bases: bytes
    last: bool  # the record's last window


def pieces(records: Iterable[Record], spec: InputSpec) -> Iterator[Piece]:
    """The windows of each checked record, in order, cut as training cut them."""
    for number, (rid, seq, where) in enumerate(records):
        check_bases(seq, where, spec.unknown, spec.lowercase, strict=True)
        starts = window_starts(len(seq), spec.window, spec.stride or spec.window).tolist()
        for k, start in enumerate(starts):
            yield Piece(number, rid, len(seq), start, seq[start:start + spec.window],
                        k == len(starts) - 1)


def window_batches(records: Iterable[Record], spec: InputSpec,
                   batch_size: int) -> Iterator[tuple[list[Piece], torch.Tensor, torch.Tensor]]:
    """(pieces, x (B, 4, L) or (B, L), lengths (B,)) per batch of windows, right-padded."""
    for chunk in chunks(pieces(records, spec), batch_size):
        lengths = np.array([len(p.bases) for p in chunk], dtype=np.int64)
        codes = encoding.to_codes([p.bases for p in chunk], int(lengths.max()), "left")
        yield chunk, encode(codes, spec), torch.from_numpy(lengths)


class BaseTable:
    """Per-base class probabilities of one record, filled window by window (nearest centre)."""

    def __init__(self, size: int, classes: int):
        self.probs = np.zeros((size, classes), dtype=np.float32)
        self.distance = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)  # 2 x to centre

    def add(self, start: int, probs: np.ndarray) -> None:
        """A window's (n, C) probabilities, for the bases it is the most central window of."""
        n = len(probs)
        distance = np.abs(2 * np.arange(n) - (n - 1))  # doubled: integers, exact ties
        better = distance < self.distance[start:start + n]
        self.probs[start:start + n][better] = probs[better]
        self.distance[start:start + n][better] = distance[better]

    @property
    def covered(self) -> np.ndarray:
        return self.distance < np.iinfo(np.int64).max


def class_probabilities(task, x: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
    """(B, L, C) per-position probabilities, as the metrics see them (`task.predictions`)."""
    values = task.predictions(task.test_outputs(x, lengths)).float()  # (B, L) or (B, L, C)
    if values.ndim == 2:  # two classes: P(class 1)
        values = torch.stack([1 - values, values], dim=-1)
    return values.cpu().numpy()


@torch.inference_mode()
def base_probabilities(task, spec: InputSpec, records: Iterable[Record],
                       batch_size: int) -> Iterator[tuple[str, BaseTable]]:
    """(id, its BaseTable) per record, in input order, as soon as its last window is scored."""
    task.eval()
    device = next(task.parameters()).device
    tables: dict[int, BaseTable] = {}
    for chunk, x, lengths in window_batches(records, spec, batch_size):
        probs = class_probabilities(task, x.to(device), lengths.to(device))
        for piece, window in zip(chunk, probs):
            if piece.record not in tables:
                tables[piece.record] = BaseTable(piece.size, window.shape[-1])
            table = tables[piece.record]
            table.add(piece.start, window[:len(piece.bases)])
            if piece.last:
                yield piece.id, tables.pop(piece.record)


def tag_table(task, spec: InputSpec, records: Iterable[Record], batch_size: int,
              truth: Optional[Sequence[np.ndarray]] = None) -> Rows:
    """`id, position, [label,] p_<class>..., predicted` per base; `truth`: each record's (L,)
    class indices, in record order."""
    names = list(spec.output_names)
    header = ["id", "position", *(["label"] if truth is not None else []),
              *[f"p_{n}" for n in names], "predicted"]

    def stream():
        scored = base_probabilities(task, spec, records, batch_size)
        for number, (rid, table) in enumerate(scored):
            best = table.probs.argmax(axis=1).tolist()
            probs = table.probs.tolist()
            labels = None if truth is None else truth[number].tolist()
            for position in np.flatnonzero(table.covered).tolist():
                known = [] if labels is None else [names[labels[position]]]
                yield [rid, position, *known, *probs[position], names[best[position]]]
    return header, stream()


def decode_limits(lengths: torch.Tensor) -> list[int]:
    """Tokens a source may decode to: twice the residues its codons code for, plus the stop."""
    return (2 * (lengths // 3 + 1)).tolist()


def decode(task, src: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Token ids per source (no BOS or EOS), each within its own `decode_limits`, so a row
    decodes the same alone or in any batch."""
    limits = decode_limits(lengths)
    if task.beam_size > 1:  # beam search runs one source at a time anyway
        return [task.decode(src[i:i + 1], lengths[i:i + 1], limit)[0]
                for i, limit in enumerate(limits)]
    rows = task.decode(src, lengths, max(limits))  # greedy: a row's first k tokens never change
    return [row[:limit] for row, limit in zip(rows, limits)]


def protein_text(tokens: list[int]) -> str:
    return "".join(PROTEIN_TOKENS[t] for t in tokens)


def protein_table(task, spec: InputSpec, records: Iterable[Record], batch_size: int,
                  truth: Optional[Sequence[str]] = None, policy: str = "error") -> Rows:
    """`id, [true_protein,] protein, length` per source; `truth`: the proteins, in order."""
    header = ["id", *(["true_protein"] if truth is not None else []), "protein", "length"]

    def stream():
        task.eval()
        device = next(task.parameters()).device
        known = iter(truth) if truth is not None else None
        for batch in sequence_batches(records, spec, batch_size, policy):
            with torch.inference_mode():
                decoded = decode(task, batch.x.to(device), batch.lengths.to(device))
            for rid, tokens in zip(batch.ids, decoded):
                true = [next(known)] if known is not None else []
                yield [rid, *true, protein_text(tokens), len(tokens)]
    return header, stream()


def window_nll(task, tokens: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per window (B, L): the summed next-token NLL (float64) and the tokens scored, PAD
    ignored, as the task's loss and perplexity count them."""
    logits = task(tokens)[:, :-1].float()  # (B, L - 1, V): logits[:, t] predicts tokens[:, t + 1]
    targets = tokens[:, 1:]
    nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=PAD, reduction="none")
    return (nll.double().sum(dim=1).cpu().numpy(),
            (targets != PAD).sum(dim=1).cpu().numpy())


def lm_table(task, spec: InputSpec, records: Iterable[Record], batch_size: int,
             truth: Optional[Sequence] = None) -> Rows:
    """`id (contig:start-end), tokens, nll, perplexity` per window (`truth`: unused; a
    language model's target is its own input)."""
    def stream():
        task.eval()
        device = next(task.parameters()).device
        for chunk, x, _ in window_batches(records, spec, batch_size):
            with torch.inference_mode():
                nll, counts = window_nll(task, x.to(device))
            for piece, total, count in zip(chunk, nll.tolist(), counts.tolist()):
                end = piece.start + len(piece.bases)
                perplexity = float(np.exp(total / count)) if count else float("nan")
                yield [f"{piece.id}:{piece.start}-{end}", count, total, perplexity]
    return ["id", "tokens", "nll", "perplexity"], stream()


TABLES: dict[Target, Callable[..., Rows]] = {
    Target.TAGS: tag_table, Target.SEQ2SEQ: protein_table, Target.LM: lm_table}


def table(task, spec: InputSpec, records: Iterable[Record], batch_size: int,
          policy: str = "error", truth: Optional[Sequence] = None) -> Rows:
    """The prediction table of a sequence task (`TABLES`); `policy`: the length policy of
    seq2seq sources (windows are cut whatever their length); `truth`: the true values of
    the records, in order (per-base labels or proteins), written after the id."""
    if spec.target is Target.SEQ2SEQ:
        return protein_table(task, spec, records, batch_size, truth, policy)
    return TABLES[spec.target](task, spec, records, batch_size, truth)
