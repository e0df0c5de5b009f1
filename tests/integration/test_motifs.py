import pytest
"""`biodl motifs` on the session's tiny E. coli fit: filter PWMs and TF-MoDISco wired end to end
into the run's interpretation/motifs-N (a second call lands beside the first), and a model
with no first convolution refused in one line with exit 2."""

import csv

from typer.testing import CliRunner

from biodl.cli import app
from biodl.interpret.jaspar import read_meme

from ..conftest import DATA

runner = CliRunner()


def table(path):
    with open(path) as handle:
        return list(csv.reader(handle, delimiter="\t"))


def artifacts(run_id, path):
    from mlflow.tracking import MlflowClient

    return sorted(info.path for info in MlflowClient().list_artifacts(run_id, path))


def test_motifs_write_meme_tsv_logos_into_the_run(in_tiny_fit, tmp_path):
    out = tmp_path / "first"
    result = runner.invoke(app, ["motifs", in_tiny_fit.run_id, "--split", "train",
                                 "--references", "2", "--tax-group", "vertebrates",
                                 "--logos", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "reading motifs from the train split (72 sequences)" in result.output
    rows = table(out / "motifs.tsv")
    assert rows[0][:5] == ["motif", "kind", "class", "sites", "consensus"]
    assert rows[0][-2:] == ["fired_non_promoter", "fired_promoter"]
    filters = [r for r in rows[1:] if r[1] == "filter"]
    assert [r[0] for r in filters] == [f"filter{i}" for i in range(8)]  # channels [8, 8]
    with_sites = [r[0] for r in filters if int(r[3]) > 0]
    assert [m.name for m in read_meme(out / "motifs.meme")][:len(with_sites)] == with_sites
    assert len(list((out / "logos").glob("*.png"))) == 3
    assert "logged to run" in result.output
    found = artifacts(in_tiny_fit.run_id, "interpretation/motifs-1")
    assert "interpretation/motifs-1/motifs.tsv" in found


def test_second_call_lands_beside_the_first(in_tiny_fit, tmp_path):
    for name in ("a", "b"):
        result = runner.invoke(app, ["motifs", str(in_tiny_fit.checkpoint), str(DATA /
                                     "ecoli_prom_30.fa"), "--method", "filters", "--top", "5",
                                     "--logos", "0", "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "reading motifs from" in result.output and "(30 sequences)" in result.output
    folders = set(artifacts(in_tiny_fit.run_id, "interpretation"))
    numbers = sorted(int(f.rsplit("-", 1)[1]) for f in folders if "/motifs-" in f)
    assert len(numbers) >= 2 and numbers == list(range(1, len(numbers) + 1))
    rows = table(tmp_path / "a" / "motifs.tsv")
    assert all(r[3] == "5" for r in rows[1:])  # --top 5: five sites per filter


@pytest.mark.slow  # CI runs it (make test-slow here)
def test_run_without_first_convolution_fails_in_one_line(workdir, tmp_path):
    fit = runner.invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"), "--set",
                              "model={name: rnn_classifier, input: onehot, hidden_size: 4}"])
    assert fit.exit_code == 0, fit.output
    run_id = fit.output.split("mlflow run id: ")[1].split()[0]
    result = runner.invoke(app, ["motifs", run_id, "--method", "filters",
                                 "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "has no first convolution over the DNA" in result.output
    assert "--method modisco" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_bad_options_fail_in_one_line(in_tiny_fit, tmp_path):
    for args, message in ((["--method", "kmers"], "--method 'kmers': choose filters"),
                          (["--tax-group", "mammals"], "tax group 'mammals' does not exist"),
                          (["--threshold", "2"], "between 0 and 1")):
        result = runner.invoke(app, ["motifs", in_tiny_fit.run_id, *args,
                                     "-o", str(tmp_path / "y")])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
