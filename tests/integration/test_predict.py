"""`biodl predict` from a checkpoint, a run id and a registered model, on FASTA and CSV."""

import csv

import pytest
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import DATA

runner = CliRunner()


@pytest.fixture
def trained(in_tiny_fit, monkeypatch):
    """The session's tiny fit (registered as tiny_cnn): (folder, run id, monkeypatch)."""
    assert "registered as models:/tiny_cnn/1" in in_tiny_fit.output
    return in_tiny_fit.folder, in_tiny_fit.run_id, monkeypatch


def rows(path):
    with open(path) as handle:
        return list(csv.reader(handle))


def test_predict_fasta_from_checkpoint(trained):
    folder, run_id, _ = trained
    out = folder / "from_ckpt.csv"
    ckpt = folder / "biodl_runs" / run_id / "best.ckpt"
    result = runner.invoke(app, ["predict", str(ckpt), str(DATA / "ecoli_prom_30.fa"), "-o",
                                 str(out), "--batch-size", "7"])
    assert result.exit_code == 0, result.output
    table = rows(out)
    assert table[0] == ["id", "p_non_promoter", "p_promoter", "predicted"]
    assert len(table) == 31
    assert table[1][0] == "ECK120010467__accAp__forward__208411"
    for row in table[1:]:
        assert float(row[1]) + float(row[2]) == pytest.approx(1.0, abs=1e-5)
        assert row[3] == ("promoter" if float(row[2]) >= 0.5 else "non_promoter")


def test_run_id_and_registered_model_give_the_same_predictions(trained):
    folder, run_id, _ = trained
    by_run, by_name = folder / "by_run.csv", folder / "by_name.csv"
    for source, out in ((run_id, by_run), ("models:/tiny_cnn/1", by_name)):
        result = runner.invoke(app, ["predict", source, str(DATA / "gue_tf0" / "test.csv"),
                                     "-o", str(out), "--length-policy", "crop"])
        assert result.exit_code == 0, result.output
    assert rows(by_run) == rows(by_name)
    assert len(rows(by_run)) == 41 and rows(by_run)[1][0] == "0"


def test_existing_output_is_never_overwritten(trained):
    folder, run_id, _ = trained
    out = folder / "keep.csv"
    out.write_text("precious\n")
    result = runner.invoke(app, ["predict", run_id, str(DATA / "ecoli_prom_30.fa"), "-o", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_text() == "precious\n"


def test_bad_input_names_the_record(trained, write):
    folder, run_id, _ = trained
    bad = write("bad.fa", ">ok\nACGT\n>bad\nACXT\n")
    result = runner.invoke(app, ["predict", run_id, str(bad), "-o", str(folder / "bad.csv")])
    assert result.exit_code == 2
    assert "bad.fa line 4 column 3: character 'X'" in result.output
    assert not (folder / "bad.csv").exists()


def test_registered_model_is_a_pyfunc_with_a_signature(trained):
    import mlflow
    import pandas as pd

    folder, run_id, _ = trained
    model = mlflow.pyfunc.load_model("models:/tiny_cnn/1")
    signature = model.metadata.signature
    assert signature.inputs.input_names() == ["id", "sequence"]
    assert signature.outputs.input_names() == ["id", "p_non_promoter", "p_promoter",
                                               "predicted"]
    frame = model.predict(pd.DataFrame({"id": ["x"], "sequence": ["ACGT" * 20 + "A"]}))
    assert list(frame.columns) == signature.outputs.input_names()
    assert frame["p_promoter"].iloc[0] + frame["p_non_promoter"].iloc[0] == pytest.approx(1)
