"""Genome windows around BED/narrowPeak intervals, read lazily from a plain FASTA.

Positives are windows of `data.window` bp centred on each interval (summit for narrowPeak);
negatives are drawn uniformly from the rest of the genome, per split, `data.negatives` per
positive. Splits hold out whole chromosomes (`data.val_chroms`, `data.test_chroms`). The
datasets keep only coordinates (a chromosome index and a start per window) and a `Genome`
handle: a batch reads its windows from disk (one `os.pread` each) and is one-hot encoded,
augmented and mixed by `SequenceDataset`, exactly as in-memory sequences are.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from biodl.config.data import GenomeData
from biodl.data.base import SPLITS
from biodl.data.datamodules import SequenceDataModule
from biodl.data.folds import refuse_folds
from biodl.data.genome import Genome, Window
from biodl.data.intervals import (Interval, centred_windows, overlap_mask, read_intervals,
                                  sample_negatives)
from biodl.data.sequences import SequenceDataset
from biodl.data.spec import Target
from biodl.errors import BiodlError

CHUNK = 4096  # windows read at a time when every window is needed (leakage check, report)


class WindowCodes:
    """A lazy (N, L) uint8 array of genome windows: indexing reads only those windows.

    `codes[indices]` -> (B, L) codes, as a numpy array would give; `np.asarray(codes)` reads
    every window (N x L bytes); `chunks()` reads them a block at a time.
    """

    def __init__(self, genome: Genome, chroms: list[str], chrom_index: np.ndarray,
                 starts: np.ndarray, length: int):
        self.genome, self.chroms, self.length = genome, chroms, length
        self.chrom_index = np.asarray(chrom_index, dtype=np.int32)  # (N,) into `chroms`
        self.starts = np.asarray(starts, dtype=np.int64)  # (N,) 0-based; may be < 0 (N-padded)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.starts), self.length

    def __getitem__(self, index) -> np.ndarray:
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        codes = self.read(np.atleast_1d(rows))
        return codes[0] if rows.ndim == 0 else codes

    def read(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.empty((0, self.length), dtype=np.uint8)
        return self.genome.fetch_codes(self.windows(rows))

    def windows(self, rows: np.ndarray | None = None) -> list[Window]:
        rows = np.arange(len(self)) if rows is None else rows
        return [Window(self.chroms[c], s, s + self.length) for c, s in
                zip(self.chrom_index[rows].tolist(), self.starts[rows].tolist())]

    def names(self) -> list[str]:
        """Each window as chrom:start-end."""
        return [f"{chrom}:{start}-{end}" for chrom, start, end in self.windows()]

    def chunks(self, size: int = CHUNK) -> Iterator[np.ndarray]:
        for first in range(0, len(self), size):
            yield self.read(np.arange(first, min(first + size, len(self))))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        codes = np.concatenate([*self.chunks(), np.empty((0, self.length), np.uint8)])
        return codes if dtype is None else codes.astype(dtype)


class WindowNames(Mapping):
    """split -> window names (chrom:start-end), made when asked rather than held."""

    def __init__(self, datasets: dict[str, SequenceDataset]):
        self.datasets = datasets

    def __getitem__(self, split: str) -> list[str]:
        return self.datasets[split].codes.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)


class GenomeDataModule(SequenceDataModule):
    """One BED file: binary target (class_names ["background", label]); several: multilabel,
    output k is 1 when the window overlaps an interval of file k. Never loads the genome."""

    def __init__(self, cfg: GenomeData):
        super().__init__(cfg)
        self.target = Target.CLASS if len(cfg.intervals) == 1 else Target.MULTILABEL
        self.split_ids = WindowNames(self.datasets)
        self.genome: Genome | None = None

    @property
    def input_files(self) -> list[Path]:
        return [p for p in (self.cfg.genome, *self.cfg.intervals.values()) if p is not None]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.cfg
        check_config(cfg)
        self.genome = genome = Genome(cfg.genome)
        chroms = list(genome.index)
        files = {label: read_intervals(path, genome, cfg.window)
                 for label, path in cfg.intervals.items()}
        members = split_chroms(cfg, chroms)
        everything = [i for intervals in files.values() for i in intervals]
        index, starts = positive_windows(everything, chroms, cfg.window)
        exclude = everything + WindowCodes(genome, chroms, index, starts, cfg.window).windows()
        held = {name: number for number, split in enumerate(SPLITS) for name in members[split]}
        split_of = np.array([held[name] for name in chroms], dtype=np.int8)[index]
        self.length = cfg.window
        if self.target is Target.CLASS:
            self.class_names = ["background", *cfg.intervals]
        else:
            self.label_names = list(cfg.intervals)
        for number, split in enumerate(SPLITS):
            chosen = split_of == number
            _check_positives(cfg, split, int(chosen.sum()), everything)
            negatives = self._negatives(int(chosen.sum()), exclude, members[split], number)
            self._add_split(split, index[chosen], starts[chosen], negatives, files)
        self._check_leakage()

    def _negatives(self, positives: int, exclude: list, chroms: list[str],
                   number: int) -> list[Window]:
        """`negatives` per positive, uniformly over this split's chromosomes, seeded per split."""
        cfg = self.cfg
        count = max(1, round(cfg.negatives * positives)) if cfg.negatives > 0 else 0
        if not count:
            return []
        return sample_negatives(self.genome, count, cfg.window, exclude,
                                [cfg.split.seed, number], cfg.max_n, chroms)

    def _add_split(self, split: str, index: np.ndarray, starts: np.ndarray,
                   negatives: list[Window], files: dict[str, list[Interval]]) -> None:
        """Positives plus negatives, sorted by position so that evaluation reads run forwards."""
        cfg, chroms = self.cfg, list(self.genome.index)
        rank = {name: i for i, name in enumerate(chroms)}
        index = np.concatenate([index, [rank[w.chrom] for w in negatives]]).astype(np.int32)
        starts = np.concatenate([starts, [w.start for w in negatives]]).astype(np.int64)
        labels = self._labels(files, index, starts, len(index) - len(negatives))
        order = np.lexsort((starts, index))
        codes = WindowCodes(self.genome, chroms, index[order], starts[order], cfg.window)
        augment = cfg.augment if split == "train" else None  # num_classes: mixup's soft labels
        self.datasets[split] = SequenceDataset(codes, labels[order], self.table, augment,
                                               self.num_classes)

    def _labels(self, files: dict[str, list[Interval]], index: np.ndarray, starts: np.ndarray,
                positives: int) -> np.ndarray:
        if self.target is Target.CLASS:
            return (np.arange(len(index)) < positives).astype(np.int64)
        chroms, ends = list(self.genome.index), starts + self.cfg.window
        return np.stack([overlap_mask(intervals, chroms, index, starts, ends)
                         for intervals in files.values()], axis=1).astype(np.float32)

    def _check_leakage(self) -> None:
        """Identical windows in train and test (repeats), read once, a chunk at a time."""
        if self.cfg.leakage == "ignore":
            return
        test = {row.tobytes() for chunk in self.datasets["test"].codes.chunks() for row in chunk}
        shared = sum(row.tobytes() in test for chunk in self.datasets["train"].codes.chunks()
                     for row in chunk)
        if not shared:
            return
        message = (f"{shared} training windows are identical to a test window (repeats); test "
                   "metrics may be optimistic")
        if self.cfg.leakage == "error":
            raise BiodlError(f"data: {message}; set data.leakage=warn to go on regardless")
        warnings.warn(message, stacklevel=2)


