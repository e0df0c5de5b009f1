"""Callbacks biodl adds to every fit."""

from __future__ import annotations

import math

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only


class EpochSummary(pl.Callback):
    """One line per epoch with the epoch-level metrics, readable in a log file or CI."""

    def __init__(self, echo=print):
        self.echo = echo

    @rank_zero_only
    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        metrics = trainer.callback_metrics
        shown = [f"{k} {float(v):.4f}" for k, v in sorted(metrics.items())
                 if not k.endswith("_step") and v.numel() == 1 and math.isfinite(float(v))]
        self.echo(f"epoch {trainer.current_epoch:>3}  " + "  ".join(shown))
