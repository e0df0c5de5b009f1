"""Coverage tracks from BigWig files, read lazily with pyBigWig a window at a time. No torch.

`Tracks` holds the outputs of a coverage data set in order: each configured name is one
BigWig (unstranded: output `name`) or a [plus, minus] pair (outputs `name+` and `name-`, which
swap places on the reverse strand: `Tracks.swap`). A file is opened once per process (pyBigWig
handles cannot cross a fork) and only the bases asked for are decoded: nothing holds a track.
Bases that a BigWig leaves without a value (BigWig stores no zeros) read as 0.

Checks, each naming the file and the fix: every chromosome used must be in the BigWig with the
genome's length; a plus/minus pair must describe the same chromosomes; a file whose summary
holds a negative or NaN value is refused when opened, and a window holding one when read.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from biodl.data.genome import Window
from biodl.errors import BiodlError

REDUCE = ("sum", "mean")


class Track:
    """One BigWig file, opened lazily in each process."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise BiodlError(f"{self.path}: BigWig file not found (check data.tracks)")
        self._handle, self._pid = None, -1
        handle = self._open()
        self.chroms: dict[str, int] = dict(handle.chroms())
        check_summary(handle.header(), self.path)

    def _open(self):
        import pyBigWig

        if self._pid != os.getpid():
            try:
                self._handle = pyBigWig.open(str(self.path))
            except RuntimeError:
                self._handle = None
            if self._handle is None or not self._handle.isBigWig():
                raise BiodlError(f"{self.path}: not a readable BigWig file; convert bedGraph "
                                 "with bedGraphToBigWig (UCSC) and point data.tracks at it")
            self._pid = os.getpid()
        return self._handle

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """(end - start,) float32 values; bases without a value are 0."""
        values = self._open().values(chrom, start, end, numpy=True).astype(np.float32)
        np.nan_to_num(values, copy=False, nan=0.0)
        if values.size and values.min() < 0:
            raise BiodlError(f"{self.path}: negative value {values.min():g} in {chrom}:{start}"
                             f"-{end}; coverage must be >= 0 (use a signal of counts, not a "
                             "fold change or log ratio track)")
        return values

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None, "_pid": -1}


def check_summary(header: dict, path: Path) -> None:
    """Refuse a BigWig whose stored values include a negative number or NaN."""
    low, total = float(header.get("minVal", 0)), float(header.get("sumData", 0))
    if math.isnan(low) or math.isnan(total):
        raise BiodlError(f"{path}: the track holds NaN values; coverage must be numbers >= 0 "
                         "(write 0, or leave bases without data out of the BigWig)")
    if low < 0:
        raise BiodlError(f"{path}: the track holds negative values (minimum {low:g}); coverage "
                         "must be >= 0 (use a signal of counts, not a fold change or log ratio)")


def check_chroms(track: Track, lengths: dict[str, int], genome: Path) -> None:
    """Every chromosome in `lengths` (those used) is in the BigWig with the same length."""
    common = set(track.chroms) & set(lengths)
    if not common:
        raise BiodlError(f"{track.path}: no chromosome in common with {genome} (BigWig: "
                         f"{', '.join(list(track.chroms)[:3])}; genome: "
                         f"{', '.join(list(lengths)[:3])}); use tracks and a genome of one build "
                         "with one naming ('chr1' vs '1')")
    for name, length in lengths.items():
        if name not in track.chroms:
            raise BiodlError(f"{track.path}: chromosome '{name}' of {genome} is missing; use "
                             "the genome the track was made from, or list the chromosomes to "
                             "use in data.chroms")
        if track.chroms[name] != length:
            raise BiodlError(f"{track.path}: chromosome '{name}' has {track.chroms[name]} bases "
                             f"here but {length} in {genome}; the track is for another genome "
                             "build: use the matching FASTA")


def check_pair(plus: Track, minus: Track, name: str) -> None:
    if plus.chroms != minus.chroms:
        differ = sorted(c for c in set(plus.chroms) | set(minus.chroms)
                        if plus.chroms.get(c) != minus.chroms.get(c))
        shown = ", ".join(f"{c} ({plus.chroms.get(c, 'absent')} vs {minus.chroms.get(c, 'absent')})"
                          for c in differ[:3])
        raise BiodlError(f"data.tracks.{name}: plus {plus.path} and minus {minus.path} differ in "
                         f"chromosome lengths: {shown}; give the two strands of one experiment")


class Output(NamedTuple):
    name: str  # the output's name: the track's, with + or - for a strand pair
    track: Track


class Tracks:
    """The ordered outputs of `data.tracks` (name -> [file] or [plus, minus])."""

    def __init__(self, spec: dict[str, Sequence[Path]]):
        if not spec:
            raise BiodlError("data.tracks: give at least one BigWig, e.g. data.tracks: "
                             "{atac: atac.bw} or {chip: [plus.bw, minus.bw]}")
        self.outputs: list[Output] = []
        self.swap: list[int] = []
        for name, files in spec.items():
            files = [files] if isinstance(files, (str, Path)) else list(files)
            if len(files) not in (1, 2):
                raise BiodlError(f"data.tracks.{name}: {len(files)} files; give one BigWig "
                                 "(unstranded) or two, [plus, minus]")
            tracks = [Track(path) for path in files]
            first = len(self.outputs)
            if len(tracks) == 1:
                self.outputs.append(Output(name, tracks[0]))
                self.swap.append(first)
                continue
            check_pair(*tracks, name)
            self.outputs += [Output(f"{name}+", tracks[0]), Output(f"{name}-", tracks[1])]
            self.swap += [first + 1, first]

    @property
    def names(self) -> list[str]:
        return [output.name for output in self.outputs]

    @property
    def paths(self) -> list[Path]:
        return [output.track.path for output in self.outputs]

    def check(self, lengths: dict[str, int], genome: Path) -> None:
        for output in self.outputs:
            check_chroms(output.track, lengths, genome)

    def read(self, windows: list[Window]) -> np.ndarray:
        """(B, T, L) float32 coverage of equal-length windows inside their chromosomes."""
        length = windows[0].end - windows[0].start if windows else 0
        out = np.empty((len(windows), len(self.outputs), length), dtype=np.float32)
        for t, output in enumerate(self.outputs):
            for b, (chrom, start, end) in enumerate(windows):
                out[b, t] = output.track.values(chrom, start, end)
        return out


def bin_values(values: np.ndarray, size: int, reduce: str = "sum") -> np.ndarray:
    """(B, T, L) -> (B, T, L // size): the sum or mean of each bin of `size` bases."""
    if size == 1:
        return values
    b, t, length = values.shape
    bins = values.reshape(b, t, length // size, size)
    return bins.sum(axis=-1) if reduce == "sum" else bins.mean(axis=-1)
