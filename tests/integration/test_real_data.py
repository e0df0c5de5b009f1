"""Slow checks on the real data: the shipped pipeline's quality, and every pipeline's data.

`make test-slow` runs them (and `make test` does when CI=true).
"""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.slow
PIPELINES = sorted(p.name for p in (ROOT / "pipelines").iterdir() if p.is_dir())


def test_ecoli_pipeline_quality(workdir):
    """`make run`'s job; measured 2026-11-21: Sn 0.798, Sp 0.960, MCC 0.775, AUROC 0.959."""
    done = subprocess.run([sys.executable, "-m", "biodl.cli", "fit",
                           str(ROOT / "pipelines" / "ecoli_promoters")],
                          capture_output=True, text=True, timeout=900, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = dict(line.split() for line in done.stdout.split("test metrics (best checkpoint):")
                   [1].splitlines()[1:9])
    assert float(metrics["test/auroc"]) >= 0.94
    assert float(metrics["test/mcc"]) >= 0.70
    assert float(metrics["test/sp"]) >= 0.93


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_every_pipeline_reads_its_data(pipeline, tmp_path):
    if not SHARED_DATA.is_dir() and pipeline not in ("ecoli_promoters", "coverage_synthetic"):
        pytest.skip(f"{SHARED_DATA} is not beside the repository")
    extra = []
    if pipeline == "coverage_synthetic":  # its data is generated, not shipped
        from .test_fit_coverage import synthetic_data

        extra = [arg for value in synthetic_data(tmp_path) for arg in ("--set", value)]
    # in this process (the E. coli test above runs the installed CLI): 25 interpreters
    # importing torch and MLflow took two thirds of these tests' time
    done = CliRunner().invoke(app, ["check-data", "--json", str(ROOT / "pipelines" / pipeline),
                                    *extra])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert all(report[split]["records"] > 0 for split in ("train", "val", "test"))
