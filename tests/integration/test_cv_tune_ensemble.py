"""biodl cv, tune and ensembles on the tiny E. coli slice: one 2-fold cv and one 2-trial study
shared by the module's tests (each fit is seconds); refusals before any training."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biodl.cli import app
from tests.conftest import DATA, use_store

PIPELINE = str(DATA / "tiny_pipeline.yaml")
ONE_EPOCH = ["--set", "trainer.max_epochs=1"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def last_id(output: str) -> str:
    return output.split("mlflow run id: ")[1].split()[0]


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory, store_template):
    with pytest.MonkeyPatch.context() as monkeypatch:
        folder = tmp_path_factory.mktemp("cv")
        uri = use_store(folder, store_template, monkeypatch)
        monkeypatch.setenv("BIODL_CACHE", str(folder / "cache"))
        result = invoke("cv", PIPELINE, "--folds", "2", *ONE_EPOCH)
        assert result.exit_code == 0, result.output
        folds = result.output.split("fold runs: ")[1].split("\n")[0].split()
        yield SimpleNamespace(folder=folder, uri=uri, parent=last_id(result.output),
                              folds=folds, output=result.output, monkeypatch=monkeypatch)


def read_table(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_cv_nests_folds_and_records_mean_sd_and_pooled_predictions(cv_run):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(cv_run.uri)
    parent = client.get_run(cv_run.parent)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["biodl.ensemble"] == ",".join(cv_run.folds)
    accs = []
    for fold, run_id in enumerate(cv_run.folds):
        run = client.get_run(run_id)
        assert run.data.tags["mlflow.parentRunId"] == cv_run.parent
        assert run.data.params["data.split.fold"] == str(fold)
        accs.append(run.data.metrics["test/acc"])
    assert parent.data.metrics["test/acc"] == pytest.approx(np.mean(accs))
    assert parent.data.metrics["test/acc_sd"] == pytest.approx(np.std(accs, ddof=1))
    path = client.download_artifacts(cv_run.parent, "evaluation/oof_predictions.csv",
                                     str(cv_run.folder))
    header, rows = read_table(path)
    assert header[:3] == ["fold", "id", "label"]
    assert len(rows) == 90 and len({r[1] for r in rows}) == 90  # every record tested once
    assert sorted({r[0] for r in rows}) == ["0", "1"]


def test_ensemble_predict_is_the_mean_of_its_members(cv_run, tmp_path):
    inputs = str(DATA / "ecoli_prom_30.fa")
    result = invoke("predict", cv_run.parent[:8], inputs, "-o", str(tmp_path / "mean.csv"))
    assert result.exit_code == 0, result.output
    members = []
    for k, run_id in enumerate(cv_run.folds):
        assert invoke("predict", run_id, inputs, "-o", str(tmp_path / f"{k}.csv")).exit_code == 0
        members.append(np.array([r[1:3] for r in read_table(tmp_path / f"{k}.csv")[1]], float))
    header, rows = read_table(tmp_path / "mean.csv")
    assert header == ["id", "p_non_promoter", "p_promoter", "predicted"]
    mean = np.array([r[1:3] for r in rows], float)
    np.testing.assert_allclose(mean, np.mean(members, axis=0), atol=1e-6)
    # the same, naming the two fold runs
    again = invoke("predict", *cv_run.folds, inputs, "-o", str(tmp_path / "again.csv"))
    assert again.exit_code == 0, again.output
    assert read_table(tmp_path / "again.csv") == (header, rows)


def test_ensemble_refuses_other_classes_naming_the_difference(cv_run, tmp_path):
    checkpoint = cv_run.folder / "biodl_runs" / cv_run.folds[0] / "best.ckpt"
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    saved["hyper_parameters"]["input_spec"]["output_names"] = ["background", "promoter"]
    other = tmp_path / "other.ckpt"
    torch.save(saved, other)
    result = invoke("predict", str(checkpoint), str(other), str(DATA / "ecoli_prom_30.fa"),
                    "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 2
    assert "output_names: ['non_promoter', 'promoter'] != ['background', 'promoter']" in \
        result.output


def test_ensemble_test_refuses_the_folds_own_data(cv_run):
    result = invoke("test", cv_run.parent)
    assert result.exit_code == 2
    assert "together they trained on every example of this data" in result.output


def test_more_folds_than_the_smallest_class_fails_before_training(cv_run):
    result = invoke("cv", PIPELINE, "--folds", "31")
    assert result.exit_code == 2
    assert "class 'promoter' has only 30 example(s)" in result.output
    assert "Traceback" not in result.output


def test_tune_two_trials_nested_and_best_config_fits(workdir):
    from mlflow.tracking import MlflowClient

    from biodl.config import load_config

    space = workdir / "space.yaml"
    space.write_text("task.optimizer.lr: {low: 1.0e-4, high: 1.0e-2, log: true}\n"
                     "model.channels: {choices: [[8, 8], [4, 8]]}\n")
    best = workdir / "best.yaml"
    result = invoke("tune", PIPELINE, "--trials", "2", "--space", str(space), "--pruner", "none",
                    "-o", str(best), *ONE_EPOCH)
    assert result.exit_code == 0, result.output
    assert "2 finished trials (0 pruned, 2 training epochs in all)" in result.output
    parent = last_id(result.output)
    client = MlflowClient(f"sqlite:///{workdir / 'mlruns.db'}")
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id],
                              f"tags.mlflow.parentRunId = '{parent}'")
    assert sorted(r.data.tags["biodl.trial_state"] for r in runs) == ["complete", "complete"]
    assert (workdir / "optuna.db").is_file()  # beside the MLflow store
    cfg = load_config(best)  # a pipeline `biodl fit` takes as it is
    assert cfg.model.kwargs["channels"] in ([8, 8], [4, 8]) and cfg.trainer.max_epochs == 1
    again = invoke("tune", PIPELINE, "--trials", "2", "--space", str(space), "-o", str(best))
    assert again.exit_code == 0 and "2 of 2 trials done" in again.output  # resumed: nothing to do


@pytest.mark.parametrize("text, message", [
    ("task.optimizer.lrr: {low: 0.001, high: 0.01}", "did you mean 'lr'?"),
    ("model.dropout: {low: 0.5, high: 0.5}", "the range [0.5, 0.5] is empty"),
    ("task.optimizer.lr: {choices: [fast, slow]}", "expected a number, got 'fast'"),
    ("model.kernel_size: {choices: []}", "expected a non-empty list"),
])
def test_bad_space_fails_before_training(workdir, text, message):
    (workdir / "space.yaml").write_text(text + "\n")
    result = invoke("tune", PIPELINE, "--trials", "1", "--space", str(workdir / "space.yaml"))
    assert result.exit_code == 2 and message in result.output
    assert "space.yaml line 1" in result.output
    assert not (workdir / "optuna.db").exists()  # refused before the storage was opened


def test_bad_storage_fails_in_one_line(workdir):
    (workdir / "space.yaml").write_text("model.dropout: {low: 0.1, high: 0.5}\n")
    result = invoke("tune", PIPELINE, "--trials", "1", "--space", str(workdir / "space.yaml"),
                    "--storage", "nosuchdb://host/x")
    assert result.exit_code == 2 and "--storage nosuchdb://host/x: cannot be opened" in \
        result.output


@pytest.mark.system
def test_tune_resumes_after_a_kill(workdir):
    """SIGKILL a worker mid-trial; the same command later fails that trial (its heartbeat
    stopped), retries it and finishes the study."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import optuna

    (workdir / "space.yaml").write_text("task.optimizer.lr: {low: 1.0e-4, high: 1.0e-2}\n")
    command = [sys.executable, "-m", "biodl.cli", "tune", PIPELINE, "--trials", "2", "--space",
               str(workdir / "space.yaml"), "--pruner", "none", "-o", str(workdir / "b.yaml"),
               "--set", "trainer.max_epochs=100000", "--set", "trainer.limit_train_batches=1",
               "--set", "callbacks.early_stopping.enabled=false"]  # trial 0 runs until killed
    env = {**os.environ, "PYTHONPATH": str(DATA.parents[1])}
    worker = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    storage = f"sqlite:///{workdir / 'optuna.db'}"
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(2)
        try:
            trials = optuna.load_study(study_name="ecoli_promoters", storage=storage).trials
        except Exception:
            continue
        if trials and trials[0].state.name == "RUNNING":
            break
    time.sleep(4)  # into the trial's epochs (it never ends by itself)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    time.sleep(31)  # past the heartbeat grace period
    command[command.index("trainer.max_epochs=100000")] = "trainer.max_epochs=1"
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    states = [t.state.name for t in optuna.load_study(study_name="ecoli_promoters",
                                                      storage=storage).trials]
    assert states[0] == "FAIL" and states.count("COMPLETE") == 2
