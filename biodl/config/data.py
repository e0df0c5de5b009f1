"""The data section of a config: one dataclass per input format, chosen by `data.format`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

from biodl.config.coverage import CoverageAugment, CoverageData  # noqa: F401
from biodl.config.splits import SplitConfig
from biodl.errors import BiodlError


@dataclass
class AugmentConfig:
    """Applied to training batches only, on the fly."""

    reverse_complement: bool = False  # each sequence read from either strand with p = 0.5
    shift: int = 0  # shift each sequence by up to this many bases either way
    substitution: float = 0.0  # each base replaced by a random base with this probability
    mixup: float = 0.0  # Beta(alpha, alpha) mixing of one-hot pairs and labels; 0: off
    test_reverse_complement: bool = False  # average predictions over both strands at test


@dataclass
class SequenceData:
    """What every sequence data format shares: encoding, split, augmentation, batches."""

    length: Optional[int] = None  # the model's window; None: every sequence's own (all equal)
    # records of another length than `length`: error (refuse, naming them), crop (centre-crop
    # longer ones), pad (centre shorter ones in N), crop_pad (both); never done silently
    length_policy: Literal["error", "crop", "pad", "crop_pad"] = "error"
    # keep each sequence's own length: pad at the end to the longest, and give models that
    # take `lengths` (the RNNs: packed sequences) the true lengths
    variable_length: bool = False
    unknown: Literal["zeros", "uniform", "iupac", "error"] = "zeros"  # N and IUPAC codes
    lowercase: Literal["upper", "n", "error"] = "upper"  # soft-masked bases
    split: SplitConfig = field(default_factory=SplitConfig)  # used when no split files
    leakage: Literal["warn", "error", "ignore"] = "warn"  # identical sequences train vs test
    duplicate_ids: Literal["error", "allow"] = "error"  # repeated record ids in one file
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    batch_size: int = 64
    eval_batch_size: Optional[int] = None  # default: batch_size
    num_workers: int = 0


Target = Literal["class", "multilabel", "regression"]


@dataclass
class FastaClassesData(SequenceData):
    """One FASTA (plain or .gz) per class."""

    format: Literal["fasta"] = "fasta"
    # classes get labels 0, 1, ... in the order listed: in a binary task the second is positive
    classes: dict[str, Path] = field(default_factory=dict)


Delimiter = Literal["auto", ",", "\t", "tab", ";"]


@dataclass
class TableData(SequenceData):
    """CSV/TSV files with a header row, a sequence column and label columns: one `train` file
    split by the `split` fractions, or the dataset's own train/val/test files (both val and
    test, e.g. GUE's train/dev/test; `split` is then unused)."""

    format: Literal["table"] = "table"
    train: Optional[Path] = None
    val: Optional[Path] = None  # give val and test together, or neither
    test: Optional[Path] = None
    # auto: tab for .tsv/.tab/.txt (also under .gz), comma otherwise; or ",", "\t" (tab), ";"
    delimiter: Delimiter = "auto"
    sequence_column: str = "sequence"
    label_columns: list[str] = field(default_factory=lambda: ["label"])
    id_column: Optional[str] = None  # default: the row number
    target: Target = "class"  # class: one column of class labels; else one column per output


def check_table_files(cfg: TableData) -> None:
    """Refuse half a split: a val file without a test file (or the reverse) would otherwise
    leave the other split to fractions of train, an easy mistake to miss."""
    if cfg.train is None:
        raise BiodlError("data.train: format table needs a train file (with data.val and "
                         "data.test files, or alone with data.split fractions)")
    given, missing = ("val", "test") if cfg.test is None else ("test", "val")
    if (cfg.val is None) != (cfg.test is None):
        raise BiodlError(f"data.{given}: given without data.{missing}; give both data.val and "
                         "data.test files (the dataset's own split), or neither and set "
                         "data.split fractions to split data.train")


@dataclass
class FastaLabelsData(SequenceData):
    """A FASTA file plus a CSV/TSV table of labels keyed by record id."""

    format: Literal["fasta_labels"] = "fasta_labels"
    fasta: Optional[Path] = None
    labels: Optional[Path] = None
    id_column: str = "id"
    label_columns: list[str] = field(default_factory=list)  # default: every other column
    target: Target = "multilabel"


@dataclass
class GenomeData(SequenceData):
    """Fixed-length windows of a genome FASTA around BED/narrowPeak intervals, read lazily."""

    format: Literal["genome"] = "genome"
    genome: Optional[Path] = None  # plain FASTA; its .fai index is built when missing
    # one BED/narrowPeak per label; one file: binary (window in a peak or not), several:
    # multilabel (one output per file), windows centred on each file's intervals
    intervals: dict[str, Path] = field(default_factory=dict)
    window: int = 200
    negatives: float = 1.0  # negative windows sampled per positive, from the rest of the genome
    max_n: float = 0.5  # skip sampled negatives with more N than this fraction
    val_chroms: list[str] = field(default_factory=list)  # held-out chromosomes
    test_chroms: list[str] = field(default_factory=list)


@dataclass
class GroupSplitConfig:
    """Split by group (contig or chromosome) so no sequence spans two splits."""

    val: float = 0.1  # fraction of groups, by total length, for validation
    test: float = 0.1
    seed: int = 0
    val_groups: list[str] = field(default_factory=list)  # explicit groups override fractions
    test_groups: list[str] = field(default_factory=list)
    # k-fold cross-validation (`biodl cv`): with folds >= 2 the test split is fold `fold` of
    # `folds` folds of whole groups, balanced by size (`test` unused); val is `val` of the rest
    folds: int = 0
    fold: int = 0


