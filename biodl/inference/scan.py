"""Scanning a genome: a fixed-length sequence model slid along every record of a FASTA.

`plan(spec, genome, stride, strands)` checks everything before any work: the model must take
fixed-length windows (`spec.kind` onehot or tokens, `spec.length` set, not variable length),
the stride must be 1..the longest record, and at least one record must hold a window.
`scored(task, spec, plan, batch_size)` then yields `Scored(chrom, starts, ends, values)`, one
piece of consecutive windows of one record at a time, in genome (FASTA) order; `scan(...)` is
both in one call.

- Windows: `biodl.data.prepare.scan_windows(size, window, stride)`, nothing padded, so a record
  shorter than the window gets none (`Plan.skipped` lists them); the default stride is half the
  window. A stride longer than the window leaves gaps between windows (allowed; `Plan.warnings`).
- Reading: a plain FASTA through `biodl.data.genome.Genome` (its .fai, built when missing,
  beside the FASTA or in $BIODL_CACHE), a batch's span at a time: memory stays constant
  whatever the genome's size. A gzip FASTA is streamed with `read_fasta`, one record in memory
  at a time (so memory grows with the longest record), after a first pass that measures the
  records (a BigWig header needs every length before the first value).
- Scoring: `biodl.inference.batches.encode` (training's one-hot or token path) and
  `biodl.inference.predict.scores` (the task's `test_outputs` and `predictions`, as in
  evaluation and `biodl predict`). With both strands, `test_outputs` averages the model's
  outputs (logits) for a window and its reverse complement before the sigmoid or softmax, once:
  the task's own `test_reverse_complement` is set for the scan and restored after.
- Values: (n, K) float32, one column per `track_names(spec)`: a binary classifier's positive-class
  probability, else one probability or output per class, label or output. A coverage model
  gives (n, T x bins), its expected coverage per track and bin (`tracks.write_coverage`), and
  scans with a stride of its output length so that the predicted centres tile each record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple, Optional

import numpy as np

from biodl.data import encoding, prepare
from biodl.data.fasta import read_fasta
from biodl.data.files import is_gzip
from biodl.data.genome import Genome
from biodl.data.sequences import check_bases
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError

STRANDS = ("auto", "forward", "both")


class Scored(NamedTuple):
    """Consecutive windows of one record and their values."""

    chrom: str
    starts: np.ndarray  # (n,) int64 window starts, 0-based
    ends: np.ndarray  # (n,) int64 window ends (exclusive): starts + window
    values: np.ndarray  # (n, K) float32, columns as track_names(spec)


@dataclass(frozen=True)
class Plan:
    genome: Path
    window: int
    stride: int
    strands: str  # forward or both
    reason: str  # why these strands, e.g. "auto: trained with reverse complement"
    sizes: tuple[tuple[str, int], ...]  # every record (name, bases), in FASTA order

    @property
    def skipped(self) -> list[tuple[str, int]]:
        """Records shorter than the window: no window fits without padding."""
        return [(name, size) for name, size in self.sizes if size < self.window]

    @property
    def warnings(self) -> list[str]:
        if self.stride <= self.window:
            return []
        return [f"--stride {self.stride} is longer than the {self.window}-bp window: "
                f"{self.stride - self.window} bp between windows are not scored"]


def window_of(spec: InputSpec) -> int:
    """The window a model can be slid with, or an error naming what scanning needs."""
    sequences = spec.kind in (Kind.ONEHOT, Kind.TOKENS)
    fixed = sequences and spec.length is not None and not spec.variable_length
    if not fixed or spec.target not in (Target.CLASS, Target.MULTILABEL, Target.REGRESSION,
                                        Target.COVERAGE):
        reads = (f"{spec.kind.value} sequences of "
                 f"{'variable length' if not fixed else f'{spec.length} bp'}" if sequences
                 else spec.kind.value)
        raise BiodlError(f"--scan: this model reads {reads} and predicts {spec.target.value} "
                         f"(data format {spec.format}); scanning needs a fixed-length DNA "
                         "model (one-hot or tokens, data.length set, not variable_length) "
                         "that predicts one class, label set or value per window")
    return int(spec.length)


def strands_of(spec: InputSpec, choice: str = "auto") -> tuple[str, str]:
    """(forward or both, why): auto averages both strands when training saw both."""
    if choice not in STRANDS:
        raise BiodlError(f"--strands: {choice!r} is not a choice; choose {', '.join(STRANDS)}")
    if choice != "auto":
        chosen, reason = choice, "--strands " + choice
    elif spec.trained_reverse_complement or spec.strands == "both":
        chosen = "both"
        reason = ("auto: trained with reverse complement" if spec.trained_reverse_complement
                  else "auto: the model averages both strands at test")
    else:
        chosen, reason = "forward", "auto: trained on the forward strand only"
    if chosen == "both" and spec.kind is Kind.TOKENS:
        raise BiodlError("--strands both: averaging strands is implemented for one-hot models "
                         "only; pass --strands forward for this token model")
    return chosen, reason


def record_sizes(genome: Path) -> tuple[tuple[str, int], ...]:
    """(name, bases) of every record: from the .fai (plain) or one streaming pass (gzip)."""
    if is_gzip(genome):
        return tuple((record.id, len(record.seq)) for record in read_fasta(genome))
    return tuple(Genome(genome).lengths.items())


def plan(spec: InputSpec, genome: Path, stride: Optional[int] = None,
         strands: str = "auto") -> Plan:
    """Check the model, the stride and the genome; the scan's settings and records."""
    window = window_of(spec)
    chosen, reason = strands_of(spec, strands)
    stride = default_stride(spec, window, stride)
    if stride < 1:
        raise BiodlError(f"--stride {stride}: the stride must be at least 1 base (default: "
                         f"half the {window}-bp window, {max(window // 2, 1)})")
    genome = Path(genome)
    sizes = record_sizes(genome)
    longest = max(size for _, size in sizes)
    if stride > longest:
        raise BiodlError(f"--stride {stride}: longer than the longest record of {genome} "
                         f"({longest} bp); choose a stride of 1 to {min(window, longest)}")
    if longest < window:
        raise BiodlError(f"{genome}: every record is shorter than the model's {window}-bp "
                         f"window (longest {longest} bp); nothing to scan")
    return Plan(genome, window, stride, chosen, reason, sizes)


