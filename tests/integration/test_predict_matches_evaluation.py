"""`biodl predict` on a test split's own inputs reproduces the fit's recorded test predictions
(`evaluation/test_predictions.csv`) to 1e-6: one input path for training and inference."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app
from biodl.config import load_config
from biodl.data.fasta import read_fasta
from biodl.data.formats import build_datamodule
from biodl.train import fit

from ..conftest import DATA, ROOT, SMOKE

runner = CliRunner()
TOLERANCE = 1e-6


def read_rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t" if str(path).endswith(".tsv")
                                   else ","))


def recorded(run_id: str, folder) -> list[dict[str, str]]:
    path = MlflowClient().download_artifacts(run_id, "evaluation/test_predictions.csv",
                                             str(folder))
    return read_rows(path)


def assert_same(predicted: list[dict], evaluated: list[dict]) -> None:
    """Same ids in the same order, every predict column equal (numbers to 1e-6)."""
    assert [r["id"] for r in predicted] == [r["id"] for r in evaluated]
    columns = [c for c in predicted[0] if c != "id"]
    assert columns and set(columns) <= set(evaluated[0])
    worst = 0.0
    for p, e in zip(predicted, evaluated):
        for column in columns:
            if column == "predicted":
                assert p[column] == e[column]
            else:
                worst = max(worst, abs(float(p[column]) - float(e[column])))
    assert worst <= TOLERANCE


def predict(run_id: str, inputs, out, *extra: str) -> list[dict]:
    result = runner.invoke(app, ["predict", run_id, str(inputs), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return read_rows(out)


def split_ids_of(cfg) -> list[str]:
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    return list(datamodule.split_ids["test"])


def write_fasta(path, records: dict[str, bytes], ids: list[str]) -> None:
    path.write_text("".join(f">{i}\n{records[i].decode()}\n" for i in ids))


def fasta_records(*files) -> dict[str, bytes]:
    return {r.id: r.seq for f in files for r in read_fasta(f)}


def test_fasta_binary(in_tiny_fit, tmp_path):
    cfg = load_config(DATA / "tiny_pipeline.yaml", [])
    ids = split_ids_of(cfg)
    write_fasta(tmp_path / "test.fa", fasta_records(*cfg.data.classes.values()), ids)
    assert_same(predict(in_tiny_fit.run_id, tmp_path / "test.fa", tmp_path / "p.csv"),
                recorded(in_tiny_fit.run_id, tmp_path))


def test_table_multiclass(workdir):
    records = fasta_records(DATA / "ecoli_prom_30.fa", DATA / "ecoli_nonprom_60.fa")
    rows = [f"{rid},{seq.decode()},{'abc'[n % 3]}" for n, (rid, seq) in enumerate(records.items())]
    (workdir / "t.csv").write_text("id,sequence,label\n" + "\n".join(rows) + "\n")
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=table", f"data.train={workdir / 't.csv'}", "data.id_column=id",
        "task.loss=cross_entropy", "data.augment.test_reverse_complement=true"])
    result = fit(cfg, echo=lambda *_: None)
    ids = set(split_ids_of(cfg))
    test_rows = [r for r in rows if r.split(",")[0] in ids]
    (workdir / "test.csv").write_text("id,sequence\n" + "\n".join(
        ",".join(r.split(",")[:2]) for r in test_rows) + "\n")
    predicted = predict(result.run_id, workdir / "test.csv", workdir / "p.csv")
    assert list(predicted[0]) == ["id", "p_a", "p_b", "p_c", "predicted"]
    evaluated = {r["id"]: r for r in recorded(result.run_id, workdir)}
    assert_same(predicted, [evaluated[r["id"]] for r in predicted])


def test_variable_length_rnn(workdir, write):
    a = write("a.fa", "".join(f">a{i}\n{'ACGT' * (3 + i % 5)}\n" for i in range(30)))
    b = write("b.fa", "".join(f">b{i}\n{'GGCA' * (2 + i % 7)}\n" for i in range(30)))
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        f"data.classes={{a: {a}, b: {b}}}", "data.length=null", "data.variable_length=true",
        "data.leakage=ignore", "model={name: rnn_classifier, input: onehot, hidden_size: 8}",
        "task.metrics=null"])
    result = fit(cfg, echo=lambda *_: None)
    ids = split_ids_of(cfg)
    write_fasta(workdir / "test.fa", fasta_records(a, b), ids)
    # batches of 3: other padding than in evaluation, the same predictions
    assert_same(predict(result.run_id, workdir / "test.fa", workdir / "p.csv", "--batch-size",
                        "3"), recorded(result.run_id, workdir))


def test_images(workdir):
    rng = np.random.default_rng(0)
    for label, shift in (("dim", 0), ("bright", 20000)):
        folder = workdir / "cells" / label
        folder.mkdir(parents=True)
        for i in range(12):
            image = rng.integers(0, 30000, (3, 12, 10)).astype(np.uint16) + shift
            tifffile.imwrite(folder / f"{i}.tif", image)
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=images", f"data.root={workdir / 'cells'}", "data.size=8",
        "data.batch_size=8", "data.split.val=0.25", "data.split.test=0.25",
        "model={name: resnet18, small_input: true}", "task.metrics=null",
        "task.loss=cross_entropy"])
    result = fit(cfg, echo=lambda *_: None)
    ids = split_ids_of(cfg)
    (workdir / "cells" / "test.csv").write_text("path\n" + "\n".join(ids) + "\n")
    predicted = predict(result.run_id, workdir / "cells" / "test.csv", workdir / "p.csv")
    evaluated = recorded(result.run_id, workdir)
    for p, path in zip(predicted, ids):
        p["id"] = path  # the manifest's paths name the same files
    assert_same(predicted, evaluated)


def test_sir_regression(workdir):
    from biodl.data.epidemic import simulate_outbreaks, split_outbreaks

    cfg = load_config(ROOT / "pipelines" / "sir_gru", [
        "data.outbreaks=64", "data.batch_size=16", "model.hidden_size=8", *SMOKE])
    result = fit(cfg, echo=lambda *_: None)
    index = split_outbreaks(cfg.data)["test"]
    observed = simulate_outbreaks(cfg.data).observed[index]  # (N, C, days) percent
    names = [f"{s}_{d}" for s in cfg.data.inputs for d in range(cfg.data.observe)]
    lines = [",".join(["id", *names])] + [
        ",".join([f"outbreak_{i}", *map(repr, row.ravel().tolist())])
        for i, row in zip(index, observed)]
    (workdir / "test.csv").write_text("\n".join(lines) + "\n")
    predicted = predict(result.run_id, workdir / "test.csv", workdir / "p.csv")
    assert list(predicted[0])[:2] == ["id", f"day_{cfg.data.observe}"]
    assert_same(predicted, recorded(result.run_id, workdir))


@pytest.mark.parametrize("policy,expected", [
    ("error", "is 85 bp but the model takes 81-bp windows"), ("pad", "set --length-policy crop")])
def test_other_lengths_are_refused_unless_asked(in_tiny_fit, tmp_path, policy, expected):
    (tmp_path / "long.fa").write_text(">long\n" + "ACGTA" * 17 + "\n")
    out = tmp_path / "p.csv"
    refused = runner.invoke(app, ["predict", in_tiny_fit.run_id, str(tmp_path / "long.fa"), "-o",
                                  str(out), "--length-policy", policy])
    assert refused.exit_code == 2 and expected in refused.output
    assert "long.fa line 1: record 'long'" in refused.output and not out.exists()
    assert predict(in_tiny_fit.run_id, tmp_path / "long.fa", out, "--length-policy", "crop")[0][
        "id"] == "long"
