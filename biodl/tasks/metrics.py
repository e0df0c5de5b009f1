"""Metric names -> torchmetrics objects for each kind of task.

Binary metrics take the probability of the positive class (label 1); multiclass metrics the
(N, C) class probabilities; multilabel the (N, K) label probabilities (macro averages).
`sn` is sensitivity (recall of the positive class), `sp` specificity; for more than two
classes both are macro averages. `mcc` is the Matthews correlation coefficient, the "CC" of
promoter-prediction papers. Regression metrics with several outputs are averaged over them.
"""

from __future__ import annotations

from typing import Callable

import torch
import torchmetrics.classification as tmc
import torchmetrics.regression as tmr
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


class MeanPearson(tmr.PearsonCorrCoef):
    def compute(self) -> torch.Tensor:
        return super().compute().mean()


class MeanSpearman(tmr.SpearmanCorrCoef):
    def compute(self) -> torch.Tensor:
        return super().compute().mean()


Factory = Callable[[int], Metric]

BINARY: dict[str, Factory] = {
    "acc": lambda k: tmc.BinaryAccuracy(),
    "auroc": lambda k: tmc.BinaryAUROC(),
    "auprc": lambda k: tmc.BinaryAveragePrecision(),
    "mcc": lambda k: BinaryMCC(),
    "f1": lambda k: tmc.BinaryF1Score(),
    "sn": lambda k: tmc.BinaryRecall(),
    "sp": lambda k: tmc.BinarySpecificity(),
    "precision": lambda k: tmc.BinaryPrecision(),
}

MULTICLASS: dict[str, Factory] = {
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

MULTILABEL: dict[str, Factory] = {
    "acc": lambda k: tmc.MultilabelAccuracy(k),
    "auroc": lambda k: tmc.MultilabelAUROC(k),
    "auprc": lambda k: tmc.MultilabelAveragePrecision(k),
    "f1": lambda k: tmc.MultilabelF1Score(k),
    "mcc": lambda k: tmc.MultilabelMatthewsCorrCoef(k),
}

REGRESSION: dict[str, Factory] = {
    "mse": lambda k: tmr.MeanSquaredError(num_outputs=k),
    "mae": lambda k: tmr.MeanAbsoluteError(num_outputs=k),
    "pearson": lambda k: MeanPearson(num_outputs=k),
    "spearman": lambda k: MeanSpearman(num_outputs=k),
    "r2": lambda k: tmr.R2Score(multioutput="uniform_average") if k > 1 else tmr.R2Score(),
}

TABLES = {"binary": BINARY, "multiclass": MULTICLASS, "multilabel": MULTILABEL,
          "regression": REGRESSION}


def build_metrics(names: list[str], kind: str, size: int, prefix: str) -> MetricCollection:
    table = TABLES[kind]
    for name in names:
        if name not in table:
            raise BiodlError(f"task.metrics: unknown {kind} metric '{name}'"
                             f"{closest(name, table, 'metrics')}")
    metrics = {name: table[name](size) for name in names}
    return MetricCollection(metrics, prefix=prefix)

