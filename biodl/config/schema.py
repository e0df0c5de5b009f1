"""The typed schema of a biodl config: one dataclass per YAML section, with defaults.

A YAML file only states what differs from these defaults. Keys in `trainer` are named exactly
as the arguments of Lightning's `Trainer`; `model.name` picks a registered model and the other
`model` keys are its constructor arguments (checked against its signature in `biodl.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from biodl.config.data import (DATA_FORMATS, AugmentConfig, CoverageData,  # noqa: F401
                               DataConfig,
                               FastaClassesData, FastaLabelsData, GenbankTagsData, GenomeData,
                               GroupSplitConfig, ImageAugmentConfig, ImageData, LanguageData,
                               PairsData, SequenceData, SplitConfig, TableData)


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
    loss: Literal["auto", "cross_entropy", "bce", "mse", "poisson", "hinge", "multinomial",
                  "poisson_multinomial"] = "auto"  # hinge: multi-class hinge (margin) loss on
    # C logits; coverage: poisson, multinomial (BPNet: profile NLL + count_weight x log-count
    # MSE), poisson_multinomial (Borzoi/gReLU), mse on log1p; auto: multinomial
    # coverage: weight of the log-count MSE in the multinomial loss; auto: ChromBPNet's median
    # total counts per training window / 10 (at least 1)
    count_weight: Union[Literal["auto"], float] = "auto"
    metrics: Optional[list[str]] = None  # default: every metric of the task's kind
    class_weights: Union[Literal["none", "balanced"], list[float]] = "none"
    l1: float = 0.0  # L1 penalty on weights, added to the loss
    teacher_forcing: float = 1.0  # seq2seq: probability of feeding the true previous token
    beam_size: int = 1  # seq2seq evaluation: 1 is greedy decoding
    tbptt_steps: Optional[int] = None  # truncated backprop through time: chunk length
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
    # auto: bf16-mixed on a GPU with bf16 or a CPU with native bf16 (AMX, AVX-512 BF16),
    # 32-true otherwise; the choice is recorded as the run's trainer.precision param
    precision: Union[int, str] = "auto"
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
    enable_model_summary: bool = False  # the summary goes to the run's logs/fit.log instead
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
class GradientMonitorConfig:
    enabled: bool = False  # per-layer gradient norms to MLflow and a plot of them
    every_n_steps: int = 25


@dataclass
class CallbacksConfig:
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    gradient_monitor: GradientMonitorConfig = field(default_factory=GradientMonitorConfig)


@dataclass
class FinetuneConfig:
    """Start from saved weights (transfer learning): layers whose names and shapes match are
    loaded, the rest (e.g. a head of another size) keep their fresh initialisation."""

    init_from: Optional[Path] = None  # a biodl checkpoint, or a state_dict (.pt/.pth)
    freeze_backbone: bool = False  # train only the head (`fc` / `head` / `out` layers)


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
    threads: Optional[int] = None  # torch's CPU threads for this fit; None: one per core
    data: DataConfig = field(default_factory=FastaClassesData)
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
