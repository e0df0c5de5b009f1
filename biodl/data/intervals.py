"""BED/narrowPeak intervals and the windows drawn from them: centred positive windows, seeded
negatives clear of every interval, and splits that hold out whole chromosomes. No torch.

Coordinates are 0-based and half-open, as in BED; `Window`s come from `biodl.data.genome`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from biodl.data.files import open_bytes
from biodl.data.genome import Genome, Window
from biodl.errors import BiodlError


class Interval(NamedTuple):
    """A BED interval; narrowPeak files also fill strand and summit (offset from start)."""

    chrom: str
    start: int
    end: int
    name: str = "."
    score: float = 0.0
    strand: str = "."
    summit: int = -1

    @property
    def centre(self) -> int:
        return self.start + self.summit if self.summit >= 0 else (self.start + self.end) // 2


# ---- intervals -----------------------------------------------------------------------------

_SKIPPED = ("#", "track", "browser")


def read_intervals(path: Path, genome: Genome | None = None,
                   window: int = 0) -> list[Interval]:
    """BED (3+ columns) or narrowPeak intervals, plain or gzip; checked against `genome` if
    given (known chromosome, end within it, at least `window` long). Errors name file and line."""
    intervals = []
    with open_bytes(Path(path)) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip() or line.startswith(_SKIPPED):
                continue
            interval = _interval(line.split("\t") if "\t" in line else line.split(),
                                 f"{path} line {number}")
            if genome is not None:
                _check_inside(interval, genome, window, f"{path} line {number}")
            intervals.append(interval)
    return intervals


def _interval(fields: list[str], where: str) -> Interval:
    if len(fields) < 3:
        raise BiodlError(f"{where}: expected at least 3 columns (chrom, start, end), got "
                         f"{len(fields)}; BED columns are separated by tabs")
    try:
        chrom, start, end = fields[0], int(fields[1]), int(fields[2])
        score = float(fields[4]) if len(fields) > 4 and fields[4] != "." else 0.0
        summit = int(fields[9]) if len(fields) > 9 else -1
    except ValueError as error:
        raise BiodlError(f"{where}: {error}; start, end (and narrowPeak's score and peak) "
                         "must be numbers") from None
    if start < 0 or start > end:
        raise BiodlError(f"{where}: interval {chrom}:{start}-{end} needs 0 <= start <= end")
    strand = fields[5] if len(fields) > 5 else "."
    if strand not in ("+", "-", "."):
        raise BiodlError(f"{where}: strand {strand!r} must be '+', '-' or '.'")
    if summit >= 0 and start + summit > end:
        raise BiodlError(f"{where}: peak offset {summit} lies beyond the interval's end")
    return Interval(chrom, start, end, fields[3] if len(fields) > 3 else ".", score, strand,
                    summit)


def _check_inside(interval: Interval, genome: Genome, window: int, where: str) -> None:
    try:
        length = genome.entry(interval.chrom).length
    except BiodlError as error:
        raise BiodlError(f"{where}: {error}") from None
    if interval.end > length:
        raise BiodlError(f"{where}: interval {interval.chrom}:{interval.start}-{interval.end} "
                         f"ends beyond {interval.chrom} (length {length}); is the file for "
                         "another genome build?")
    if window > length:
        raise BiodlError(f"{where}: a {window}-bp window does not fit in {interval.chrom} "
                         f"(length {length}); drop this chromosome's intervals or lower "
                         "data.window")


# ---- windows -------------------------------------------------------------------------------

def centred_windows(intervals: list[Interval], length: int) -> list[Window]:
    """One window of `length` per interval, centred on its summit (narrowPeak) or middle.
    Windows may run past a chromosome's end; `Genome.fetch` pads them with N."""
    return [Window(i.chrom, i.centre - length // 2, i.centre - length // 2 + length)
            for i in intervals]


def sample_negatives(genome: Genome, count: int, length: int, exclude: list,
                     seed: int | list[int] = 0,
                     max_n: float = 0.5, chroms: list[str] | None = None) -> list[Window]:
    """`count` windows drawn uniformly over `chroms` (default: all), seeded, that overlap no
    interval or window of `exclude` and have at most `max_n` of bases other than ACGT."""
    rng = np.random.default_rng(seed)
    names = [name for name in (chroms or list(genome.index)) if genome.entry(name).length >= length]
    if not names:
        raise BiodlError(f"{genome.path}: no chromosome holds a {length}-bp window")
    starts = np.array([genome.index[name].length - length + 1 for name in names])
    blocked = _merged(exclude)
    chosen: dict[Window, None] = {}
    for _ in range(100):
        need = count - len(chosen)
        if need == 0:
            break
        which = rng.choice(len(names), size=2 * need + 16, p=starts / starts.sum())
        offsets = (rng.random(len(which)) * starts[which]).astype(np.int64)
        for index, start in zip(which.tolist(), offsets.tolist()):
            window = Window(names[index], start, start + length)
            if len(chosen) < count and window not in chosen and \
                    not _overlaps(blocked, window) and _mostly_acgt(genome, window, max_n):
                chosen[window] = None
    if len(chosen) < count:
        raise BiodlError(f"{genome.path}: found only {len(chosen)} of {count} negative windows "
                         f"of {length} bp clear of the positives with at most {max_n:.0%} N; "
                         "ask for fewer, or raise max_n")
    return list(chosen)


def _merged(intervals: list) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per chromosome, sorted disjoint (starts, ends) covering the given intervals."""
    by_chrom: dict[str, list] = {}
    for chrom, start, end, *_ in intervals:
        by_chrom.setdefault(chrom, []).append((start, end))
    merged = {}
    for chrom, spans in by_chrom.items():
        spans.sort()
        starts, ends = [spans[0][0]], [spans[0][1]]
        for start, end in spans[1:]:
            if start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        merged[chrom] = (np.array(starts), np.array(ends))
    return merged


def _overlaps(blocked: dict, window: Window) -> bool:
    if window.chrom not in blocked:
        return False
    starts, ends = blocked[window.chrom]
    first = np.searchsorted(ends, window.start, side="right")  # first span ending after start
    return bool(first < len(starts) and starts[first] < window.end)


def overlap_mask(intervals: list, chroms: list[str], chrom_index: np.ndarray,
                 starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N,) bool: does window i (`chroms[chrom_index[i]]`, starts[i]-ends[i]) overlap any of
    `intervals`? Vectorised per chromosome."""
    blocked = _merged(intervals)
    mask = np.zeros(len(starts), dtype=bool)
    order = np.argsort(chrom_index, kind="stable")
    bounds = np.searchsorted(chrom_index[order], np.arange(len(chroms) + 1))
    for index, name in enumerate(chroms):
        rows = order[bounds[index]:bounds[index + 1]]
        if name not in blocked or not len(rows):
            continue
        span_starts, span_ends = blocked[name]
        first = np.searchsorted(span_ends, starts[rows], side="right")
        inside = first < len(span_starts)
        mask[rows[inside]] = span_starts[first[inside]] < ends[rows[inside]]
    return mask


def _mostly_acgt(genome: Genome, window: Window, max_n: float) -> bool:
    bases = genome.fetch(*window)
    return len(bases.translate(None, b"ACGTacgt")) <= max_n * len(bases)


def split_by_chromosome(windows: list, val: tuple[str, ...] = (),
                        test: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """{'train', 'val', 'test'} -> indices into `windows`, holding out whole chromosomes so
    that no two splits share one (nearby windows would otherwise leak)."""
    chroms = np.array([window[0] for window in windows])
    for split, names in (("val", val), ("test", test)):
        missing = sorted(set(names) - set(chroms.tolist()))
        if missing:
            raise BiodlError(f"{split} chromosomes {missing} have no windows; known: "
                             f"{sorted(set(chroms.tolist()))[:8]}")
    if set(val) & set(test):
        raise BiodlError(f"chromosomes {sorted(set(val) & set(test))} are in both val and test")
    held_val, held_test = np.isin(chroms, list(val)), np.isin(chroms, list(test))
    return {"train": np.flatnonzero(~held_val & ~held_test), "val": np.flatnonzero(held_val),
            "test": np.flatnonzero(held_test)}
