"""Regression: (N, K) real targets, MSE or Poisson loss, correlation metrics per output."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biodl.tasks.base import Task
from biodl.tasks.metrics import build_metrics


class RegressionTask(Task):
    """`loss` mse on raw outputs, or poisson on log-rates (outputs are log lambda)."""

    kind = "regression"

    def __init__(
        self,
        model: nn.Module,
        num_outputs: int,
        loss: str = "mse",
        metrics: list[str] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
        test_reverse_complement: bool = False,
        output_names: list[str] | None = None,
    ):
        super().__init__(model, l1, optimizer, scheduler, test_reverse_complement)
        self.save_hyperparameters(ignore=["model"])
        self.loss_name = loss
        self.num_outputs = num_outputs
        self.metric_names = metrics or ["mse", "mae", "pearson", "spearman", "r2"]
        self.init_metrics()

    def make_metrics(self, prefix: str):
        return build_metrics(self.metric_names, "regression", self.num_outputs, prefix)

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        predicted = outputs.exp() if self.loss_name == "poisson" else outputs
        return predicted.squeeze(-1) if self.num_outputs == 1 else predicted

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.squeeze(-1) if self.num_outputs == 1 else y

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "poisson":
            return F.poisson_nll_loss(outputs, y, log_input=True)
        return F.mse_loss(outputs, y)
