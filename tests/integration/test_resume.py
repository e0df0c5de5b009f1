"""A fit killed with SIGKILL mid-run resumes from its last checkpoint into the same run."""

import pytest
import os
import signal
import subprocess
import sys
import time

import torch
from mlflow.tracking import MlflowClient

from ..conftest import DATA, ROOT

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them

ECOLI = ROOT / "pipelines" / "ecoli_promoters"
SETTINGS = ["--set", "model.channels=[8, 8]", "--set", "trainer.max_epochs=5",
            "--set", "trainer.enable_progress_bar=false", "--set", "tracking.experiment=resume",
            "--set", "callbacks.early_stopping.enabled=false"]


def biodl(*args, **kwargs):
    return [sys.executable, "-m", "biodl.cli", *args], kwargs


def wait_for_checkpoint(folder, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = list(folder.glob("biodl_runs/*/last.ckpt"))
        if found:
            return found[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise TimeoutError("no last.ckpt written")


def test_sigkill_then_resume_completes_the_same_run(workdir):
    command = [sys.executable, "-m", "biodl.cli", "fit", str(ECOLI), *SETTINGS]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    last = wait_for_checkpoint(workdir, process)
    time.sleep(0.3)  # into the next epoch
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    run_id = last.parent.name
    state = torch.load(last, weights_only=True)  # a kill never leaves a half-written file
    killed_at = state["epoch"]
    assert killed_at < 4

    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    assert client.get_run(run_id).info.status == "RUNNING"  # SIGKILL leaves no chance to end it
    done = subprocess.run([sys.executable, "-m", "biodl.cli", "fit", "--resume", run_id],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"mlflow run id: {run_id}" in done.stdout

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert "test/mcc" in run.data.metrics
    history = client.get_metric_history(run_id, "val/loss")
    steps = [m.step for m in history]
    assert len(set(steps)) == 5  # one validation per epoch, 5 epochs, across both processes
    assert steps == sorted(steps)
    assert len(client.search_runs([run.info.experiment_id])) == 1
