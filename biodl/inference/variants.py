"""Variant effects: every ALT allele of a VCF scored against the genome, streamed.

For each sequence ALT allele (multi-allelic records split, one row each):

- Windows (`windows`): the reference window is the model's `L` bases centred on the REF allele
  (base `L // 2` of the window is REF's base `len(REF) // 2`, so an SNV sits at `L // 2`); the
  alternative window replaces REF's bases with ALT's in the genome and takes the `L` bases
  centred on the ALT allele, so an indel re-centres the window and the flanks are trimmed back
  to the model's length. Bases past a chromosome end are N. Alleles longer than the window
  (no genome context left) are skipped and counted; symbolic and breakend alleles too.
- Reference check: REF against the genome's bases (an N in REF matches any base); a
  mismatch is scored with the genome's bases, flagged `ref_match=no` and counted, or refused
  with `strict`.
- Scores, per output of `scan.track_names(spec)` (a binary model's positive class, else every
  class, label or output): `ref_`, `alt_` (probabilities as `biodl predict` gives them, or
  regression outputs), `diff_` (alt - ref), `abs_diff_`, `log2fc_` (log2 of (alt + 1e-6) /
  (ref + 1e-6); NaN where either is <= -1e-6) and `logit_diff_` (the change in log-odds
  log p / (1 - p), from the model's logits, so it does not saturate; NaN for regression).
- Strands (`plan`): with both strands (auto: when training saw reverse complements), `mean`
  averages the logits of each window and its reverse complement before the sigmoid or
  softmax, as `biodl predict` and evaluation do; `max` scores each strand apart and keeps, per
  output, the strand with the larger |diff| (its ref, alt and every score).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

import numpy as np
import torch

from biodl.data.sequences import check_bases
from biodl.data.spec import InputSpec, Kind, Target
from biodl.data.vcf import Variant, VcfStream, allele_kind
from biodl.errors import BiodlError
from biodl.inference.batches import chunks, encode
from biodl.inference.scan import strands_of, track_names

MERGES = ("mean", "max")
EPS = 1e-6  # keeps log2 fold changes of probabilities near 0 finite
SCORES = ("ref", "alt", "diff", "abs_diff", "log2fc", "logit_diff")
FIRST_COLUMNS = ["chrom", "pos", "id", "ref", "alt", "kind", "ref_match"]


@dataclass
class Summary:
    """What a run read, scored and skipped; filled while the rows stream."""

    records: int = 0
    scored: int = 0
    symbolic: int = 0  # symbolic, breakend and `*` alleles
    missing: int = 0  # ALT '.'
    too_long: int = 0  # alleles longer than the window
    ref_mismatch: int = 0
    unsorted: int = 0

    def lines(self, window: int) -> list[str]:
        notes = [f"{self.records} records, {self.scored} alleles scored"]
        skipped = [(self.symbolic, "symbolic or breakend"), (self.missing, "missing ('.')"),
                   (self.too_long, f"longer than the {window}-bp window")]
        notes += [f"skipped {n} {what} allele(s)" for n, what in skipped if n]
        if self.ref_mismatch:
            notes.append(f"{self.ref_mismatch} allele(s) whose REF differs from the genome "
                         "(ref_match=no; scored with the genome's bases; --strict refuses)")
        if self.unsorted:
            notes.append(f"{self.unsorted} record(s) out of position order: harmless, each "
                         "window is read through the genome's index; rows keep the VCF order")
        return notes


class Setup(NamedTuple):
    window: int
    strands: str  # forward or both
    reason: str
    merge: str  # mean or max (both strands)
    names: list[str]  # the outputs scored


class Allele(NamedTuple):
    variant: Variant
    alt: str
    kind: str
    ref_match: bool
    ref_window: bytes
    alt_window: bytes


def plan(spec: InputSpec, strands: str = "auto", merge: str = "mean") -> Setup:
    """Check the model reads fixed-length DNA and predicts per window; the settings."""
    sequences = spec.kind in (Kind.ONEHOT, Kind.TOKENS)
    fixed = sequences and spec.length is not None and not spec.variable_length
    if not fixed or spec.target not in (Target.CLASS, Target.MULTILABEL, Target.REGRESSION):
        raise BiodlError(f"this model reads {spec.kind.value} and predicts {spec.target.value} "
                         f"(data format {spec.format}); variant effects need a fixed-length "
                         "DNA sequence model (one-hot or tokens, data.length set) that "
                         "predicts classes, labels or values per window")
    if merge not in MERGES:
        raise BiodlError(f"--strand-merge: {merge!r} is not a choice; choose mean or max")
    chosen, reason = strands_of(spec, strands)
    return Setup(int(spec.length), chosen, reason, merge, track_names(spec))


def header(setup: Setup) -> list[str]:
    return FIRST_COLUMNS + [f"{s}_{n}" for n in setup.names for s in SCORES]


def windows(genome, chrom: str, start: int, ref_len: int, alt: bytes,
            window: int) -> tuple[bytes, bytes, bytes]:
    """(the genome's REF bases, reference window, alternative window) for an allele whose REF
    spans [start, start + ref_len) (0-based), as the module docstring describes."""
    span = genome.fetch(chrom, start - window, start + ref_len + window)
    left, genome_ref, right = span[:window], span[window:window + ref_len], span[window + ref_len:]
    ref_start = window + ref_len // 2 - window // 2
    alt_start = window + len(alt) // 2 - window // 2
    return (genome_ref, span[ref_start:ref_start + window],
            (left + alt + right)[alt_start:alt_start + window])


def alleles(stream: VcfStream, genome, lookup, window: int, summary: Summary,
            strict: bool = False) -> Iterator[Allele]:
    """The scorable alleles of a VCF stream with their windows; the rest counted."""
    for variant in stream:
        summary.records += 1
        chrom = lookup(variant.chrom, variant.line)
        start, end = variant.pos - 1, variant.pos - 1 + len(variant.ref)
        if end > genome.lengths[chrom]:
            raise BiodlError(f"{stream.path} line {variant.line}: {variant.chrom}:{variant.pos} "
                             f"(REF to {end}) is beyond the end of {chrom} "
                             f"({genome.lengths[chrom]} bp); the VCF and genome must be the "
                             "same assembly")
        for alt in variant.alts:
            kind = allele_kind(variant.ref, alt)
            if kind in ("symbolic", "missing"):
                summary.symbolic += kind == "symbolic"
                summary.missing += kind == "missing"
                continue
            if max(len(variant.ref), len(alt)) > window:
                summary.too_long += 1
                continue
            genome_ref, ref_window, alt_window = windows(genome, chrom, start, len(variant.ref),
                                                         alt.encode(), window)
            match = _matches(variant.ref, genome_ref)
            if not match:
                summary.ref_mismatch += 1
                if strict:
                    raise BiodlError(f"{stream.path} line {variant.line}: REF {variant.ref} but "
                                     f"the genome has {genome_ref.decode()} at {chrom}:"
                                     f"{variant.pos}; check the assembly, or drop --strict to "
                                     "score and flag such alleles (ref_match=no)")
            yield Allele(variant, alt, kind, match, ref_window, alt_window)
    summary.unsorted = stream.unsorted


def _matches(ref: str, genome_ref: bytes) -> bool:
    bases = genome_ref.upper().decode("ascii", errors="replace")
    return all(r == g or r == "N" for r, g in zip(ref, bases))


def effects(task, spec: InputSpec, setup: Setup, stream: Iterable[Allele], summary: Summary,
            batch_size: int = 256, where: str = "genome") -> Iterator[list]:
    """Rows of the effects table (see `header`), `batch_size` alleles scored at a time."""
    if batch_size < 1:
        raise BiodlError(f"--batch-size {batch_size}: must be at least 1")
    for chunk in chunks(stream, batch_size):
        seqs = [a.ref_window for a in chunk] + [a.alt_window for a in chunk]
        for allele in chunk:
            v = allele.variant
            for seq in (allele.ref_window, allele.alt_window):
                check_bases(seq, f"{where}: window of line {v.line} ({v.chrom}:{v.pos})",
                            spec.unknown, spec.lowercase, strict=True)
        codes = np.frombuffer(b"".join(seqs), dtype=np.uint8).reshape(len(seqs), setup.window)
        values = score(task, spec, setup, encode(codes, spec))  # (B, 6 K)
        summary.scored += len(chunk)
        for allele, row in zip(chunk, values.tolist()):
            v = allele.variant
            yield [v.chrom, v.pos, v.id, v.ref, allele.alt, allele.kind,
                   "yes" if allele.ref_match else "no", *row]


@torch.inference_mode()
def score(task, spec: InputSpec, setup: Setup, x: torch.Tensor) -> np.ndarray:
    """x: (2B, ...) the B reference windows then the B alternative ones -> (B, 6 K) float64
    scores, per output the SCORES in order."""
    task.eval()
    x, count = x.to(next(task.parameters()).device), len(x) // 2
    if setup.strands == "both":
        x = torch.cat([x, x.flip(-2, -1)])  # one-hot: reverse complement = flip both axes
    z = task(x).float()
    z = z.reshape(len(x) // (2 * count), 2, count, -1)  # (S, allele, B, C)
    if setup.merge == "mean":
        z = z.mean(dim=0, keepdim=True)
    probs = _outputs(spec, z, task.predictions(z.flatten(0, 2)))
    odds = _outputs(spec, z, _log_odds(spec, z.flatten(0, 2)))
    scores = _scores(probs.double().numpy(), odds.double().numpy())  # (S, 6, B, K)
    best = np.abs(scores[:, 2]).argmax(axis=0)  # (B, K): the strand with the larger |diff|
    chosen = np.take_along_axis(scores, best[None, None], axis=0)[0]  # (6, B, K)
    return chosen.transpose(1, 2, 0).reshape(chosen.shape[1], -1)


def _outputs(spec: InputSpec, z: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """(S * 2 * B, ...) values -> (S, 2, B, K), a two-class softmax model keeping its second
    (positive) class as `track_names` does."""
    values = values.reshape(*z.shape[:3], -1).cpu()
    if spec.positive_class is not None and values.shape[-1] == 2:
        values = values[..., 1:]
    return values


def _log_odds(spec: InputSpec, z: torch.Tensor) -> torch.Tensor:
    """log p / (1 - p) per output from logits (N, C): a sigmoid's logit is itself; a softmax
    class's is z_k - logsumexp of the others; regression has none (NaN)."""
    if spec.target is Target.REGRESSION:
        return torch.full_like(z, math.nan)
    if spec.target is Target.MULTILABEL or z.shape[-1] == 1:
        return z
    others = z.unsqueeze(-2).expand(*z.shape, z.shape[-1]).clone()  # (N, C, C)
    others.diagonal(dim1=-2, dim2=-1).fill_(-math.inf)
    return z - others.logsumexp(dim=-1)


def _scores(probs: np.ndarray, odds: np.ndarray) -> np.ndarray:
    """(S, 2, B, K) values and log-odds (reference, alternative) -> (S, 6, B, K) SCORES."""
    ref, alt = probs[:, 0], probs[:, 1]
    diff = alt - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        log2fc = np.log2((alt + EPS) / (ref + EPS))
    log2fc[(ref + EPS <= 0) | (alt + EPS <= 0)] = math.nan
    return np.stack([ref, alt, diff, np.abs(diff), log2fc, odds[:, 1] - odds[:, 0]], axis=1)
