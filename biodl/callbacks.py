"""Callbacks biodl adds to every fit."""

from __future__ import annotations

import math
import os
import random
import subprocess

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only


class EpochSummary(pl.Callback):
    """One line per epoch, at most `WIDTH` characters: train/loss, the monitored metric
    (`*` when it is the best so far), then other validation metrics while they fit.

    In a terminal with the Rich progress bar the line goes through the bar's console, so the
    bar and the epoch lines never share a line."""

    WIDTH = 100
    ORDER = ("train/loss", "val/loss", "val/auroc", "val/acc", "val/mcc", "val/perplexity",
             "val/token_acc", "val/exact_match", "val/pearson", "val/mse", "val/peak_mae")

    def __init__(self, echo=print, monitor: str | None = None, mode: str = "min"):
        self.echo, self.monitor, self.mode = echo, monitor, mode
        self.best: float | None = None

    @rank_zero_only
    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        values = {k: float(v) for k, v in trainer.callback_metrics.items()
                  if not k.endswith("_step") and v.numel() == 1}
        line = self.line(trainer.current_epoch, values)
        console = _rich_console(trainer)
        if console is not None:
            console.print(line, markup=False, highlight=False)
        else:
            self.echo(line)

    def line(self, epoch: int, values: dict[str, float]) -> str:
        best = self._is_best(values.get(self.monitor))
        names = [n for n in ("train/loss", self.monitor) if n in values]
        names += [n for n in self.ORDER if n in values and n not in names]
        names += sorted(n for n in values if n.startswith("val/") and n not in names)
        line = f"epoch {epoch:>3}"
        for name in names:
            item = f"  {name} {values[name]:.4f}" + ("*" if name == self.monitor and best else "")
            if len(line) + len(item) > self.WIDTH:
                break
            line += item
        return line

    def _is_best(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        better = self.best is None or (value < self.best if self.mode == "min" else
                                       value > self.best)
        if better:
            self.best = value
        return better


def _rich_console(trainer: pl.Trainer):
    """The live Rich console of the progress bar, if one is showing."""
    from pytorch_lightning.callbacks import RichProgressBar

    bar = trainer.progress_bar_callback
    if isinstance(bar, RichProgressBar) and bar.is_enabled and bar.progress is not None:
        return bar.progress.console
    return None


def stop_reason(trainer: pl.Trainer) -> str:
    """Why training stopped, in words."""
    from pytorch_lightning.callbacks import EarlyStopping, Timer

    if trainer.interrupted:
        return "interrupted"
    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return (f"early stopping: {callback.monitor} did not improve for "
                    f"{callback.patience} epochs (last epoch {callback.stopped_epoch})")
        if isinstance(callback, Timer) and callback.time_remaining("train") is not None and \
                callback.time_remaining("train") <= 0:
            return f"max_time reached after epoch {trainer.current_epoch - 1}"
    if trainer.max_steps != -1 and trainer.global_step >= trainer.max_steps:
        return f"max_steps={trainer.max_steps} reached"
    return f"max_epochs={trainer.max_epochs} reached"


class GradientMonitor(pl.Callback):
    """Per-layer gradient norms, logged as `grad_norm/<layer>` every `every_n_steps` steps and
    kept in `history` for a plot, so vanishing or exploding gradients are visible.

    A layer is a module that owns parameters directly (a conv, a linear, a batch norm); its
    norm is the L2 norm over all its parameters' gradients.
    """

    def __init__(self, every_n_steps: int = 25):
        self.every_n_steps = every_n_steps
        self.history: dict[str, list[tuple[int, float]]] = {}

    def on_before_optimizer_step(self, trainer: pl.Trainer, module: pl.LightningModule,
                                 optimizer) -> None:
        step = trainer.global_step
        if step % self.every_n_steps:
            return
        norms = layer_grad_norms(module.model if hasattr(module, "model") else module)
        for name, value in norms.items():
            self.history.setdefault(name, []).append((step, value))
        if trainer.logger is not None:
            trainer.logger.log_metrics({f"grad_norm/{k}": v for k, v in norms.items()}, step)


def layer_grad_norms(model) -> dict[str, float]:
    """{layer name: L2 norm of its parameters' gradients}, layers in model order."""
    import torch

    norms = {}
    for name, layer in model.named_modules():
        grads = [p.grad for p in layer.parameters(recurse=False) if p.grad is not None]
        if grads:
            norms[name or "model"] = float(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return norms


class SlurmPreemption(pl.Callback):
    """Checkpoint and requeue when Slurm warns of pre-emption (SIGUSR1, `--signal`).

    Lightning's own handler saves its checkpoint from inside the signal handler, where under
    DDP its barrier can meet another rank's gradient all-reduce and hang. Here the handler only
    sets a flag; at the next batch boundary all ranks agree on it (one scalar all-reduce per
    step, only under Slurm with several processes), save `hpc_ckpt_N.ckpt` together in the
    run's folder, and rank 0 asks Slurm to requeue the job, which resumes into the same run.
    """

    def __init__(self):
        self.requested = False
        self.requested_at_epoch_end = False

    def setup(self, trainer: pl.Trainer, module: pl.LightningModule, stage: str) -> None:
        import signal

        if stage == "fit":
            signal.signal(signal.SIGUSR1, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs,
                           batch, batch_idx: int) -> None:
        """Mid-epoch: checkpoint here. After the epoch's last batch, wait for its validation
        and last.ckpt (`on_train_epoch_end`), or that validation would be lost on resume."""
        if self._agreed(trainer, module) and not trainer.is_last_batch:
            save_batch_checkpoint(trainer)
            self._requeue(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if self.requested_at_epoch_end:
            self._requeue(trainer)  # last.ckpt of this epoch is written: resume from it

    def _agreed(self, trainer: pl.Trainer, module: pl.LightningModule) -> bool:
        """Whether any rank got the signal; at the epoch's last batch, defer to its end."""
        import torch

        flag = torch.tensor(float(self.requested), device=module.device)
        if trainer.world_size > 1:
            flag = trainer.strategy.reduce(flag, reduce_op="max")
        if flag.item() == 0:
            return False
        self.requested = False
        self.requested_at_epoch_end = bool(trainer.is_last_batch)
        return True

    def _requeue(self, trainer: pl.Trainer) -> None:
        self.requested_at_epoch_end = False
        if trainer.is_global_zero:
            subprocess.run(["scontrol", "requeue", os.environ["SLURM_JOB_ID"]], check=False)
        trainer.should_stop = True


def save_batch_checkpoint(trainer: pl.Trainer) -> str:
    """Save `hpc_ckpt_N.ckpt` (N one more than those there) in the run's folder, between two
    training batches; `biodl fit --resume` continues from the next batch."""
    folder = trainer.checkpoint_callback.dirpath  # the run's folder, as rank 0 chose it
    number = 1 + sum(1 for name in os.listdir(folder) if name.startswith("hpc_ckpt_"))
    number = trainer.strategy.broadcast(number)
    path = os.path.join(folder, f"hpc_ckpt_{number}.ckpt")
    trainer.save_checkpoint(path)
    return path


class TermCheckpoint(pl.Callback):
    """On SIGTERM (a `kill`, a scheduler's time limit, a container stop), checkpoint at the
    next batch boundary; Lightning then ends the fit (the run is marked KILLED) and
    `biodl fit --resume RUN_ID` continues from the next batch. At an epoch's last batch
    Lightning first finishes the epoch (validation, last.ckpt), so nothing is saved here.
    One process only: under DDP the ranks would have to agree first (see SlurmPreemption)."""

    def __init__(self, echo=print):
        self.echo = echo

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs,
                           batch, batch_idx: int) -> None:
        if trainer.received_sigterm and not trainer.is_last_batch and trainer.world_size == 1:
            path = save_batch_checkpoint(trainer)
            run_id = os.path.basename(os.path.dirname(path))
            self.echo(f"SIGTERM: saved {path} after batch {batch_idx} of epoch "
                      f"{trainer.current_epoch}; continue with `biodl fit --resume {run_id}`")


class RandomState(pl.Callback):
    """Every checkpoint carries the RNG states training draws from (torch and CUDA: dropout,
    mixup; numpy's and Python's global ones), restored when a resumed fit starts training, so
    it draws what the uninterrupted fit would have. The batch order and augmentation are
    functions of (seed, epoch, batch) and travel as the training loader's position.
    Under DDP each rank has its own states and only rank 0's are saved: not restored there."""

    def __init__(self):
        self.pending: dict | None = None

    def state_dict(self) -> dict:
        import numpy as np
        import torch

        _, keys, position, has_gauss, gauss = np.random.get_state()
        state = {"torch": torch.get_rng_state(), "python": random.getstate(),
                 "numpy": {"keys": keys.tolist(), "position": int(position),
                           "has_gauss": int(has_gauss), "gauss": float(gauss)}}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.pending = state  # applied at train start, after Lightning's own set-up draws

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        import numpy as np
        import torch

        state, self.pending = self.pending, None
        if state is None or trainer.world_size > 1:
            return
        torch.set_rng_state(state["torch"])
        random.setstate(_as_tuples(state["python"]))
        n = state["numpy"]
        np.random.set_state(("MT19937", np.asarray(n["keys"], dtype=np.uint32), n["position"],
                             n["has_gauss"], n["gauss"]))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuples(value):
    """random.setstate wants the tuples getstate gave (a checkpoint may hand back lists)."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value