@dataclass
class GenbankTagsData:
    """Per-base labels from GenBank features (e.g. coding vs non-coding from CDS)."""

    format: Literal["genbank_tags"] = "genbank_tags"
    genbank: Optional[Path] = None  # GenBank file (plain or .gz), one record per contig
    features: list[str] = field(default_factory=lambda: ["CDS"])  # feature types labelled 1
    window: int = 1000  # contigs are cut into windows of this many bases
    stride: Optional[int] = None  # default: window (no overlap)
    input: Literal["onehot", "tokens"] = "onehot"
    unknown: Literal["zeros", "uniform", "iupac", "error"] = "zeros"
    split: GroupSplitConfig = field(default_factory=GroupSplitConfig)
    batch_size: int = 32
    eval_batch_size: Optional[int] = None
    num_workers: int = 0


@dataclass
class PairsData:
    """Paired sequences for seq2seq, e.g. a CDS and its protein, from a CSV/TSV table."""

    format: Literal["pairs"] = "pairs"
    table: Optional[Path] = None
    source_column: str = "cds"
    target_column: str = "protein"
    group_column: Optional[str] = "contig"  # split by group; None: split by row
    id_column: Optional[str] = None  # names each pair in recorded predictions; default: row number
    max_source_length: Optional[int] = None  # longer pairs are skipped (and counted)
    max_target_length: Optional[int] = None
    split: GroupSplitConfig = field(default_factory=GroupSplitConfig)
    batch_size: int = 32
    eval_batch_size: Optional[int] = None
    num_workers: int = 0


@dataclass
class LanguageData:
    """Windows of a genome (FASTA or GenBank) for next-base language modelling."""

    format: Literal["lm"] = "lm"
    genome: Optional[Path] = None  # FASTA or GenBank; each record is a contig
    window: int = 512
    stride: Optional[int] = None
    split: GroupSplitConfig = field(default_factory=GroupSplitConfig)
    batch_size: int = 32
    eval_batch_size: Optional[int] = None
    num_workers: int = 0


@dataclass
class EpidemicData:
    """Simulated outbreaks of an SIR model with deaths: the first `observe` days of the series
    in `inputs` -> the next `horizon` days of the infected curve (percent of the population)."""

    format: Literal["sir"] = "sir"
    outbreaks: int = 4000  # simulated outbreaks, each one example
    seed: int = 0  # the simulation's own seed, so changing the training seed keeps the data
    population: int = 1_000_000
    # per-outbreak rates, each drawn uniformly from [low, high] (per day); R0 = beta / mu
    beta: tuple[float, float] = (0.2, 0.45)  # infection rate
    mu: tuple[float, float] = (0.07, 0.12)  # removal rate (recovery or death)
    nu: tuple[float, float] = (0.9, 0.99)  # fraction of removals that recover; 1 - nu die
    infected0: tuple[float, float] = (1e-5, 1e-4)  # initial infected fraction, log-uniform
    observe: int = 30  # days of observed series given to the model
    horizon: int = 60  # days forecast after them
    inputs: list[Literal["infected", "deaths"]] = field(default_factory=lambda: ["infected"])
    noise: float = 0.0  # sd of multiplicative log-normal noise on the observed series only
    transform: Literal["log", "linear"] = "log"  # inputs as log10(percent + one person)
    split: SplitConfig = field(default_factory=SplitConfig)  # by outbreak
    batch_size: int = 64
    eval_batch_size: Optional[int] = None
    num_workers: int = 0


@dataclass
class ImageAugmentConfig:
    """Applied to training batches on the training device (not per image in Python)."""

    hflip: bool = False  # random horizontal flips, p = 0.5
    vflip: bool = False  # random vertical flips, p = 0.5
    rot90: bool = False  # random multiples of 90 degrees
    crop_scale: Optional[tuple[float, float]] = None  # random resized crop, area fraction range
    brightness: float = 0.0  # jitter: multiply by 1 + U(-b, b)
    contrast: float = 0.0  # jitter: scale around the mean by 1 + U(-c, c)
    erasing: float = 0.0  # probability of erasing a random rectangle
    mixup: float = 0.0  # Beta(alpha, alpha) mixing of image pairs and labels; 0: off
    cutmix: float = 0.0  # Beta(alpha, alpha) box pasting between pairs; 0: off


@dataclass
class ImageData:
    """Cell images: a folder per class, or a CSV manifest `path,label[,split]`."""

    format: Literal["images"] = "images"
    root: Optional[Path] = None  # folder with one sub-folder of images per class
    manifest: Optional[Path] = None  # CSV; image paths relative to the manifest's folder
    channels: Optional[list[str]] = None  # declared channel names, in order; count is checked
    size: int = 64  # images are resized to size x size
    resize: Literal["resize", "center_crop"] = "resize"  # center_crop: crop the largest square
    normalize: bool = True  # per-channel mean/std from the training split, saved with the model
    split: SplitConfig = field(default_factory=SplitConfig)  # when the manifest has no split
    augment: ImageAugmentConfig = field(default_factory=ImageAugmentConfig)
    sampler: Literal["none", "weighted"] = "none"  # weighted: classes drawn equally often
    batch_size: int = 64
    eval_batch_size: Optional[int] = None
    num_workers: int = 0


DATA_FORMATS: dict[str, type] = {
    "fasta": FastaClassesData,
    "table": TableData,
    "fasta_labels": FastaLabelsData,
    "images": ImageData,
    "genome": GenomeData,
    "genbank_tags": GenbankTagsData,
    "pairs": PairsData,
    "lm": LanguageData,
    "sir": EpidemicData,
    "coverage": CoverageData,
}
DataConfig = Union[FastaClassesData, TableData, FastaLabelsData, ImageData, GenomeData,
                   GenbankTagsData, PairsData, LanguageData, EpidemicData, CoverageData]
