"""Runs you can tell apart (names, id prefixes, training experiments) and read-only commands
that never create a store."""

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app
from biodl.cli.training import _fit_config
from biodl.config.schema import TrackingConfig
from biodl.errors import BiodlError
from biodl.tracking import (KIND_TAG, TRAINING_KIND, VIEW_TAG, end_run, make_logger,
                            resolve_run_id, ui_address)

from ..conftest import DATA, ROOT

runner = CliRunner()
TINY = str(DATA / "tiny_pipeline.yaml")


def test_fit_names_runs_from_the_pipeline_and_the_overrides():
    assert _fit_config(TINY, [], None).tracking.run_name == "ecoli_promoters"
    named = _fit_config(TINY, ["model.dropout=0.5", "task.optimizer.lr=3e-4"], None)
    assert named.tracking.run_name == "ecoli_promoters dropout=0.5 lr=3e-4"
    chosen = _fit_config(TINY, ["model.dropout=0.5", "tracking.run_name=mine"], None)
    assert chosen.tracking.run_name == "mine"


def test_same_name_gets_a_suffix_and_the_experiment_is_a_training_one(workdir):
    cfg = TrackingConfig(experiment="names", run_name="p lr=1")
    loggers = [make_logger(cfg) for _ in range(3)]
    names = [logger.experiment.get_run(logger.run_id).info.run_name for logger in loggers]
    assert names == ["p lr=1", "p lr=1 #2", "p lr=1 #3"]
    other = make_logger(TrackingConfig(experiment="names", run_name="q"))
    assert other.experiment.get_run(other.run_id).info.run_name == "q"
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    assert client.get_experiment_by_name("names").tags[KIND_TAG] == TRAINING_KIND


def test_an_experiment_made_before_gets_the_training_kind_on_first_use(workdir):
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.create_experiment("old")
    assert KIND_TAG not in client.get_experiment(experiment).tags
    make_logger(TrackingConfig(experiment="old", run_name="r"))
    assert client.get_experiment(experiment).tags[KIND_TAG] == TRAINING_KIND


def test_finished_runs_add_their_metrics_to_the_experiments_ui_view(workdir):
    import json

    for metrics in ({"val/loss": 0.5, "train/loss": 0.4, "val/loss_step": 0.1, "epoch": 1},
                    {"test/auroc": 0.9}):
        logger = make_logger(TrackingConfig(experiment="view", run_name="r"))
        logger.log_metrics(metrics)
        end_run(logger, "FINISHED")
    failed = make_logger(TrackingConfig(experiment="view", run_name="f"))
    failed.log_metrics({"val/other": 1.0})
    end_run(failed, "FAILED")
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("view")
    assert json.loads(experiment.tags[VIEW_TAG]) == {"selectedColumns": [
        "attributes.`Source`", "attributes.`Models`", "metrics.`test/auroc`",
        "metrics.`val/loss`"]}
    assert ui_address(5000) == [
        f"view: http://127.0.0.1:5000/#/experiments/{experiment.experiment_id}/runs"
        "?workflowType=machine_learning&viewStateShareKey=biodl"]


@pytest.fixture
def three_runs(workdir):
    """Runs with ids abcdef00..., abcdef11..., 123456ff... (ids rewritten in the store)."""
    uri = os.environ["MLFLOW_TRACKING_URI"]
    client = MlflowClient(uri)
    experiment = client.create_experiment("ids")
    ids = ["abcdef" + "0" * 26, "abcdef" + "1" * 26, "123456" + "f" * 26]
    made = [client.create_run(experiment).info.run_id for _ in ids]
    with sqlite3.connect(uri[len("sqlite:///"):]) as db:
        for old, new in zip(made, ids):
            for table in ("runs", "tags"):
                db.execute(f"UPDATE {table} SET run_uuid = ? WHERE run_uuid = ?", (new, old))
    return ids


def test_a_unique_prefix_resolves_to_the_full_id(three_runs):
    assert resolve_run_id("abcdef0") == three_runs[0]
    assert resolve_run_id("123456") == three_runs[2]
    assert resolve_run_id("ABCDEF1111") == three_runs[1]
    assert resolve_run_id(three_runs[0]) == three_runs[0]


def test_ambiguous_unknown_and_short_prefixes_are_refused(three_runs):
    with pytest.raises(BiodlError, match="run id 'abcdef' is ambiguous: abcdef0+, "
                                         "abcdef1+; give more characters"):
        resolve_run_id("abcdef")
    with pytest.raises(BiodlError, match="run id 'fedcba': no run in sqlite:///.* starts"):
        resolve_run_id("fedcba")
    with pytest.raises(BiodlError, match="'abcde': not a run id .* at least 6"):
        resolve_run_id("abcde")


def test_commands_taking_a_run_id_resolve_prefixes(three_runs):
    ambiguous = runner.invoke(app, ["test", "abcdef"])
    assert ambiguous.exit_code == 2 and "is ambiguous" in ambiguous.output
    resumed = runner.invoke(app, ["fit", "--resume", "abcdef"])
    assert resumed.exit_code == 2 and "is ambiguous" in resumed.output
    unique = runner.invoke(app, ["predict", "123456", str(DATA / "ecoli_prom_30.fa")])
    assert unique.exit_code == 2  # resolved; that run has no checkpoint
    assert f"{three_runs[2]}: no checkpoint found" in unique.output
    replay = runner.invoke(app, ["fit", "--from-run", "abcdef0"])
    assert replay.exit_code == 2
    assert f"run {three_runs[0]}: not found in sqlite" in replay.output  # no config.yaml
    missing = runner.invoke(app, ["validate", "nothing.ckpt"])
    assert "not a .ckpt file, models:/NAME/VERSION or a run id" in missing.output


@pytest.mark.parametrize("command", [["runs", "tiny"], ["test", "abcdef0"],
                                     ["validate", "a" * 32],
                                     ["predict", "abcdef", str(DATA / "ecoli_prom_30.fa")]])
def test_reading_commands_in_a_folder_without_a_store_create_none(tmp_path, monkeypatch,
                                                                  command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert f"no MLflow runs in {tmp_path}: mlruns.db does not exist there" in result.output
    assert "MLFLOW_TRACKING_URI" in result.output
    assert list(tmp_path.iterdir()) == []


def _read_only_mounts() -> bool:
    """A private mount namespace: root may mount a read-only tmpfs nobody else sees."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _read_only_mounts(), reason="needs root and unshare -m for a "
                                                    "read-only mount (chmod does not stop root)")
@pytest.mark.parametrize("command, expected", [
    (["fit", TINY], "read-only: `biodl fit` writes its MLflow store"),
    (["runs", "tiny"], "no MLflow runs in"),
])
def test_read_only_working_folder_fails_in_seconds(tmp_path, command, expected):
    folder = tmp_path / "ro"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = str(ROOT)
    script = ('mount -t tmpfs -o ro tmpfs "$1" && cd "$1" && shift && '
              'exec "$@"')
    started = time.perf_counter()
    done = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(folder),
                           sys.executable, "-m", "biodl.cli", *command],
                          capture_output=True, text=True, env=env, timeout=120)
    seconds = time.perf_counter() - started
    assert done.returncode == 2, done.stderr
    assert f"{folder}" in done.stderr and expected in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert seconds < 5
    assert list(folder.iterdir()) == []  # the mount is gone: nothing was written beneath it
