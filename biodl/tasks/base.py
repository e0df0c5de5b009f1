"""What every supervised task shares: the step loop, logging, L1, optimiser and scheduler.

A task receives any `nn.Module` mapping a batch's `x` to outputs; its other constructor
arguments are plain values saved in the checkpoint with the model's registry name and
arguments (`model_spec`), so `biodl.tasks.load_task(path)` rebuilds the whole thing.
Subclasses say how outputs become a loss (`loss`) and metric inputs (`predictions`).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn
from torchmetrics import MetricCollection

from biodl.tasks.optim import build_optimizer, build_scheduler


class Task(pl.LightningModule):
    kind = "task"

    def __init__(self, model: nn.Module, l1: float = 0.0, optimizer: dict | None = None,
                 scheduler: dict | None = None, test_reverse_complement: bool = False):
        super().__init__()
        self.model = model
        self.test_reverse_complement = test_reverse_complement
        self.l1 = l1
        self.optimizer_cfg = optimizer or {"name": "adamw", "lr": 1e-3, "weight_decay": 0.0,
                                           "betas": (0.9, 0.999), "eps": 1e-8}
        self.scheduler_cfg = scheduler or {"name": "none"}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["biodl_task"] = self.kind  # which Task class load_task rebuilds
        if hasattr(self, "_loss_sum"):  # a mid-epoch checkpoint continues the epoch's mean
            checkpoint["biodl_train_loss"] = {"sum": self._loss_sum.detach().cpu(),
                                              "count": self._loss_count}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        running = checkpoint.get("biodl_train_loss")
        if running is not None:
            self._loss_sum, self._loss_count = running["sum"], running["count"]

    def make_metrics(self, prefix: str) -> MetricCollection:
        raise NotImplementedError

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """The labels as the metrics take them."""
        return y

    def init_metrics(self) -> None:
        self.val_metrics = self.make_metrics("val/")
        self.test_metrics = self.make_metrics("test/")

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None and self._takes_lengths():
            return self.model(x, lengths)  # variable-length input (packed in RNNs)
        return self.model(x)

    def _takes_lengths(self) -> bool:
        return "lengths" in inspect.signature(self.model.forward).parameters

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch["x"], batch.get("lengths")), batch["y"])
        self.log_train_loss(loss, len(batch["y"]), batch_idx)
        if self.l1:
            loss = loss + self.l1 * self.l1_norm()
        return loss

    def log_train_loss(self, loss: torch.Tensor, size: int, batch_idx: int) -> None:
        """`train/loss` (the epoch's mean) and `train/loss_step` every log_every_n_steps.

        Each `self.log` call costs about 1 ms in Lightning, several percent of a small
        model's step on a CPU, so the epoch mean is kept here and logged once, on the last batch.
        """
        if batch_idx == 0 or not hasattr(self, "_loss_sum"):
            self._loss_sum, self._loss_count = torch.zeros((), device=loss.device), 0
        self._loss_sum = self._loss_sum.to(loss.device)  # restored from a checkpoint on the CPU
        self._loss_sum = self._loss_sum + loss.detach() * size
        self._loss_count += size
        every = self.trainer.log_every_n_steps if self._trainer else 1
        if batch_idx % every == 0:
            self.log("train/loss_step", loss, on_step=True, on_epoch=False, prog_bar=True,
                     batch_size=size)
        if not self._trainer or self.trainer.is_last_batch:
            self.log("train/loss", self._loss_sum / self._loss_count, on_step=False,
                     on_epoch=True, batch_size=1, sync_dist=True)
            # examples this process trained on this epoch: under DDP, rank 0's share
            self.log("train/examples", float(self._loss_count), on_step=False, on_epoch=True,
                     batch_size=1)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val", self.val_metrics)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test", self.test_metrics)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.predictions(self.test_outputs(batch["x"], batch.get("lengths")))

    def test_outputs(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs at test time: with `test_reverse_complement`, the mean of both strands'
        (one-hot in ACGT order: the reverse complement flips channels and positions; not for
        variable-length input, whose padding would move to the front)."""
        if not self.test_reverse_complement or lengths is not None:
            return self(x, lengths)
        return (self(x) + self(x.flip(-2, -1))) / 2

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        lengths = batch.get("lengths")
        outputs = (self.test_outputs(batch["x"], lengths) if split == "test"
                   else self(batch["x"], lengths))
        size = len(batch["y"])
        self.log(f"{split}/loss", self.loss(outputs, batch["y"]), prog_bar=True,
                 batch_size=size, sync_dist=True)
        metrics.update(self.predictions(outputs), self.targets(batch["y"]))
        self.log_dict(metrics, batch_size=size)

    def l1_norm(self) -> torch.Tensor:
        return sum(p.abs().sum() for p in self.model.parameters() if p.ndim > 1)

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.model, self.optimizer_cfg)
        sched = self.scheduler_cfg
        # only one-cycle needs the step count, and estimating it loads the train dataloader
        steps = int(self.trainer.estimated_stepping_batches) if sched["name"] == "onecycle" else 0
        scheduler = build_scheduler(optimizer, sched, self.optimizer_cfg["lr"],
                                    self.trainer.max_epochs or 1, steps)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
