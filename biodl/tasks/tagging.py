"""Per-base tagging: a label for every position of a window (e.g. coding vs non-coding).

The model maps `(x, lengths)` to `(N, L, C)` logits; labels are `(N, L)` int64 with -100 at
padding. The loss is cross-entropy over the valid positions (-100 ignored); the metrics see
the valid positions only, pooled over the epoch: for two classes the probability of class 1
(`acc`, `f1` and `mcc` at 0.5, `auroc`), for more the class probabilities (macro averages).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.tasks.base import Task
from biodl.tasks.metrics import build_metrics
from biodl.tasks.weights import class_weights
from biodl.vocab import IGNORE_INDEX

DEFAULT_METRICS = ["acc", "f1", "mcc", "auroc"]


class TaggingTask(Task):
    kind = "tagging"

    def __init__(
        self,
        model: nn.Module,
        num_classes: int = 2,
        metrics: list[str] | None = None,
        class_weights: list[float] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
    ):
        super().__init__(model, l1, optimizer, scheduler)
        self.save_hyperparameters(ignore=["model"])
        self.num_classes = num_classes
        self.mode = "binary" if num_classes == 2 else "multiclass"
        self.metric_names = metrics or DEFAULT_METRICS
        weights = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.register_buffer("class_weights", weights, persistent=False)
        self.init_metrics()

    def make_metrics(self, prefix: str):
        return build_metrics(self.metric_names, self.mode, self.num_classes, prefix)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(x, lengths)  # (N, L, C)

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the positions whose label is not -100."""
        return F.cross_entropy(logits.flatten(0, 1), y.flatten(), weight=self.class_weights,
                               ignore_index=IGNORE_INDEX)

    def predictions(self, logits: torch.Tensor) -> torch.Tensor:
        """(M,) probability of class 1 (two classes) or (M, C) probabilities."""
        probs = logits.float().softmax(dim=-1)
        return probs[..., 1] if self.mode == "binary" else probs

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch["x"], batch["lengths"]), batch["y"])
        size = len(batch["y"])
        self.log_train_loss(loss, size, batch_idx)
        if self.l1:
            loss = loss + self.l1 * self.l1_norm()
        return loss

    def _evaluate(self, batch: dict[str, torch.Tensor], split: str, metrics) -> None:
        logits, y = self(batch["x"], batch["lengths"]), batch["y"]  # (N, L, C), (N, L)
        valid = y != IGNORE_INDEX
        size = int(valid.sum())  # the epoch's loss is a mean over positions, not windows
        self.log(f"{split}/loss", self.loss(logits, y), prog_bar=True, batch_size=size,
                 sync_dist=True)
        metrics.update(self.predictions(logits[valid]), y[valid])
        self.log_dict(metrics, batch_size=size)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.predictions(self(batch["x"], batch["lengths"]))  # (N, L) or (N, L, C)


def require_cross_entropy(cfg: TaskConfig, kind: str) -> None:
    if cfg.loss not in ("auto", "cross_entropy"):
        raise BiodlError(f"task.loss: {cfg.loss} does not fit a {kind} task; it trains with "
                         "cross_entropy (or auto)")


def build(cfg: TaskConfig, model: nn.Module, model_spec: dict, input_spec: dict,
          class_counts: list[int]) -> TaggingTask:
    """`class_counts`: training bases per class (they serve `class_weights`)."""
    require_cross_entropy(cfg, "tagging")
    weights = class_weights(cfg.class_weights, class_counts)
    return TaggingTask(model, num_classes=len(class_counts), metrics=cfg.metrics,
                       class_weights=weights, l1=cfg.l1,
                       optimizer=dataclasses.asdict(cfg.optimizer),
                       scheduler=dataclasses.asdict(cfg.scheduler), model_spec=model_spec,
                       input_spec=input_spec)
