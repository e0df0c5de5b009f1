"""Optuna pruning for `pytorch_lightning` (optuna-integration's callback imports the
`lightning` package, and mixing the two fails: optuna issue #4689).

Each validation epoch reports the monitored metric to the trial; when the pruner says so the
fit stops at that epoch's end (the trainer's `should_stop`, as early stopping does), so the
run still tests its best checkpoint and records its curves, and is tagged pruned.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl

from biodl.errors import BiodlError


class PruningCallback(pl.Callback):
    def __init__(self, trial, monitor: str, mode: str = "min"):
        self.trial, self.monitor, self.mode = trial, monitor, mode
        self.epochs = 0  # validation epochs seen: the trial's training cost
        self.best = math.nan
        self.pruned = False

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            logged = ", ".join(sorted(k for k in trainer.callback_metrics if k.startswith("val/")))
            raise BiodlError(f"callbacks.checkpoint.monitor: '{self.monitor}' is not logged "
                             f"(validation logs {logged}); tune follows that metric")
        value = float(value)
        self.epochs += 1
        if math.isnan(self.best) or self._better(value):
            self.best = value
        self.trial.report(value, trainer.current_epoch)
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True

    def _better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best
