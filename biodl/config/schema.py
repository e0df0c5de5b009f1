"""The typed schema of a biodl config: one dataclass per YAML section, with defaults.

A YAML file only states what differs from these defaults. Keys in `trainer` are named exactly
as the arguments of Lightning's `Trainer`; `model.name` picks a registered model and the other
`model` keys are its constructor arguments (checked against its signature in `biodl.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union


@dataclass
class SplitConfig:
    val: float = 0.1  # fraction of each class held out for validation
    test: float = 0.1  # fraction of each class held out for the final test
    seed: int = 0  # the split's own seed, so changing the training seed keeps the split


@dataclass
class AugmentConfig:
    """Applied to training batches only, on the fly."""

    reverse_complement: bool = False  # each sequence read from either strand with p = 0.5
    shift: int = 0  # shift each sequence by up to this many bases either way


@dataclass
class SequenceData:
    """What every sequence data format shares: encoding, split, augmentation, batches."""

    length: Optional[int] = None  # pad (with N) or centre-crop to this; None: all the same
    unknown: Literal["zeros", "uniform", "iupac", "error"] = "zeros"  # N and IUPAC codes
    lowercase: Literal["upper", "n", "error"] = "upper"  # soft-masked bases
    split: SplitConfig = field(default_factory=SplitConfig)  # used when no split files
    leakage: Literal["warn", "error", "ignore"] = "warn"  # identical sequences train vs test
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


@dataclass
class TableData(SequenceData):
    """CSV/TSV files with a sequence column and label columns (e.g. GUE's train/dev/test)."""

    format: Literal["table"] = "table"
    train: Optional[Path] = None
    val: Optional[Path] = None  # with train/val/test files the dataset's own split is used
    test: Optional[Path] = None
    sequence_column: str = "sequence"
    label_columns: list[str] = field(default_factory=lambda: ["label"])
    id_column: Optional[str] = None  # default: the row number
    target: Target = "class"  # class: one column of class labels; else one column per output


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
}
DataConfig = Union[FastaClassesData, TableData, FastaLabelsData, ImageData]


@dataclass
class ModelConfig:
    name: str = "cnn1d"
    kwargs: dict[str, Any] = field(default_factory=dict)  # the model's constructor arguments


@dataclass
class OptimizerConfig:
    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"] = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0  # sgd, rmsprop
    nesterov: bool = False  # sgd
    betas: tuple[float, float] = (0.9, 0.999)  # adam, adamw
    eps: float = 1e-8


@dataclass
class SchedulerConfig:
    name: Literal["none", "step", "cosine", "plateau", "onecycle"] = "none"
    step_size: int = 10  # step: epochs between decays
    gamma: float = 0.1  # step: decay factor
    factor: float = 0.1  # plateau: decay factor
    patience: int = 3  # plateau: epochs without improvement
    monitor: str = "val/loss"  # plateau
    min_lr: float = 0.0  # cosine, plateau
    max_lr: Optional[float] = None  # onecycle; default 10 x optimizer.lr
    pct_start: float = 0.3  # onecycle: fraction of steps spent warming up


@dataclass
class TaskConfig:
    # auto: bce for 2 classes and multilabel, cross_entropy for more classes, mse for regression
    loss: Literal["auto", "cross_entropy", "bce", "mse", "poisson"] = "auto"
    metrics: Optional[list[str]] = None  # default: every metric of the task's kind
    class_weights: Union[Literal["none", "balanced"], list[float]] = "none"
    l1: float = 0.0  # L1 penalty on weights, added to the loss
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)


@dataclass
class TrainerConfig:
    """Passed as keyword arguments to `lightning.Trainer`; the names are Lightning's."""

    max_epochs: int = 20
    min_epochs: Optional[int] = None
    max_steps: int = -1
    max_time: Optional[str] = None  # "DD:HH:MM:SS"
    accelerator: str = "auto"
    devices: Union[int, str, list[int]] = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: Union[int, str] = "32-true"
    gradient_clip_val: Optional[float] = None
    gradient_clip_algorithm: Literal["norm", "value"] = "norm"
    deterministic: Union[bool, Literal["warn"]] = False
    benchmark: Optional[bool] = None
    accumulate_grad_batches: int = 1
    limit_train_batches: Union[int, float] = 1.0
    limit_val_batches: Union[int, float] = 1.0
    limit_test_batches: Union[int, float] = 1.0
    val_check_interval: Optional[Union[int, float]] = None
    check_val_every_n_epoch: int = 1
    log_every_n_steps: int = 50
    num_sanity_val_steps: int = 2
    enable_progress_bar: bool = True
    enable_model_summary: bool = True
    sync_batchnorm: bool = False


@dataclass
class EarlyStoppingConfig:
    enabled: bool = True
    monitor: str = "val/loss"
    mode: Literal["min", "max"] = "min"
    patience: int = 5
    min_delta: float = 0.0


@dataclass
class CheckpointConfig:
    monitor: str = "val/loss"  # the best checkpoint by this metric is the one tested
    mode: Literal["min", "max"] = "min"
    save_last: bool = True
    dir: Path = Path("biodl_runs")  # checkpoints go to <dir>/<mlflow run id>/


@dataclass
class CallbacksConfig:
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)


@dataclass
class TrackingConfig:
    uri: Optional[str] = None  # default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns.db here
    experiment: str = "biodl"
    run_name: Optional[str] = None
    tags: dict[str, str] = field(default_factory=dict)
    log_checkpoint: bool = True  # upload the best checkpoint as a run artifact


@dataclass
class Config:
    name: str = "biodl"
    seed: int = 0
    data: DataConfig = field(default_factory=FastaClassesData)
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
