"""The coverage format end to end through the CLI: check-data, a 2-batch fit (smoke trainer),
its profile plots, `predict --scan` to a BigWig, and bad input as one line with exit 2."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import DATA, SMOKE
from ..toy_coverage import CHROMS, overrides, toy, write_bigwig

runner = CliRunner()
MODEL = "model={name: bpnet, filters: 8, layers: 2, kernel_size: 9, profile_kernel: 9}"


def sets(values: list[str]) -> list[str]:
    return [arg for value in values for arg in ("--set", value)]


@pytest.fixture
def files(workdir):
    return toy(workdir)


def test_check_data_reports_coverage_per_split(files):
    result = runner.invoke(app, ["check-data", str(DATA / "tiny_pipeline.yaml"),
                                 *sets(overrides(files) + ["data.background=1"])])
    assert result.exit_code == 0, result.output
    assert "test        10 windows  (5 on peaks, 5 background)" in result.output
    assert "cov: total" in result.output and "zero windows 0" in result.output


def test_fit_records_profiles_and_scan_writes_predicted_coverage(files, workdir):
    args = overrides(files, stranded=True) + [MODEL, "data.augment.reverse_complement=true",
                                              "data.augment.jitter=5", *SMOKE]
    result = runner.invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"), *sets(args)])
    assert result.exit_code == 0, result.output
    for metric in ("test/count_pearson", "test/profile_jsd", "test/flat_jsd"):
        assert metric in result.output
    run_id = result.output.split("mlflow run id: ")[1].split()[0]
    client = MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert "evaluation/profiles.png" in artifacts
    assert "val/profile_jsd" in client.get_run(run_id).data.metrics
    checkpoint = workdir / "biodl_runs" / run_id / "best.ckpt"
    scanned = runner.invoke(app, ["predict", str(checkpoint), str(files["genome"]), "--scan",
                                  "-o", "chip_minus.bw", "--output-name", "chip-"])
    assert scanned.exit_code == 0, scanned.output
    import pyBigWig

    track = pyBigWig.open(str(workdir / "chip_minus.bw"))
    assert track.chroms() == CHROMS
    values = track.values("chr1", 0, 3000, numpy=True)
    # windows of 100 at stride 40: predicted centres 30-70, 70-110, ... up to 2950
    assert np.isnan(values[:30]).all() and not np.isnan(values[30:2950]).any()
    assert (values[30:2950] > 0).all()
    table = runner.invoke(app, ["predict", str(checkpoint), str(files["genome"])])
    assert table.exit_code == 2 and "--scan" in table.output


def test_bad_input_is_one_line_and_exit_2(files, tmp_path):
    short = write_bigwig(tmp_path / "short.bw", {**CHROMS, "chr3": 100}, lambda c, p: p % 2)
    cases = [
        ([f"data.tracks={{cov: {short}}}"], "short.bw: chromosome 'chr3' has 100 bases"),
        (["data.bin_reduce=mean", "data.bin_size=4"], "task.loss=multinomial needs counts"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"),
                                     *sets(overrides(files) + [MODEL, *extra, *SMOKE])])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def synthetic_data(folder) -> list[str]:
    """The `coverage_synthetic` pipeline's data from its own generator, 5 x 30 kbp, as
    --set overrides (the pipeline's own data/ folder is written by the user, not the tests)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(DATA.parents[1] / "benchmarks" /
                                               "coverage_synthetic.py"), str(folder),
                           "--length", "30000", "--spacing", "1500"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return [f"data.genome={folder / 'genome.fa'}",
            f"data.tracks={{footprint: {folder / 'coverage.bw'}}}",
            f"data.peaks=[{folder / 'peaks.narrowPeak'}]"]


def test_the_synthetic_pipeline_fits_two_batches(workdir):
    pipeline = str(DATA.parents[1] / "pipelines" / "coverage_synthetic")
    result = runner.invoke(app, ["fit", pipeline,
                                 *sets(synthetic_data(workdir / "data") + SMOKE)])
    assert result.exit_code == 0, result.output
    assert "test/count_pearson" in result.output and "test/profile_jsd" in result.output
