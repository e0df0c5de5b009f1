"""Coverage windows as a torch Dataset: coordinates only, each batch read from disk.

A batch is {"x": (B, 4, window) float32 one-hot, "y": (B, T, output_length // bin_size)
float32}: the sequence of each window and the coverage of its central `output_length` bases,
binned (sum or mean per bin). Training augmentation, seeded per batch (`batch_seed`): jitter
moves a window by up to `jitter` bases (kept inside its chromosome), and the reverse strand
flips the sequence (reverse complement), flips each profile and swaps + and - outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from biodl.config.data import CoverageAugment
from biodl.data import encoding
from biodl.data.bigwig import Tracks, bin_values
from biodl.data.genome import Genome, Window
from biodl.data.sequences import batch_seed

CHUNK = 1024  # windows read at a time for totals (report, count weight)


class Layout(NamedTuple):
    """Where targets sit in a window, and how they are binned."""

    window: int
    output_length: int
    bin_size: int
    bin_reduce: str

    @property
    def offset(self) -> int:
        return (self.window - self.output_length) // 2


class CoverageDataset(Dataset):
    def __init__(self, genome: Genome, tracks: Tracks, chroms: list[str],
                 chrom_index: np.ndarray, starts: np.ndarray, layout: Layout,
                 table: np.ndarray, augment: CoverageAugment | None = None):
        self.genome, self.tracks, self.chroms, self.layout = genome, tracks, chroms, layout
        self.chrom_index = np.asarray(chrom_index, dtype=np.int32)  # (N,) into chroms
        self.starts = np.asarray(starts, dtype=np.int64)  # (N,) window starts, 0-based
        self.table, self.augment = table, augment
        self.room = np.array([genome.index[c].length - layout.window for c in chroms])
        self.swap = np.asarray(tracks.swap)

    def __len__(self) -> int:
        return len(self.starts)

    def names(self) -> list[str]:
        w = self.layout.window
        return [f"{self.chroms[c]}:{s}-{s + w}" for c, s in
                zip(self.chrom_index.tolist(), self.starts.tolist())]

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(indices, dtype=np.int64)
        starts, augment = self.starts[index], self.augment
        rng = np.random.default_rng(batch_seed(indices)) if augment is not None else None
        if rng is not None and augment.jitter:
            shift = rng.integers(-augment.jitter, augment.jitter + 1, len(index))
            starts = np.clip(starts + shift, 0, self.room[self.chrom_index[index]])
        codes, y = self.read(self.chrom_index[index], starts)
        if rng is not None and augment.reverse_complement:
            flip = rng.random(len(index)) < 0.5
            codes[flip] = encoding.reverse_complement_codes(codes[flip])
            y[flip] = y[flip][:, self.swap, ::-1]
        x = encoding.onehot(codes, self.table)
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(np.ascontiguousarray(y))}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([index]).items()}

    def read(self, chrom_index: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, window) codes and (B, T, bins) targets of windows given by coordinates."""
        layout = self.layout
        names = [self.chroms[c] for c in chrom_index.tolist()]
        windows = [Window(n, s, s + layout.window) for n, s in zip(names, starts.tolist())]
        codes = self.genome.fetch_codes(windows, pad=False)
        return codes, self.targets(names, starts)

    def targets(self, names: list[str], starts: np.ndarray) -> np.ndarray:
        layout = self.layout
        begin = starts + layout.offset
        centres = [Window(n, b, b + layout.output_length) for n, b in zip(names, begin.tolist())]
        return bin_values(self.tracks.read(centres), layout.bin_size, layout.bin_reduce)

    def chunks(self, size: int = CHUNK) -> Iterator[np.ndarray]:
        """(n, T, bins) targets of every window in order, a block at a time (no augmentation)."""
        for first in range(0, len(self), size):
            rows = np.arange(first, min(first + size, len(self)))
            names = [self.chroms[c] for c in self.chrom_index[rows].tolist()]
            yield self.targets(names, self.starts[rows])


class Totals(NamedTuple):
    """Per window and output: total coverage; and whether every value was a whole number."""

    totals: np.ndarray  # (N, T)
    integer: bool
    example: str  # a window holding a fractional value, when not integer


def totals(dataset: CoverageDataset) -> Totals:
    parts, integer, example, first = [np.zeros((0, len(dataset.swap)), np.float64)], True, "", 0
    for chunk in dataset.chunks():
        parts.append(chunk.sum(axis=-1, dtype=np.float64))
        fractional = np.flatnonzero((chunk != np.round(chunk)).any(axis=(1, 2)))
        if integer and len(fractional):
            integer, example = False, dataset.names()[first + int(fractional[0])]
        first += len(chunk)
    return Totals(np.concatenate(parts), integer, example)
