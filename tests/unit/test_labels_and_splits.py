"""No silent wrong answer from labels and splits: empty labels, classes that never reach a
split, metrics that are undefined on the data."""

import math

import pytest
import torch

from biodl.config import load_config
from biodl.data.datamodules import SequenceDataModule
from biodl.errors import BiodlError
from biodl.tasks.metrics import build_metrics

from ..conftest import DATA


def table(write, labels: list[str]):
    rows = "".join(f"{'ACGT'[i % 4] * 4}{'ACGT'[(i // 4) % 4] * 4},{label}\n"
                   for i, label in enumerate(labels))
    return write("t.csv", "sequence,label\n" + rows)


def module(path, *overrides):
    return SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=table", f"data.train={path}", "data.length=null", "data.leakage=ignore",
        *overrides]).data)


def test_an_empty_label_names_file_and_line(write):
    path = table(write, ["a", "b"] * 10 + [""] + ["a"])
    with pytest.raises(BiodlError, match=r"t.csv line 22: empty label; fill it in or remove"):
        module(path).setup("fit")


def test_an_empty_regression_value_is_refused_too(write):
    path = table(write, ["0.5"] * 5 + [" "] + ["1.0"] * 5)
    with pytest.raises(BiodlError, match=r"t.csv line 7: empty label"):
        module(path, "data.target=regression").setup("fit")


def test_a_class_that_misses_a_split_is_named_with_its_counts(write):
    path = table(write, ["a", "b"] * 15 + ["rare", "rare"])
    with pytest.raises(BiodlError) as error:
        module(path).setup("fit")
    assert str(error.value) == (
        "data: class 'rare' has 2 example(s), train 2, val 0, test 0: every class must reach "
        "train, val and test; add examples of it, remove it, or change data.split (larger val "
        "and test fractions) or the split files")


@pytest.mark.parametrize("kind,preds,target", [
    ("binary", torch.tensor([0.2, 0.9]), torch.tensor([1, 1])),
    ("multiclass", torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]), torch.tensor([0, 1])),
    ("multilabel", torch.tensor([[0.7, 0.2], [0.1, 0.8]]), torch.tensor([[1, 0], [1, 1]])),
])
def test_auroc_and_ap_are_nan_where_undefined(kind, preds, target):
    metrics = build_metrics(["auroc", "auprc", "acc"], kind, 3 if kind == "multiclass" else 2,
                            "test/")
    metrics.update(preds, target)
    values = {k: float(v) for k, v in metrics.compute().items()}
    assert math.isnan(values["test/auroc"]) and math.isnan(values["test/auprc"])
    assert not math.isnan(values["test/acc"])


def test_auroc_is_kept_where_defined():
    metrics = build_metrics(["auroc"], "binary", 2, "test/")
    metrics.update(torch.tensor([0.2, 0.9, 0.4]), torch.tensor([0, 1, 1]))
    assert float(metrics.compute()["test/auroc"]) == 1.0


def test_undefined_check_reads_a_synced_target_tensor_too():
    """Under DDP torchmetrics syncs the list of target batches into one tensor first."""
    from biodl.tasks.metrics import BinaryAUROC

    metric = BinaryAUROC()
    metric.update(torch.tensor([0.2, 0.9, 0.4]), torch.tensor([0, 1, 1]))
    metric.preds, metric.target = torch.cat(metric.preds), torch.cat(metric.target)
    assert float(type(metric).compute(metric)) == 1.0  # the class method, not the syncing wrapper
