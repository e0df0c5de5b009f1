"""Data format `coverage`: BigWig coverage along a genome FASTA, for profile and count models.

Windows of `data.window` bases are centred on the summit of each peak (BED/narrowPeak, several
files merged) plus `data.background` windows per peak drawn from outside every peak; splits
hold out whole chromosomes (`data.val_chroms`, `data.test_chroms`). Targets are the coverage
of the central `data.output_length` bases of every output track (`biodl.data.bigwig`), per
base or in bins of `data.bin_size` (sum or mean). Only coordinates are held; a batch reads its
sequence through the FASTA index and its coverage through pyBigWig (`CoverageDataset`).

A window running off a chromosome is an error (or, with `data.edge=drop`, skipped and counted
in `check-data`); jitter keeps windows inside their chromosome.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from biodl.config.data import CoverageData
from biodl.data import encoding
from biodl.data.base import SPLITS, BatchLoaders, DataFormat
from biodl.data.bigwig import Tracks
from biodl.data.coverage_dataset import CoverageDataset, Layout, Totals, totals
from biodl.data.genome import Genome
from biodl.data.genome_windows import split_chroms
from biodl.data.intervals import Interval, centred_windows, read_intervals, sample_negatives
from biodl.data.report import coverage_summary
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError


class CoverageDataModule(BatchLoaders, DataFormat):
    target = Target.COVERAGE

    def __init__(self, cfg: CoverageData):
        super().__init__()
        self.cfg = cfg
        self.datasets: dict[str, CoverageDataset] = {}
        self.split_ids: dict[str, list[str]] = {}
        self.peak_windows: dict[str, int] = {}  # per split: windows on peaks (then background)
        self.dropped = 0  # peaks whose window ran off a chromosome (data.edge=drop)
        self.tracks: Tracks | None = None

    @property
    def layout(self) -> Layout:
        cfg = self.cfg
        return Layout(cfg.window, cfg.output_length or cfg.window, cfg.bin_size, cfg.bin_reduce)

    @property
    def output_names(self) -> list[str]:
        self.setup()
        return self.tracks.names

    @property
    def input_files(self) -> list[Path]:
        cfg = self.cfg
        files = [f for v in cfg.tracks.values() for f in ([v] if isinstance(v, Path) else v)]
        return [p for p in (cfg.genome, *files, *cfg.peaks) if p is not None]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.cfg
        check_config(cfg, self.layout)
        genome = Genome(cfg.genome)
        chroms = used_chroms(cfg, genome)
        self.tracks = Tracks(cfg.tracks)
        self.tracks.check({c: genome.index[c].length for c in chroms}, cfg.genome)
        peaks = [i for path in cfg.peaks for i in read_intervals(path, genome)
                 if i.chrom in chroms]
        index, starts = self._peak_windows(peaks, genome, chroms)
        members = split_chroms(cfg, chroms)
        rank = {name: i for i, name in enumerate(chroms)}
        exclude = peaks + [w for w in centred_windows(peaks, cfg.window)]
        table = encoding.onehot_table(cfg.unknown, cfg.lowercase)
        for number, split in enumerate(SPLITS):
            held = np.isin(index, [rank[c] for c in members[split]])
            self._check_peaks(split, int(held.sum()), members[split])
            background = self._background(genome, int(held.sum()), exclude, members[split], number)
            split_index = np.concatenate([index[held], [rank[w.chrom] for w in background]])
            split_starts = np.concatenate([starts[held], [w.start for w in background]])
            augment = cfg.augment if split == "train" else None
            self.datasets[split] = CoverageDataset(genome, self.tracks, chroms, split_index,
                                                   split_starts, self.layout, table, augment)
            self.peak_windows[split] = int(held.sum())
            self.split_ids[split] = self.datasets[split].names()

    def _peak_windows(self, peaks: list[Interval], genome: Genome,
                      chroms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(chrom index, start) of one window per peak summit, duplicates dropped."""
        rank, inside = {name: i for i, name in enumerate(chroms)}, []
        for peak, window in zip(peaks, centred_windows(peaks, self.cfg.window)):
            length = genome.index[peak.chrom].length
            if 0 <= window.start and window.end <= length:
                inside.append((rank[peak.chrom], window.start))
            elif self.cfg.edge == "drop":
                self.dropped += 1
            else:
                raise BiodlError(
                    f"{', '.join(map(str, self.cfg.peaks))}: the {self.cfg.window}-bp window "
                    f"of peak {peak.chrom}:{peak.start}-{peak.end} runs off {peak.chrom} "
                    f"(0-{length}); set data.edge=drop to skip such peaks, or lower data.window")
        pairs = np.unique(np.array(inside, dtype=np.int64).reshape(-1, 2), axis=0)
        return pairs[:, 0], pairs[:, 1]

    def _background(self, genome: Genome, peaks: int, exclude: list, chroms: list[str],
                    number: int) -> list:
        count = round(self.cfg.background * peaks)
        if not count:
            return []
        return sample_negatives(genome, count, self.cfg.window, exclude,
                                [self.cfg.split.seed, number], self.cfg.max_n, chroms)

    def _check_peaks(self, split: str, count: int, chroms: list[str]) -> None:
        if count == 0:
            raise BiodlError(f"data.{split}_chroms: the {split} split ({', '.join(chroms[:5])}) "
                             f"has no peak of {', '.join(map(str, self.cfg.peaks))}; hold out "
                             "chromosomes that have peaks" if split != "train" else
                             "data.val_chroms + data.test_chroms: no peak is left for "
                             "training; hold out fewer chromosomes")

    @cached_property
    def _totals(self) -> dict[str, Totals]:
        self.setup()
        return {split: totals(dataset) for split, dataset in self.datasets.items()}

    def split_labels(self, split: str) -> np.ndarray:
        """(N, T) total coverage of each window of a split."""
        return self._totals[split].totals

    def count_summary(self) -> dict:
        """What coverage losses need: median total per training window and output, and
        whether every training value is a whole number (counts)."""
        train = self._totals["train"]
        files = ", ".join(map(str, self.tracks.paths))
        return {"median_total": float(np.median(train.totals)), "integer": train.integer,
                "where": f"{files}: window {train.example}"}

    def model_kwargs(self) -> dict:
        layout = self.layout
        return {"in_channels": 4, "seq_len": layout.window, "num_tracks": len(self.tracks.names),
                "output_length": layout.output_length, "bin_size": layout.bin_size}

    def input_spec(self) -> InputSpec:
        cfg, layout = self.cfg, self.layout
        return InputSpec(
            format=cfg.format, kind=Kind.ONEHOT, target=self.target,
            output_names=tuple(self.output_names), length=cfg.window, unknown=cfg.unknown,
            lowercase=cfg.lowercase,
            strands="both" if cfg.augment.test_reverse_complement else "forward",
            trained_reverse_complement=cfg.augment.reverse_complement,
            output_length=layout.output_length, bin_size=layout.bin_size,
            bin_reduce=layout.bin_reduce, strand_swap=tuple(self.tracks.swap))

    def report(self) -> dict:
        out = {split: coverage_summary(self._totals[split].totals, self.output_names,
                                       self.peak_windows[split]) for split in self.datasets}
        return out | {"dropped_peaks": self.dropped, "duplicates_across_splits": {}}


