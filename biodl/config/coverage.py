"""The `coverage` data format's config: BigWig tracks along a genome (biodl.data.coverage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

from biodl.config.splits import SplitConfig


@dataclass
class CoverageAugment:
    """Applied to training windows only, on the fly."""

    jitter: int = 0  # shift each window by up to this many bases either way (targets move too)
    reverse_complement: bool = False  # read either strand (profiles flipped, +/- swapped)
    test_reverse_complement: bool = False  # average predictions over both strands at test


@dataclass
class CoverageData:
    """Coverage tracks (BigWig) along a genome FASTA: windows around peaks and background,
    per-base or binned targets, read lazily (see `biodl.data.coverage`)."""

    format: Literal["coverage"] = "coverage"
    genome: Optional[Path] = None  # plain FASTA; its .fai index is built when missing
    # name -> one BigWig (unstranded), or [plus, minus] BigWigs of one stranded assay
    tracks: dict[str, Union[Path, list[Path]]] = field(default_factory=dict)
    peaks: list[Path] = field(default_factory=list)  # BED/narrowPeak; windows on summits
    window: int = 2114  # input bases per window
    output_length: Optional[int] = None  # central bases with targets; default: window
    bin_size: int = 1  # bases per target bin; 1: base resolution
    bin_reduce: Literal["sum", "mean"] = "sum"  # sum keeps counts (Poisson, multinomial)
    background: float = 0.1  # background windows per peak window, from outside every peak
    max_n: float = 0.5  # skip background windows with more N than this fraction
    edge: Literal["error", "drop"] = "error"  # peaks whose window runs off a chromosome
    # chromosomes used (peaks elsewhere are left out); default: every one of the genome
    chroms: list[str] = field(default_factory=list)
    val_chroms: list[str] = field(default_factory=list)  # held-out chromosomes
    test_chroms: list[str] = field(default_factory=list)
    unknown: Literal["zeros", "uniform", "iupac"] = "zeros"  # N and IUPAC codes
    lowercase: Literal["upper", "n"] = "upper"
    augment: CoverageAugment = field(default_factory=CoverageAugment)
    split: SplitConfig = field(default_factory=SplitConfig)  # its seed draws the background
    batch_size: int = 64
    eval_batch_size: Optional[int] = None
    num_workers: int = 0
