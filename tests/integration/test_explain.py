"""`biodl explain` on the session's tiny E. coli fit: every method writes (N, 4, L) attributions,
a TSV and logos into the run's interpretation/ (a second explain lands beside the first), and
bad input is one line with exit 2."""

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import DATA

runner = CliRunner()
FASTA = DATA / "ecoli_prom_30.fa"


def table(path):
    with open(path) as handle:
        return list(csv.reader(handle, delimiter="\t"))


def artifacts(run_id, path):
    from mlflow.tracking import MlflowClient

    return sorted(info.path for info in MlflowClient().list_artifacts(run_id, path))


@pytest.mark.parametrize("method", ["deeplift-shap", pytest.param("integrated-gradients",
                                    marks=pytest.mark.slow), "saliency", "ism"])  # slow: CI
def test_explain_writes_attributions_summary_and_logos(in_tiny_fit, tmp_path, method):
    out = tmp_path / method
    result = runner.invoke(app, ["explain", in_tiny_fit.run_id, str(FASTA), "--method", method,
                                 "--references", "3", "--top-k", "2", "--batch-size", "7",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "explained 30 sequences" in result.output and "logit of 'promoter'" in result.output
    with np.load(out / "attributions.npz") as saved:
        assert saved["attributions"].shape == (30, 4, 81)
        assert saved["onehot"].shape == (30, 4, 81) and saved["ids"][0] == (
            "ECK120010467__accAp__forward__208411")
        values = saved["attributions"]
    rows = table(out / "summary.tsv")
    assert len(rows) == 31 and rows[0][:4] == ["id", "p_promoter", "output", "attribution_sum"]
    assert sorted(p.name for p in out.glob("logo_*.png")) == ["logo_01.png", "logo_02.png"]
    if method in ("deeplift-shap", "integrated-gradients"):
        assert rows[0][4:6] == ["delta", "sum_error"]
        assert "sum-to-delta error" in result.output
        sums = values.sum(axis=(1, 2))
        deltas = np.array([float(r[4]) for r in rows[1:]])
        if method == "deeplift-shap":
            assert np.abs(sums - deltas).max() <= 1e-5
        else:  # completeness: mean error within 1% of the mean explained change
            assert np.abs(sums - deltas).mean() <= 0.01 * np.abs(deltas).mean()


@pytest.mark.slow  # CI runs it (make test-slow here)
def test_second_explain_lands_beside_the_first(in_tiny_fit, tmp_path):
    for i in (1, 2):
        result = runner.invoke(app, ["explain", in_tiny_fit.run_id, str(FASTA), "--method",
                                     "saliency", "-o", str(tmp_path / str(i))])
        assert result.exit_code == 0, result.output
    found = artifacts(in_tiny_fit.run_id, "interpretation")
    assert {"interpretation/saliency-1", "interpretation/saliency-2"} <= set(found)
    assert "interpretation/saliency-1/summary.tsv" in artifacts(in_tiny_fit.run_id,
                                                                "interpretation/saliency-1")


def test_a_folder_taken_meanwhile_goes_to_the_next_number(in_tiny_fit, tmp_path):
    """Two commands of one run at once both see the same free folder; the second to log
    lands beside the first, not over it."""
    from mlflow.tracking import MlflowClient

    from biodl.tracking.artifacts import free_folder, log_folder

    run_id = in_tiny_fit.run_id
    claimed = free_folder(run_id, "interpretation", "race")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "who.txt").write_text(name)
    assert log_folder(run_id, tmp_path / "a", claimed) == "interpretation/race-1"
    assert log_folder(run_id, tmp_path / "b", claimed) == "interpretation/race-2"
    first = MlflowClient().download_artifacts(run_id, "interpretation/race-1/who.txt",
                                              str(tmp_path / "check"))
    assert Path(first).read_text() == "a"


@pytest.mark.slow  # reads the pipeline's whole data set; CI runs it
def test_test_split_is_the_default_input(in_tiny_fit, tmp_path):
    result = runner.invoke(app, ["explain", str(in_tiny_fit.checkpoint), "--method", "saliency",
                                 "--target", "non_promoter", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "minus the positive-class logit" in result.output
    assert len(table(tmp_path / "out" / "summary.tsv")) > 1


@pytest.mark.parametrize("args, message", [
    (["--target", "enhancer"], "not an output of this model; choose one of non_promoter, "
                               "promoter"),
    (["--method", "gradcam"], "--method 'gradcam': choose saliency, integrated-gradients"),
    (["--references", "0", "--method", "saliency"], "must be at least 1"),
])
def test_bad_options_fail_in_one_line(in_tiny_fit, tmp_path, args, message):
    result = runner.invoke(app, ["explain", in_tiny_fit.run_id, str(FASTA), *args,
                                 "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_wrong_length_and_existing_output_fail_in_one_line(in_tiny_fit, write, tmp_path):
    short = write("short.fa", ">a\nACGTACGT\n")
    result = runner.invoke(app, ["explain", in_tiny_fit.run_id, str(short), "--method", "ism",
                                 "-o", str(tmp_path / "y")])
    assert result.exit_code == 2 and "8 bp but the model takes 81-bp windows" in result.output
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "summary.tsv").write_text("keep me")
    result = runner.invoke(app, ["explain", in_tiny_fit.run_id, str(FASTA), "-o",
                                 str(tmp_path / "z")])
    assert result.exit_code == 2 and "already exists" in result.output
    assert (tmp_path / "z" / "summary.tsv").read_text() == "keep me"


@pytest.mark.slow  # CI runs it (make test-slow here)
def test_image_run_gets_grad_cam_saliency_and_filters(workdir):
    from biodl.config import load_config
    from biodl.train import fit

    from ..conftest import tiff_classes

    tiff_classes(workdir / "cells", channels=3)
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=images", f"data.root={workdir / 'cells'}", "data.size=8",
        "data.channels=[r, g, b]", "data.batch_size=8", "data.split.val=0.25",
        "data.split.test=0.25", "model={name: resnet18, small_input: true}",
        "task.metrics=null", "task.loss=cross_entropy"])
    run_id = fit(cfg, echo=lambda *_: None).run_id
    result = runner.invoke(app, ["explain", run_id, "--top-k", "5"])
    assert result.exit_code == 2 and "sequence logos are for DNA models" in result.output
    result = runner.invoke(app, ["explain", run_id, "--samples", "3", "-o", "cam"])
    assert result.exit_code == 0, result.output
    assert {"first_layer_filters.png"} <= {p.name for p in (workdir / "cam").iterdir()}
    assert {p.name for p in (workdir / "cam").glob("*.png")} & {"correct.png",
                                                                 "misclassified.png"}
    found = artifacts(run_id, "interpretation/gradcam-1")
    assert "interpretation/gradcam-1/first_layer_filters.png" in found


def test_grad_cam_maps_are_scaled_per_image():
    import torch

    from biodl.interpret.images import grad_cam, saliency_map
    from biodl.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet18", num_outputs=3, small_input=True).eval()
    x = torch.randn(2, 3, 16, 16)
    cams = grad_cam(model, x, torch.tensor([0, 2]))
    sal = saliency_map(model, x, torch.tensor([1, 1]))
    assert cams.shape == sal.shape == (2, 16, 16)
    assert float(cams.min()) >= 0 and float(sal.amax(dim=(1, 2)).min()) == pytest.approx(1.0)
