"""`make -j2 sweep`: every grid combination is one finished MLflow run in one experiment."""

import pytest
import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

from ..conftest import ROOT

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them


def test_make_sweep_runs_the_grid_in_parallel(workdir):
    venv = Path(sys.executable).parent.parent
    done = subprocess.run(
        ["make", "-j2", "--no-print-directory", "sweep", f"VENV={venv}",
         f"SWEEP_DIR={workdir / 'sweep'}", "PIPELINE=tests/data/tiny_pipeline.yaml",
         "GRID=task.optimizer.lr=1e-3,3e-3 model.channels=[4],[8,8]",
         "SET=trainer.max_epochs=1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sweep: 4 runs" in done.stdout
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    combos = {(r.data.params["task.optimizer.lr"], r.data.params["model.channels"]) for r in runs}
    assert combos == {("0.001", "[4]"), ("0.001", "[8, 8]"), ("0.003", "[4]"),
                      ("0.003", "[8, 8]")}
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.info.run_name for r in runs} >= {"lr=1e-3 channels=[4]"}
