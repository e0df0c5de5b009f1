"""Classification: binary (one logit), multiclass (C logits) or multilabel (K logits)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biodl.tasks.base import Task
from biodl.tasks.metrics import build_metrics

DEFAULT_METRICS = {
    "binary": ["acc", "auroc", "auprc", "mcc", "f1", "sn", "sp"],
    "multiclass": ["acc", "balanced_acc", "auroc", "auprc", "mcc", "f1"],
    "multilabel": ["acc", "auroc", "auprc", "f1"],
}


class ClassificationTask(Task):
    """`mode` binary: outputs (N, 1), BCE; multiclass: (N, C), cross-entropy;
    multilabel: (N, K), BCE per label. Binary metrics see the positive-class probability."""

    kind = "classification"

    def __init__(
        self,
        model: nn.Module,
        num_classes: int,
        class_names: list[str] | None = None,
        mode: str = "binary",
        loss: str = "auto",
        metrics: list[str] | None = None,
        class_weights: list[float] | None = None,
        l1: float = 0.0,
        optimizer: dict | None = None,
        scheduler: dict | None = None,
        model_spec: dict | None = None,
        input_spec: dict | None = None,
        test_reverse_complement: bool = False,
    ):
        super().__init__(model, l1, optimizer, scheduler, test_reverse_complement)
        self.save_hyperparameters(ignore=["model"])
        self.mode = mode
        self.loss_name = loss
        self.num_classes = num_classes
        self.metric_names = metrics or DEFAULT_METRICS[mode]
        weights = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.register_buffer("class_weights", weights, persistent=False)
        self.init_metrics()

    def make_metrics(self, prefix: str):
        return build_metrics(self.metric_names, self.mode, self.num_classes, prefix)

    def predictions(self, logits: torch.Tensor) -> torch.Tensor:
        """(N,) positive-class probability (binary), (N, C) or (N, K) probabilities."""
        if self.mode == "binary":
            return torch.sigmoid(logits.squeeze(-1))
        if self.mode == "multilabel":
            return torch.sigmoid(logits)
        return logits.softmax(dim=-1)

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.long()  # multilabel targets are float 0/1 for the loss, int for the metrics

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """y: class indices (N,), or (N, C) class probabilities from mixup/cutmix."""
        if self.loss_name == "hinge":  # multi-class margin loss on hard labels
            hard = y.argmax(dim=1) if y.is_floating_point() else y
            return F.multi_margin_loss(logits, hard, weight=self.class_weights)
        if self.mode == "multiclass":
            return F.cross_entropy(logits, y, weight=self.class_weights)
        if self.mode == "multilabel":
            return F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.class_weights)
        soft = y.is_floating_point() and y.ndim == 2
        target = y[:, 1] if soft else y.float()
        weight = None
        if self.class_weights is not None:  # per sample, from its (mixed) class
            weight = y @ self.class_weights if soft else self.class_weights[y]
        return F.binary_cross_entropy_with_logits(logits.squeeze(-1), target, weight)
