"""Two-process DDP on CPU (gloo) through the CLI: one run, half the data per rank, one
checkpoint set."""

import pytest
import os
import subprocess
import sys

from mlflow.tracking import MlflowClient

from ..conftest import DATA

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them


def test_ddp_on_two_cpu_processes(workdir):
    done = subprocess.run(
        [sys.executable, "-m", "biodl.cli", "fit", str(DATA / "tiny_pipeline.yaml"),
         "--set", "trainer.accelerator=cpu", "--set", "trainer.devices=2",
         "--set", "trainer.strategy=ddp", "--set", "trainer.limit_train_batches=1.0",
         "--set", "tracking.experiment=ddp"],
        capture_output=True, text=True, timeout=300, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("mlflow run id:") == 1  # only rank 0 reports
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("ddp")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["train/examples"] == 36  # 72 training sequences over 2 ranks
    assert "test/mcc" in run.data.metrics
    [folder] = (workdir / "biodl_runs").iterdir()
    assert folder.name == run.info.run_id
    assert sorted(p.name for p in folder.iterdir()) == ["best.ckpt", "fit.log", "last.ckpt"]
