"""2-batch fits of the other target kinds, through `biodl.train.fit`."""

import torch

from biodl.config import load_config
from biodl.tasks import ClassificationTask, RegressionTask, load_task
from biodl.train import fit

from ..conftest import DATA, variable_length_rnn

GUE = DATA / "gue_tf0"


def quiet(*_):
    pass


def test_table_classification_on_gue_slice(workdir):
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=table", f"data.train={GUE / 'train.csv'}", f"data.val={GUE / 'dev.csv'}",
        f"data.test={GUE / 'test.csv'}", "data.length=null", "task.class_weights=balanced"])
    result = fit(cfg, echo=quiet)
    assert {"test/auroc", "test/mcc", "test/sn", "test/sp"} <= set(result.test_metrics)
    task = load_task(result.best_checkpoint)
    assert isinstance(task, ClassificationTask) and task.mode == "binary"


def test_regression_and_multilabel_from_fasta_and_labels(workdir, write):
    fasta = write("s.fa", "".join(f">r{i}\n{'ACGT'[i % 4] * 6}{'ACGT'[i % 3] * 6}\n"
                                  for i in range(40)))
    rows = "".join(f"r{i},{i % 2},{(i // 2) % 2},{i % 4 / 4}\n" for i in range(40))
    labels = write("labels.csv", "id,bound,open,signal\n" + rows)
    common = ["data.format=fasta_labels", f"data.fasta={fasta}", f"data.labels={labels}",
              "data.length=null", "data.leakage=ignore", "data.batch_size=8", "task.metrics=null"]
    result = fit(load_config(DATA / "tiny_pipeline.yaml", [
        *common, "data.label_columns=[signal]", "data.target=regression",
        "callbacks.early_stopping.enabled=false"]), echo=quiet)
    assert {"test/loss", "test/mse", "test/pearson", "test/spearman", "test/r2"} <= set(
        result.test_metrics)
    assert isinstance(load_task(result.best_checkpoint), RegressionTask)
    result = fit(load_config(DATA / "tiny_pipeline.yaml", [
        *common, "data.label_columns=[bound, open]", "task.class_weights=balanced"]), echo=quiet)
    assert {"test/auroc", "test/auprc", "test/f1", "test/acc"} <= set(result.test_metrics)
    assert load_task(result.best_checkpoint).mode == "multilabel"


def test_a_failure_during_training_ends_the_run_failed_with_the_error(workdir, monkeypatch):
    import pytest
    from mlflow.tracking import MlflowClient

    from biodl.tasks.classify import ClassificationTask

    def broken(self, *args):
        raise RuntimeError("boom in training_step")

    monkeypatch.setattr(ClassificationTask, "training_step", broken)
    with pytest.raises(RuntimeError, match="boom"):
        fit(load_config(DATA / "tiny_pipeline.yaml", ["tracking.experiment=fails"]), echo=quiet)
    client = MlflowClient()
    [run] = client.search_runs([client.get_experiment_by_name("fails").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["biodl.error"] == "RuntimeError: boom in training_step"
    saved = client.download_artifacts(run.info.run_id, "error.txt", str(workdir))
    assert "RuntimeError: boom in training_step" in open(saved).read()


def test_ctrl_c_ends_the_run_killed(workdir, monkeypatch):
    import pytest
    from mlflow.tracking import MlflowClient

    from biodl.tasks.classify import ClassificationTask

    def interrupted(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(ClassificationTask, "training_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit(load_config(DATA / "tiny_pipeline.yaml", ["tracking.experiment=killed"]), echo=quiet)
    client = MlflowClient()
    [run] = client.search_runs([client.get_experiment_by_name("killed").experiment_id])
    assert run.info.status == "KILLED"


def test_same_config_and_seed_give_identical_metrics(workdir):
    overrides = ["data.augment.reverse_complement=true", "data.augment.shift=2",
                 "trainer.limit_train_batches=3", "model.dropout=0.3"]
    first = fit(load_config(DATA / "tiny_pipeline.yaml", overrides), echo=quiet)
    second = fit(load_config(DATA / "tiny_pipeline.yaml", overrides), echo=quiet)
    assert first.run_id != second.run_id
    assert first.test_metrics == second.test_metrics
    a = torch.load(first.best_checkpoint, weights_only=True)["state_dict"]
    b = torch.load(second.best_checkpoint, weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_variable_length_sequences_reach_an_rnn_as_lengths(workdir, write):
    _, _, overrides = variable_length_rnn(write)
    cfg = load_config(DATA / "tiny_pipeline.yaml", overrides)
    from biodl.data.datamodules import SequenceDataModule

    dm = SequenceDataModule(cfg.data)
    dm.setup("fit")
    batch = dm.datasets["train"].__getitems__([0, 1])
    assert batch["x"].shape[2] == 32  # padded at the end to the longest (8 x 4 bases)
    assert batch["lengths"].tolist() == [len(s) for s in (
        dm.datasets["train"].codes[0][dm.datasets["train"].codes[0] != 0],
        dm.datasets["train"].codes[1][dm.datasets["train"].codes[1] != 0])]
    result = fit(cfg, echo=quiet)
    assert "test/auroc" in result.test_metrics
