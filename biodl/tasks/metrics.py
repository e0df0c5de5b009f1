"""Metric names -> torchmetrics objects for each kind of task.

Binary metrics take the probability of the positive class (label 1); multiclass metrics the
(N, C) class probabilities; multilabel the (N, K) label probabilities (macro averages).
`sn` is sensitivity (recall of the positive class), `sp` specificity; for more than two
classes both are macro averages. `mcc` is the Matthews correlation coefficient, the "CC" of
promoter-prediction papers. Regression metrics with several outputs are averaged over them,
except the `peak_*` ones, which read the outputs as one curve over time (see `PeakError`).
"""

from __future__ import annotations

from typing import Callable

import torch
import torchmetrics.classification as tmc
import torchmetrics.regression as tmr
from torchmetrics import Metric, MetricCollection
from torchmetrics.utilities import dim_zero_cat

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


class UndefinedIsNaN:
    """AUROC and average precision are undefined where a class (or a label's positives or
    negatives) is missing from the data: NaN, never torchmetrics' 0. Mixed into the
    torchmetrics class, whose `target` state holds every target seen."""

    def compute(self) -> torch.Tensor:
        target = self.target  # a list of batches; one tensor once synced across processes
        if isinstance(target, list):
            target = dim_zero_cat(target) if target else torch.zeros(0)
        if undefined(target, getattr(self, "num_classes", None)):
            return torch.tensor(float("nan"))
        return super().compute()


def undefined(target: torch.Tensor, num_classes: int | None) -> bool:
    """(N,) binary or class targets, or (N, K) multilabel: is a class or label one-sided?"""
    if target.numel() == 0:
        return True
    if target.ndim == 2:  # multilabel: every label needs positives and negatives
        return bool(((target.amin(dim=0) == target.amax(dim=0))).any())
    if num_classes:  # multiclass, one-vs-rest: every class must be present
        return bool((torch.bincount(target.long(), minlength=num_classes) == 0).any())
    return bool(target.min() == target.max())


class BinaryAUROC(UndefinedIsNaN, tmc.BinaryAUROC):
    pass


class BinaryAP(UndefinedIsNaN, tmc.BinaryAveragePrecision):
    pass


class MulticlassAUROC(UndefinedIsNaN, tmc.MulticlassAUROC):
    pass


class MulticlassAP(UndefinedIsNaN, tmc.MulticlassAveragePrecision):
    pass


class MultilabelAUROC(UndefinedIsNaN, tmc.MultilabelAUROC):
    pass


class MultilabelAP(UndefinedIsNaN, tmc.MultilabelAveragePrecision):
    pass


class MeanPearson(tmr.PearsonCorrCoef):
    def compute(self) -> torch.Tensor:
        return super().compute().mean()


class MeanSpearman(tmr.SpearmanCorrCoef):
    def compute(self) -> torch.Tensor:
        return super().compute().mean()


PEAK_WINDOW = 7  # days either side of the true peak that `peak_mae` averages over


def peak_window_mae(preds: torch.Tensor, target: torch.Tensor, window: int) -> torch.Tensor:
    """(N, H) -> (N,) mean |error| over the days within `window` of each row's true peak."""
    peak = target.argmax(dim=1, keepdim=True)  # (N, 1), the first maximum
    days = torch.arange(target.shape[1], device=target.device)[None, :]  # (1, H)
    near = ((days - peak).abs() <= window).to(preds.dtype)  # (N, H), the peak day included
    return ((preds - target).abs() * near).sum(dim=1) / near.sum(dim=1)


PEAK_ERRORS = {
    "mae": peak_window_mae,
    "day": lambda p, t, w: (p.argmax(dim=1) - t.argmax(dim=1)).abs().to(p.dtype),
    "height": lambda p, t, w: (p.amax(dim=1) - t.amax(dim=1)).abs(),
}


class PeakError(Metric):
    """Forecast error around the peak of each (N, H) target curve, averaged over curves:
    `mae` over the days within `window` of the true peak (fewer at the curve's ends), `day`
    |argmax prediction - argmax target| in days, `height` |max prediction - max target|."""

    full_state_update = False

    def __init__(self, kind: str, window: int = PEAK_WINDOW):
        super().__init__()
        self.kind, self.window = kind, window
        # state names per kind: MetricCollection merges metrics whose states happen to match
        self.total_name, self.count_name = f"{kind}_total", f"{kind}_count"
        self.add_state(self.total_name, torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state(self.count_name, torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        preds, target = preds.reshape(len(preds), -1), target.reshape(len(target), -1)  # (N, H)
        errors = PEAK_ERRORS[self.kind](preds.float(), target.float(), self.window)  # (N,)
        setattr(self, self.total_name, getattr(self, self.total_name) + errors.sum())
        setattr(self, self.count_name, getattr(self, self.count_name) + len(errors))

    def compute(self) -> torch.Tensor:
        return getattr(self, self.total_name) / getattr(self, self.count_name)


Factory = Callable[[int], Metric]

BINARY: dict[str, Factory] = {
    "acc": lambda k: tmc.BinaryAccuracy(),
    "auroc": lambda k: BinaryAUROC(),
    "auprc": lambda k: BinaryAP(),
    "mcc": lambda k: BinaryMCC(),
    "f1": lambda k: tmc.BinaryF1Score(),
    "sn": lambda k: tmc.BinaryRecall(),
    "sp": lambda k: tmc.BinarySpecificity(),
    "precision": lambda k: tmc.BinaryPrecision(),
}

MULTICLASS: dict[str, Factory] = {
    "acc": lambda c: tmc.MulticlassAccuracy(c, average="micro"),
    "balanced_acc": lambda c: tmc.MulticlassAccuracy(c, average="macro"),
    "auroc": lambda c: MulticlassAUROC(c),
    "auprc": lambda c: MulticlassAP(c),
    "mcc": lambda c: tmc.MulticlassMatthewsCorrCoef(c),
    "f1": lambda c: tmc.MulticlassF1Score(c, average="macro"),
    "sn": lambda c: tmc.MulticlassRecall(c, average="macro"),
    "sp": lambda c: tmc.MulticlassSpecificity(c, average="macro"),
    "precision": lambda c: tmc.MulticlassPrecision(c, average="macro"),
}

MULTILABEL: dict[str, Factory] = {
    "acc": lambda k: tmc.MultilabelAccuracy(k),
    "auroc": lambda k: MultilabelAUROC(k),
    "auprc": lambda k: MultilabelAP(k),
    "f1": lambda k: tmc.MultilabelF1Score(k),
    "mcc": lambda k: tmc.MultilabelMatthewsCorrCoef(k),
}

REGRESSION: dict[str, Factory] = {
    # over every output at once, so several outputs give one number (their mean) to log
    "mse": lambda k: tmr.MeanSquaredError(),
    "mae": lambda k: tmr.MeanAbsoluteError(),
    "pearson": lambda k: MeanPearson(num_outputs=k),
    "spearman": lambda k: MeanSpearman(num_outputs=k),
    "r2": lambda k: tmr.R2Score(multioutput="uniform_average") if k > 1 else tmr.R2Score(),
    # the outputs as one curve over time (a forecast), e.g. the sir data format's
    "peak_mae": lambda k: PeakError("mae"),
    "peak_day_error": lambda k: PeakError("day"),
    "peak_height_error": lambda k: PeakError("height"),
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