def check_config(cfg: CoverageData, layout: Layout) -> None:
    """What the coverage format needs before any file is read."""
    if cfg.genome is None:
        raise BiodlError("data.genome: format coverage needs a plain FASTA, e.g. "
                         "data.genome: hg38.fa (its .fai index is built when missing)")
    if not cfg.peaks:
        raise BiodlError("data.peaks: give at least one BED/narrowPeak file of peaks, e.g. "
                         "data.peaks: [atac_peaks.narrowPeak]")
    if cfg.window < 1 or not 1 <= layout.output_length <= cfg.window:
        raise BiodlError(f"data.window ({cfg.window}) and data.output_length "
                         f"({layout.output_length}): need 1 <= output_length <= window")
    if (cfg.window - layout.output_length) % 2:
        raise BiodlError(f"data.output_length {layout.output_length}: window - output_length "
                         f"must be even so the targets sit in the middle (and stay there on "
                         f"the reverse strand); try {layout.output_length - 1}")
    if cfg.bin_size < 1 or layout.output_length % cfg.bin_size:
        raise BiodlError(f"data.bin_size {cfg.bin_size}: must divide data.output_length "
                         f"({layout.output_length})")
    if cfg.background < 0 or cfg.augment.jitter < 0:
        raise BiodlError("data.background and data.augment.jitter must be >= 0")


def used_chroms(cfg: CoverageData, genome: Genome) -> list[str]:
    if not cfg.chroms:
        return list(genome.index)
    missing = [c for c in cfg.chroms if c not in genome.index]
    if missing:
        raise BiodlError(f"data.chroms: {missing[:3]} not in {cfg.genome} (chromosomes: "
                         f"{', '.join(list(genome.index)[:8])}, ...)")
    return list(cfg.chroms)
