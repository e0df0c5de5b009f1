"""`biodl fit` through the CLI on a 90-record real slice, read back from MLflow."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import DATA

runner = CliRunner()


@pytest.fixture
def fitted(in_tiny_fit):
    """The session's one 2-epoch, 2-batch fit, read back."""
    client = MlflowClient(in_tiny_fit.uri)
    return SimpleNamespace(output=in_tiny_fit.output, run=client.get_run(in_tiny_fit.run_id),
                           folder=in_tiny_fit.folder, client=client)


def test_fit_prints_test_metrics_and_run_id(fitted):
    output, run = fitted.output, fitted.run
    assert "test/mcc" in output and "test/sn" in output and "test/sp" in output
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "tiny-run"


def test_run_records_params_metrics_tags_and_artifacts(fitted):
    run, client = fitted.run, fitted.client
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["model.name"] == "cnn1d"
    assert params["model.channels"] == "[8, 8]"
    assert params["data.batch_size"] == "16"
    assert params["model_parameters"] == "905"  # 4*8*9 + 16 + 8*8*9 + 16 + 8 + 1
    assert params["task.optimizer.name"] == "adamw"
    assert {"train/loss", "val/loss", "val/auroc", "test/mcc", "test/sn", "test/sp"} <= set(metrics)
    history = client.get_metric_history(run.info.run_id, "val/loss")
    assert len(history) == 2  # validated every epoch, 2 epochs
    assert tags["biodl.version"] and tags["torch.version"] and tags["lightning.version"]
    assert len(tags["data.sha256.ecoli_prom_30.fa"]) == 64
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "checkpoints", "evaluation"} <= artifacts
    evaluation = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert evaluation == {f"evaluation/{name}" for name in (
        "learning_curves.png", "roc_pr_curves.png", "confusion_matrix.png", "per_class.json",
        "test_predictions.csv")}
    ckpts = [a.path for a in client.list_artifacts(run.info.run_id, "checkpoints")]
    assert ckpts == ["checkpoints/best.ckpt"]


def test_best_checkpoint_rebuilds_the_model(fitted):
    from biodl.tasks import load_task

    task = load_task(fitted.folder / "biodl_runs" / fitted.run.info.run_id / "best.ckpt")
    assert task.hparams.class_names == ["non_promoter", "promoter"]
    assert task.model.blocks[0].conv.out_channels == 8


def test_bad_data_exits_2_with_one_line_and_no_run(workdir, write):
    bad = write("bad.fa", ">a\nACGT\n>b\n")
    result = runner.invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"), "--set",
                                 f"data.classes={{a: {bad}, b: {bad}}}"])
    assert result.exit_code == 2
    assert "record 'b' has a header but no sequence" in result.output
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    assert client.search_experiments(filter_string="name = 'tiny'") == []


def test_cli_error_has_no_traceback(workdir):
    done = subprocess.run([sys.executable, "-m", "biodl.cli", "fit", "missing_pipeline"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: pipeline 'missing_pipeline' not found")
    assert "Traceback" not in done.stderr + done.stdout


def test_test_predictions_artifact_matches_the_test_split(fitted, tmp_path):
    import csv

    path = fitted.client.download_artifacts(fitted.run.info.run_id,
                                            "evaluation/test_predictions.csv", str(tmp_path))
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9  # 10% of 60 + 10% of 30
    assert [r["label"] for r in rows] == ["non_promoter"] * 6 + ["promoter"] * 3
    assert all(abs(float(r["p_non_promoter"]) + float(r["p_promoter"]) - 1) < 1e-5 for r in rows)


def test_runs_table_shows_differing_params_and_sorts(fitted):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(fitted.folder)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", fitted.client.tracking_uri)
        second = runner.invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"), "--set",
                                     "model.dropout=0.5", "--set", "tracking.run_name=d5"])
        assert second.exit_code == 0, second.output
        result = runner.invoke(app, ["runs", "tiny", "--csv", "-m", "test/loss",
                                     "--sort", "test/loss"])
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("run,name,status,model.dropout,")
    assert lines[0].endswith(",test/loss")
    assert len(lines) == 3
    losses = [float(line.split(",")[-1]) for line in lines[1:]]
    assert losses == sorted(losses)
    assert {line.split(",")[3] for line in lines[1:]} == {"0.2", "0.5"}


def test_test_command_reproduces_the_fit_metrics_from_run_id_and_checkpoint(fitted):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(fitted.folder)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", fitted.client.tracking_uri)
        monkeypatch.setenv("BIODL_CACHE", str(fitted.folder / "cache"))
        by_run = runner.invoke(app, ["test", fitted.run.info.run_id])
        by_prefix = runner.invoke(app, ["test", fitted.run.info.run_id[:8]])
        ckpt = fitted.folder / "biodl_runs" / fitted.run.info.run_id / "best.ckpt"
        by_ckpt = runner.invoke(app, ["validate", str(ckpt)])
    assert by_run.exit_code == 0, by_run.output
    assert by_prefix.output == by_run.output  # the 8 characters `biodl runs` used to show
    printed = dict(line.split() for line in by_run.output.strip().splitlines())
    fit_lines = fitted.output.split("test metrics (best checkpoint):")[1].splitlines()[1:9]
    assert printed == dict(line.split() for line in fit_lines)
    assert by_ckpt.exit_code == 0 and "val/auroc" in by_ckpt.output


def test_test_command_honours_a_test_time_reverse_complement_override(fitted):
    ckpt = fitted.folder / "biodl_runs" / fitted.run.info.run_id / "best.ckpt"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(fitted.folder)
        plain = runner.invoke(app, ["test", str(ckpt)])
        both = runner.invoke(app, ["test", str(ckpt), "--set",
                                   "data.augment.test_reverse_complement=true"])
    assert plain.exit_code == 0 and both.exit_code == 0, plain.output + both.output
    plain_loss = dict(line.split() for line in plain.output.strip().splitlines())["test/loss"]
    both_loss = dict(line.split() for line in both.output.strip().splitlines())["test/loss"]
    assert plain_loss != both_loss  # both strands averaged: different probabilities
