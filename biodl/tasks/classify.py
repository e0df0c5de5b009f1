"""Classification as a LightningModule: owns the loss, the metrics and the optimiser.

It receives any `nn.Module` mapping a batch's `x` to logits: (N, 1) for binary cross-entropy,
(N, C) for cross-entropy. Every other constructor argument is a plain value, saved in the
checkpoint's hyperparameters with the model's registry name and arguments (`model_spec`), so
`biodl.tasks.load_task(path)` rebuilds the whole thing.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from biodl.tasks.metrics import classification_metrics
from biodl.tasks.optim import build_optimizer, build_scheduler


class ClassificationTask(pl.LightningModule):
    def __init__(
        self,
        model: nn.Module,
        num_classes: int,
        class_names: list[str] | None = None,
        loss: str = "auto",
        metrics: list[str] | None = None,
        class_weights: list[float] | None = None,
        l1: float = 0.0,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        model_spec: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        self.binary = loss == "bce" or (loss == "auto" and num_classes == 2)
        weights = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.register_buffer("class_weights", weights, persistent=False)
        names = metrics or []
        self.val_metrics = classification_metrics(names, num_classes, "val/")
        self.test_metrics = classification_metrics(names, num_classes, "test/")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(N,) positive-class probability when binary, else (N, C) class probabilities."""
        if self.binary:
            return torch.sigmoid(logits.squeeze(-1))
        probs = logits.softmax(dim=-1)
        return probs[:, 1] if self.hparams.num_classes == 2 else probs

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.binary:
            weight = None
            if self.class_weights is not None:
                weight = self.class_weights[y]  # per-sample weight from its class
            return F.binary_cross_entropy_with_logits(logits.squeeze(-1), y.float(), weight)
        return F.cross_entropy(logits, y, weight=self.class_weights)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        logits = self(batch["x"])
        loss = self.loss(logits, batch["y"])
        size = len(batch["y"])
        self.log("train/loss", loss, on_epoch=True, on_step=False, batch_size=size)
        self.log("train/loss_step", loss, on_step=True, on_epoch=False, prog_bar=True,
                 batch_size=size)
        if self.hparams.l1:
            loss = loss + self.hparams.l1 * self.l1_norm()
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val", self.val_metrics)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test", self.test_metrics)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.probabilities(self(batch["x"]))

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        logits = self(batch["x"])
        size = len(batch["y"])
        self.log(f"{split}/loss", self.loss(logits, batch["y"]), prog_bar=True, batch_size=size,
                 sync_dist=True)
        metrics.update(self.probabilities(logits), batch["y"])
        self.log_dict(metrics, batch_size=size)

    def l1_norm(self) -> torch.Tensor:
        return sum(p.abs().sum() for p in self.model.parameters() if p.ndim > 1)

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.model, self.hparams.optimizer)
        sched = self.hparams.scheduler
        # only one-cycle needs the step count, and estimating it loads the train dataloader
        steps = int(self.trainer.estimated_stepping_batches) if sched["name"] == "onecycle" else 0
        scheduler = build_scheduler(optimizer, sched, self.hparams.optimizer["lr"],
                                    self.trainer.max_epochs or 1, steps)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
