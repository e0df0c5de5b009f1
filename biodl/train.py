"""`fit(cfg)`: the one module that wires data, model, task, tracking and the Trainer together."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import logging
import warnings
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.utilities import rank_zero_only
from pytorch_lightning.utilities.model_summary import ModelSummary

from biodl import checkpoints, fitlog, hardware, record, tracking, transfer
from biodl.callbacks import (EpochSummary, GradientMonitor, RandomState, SlurmPreemption,
                             TermCheckpoint, stop_reason)
from biodl.config import Config, dump_yaml, flatten, to_dict
from biodl.data.base import DataFormat
from biodl.data.formats import build_datamodule
from biodl.data.spec import Target
from biodl.errors import BiodlError
from biodl.models import build_model, check_model_kwargs, count_parameters, model_arguments
from biodl.tasks import Task, build_task, load_task, model_outputs, task_mode
from biodl.tasks import coverage, lm, seq2seq, tagging

# targets whose task takes the data module's plain values: (cfg, model, model spec, input spec,
# data module) -> the task
SEQUENCE_TASKS = {
    Target.TAGS: lambda cfg, model, ms, spec, dm: tagging.build(cfg.task, model, ms, spec,
                                                                dm.class_counts()),
    Target.SEQ2SEQ: lambda cfg, model, ms, spec, dm: seq2seq.build(cfg.task, model, ms, spec),
    Target.LM: lambda cfg, model, ms, spec, dm: lm.build(cfg.task, model, ms, spec,
                                                         cfg.trainer.gradient_clip_val),
    Target.COVERAGE: lambda cfg, model, ms, spec, dm: coverage.build(cfg.task, model, ms, spec,
                                                                     dm.count_summary()),
}


@dataclass
class FitResult:
    run_id: str
    test_metrics: dict[str, float]
    best_checkpoint: Path
    seconds: float
    stop_reason: str = ""


def fit(cfg: Config, echo=print, resume: str | None = None, register: str | None = None,
        parent: str | None = None, callbacks: Sequence[pl.Callback] = ()) -> FitResult:
    """Train, validate every epoch, test the best checkpoint; everything recorded in MLflow.

    `resume`: the id of a run to continue from its last checkpoint, into the same run.
    `register`: a model-registry name to register the best checkpoint under. `parent`: a run
    to nest the new run under; `callbacks`: more callbacks (a tune trial's pruning)."""
    started = time.perf_counter()
    _quiet_lightning()
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    hardware.set_threads(cfg.threads)
    precision_choice = resolve_precision(cfg)
    check_model_kwargs(cfg.model.name, cfg.model.kwargs)  # config errors before reading data
    cfg.callbacks.checkpoint.dir = Path(cfg.callbacks.checkpoint.dir).resolve()
    last = resume_checkpoint(cfg, resume, echo) if resume else None
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")  # read and check the data before a run is opened
    task = build_task_for(cfg, datamodule)

    logger = open_run(cfg, task, datamodule, resume, precision_choice, parent)
    # other DDP ranks have no run id; ModelCheckpoint broadcasts rank 0's folder at setup
    checkpoint = checkpoint_callback(cfg, logger.run_id or "not-rank-zero")
    # the run's folder also takes mid-epoch checkpoints (hpc_ckpt_N.ckpt: SIGTERM, Slurm)
    log_file = (Path(checkpoint.dirpath) / "fit.log" if is_rank_zero() else
                Path(tempfile.gettempdir()) / f"biodl-fit-rank{rank_zero_only.rank}.log")
    with tracking.run_outcome(logger), fitlog.library_output_to(log_file) as log:
        log.write(str(ModelSummary(task, max_depth=2)))
        trainer = pl.Trainer(**trainer_arguments(cfg, task), logger=logger,
                             callbacks=[checkpoint, ConfigInCheckpoint(dump_yaml(cfg)),
                                        *other_callbacks(cfg, echo), *callbacks],
                             default_root_dir=checkpoint.dirpath)
        trainer.fit(task, datamodule=datamodule, ckpt_path=str(last) if last else None)
        reason = stop_reason(trainer)
        echo(f"stopped: {reason}")
        best = Path(checkpoint.best_model_path or checkpoint.last_model_path)
        results = trainer.test(task, datamodule=datamodule, ckpt_path=str(best), verbose=False)
        if is_rank_zero():
            tracking.set_tags(logger, {"biodl.stop_reason": reason})
            record.artifacts(task, datamodule, logger, trainer.callbacks,
                             cfg.callbacks.checkpoint.monitor, cfg.callbacks.checkpoint.mode)
            if cfg.tracking.log_checkpoint or register:
                tracking.log_artifact(logger, best, "checkpoints")
            record.model(task, datamodule, logger, best, register, echo)
            tracking.log_artifact(logger, log.path, "logs")
    if log.warnings and is_rank_zero():
        echo(f"{log.warnings} library warning(s) went to {log.path} (also the run's logs/)")
    metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    run_id = logger.run_id if is_rank_zero() else None  # other DDP ranks stay quiet
    return FitResult(run_id, metrics, best, time.perf_counter() - started, reason)


def open_run(cfg: Config, task: Task, datamodule: DataFormat, resume: str | None,
             precision_choice: str, parent: str | None = None):
    """The MLflow logger of a new run (params, config, tags recorded) or of the resumed one."""
    logger = tracking.make_logger(cfg.tracking, run_id=resume, parent=parent)
    if not resume and is_rank_zero():  # under DDP only rank 0 records; others get a no-op
        params = {**flatten(to_dict(cfg)), "model_parameters": count_parameters(task.model)}
        if precision_choice:
            params["precision_choice"] = precision_choice
        tracking.record_run_start(logger, params, dump_yaml(cfg), datamodule.input_files)
        note_run_id(logger.run_id)
    return logger


def is_rank_zero() -> bool:
    return rank_zero_only.rank == 0


def resume_checkpoint(cfg: Config, run_id: str, echo=print) -> Path:
    """The newest readable of the run's last.ckpt (end of each epoch), mid-epoch checkpoints
    (hpc_ckpt_N.ckpt: SIGTERM, Slurm pre-emption) and best.ckpt; an unreadable newer one is
    named and skipped."""
    folder = Path(cfg.callbacks.checkpoint.dir) / run_id
    candidates = checkpoints.resume_candidates(folder)
    if not candidates:
        raise BiodlError(f"run {run_id}: no checkpoint to resume from in {folder} (last.ckpt "
                         "is written after each epoch); start a new fit instead")
    usable, skipped = checkpoints.first_readable(candidates)
    broken = "; ".join(f"{p.name} is unreadable ({reason})" for p, reason in skipped)
    if usable is None:
        raise BiodlError(f"run {run_id}: no readable checkpoint in {folder}: {broken}; "
                         "start a new fit instead")
    if not is_rank_zero():
        return usable
    if skipped:
        echo(f"warning: {folder}: {broken}; resuming from {usable.name}, the newest readable")
    else:
        echo(f"resuming run {run_id} from {usable}")
    return usable


def note_run_id(run_id: str) -> None:
    """Write the run id where $BIODL_RUN_FILE says (a requeued Slurm job resumes it)."""
    target = os.environ.get("BIODL_RUN_FILE")
    if target:
        Path(target).write_text(run_id + "\n")


def resolve_precision(cfg: Config) -> str:
    """Replace `trainer.precision: auto` by the machine's choice; why, or "" if it was set."""
    if cfg.trainer.precision != "auto":
        return ""
    cfg.trainer.precision, reason = hardware.choose_precision(cfg.trainer.accelerator)
    return reason


def evaluate(cfg: Config, checkpoint: Path, split: str = "test") -> dict[str, float]:
    """Metrics of a checkpoint on a split of the config's data, without recording a run."""
    _quiet_lightning()
    hardware.set_threads(cfg.threads)
    resolve_precision(cfg)
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    task = load_task(checkpoint)
    # the config's strand handling, --set included
    task.test_reverse_complement = datamodule.input_spec().strands == "both"
    trainer = pl.Trainer(**{**trainer_arguments(cfg, task), "devices": 1, "num_nodes": 1,
                            "strategy": "auto"}, logger=False, callbacks=[])
    run = trainer.test if split == "test" else trainer.validate
    results = run(task, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in (results[0] if results else {}).items()}


class ConfigInCheckpoint(pl.Callback):
    """The resolved config travels inside every checkpoint, for `biodl test CKPT`."""

    def __init__(self, config_yaml: str):
        self.config_yaml = config_yaml

    def on_save_checkpoint(self, trainer, module, checkpoint: dict) -> None:
        checkpoint["biodl_config"] = self.config_yaml


def build_task_for(cfg: Config, datamodule: DataFormat) -> Task:
    """The task and its model, sized by what the data module found; the input spec travels
    in the task's hyperparameters (and so in every checkpoint)."""
    input_spec = datamodule.input_spec()
    if datamodule.target in SEQUENCE_TASKS:
        spec = model_spec_for(cfg, datamodule.model_kwargs())
        model = prepare_model(cfg, spec)
        return SEQUENCE_TASKS[datamodule.target](cfg, model, spec, input_spec.to_dict(),
                                                 datamodule)
    mode = task_mode(cfg.task.loss, datamodule.target.value, datamodule.num_outputs)
    decided = {**datamodule.model_kwargs(), "num_outputs": model_outputs(mode, datamodule.num_outputs)}
    spec = model_spec_for(cfg, decided)
    model = prepare_model(cfg, spec)
    return build_task(cfg.task, model, mode, datamodule.output_names, datamodule.class_counts(),
                      spec, num_examples=len(datamodule.datasets["train"]),
                      input_spec=input_spec.to_dict(),
                      test_reverse_complement=input_spec.strands == "both")


def prepare_model(cfg: Config, spec: dict):
    """Build the model; with `finetune.init_from`, start from saved weights (new head)."""
    model = build_model(spec["name"], **spec["kwargs"])
    if cfg.finetune.init_from:
        report = transfer.init_from(model, cfg.finetune.init_from)
        logging.getLogger("biodl").info("init from %s: %d tensors loaded, %d left as "
                                        "initialised", cfg.finetune.init_from,
                                        len(report.loaded) + len(report.adapted),
                                        len(report.missing))
    if cfg.finetune.freeze_backbone:
        transfer.freeze_backbone(model)
    return model


def model_spec_for(cfg: Config, decided: dict) -> dict:
    """The model's registry name and arguments; the data decides sizes the config leaves out
    (`decided`: e.g. num_outputs, in_channels), where the model takes them."""
    kwargs = check_model_kwargs(cfg.model.name, cfg.model.kwargs)
    accepted = model_arguments(cfg.model.name)
    kwargs = {**{k: v for k, v in decided.items() if k in accepted}, **kwargs}
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    return {"name": cfg.model.name, "kwargs": kwargs}


def trainer_arguments(cfg: Config, task: Task) -> dict:
    """Lightning's Trainer arguments from the config; a task that steps its optimiser itself
    (truncated BPTT) clips gradients itself, and Lightning refuses to do it too."""
    arguments = dataclasses.asdict(cfg.trainer)
    arguments["enable_autolog_hparams"] = False  # the flattened config is logged as params
    if not interactive():  # a log file or CI: EpochSummary's one line per epoch instead
        arguments["enable_progress_bar"] = False
    # checkpoints written beside their target and renamed: a failed write keeps the old one
    arguments["plugins"] = [checkpoints.AtomicCheckpointIO()]
    if under_slurm():  # pre-emption is handled by SlurmPreemption, at a batch boundary
        from lightning_fabric.plugins.environments import SLURMEnvironment

        arguments["plugins"].append(SLURMEnvironment(auto_requeue=False))
    if not task.automatic_optimization:
        arguments["gradient_clip_val"] = None
    return arguments


def checkpoint_callback(cfg: Config, run_id: str) -> ModelCheckpoint:
    ckpt = cfg.callbacks.checkpoint
    return ModelCheckpoint(dirpath=str(Path(ckpt.dir) / run_id), filename="best",
                           monitor=ckpt.monitor, mode=ckpt.mode, save_top_k=1,
                           save_last=ckpt.save_last, auto_insert_metric_name=False)


def interactive() -> bool:
    return sys.stdout.isatty()


def under_slurm() -> bool:
    from lightning_fabric.plugins.environments import SLURMEnvironment

    return SLURMEnvironment.detect()


def other_callbacks(cfg: Config, echo) -> list[pl.Callback]:
    ckpt = cfg.callbacks.checkpoint
    # RNG states and the loader's position: a resumed fit equals an uninterrupted one
    callbacks: list[pl.Callback] = [EpochSummary(echo, ckpt.monitor, ckpt.mode), RandomState(),
                                    TermCheckpoint(echo)]
    if under_slurm():
        callbacks.append(SlurmPreemption())
    monitor = cfg.callbacks.gradient_monitor
    if monitor.enabled:
        callbacks.append(GradientMonitor(monitor.every_n_steps))
    if cfg.trainer.enable_progress_bar and interactive():
        from pytorch_lightning.callbacks import RichProgressBar

        callbacks.append(RichProgressBar(leave=False))
    stop = cfg.callbacks.early_stopping
    if stop.enabled:
        callbacks.append(EarlyStopping(monitor=stop.monitor, mode=stop.mode,
                                       patience=stop.patience, min_delta=stop.min_delta))
    return callbacks


def _quiet_lightning() -> None:
    """Keep Lightning's per-fit banners (GPU available, TPU, ...) out of the user's terminal."""
    for name in ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.accelerators.cuda",
                 "lightning.pytorch.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated")  # Lightning vs torch
    warnings.filterwarnings("ignore", message="The `srun` command is available")  # not a job
