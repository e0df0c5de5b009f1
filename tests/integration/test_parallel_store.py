"""Parallel fits (as `make -j sweep` runs them) share one new SQLite store without racing."""

import pytest
import subprocess
import sys

from mlflow.tracking import MlflowClient

from ..conftest import DATA

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them


def test_three_fits_at_once_on_a_new_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "biodl.cli", "fit", str(DATA / "tiny_pipeline.yaml"),
         "--set", f"tracking.uri={uri}", "--set", "trainer.max_epochs=1",
         "--set", f"seed={seed}"], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True) for seed in range(3)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    client = MlflowClient(uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "tiny"]
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.params["seed"] for r in runs) == ["0", "1", "2"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.info.run_name for r in runs) == [  # tracking.uri is left out of names
        f"ecoli_promoters max_epochs=1 seed={seed}" for seed in range(3)]


def test_two_cv_parents_at_once_on_a_new_store(tmp_path):
    """Each `biodl cv` opens its parent run on the store first: that client must not race."""
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "biodl.cli", "cv", str(DATA / "tiny_pipeline.yaml"), "--folds",
         "2", "--set", f"tracking.uri={uri}", "--set", "trainer.max_epochs=1",
         "--set", f"seed={seed}"], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True) for seed in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    client = MlflowClient(uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "tiny"]
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 6 and {r.info.status for r in runs} == {"FINISHED"}  # 2 parents, 4 folds