def check_config(cfg: GenomeData) -> None:
    """What the genome format needs before any file is read."""
    refuse_folds(cfg.split.folds, "the genome format splits by data.val_chroms and "
                 "data.test_chroms")
    if cfg.genome is None:
        raise BiodlError("data.genome: format genome needs a plain FASTA, e.g. "
                         "data.genome: hg38.fa (its .fai index is built when missing)")
    if not cfg.intervals:
        raise BiodlError("data.intervals: give at least one BED/narrowPeak file, e.g. "
                         "data.intervals: {ctcf: ctcf_peaks.narrowPeak}")
    if cfg.window < 1:
        raise BiodlError(f"data.window: {cfg.window} must be a positive number of bases")
    if cfg.negatives < 0 or (cfg.negatives == 0 and len(cfg.intervals) == 1):
        raise BiodlError(f"data.negatives: {cfg.negatives}; one intervals file makes a binary "
                         "task, which needs negatives > 0 (e.g. 1: one per positive)")
    for key in ("unknown", "lowercase"):
        if getattr(cfg, key) == "error":
            raise BiodlError(f"data.{key}: 'error' would stop training at the first window "
                             "holding such a base, as windows are read lazily; use "
                             "data.unknown=zeros and data.lowercase=upper (or n)")


def split_chroms(cfg: GenomeData, chroms: list[str]) -> dict[str, list[str]]:
    """Chromosomes of each split: val and test as listed (both required), train the rest."""
    listed = ", ".join(chroms[:10]) + (f", ... ({len(chroms)} in all)" if len(chroms) > 10 else "")
    if not cfg.val_chroms or not cfg.test_chroms:
        raise BiodlError(f"data.val_chroms and data.test_chroms: genome windows are split by "
                         f"whole chromosomes; set both, e.g. data.val_chroms=[{chroms[-1]}] "
                         f"(chromosomes in {cfg.genome}: {listed})")
    held: dict[str, str] = {}
    for split in ("val", "test"):
        for name in getattr(cfg, f"{split}_chroms"):
            if name not in chroms:
                raise BiodlError(f"data.{split}_chroms: no chromosome '{name}' in {cfg.genome} "
                                 f"(chromosomes: {listed})")
            if held.setdefault(name, split) != split:
                raise BiodlError(f"data.val_chroms and data.test_chroms both hold '{name}'; "
                                 "put each chromosome in one split")
    return {"train": [name for name in chroms if name not in held],
            "val": list(cfg.val_chroms), "test": list(cfg.test_chroms)}


