"""Coverage (profile) regression: a model maps (N, 4, L) to (N, T, B) log expected coverage
(the contract of `biodl.models.coverage`), targets are (N, T, B) observed coverage.

Losses are in `biodl.tasks.coverage_losses`, metrics in `biodl.tasks.coverage_metrics`
(val/ and test/ prefixes). Predictions are expected coverage per bin, exp(output). With
`test_reverse_complement` a window's output is averaged (in log space) with its reverse
strand's, flipped back and with + and - tracks swapped back (`strand_swap`).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.tasks.base import Task
from biodl.tasks.coverage_losses import LOSSES, NEEDS_COUNTS
from biodl.tasks.coverage_metrics import coverage_metrics

DEFAULT_METRICS = ["count_pearson", "count_spearman", "profile_pearson", "profile_jsd",
                   "flat_jsd"]


class CoverageTask(Task):
    kind = "coverage"

    def __init__(
        self,
        model: nn.Module,
        loss: str = "multinomial",
        count_weight: float = 1.0,
        metrics: list[str] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
        test_reverse_complement: bool = False,
        strand_swap: list[int] | None = None,
    ):
        super().__init__(model, l1, optimizer, scheduler, test_reverse_complement)
        self.save_hyperparameters(ignore=["model"])
        self.loss_name, self.count_weight = loss, count_weight
        self.metric_names = metrics or DEFAULT_METRICS
        self.strand_swap = list(strand_swap) if strand_swap else None
        self.init_metrics()

    def make_metrics(self, prefix: str):
        return coverage_metrics(self.metric_names, prefix)

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return LOSSES[self.loss_name](outputs.float(), y.float(), self.count_weight)

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.float().exp()  # (N, T, B) expected coverage

    def reverse(self, outputs: torch.Tensor) -> torch.Tensor:
        """Outputs of a reverse-complemented window, back on the forward strand."""
        flipped = outputs.flip(-1)
        return flipped[:, self.strand_swap] if self.strand_swap else flipped

    def test_outputs(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if not self.test_reverse_complement:
            return self(x)
        return (self(x) + self.reverse(self(x.flip(-2, -1)))) / 2

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        outputs = self.test_outputs(batch["x"]) if split == "test" else self(batch["x"])
        size = len(batch["y"])
        self.log(f"{split}/loss", self.loss(outputs, batch["y"]), prog_bar=True,
                 batch_size=size, sync_dist=True)
        metrics.update(outputs.float(), batch["y"].float())
        self.log_dict(metrics, batch_size=size)


def count_weight(cfg: TaskConfig, loss: str, median_total: float) -> float:
    """The configured weight, or auto: ChromBPNet's median total / 10 (at least 1) for the
    multinomial loss, gReLU's 1 for poisson_multinomial."""
    if cfg.count_weight != "auto":
        return float(cfg.count_weight)
    if loss == "multinomial":
        return max(1.0, median_total / 10)
    return 1.0


def build(cfg: TaskConfig, model: nn.Module, model_spec: dict, input_spec: dict,
          summary: dict) -> CoverageTask:
    """`summary`: the data's `count_summary()` (median total, whether values are counts)."""
    loss = "multinomial" if cfg.loss == "auto" else cfg.loss
    if loss not in LOSSES:
        raise BiodlError(f"task.loss: {loss} does not fit coverage targets; use "
                         f"{', '.join(LOSSES)}")
    if loss in NEEDS_COUNTS and not summary["integer"]:
        raise BiodlError(f"task.loss={loss} needs counts but {summary['where']} holds "
                         "fractional values; use task.loss=poisson (or mse) for real-valued "
                         "signal, or tracks of read counts with data.bin_reduce=sum")
    return CoverageTask(model, loss=loss, count_weight=count_weight(cfg, loss,
                                                                     summary["median_total"]),
                        metrics=cfg.metrics, l1=cfg.l1,
                        optimizer=dataclasses.asdict(cfg.optimizer),
                        scheduler=dataclasses.asdict(cfg.scheduler), model_spec=model_spec,
                        input_spec=input_spec,
                        test_reverse_complement=input_spec.get("strands") == "both",
                        strand_swap=list(input_spec.get("strand_swap") or []))
