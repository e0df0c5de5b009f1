"""Metric names -> torchmetrics objects, for binary and multiclass classification.

Binary metrics take the probability of the positive class (label 1); multiclass metrics take
the (N, C) class probabilities. `sn` is sensitivity (recall of the positive class), `sp`
specificity; for more than two classes both are macro averages over classes. `mcc` is the
Matthews correlation coefficient, the "CC" of promoter-prediction papers.
"""

from __future__ import annotations

from typing import Callable

import torch
import torchmetrics.classification as tmc
from torchmetrics import Metric, MetricCollection

from biodl.config.binding import closest
from biodl.errors import BiodlError

class BinaryMCC(tmc.BinaryMatthewsCorrCoef):
    """MCC that is 0 when a row or column of the confusion matrix is empty (e.g. every
    prediction negative), as scikit-learn defines it; torchmetrics returns a small-eps limit."""

    def compute(self) -> torch.Tensor:
        (tn, fp), (fn, tp) = self.confmat.double()
        denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        if denominator == 0:
            return torch.tensor(0.0, device=self.confmat.device)
        return ((tp * tn - fp * fn) / denominator.sqrt()).float()


BINARY: dict[str, Callable[[], Metric]] = {
    "acc": tmc.BinaryAccuracy,
    "auroc": tmc.BinaryAUROC,
    "auprc": tmc.BinaryAveragePrecision,
    "mcc": BinaryMCC,
    "f1": tmc.BinaryF1Score,
    "sn": tmc.BinaryRecall,
    "sp": tmc.BinarySpecificity,
    "precision": tmc.BinaryPrecision,
}

MULTICLASS: dict[str, Callable[..., Metric]] = {
    "acc": lambda c: tmc.MulticlassAccuracy(c, average="micro"),
    "balanced_acc": lambda c: tmc.MulticlassAccuracy(c, average="macro"),
    "auroc": lambda c: tmc.MulticlassAUROC(c),
    "auprc": lambda c: tmc.MulticlassAveragePrecision(c),
    "mcc": lambda c: tmc.MulticlassMatthewsCorrCoef(c),
    "f1": lambda c: tmc.MulticlassF1Score(c, average="macro"),
    "sn": lambda c: tmc.MulticlassRecall(c, average="macro"),
    "sp": lambda c: tmc.MulticlassSpecificity(c, average="macro"),
    "precision": lambda c: tmc.MulticlassPrecision(c, average="macro"),
}


def classification_metrics(names: list[str], num_classes: int, prefix: str) -> MetricCollection:
    table = BINARY if num_classes == 2 else MULTICLASS
    metrics = {}
    for name in names:
        if name not in table:
            raise BiodlError(f"task.metrics: unknown metric '{name}'{closest(name, table)}")
        metrics[name] = table[name]() if num_classes == 2 else table[name](num_classes)
    return MetricCollection(metrics, prefix=prefix)