def positive_windows(intervals: list[Interval], chroms: list[str],
                     window: int) -> tuple[np.ndarray, np.ndarray]:
    """(chrom index, start) of one centred window per interval, duplicates dropped, sorted."""
    rank = {name: i for i, name in enumerate(chroms)}
    windows = centred_windows(intervals, window)
    pairs = np.array([(rank[w.chrom], w.start) for w in windows], dtype=np.int64).reshape(-1, 2)
    pairs = np.unique(pairs, axis=0)
    return pairs[:, 0].astype(np.int32), pairs[:, 1]


def _check_positives(cfg: GenomeData, split: str, count: int,
                     intervals: list[Interval]) -> None:
    if count:
        return
    per_chrom: dict[str, int] = {}
    for interval in intervals:
        per_chrom[interval.chrom] = per_chrom.get(interval.chrom, 0) + 1
    counts = ", ".join(f"{name} {n}" for name, n in
                       sorted(per_chrom.items(), key=lambda item: -item[1])[:10])
    files = ", ".join(str(path) for path in cfg.intervals.values())
    where = (f"data.{split}_chroms {getattr(cfg, f'{split}_chroms')}" if split != "train" else
             f"data.val_chroms + data.test_chroms {[*cfg.val_chroms, *cfg.test_chroms]}")
    raise BiodlError(f"{where}: the {split} split has no positive windows (no interval of "
                     f"{files} lies on {'them' if split != 'train' else 'any other chromosome'})"
                     f"; hold out chromosomes that have intervals (intervals per chromosome: "
                     f"{counts})")
