"""A 2-batch ResNet fit on generated 5-channel 16-bit TIFFs, through `biodl.train.fit`."""

import pytest

from biodl.config import load_config
from biodl.tasks import load_task
from biodl.train import fit

from ..conftest import DATA, tiff_classes


@pytest.mark.slow  # CI runs it; test_pipelines_tiny fits blood_cells in make test
def test_resnet_on_five_channel_tiff_folders(workdir):
    tiff_classes(workdir / "cells", channels=5)
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=images", f"data.root={workdir / 'cells'}", "data.size=8",
        "data.channels=[dna, actin, tubulin, er, mito]", "data.batch_size=8",
        "data.split.val=0.25", "data.split.test=0.25", "data.augment.mixup=0.4",
        "data.augment.hflip=true", "model={name: resnet18, small_input: true}",
        "task.metrics=null", "task.loss=cross_entropy"])
    result = fit(cfg, echo=lambda *_: None)
    from mlflow.tracking import MlflowClient

    names = {a.path for a in MlflowClient().list_artifacts(result.run_id, "evaluation")}
    assert {"evaluation/confusion_matrix.png", "evaluation/per_class.json"} <= names
    assert {"test/acc", "test/auroc", "test/mcc"} <= set(result.test_metrics)
    task = load_task(result.best_checkpoint)
    assert task.model.conv1.in_channels == 5 and task.model.fc.out_features == 2
    spec = task.hparams.input_spec
    assert spec["output_names"] == ["bright", "dim"] and spec["size"] == 8
    assert spec["channels"] == ["dna", "actin", "tubulin", "er", "mito"]
    assert len(spec["mean"]) == 5 and len(spec["std"]) == 5