def default_stride(spec: InputSpec, window: int, stride: Optional[int]) -> int:
    """Half the window; a coverage model's output windows must tile: its output length."""
    if spec.target is not Target.COVERAGE:
        return max(window // 2, 1) if stride is None else stride
    if stride not in (None, spec.output_length):
        raise BiodlError(f"--stride {stride}: a coverage model predicts the central "
                         f"{spec.output_length} bases of each window, and a BigWig needs "
                         f"those to tile the genome; leave --stride out ({spec.output_length})")
    return int(spec.output_length)


def scan(task, spec: InputSpec, genome: Path, stride: Optional[int] = None,
         strands: str = "auto", batch_size: int = 512) -> Iterator[Scored]:
    """Values of every window of every record, in genome order (see the module docstring)."""
    return scored(task, spec, plan(spec, genome, stride, strands), batch_size)


def scored(task, spec: InputSpec, plan: Plan, batch_size: int = 512) -> Iterator[Scored]:
    from biodl.inference.batches import Batch, encode
    from biodl.inference.predict import scores

    if batch_size < 1:
        raise BiodlError(f"--batch-size {batch_size}: must be at least 1")
    saved = task.test_reverse_complement
    task.test_reverse_complement = plan.strands == "both"
    try:
        for group in _groups(_pieces(spec, plan, batch_size), batch_size):
            codes = np.concatenate([codes for _, _, codes in group])  # (B, window)
            batch = Batch([], encode(codes, spec))
            (_, values), = scores(task, [batch])
            values = values.reshape(len(codes), -1).astype(np.float32)
            offset = 0
            for chrom, starts, _ in group:
                yield Scored(chrom, starts, starts + plan.window,
                             values[offset:offset + len(starts)])
                offset += len(starts)
    finally:
        task.test_reverse_complement = saved


class _Piece(NamedTuple):
    chrom: str
    starts: np.ndarray  # (n,) window starts
    codes: np.ndarray  # (n, window) uint8


def _groups(pieces: Iterator[_Piece], batch_size: int) -> Iterator[list[_Piece]]:
    """Pieces (each at most batch_size windows) packed into batches of exactly batch_size
    windows, the last excepted: many short records still fill whole batches."""
    group, room = [], batch_size
    for piece in pieces:
        while len(piece.starts):
            take = min(room, len(piece.starts))
            group.append(_Piece(piece.chrom, piece.starts[:take], piece.codes[:take]))
            piece = _Piece(piece.chrom, piece.starts[take:], piece.codes[take:])
            room -= take
            if room == 0:
                yield group
                group, room = [], batch_size
    if group:
        yield group


def _pieces(spec: InputSpec, plan: Plan, batch_size: int) -> Iterator[_Piece]:
    """Up to batch_size windows of one record at a time, checked against the spec's policies."""
    if is_gzip(plan.genome):
        for record in read_fasta(plan.genome):
            yield from _record_pieces(spec, plan, record.id, record.seq, batch_size)
        return
    with Genome(plan.genome) as genome:
        for chrom, size in plan.sizes:
            starts = prepare.scan_windows(size, plan.window, plan.stride)
            for first in range(0, len(starts), batch_size):
                chunk = starts[first:first + batch_size]
                yield _Piece(chrom, chunk, _fetch(genome, chrom, chunk, plan, spec))


def _record_pieces(spec: InputSpec, plan: Plan, chrom: str, seq: bytes,
                   batch_size: int) -> Iterator[_Piece]:
    starts = prepare.scan_windows(len(seq), plan.window, plan.stride)
    if not len(starts):
        return
    check_bases(seq, f"{plan.genome}: record '{chrom}'", spec.unknown, spec.lowercase,
                strict=True)
    views = np.lib.stride_tricks.sliding_window_view(np.frombuffer(seq, np.uint8), plan.window)
    for first in range(0, len(starts), batch_size):
        chunk = starts[first:first + batch_size]
        yield _Piece(chrom, chunk, views[chunk])  # fancy indexing copies: (n, window)


def _fetch(genome: Genome, chrom: str, starts: np.ndarray, plan: Plan,
           spec: InputSpec) -> np.ndarray:
    """(n, window) codes: one read of the span when windows overlap or touch, else one each."""
    begin, end = int(starts[0]), int(starts[-1]) + plan.window
    if plan.stride > plan.window:
        seqs = [genome.fetch(chrom, int(s), int(s) + plan.window) for s in starts]
        _check(b"".join(seqs), spec, plan, chrom, begin, end)
        return encoding.to_codes(seqs, plan.window)
    span = genome.fetch(chrom, begin, end)
    _check(span, spec, plan, chrom, begin, end)
    views = np.lib.stride_tricks.sliding_window_view(np.frombuffer(span, np.uint8), plan.window)
    return views[starts - begin]


def _check(seq: bytes, spec: InputSpec, plan: Plan, chrom: str, begin: int, end: int) -> None:
    check_bases(seq, f"{plan.genome}: {chrom}:{begin}-{end}", spec.unknown, spec.lowercase,
                strict=True)


def track_names(spec: InputSpec) -> list[str]:
    """The outputs a scan writes: a binary model's positive class, else every output."""
    if spec.positive_class is not None:
        return [spec.positive_class]
    return list(spec.output_names)


def column_names(spec: InputSpec) -> list[str]:
    """Value columns as `biodl predict` names them: p_<class> for classifiers."""
    if spec.target in (Target.REGRESSION, Target.COVERAGE):
        return track_names(spec)
    return [f"p_{name}" for name in track_names(spec)]
