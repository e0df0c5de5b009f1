"""`biodl predict` on a test split's own inputs reproduces the fit's recorded test predictions
(`evaluation/test_predictions.csv`) to 1e-6: one input path for training and inference."""

from __future__ import annotations

import csv

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app
from biodl.config import load_config
from biodl.data.fasta import read_fasta
from biodl.data.formats import build_datamodule
from biodl.train import fit

from ..conftest import DATA, ROOT, SMOKE, tiff_classes, variable_length_rnn
from .test_fit_sequence_tasks import QUICK, SLICE

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


EXACT = ("predicted", "position", "protein", "length", "tokens")  # labels, counts, decodings


def assert_same(predicted: list[dict], evaluated: list[dict], relative: tuple = ()) -> None:
    """Same ids in the same order, every predict column equal (labels, counts and decoded
    proteins exactly, numbers to 1e-6; those in `relative` to 1e-6 of their size, as float32
    sums of hundreds of terms carry)."""
    assert predicted and [r["id"] for r in predicted] == [r["id"] for r in evaluated]
    columns = [c for c in predicted[0] if c != "id"]
    assert columns and set(columns) <= set(evaluated[0])
    worst = 0.0
    for p, e in zip(predicted, evaluated):
        for column in columns:
            if column in EXACT:
                assert p[column] == e[column], (p["id"], column)
            else:
                scale = max(1.0, abs(float(e[column]))) if column in relative else 1.0
                worst = max(worst, abs(float(p[column]) - float(e[column])) / scale)
    assert worst <= TOLERANCE


def predict(run_id: str, inputs, out, *extra: str) -> list[dict]:
    result = runner.invoke(app, ["predict", run_id, str(inputs), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return read_rows(out)


def datamodule_of(cfg):
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    return datamodule


def split_ids_of(cfg) -> list[str]:
    return list(datamodule_of(cfg).split_ids["test"])


def fit_sequence_task(pipeline: str, *overrides: str):
    cfg = load_config(ROOT / "pipelines" / pipeline, [*QUICK, *overrides])
    return cfg, fit(cfg, echo=lambda *_: None)


def write_contigs(path, contigs, lowercase: bool = False) -> None:
    """Contigs as FASTA in 60-base lines (lowercase: soft-masked, read as upper)."""
    def lines(seq: str) -> str:
        return "".join(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))
    path.write_text("".join(f">{c.id}\n" + lines(c.seq.decode().lower() if lowercase else
                                                 c.seq.decode()) for c in contigs))


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
    a, b, overrides = variable_length_rnn(write)
    cfg = load_config(DATA / "tiny_pipeline.yaml", overrides)
    result = fit(cfg, echo=lambda *_: None)
    ids = split_ids_of(cfg)
    write_fasta(workdir / "test.fa", fasta_records(a, b), ids)
    # batches of 3: other padding than in evaluation, the same predictions
    assert_same(predict(result.run_id, workdir / "test.fa", workdir / "p.csv", "--batch-size",
                        "3"), recorded(result.run_id, workdir))


def test_images(workdir):
    tiff_classes(workdir / "cells", channels=3, width=10)
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


def test_tags(workdir):
    """Overlapping windows (stride 200 < window 300): both tables take each base from the
    window it is most central in."""
    cfg, result = fit_sequence_task(
        "leptospira_coding", f"data.genbank={SLICE / 'contigs.gbk'}", "data.window=300",
        "data.stride=200", "model.hidden_size=8", "model.conv_channels=[8]")
    contigs = datamodule_of(cfg).contigs["test"]
    write_contigs(workdir / "test.fa", contigs)
    predicted = predict(result.run_id, workdir / "test.fa", workdir / "p.csv")
    assert list(predicted[0]) == ["id", "position", "p_other", "p_CDS", "predicted"]
    assert len(predicted) == sum(len(c.seq) for c in contigs)
    assert [int(r["position"]) for r in predicted[:3]] == [0, 1, 2]
    evaluated = recorded(result.run_id, workdir)
    assert list(evaluated[0])[:3] == ["id", "position", "label"]
    assert {r["label"] for r in evaluated} == {"other", "CDS"}
    assert_same(predicted, evaluated)


@pytest.mark.parametrize("beam", [1, pytest.param(3, marks=pytest.mark.slow)])  # 3: CI
def test_seq2seq(workdir, beam):
    cfg, result = fit_sequence_task(
        "leptospira_protein", f"data.table={SLICE / 'cds_protein.tsv'}",
        "data.max_source_length=1500", "model.hidden_size=16", "data.batch_size=4",
        f"task.beam_size={beam}")
    pairs = datamodule_of(cfg).pairs["test"]
    (workdir / "test.csv").write_text("id,sequence\n" + "".join(
        f"{p.id},{p.source.decode()}\n" for p in pairs))
    predicted = predict(result.run_id, workdir / "test.csv", workdir / "p.csv")
    assert list(predicted[0]) == ["id", "protein", "length"]
    assert [int(r["length"]) for r in predicted] == [len(r["protein"]) for r in predicted]
    evaluated = recorded(result.run_id, workdir)
    assert [r["true_protein"] for r in evaluated] == [p.target.decode() for p in pairs]
    assert_same(predicted, evaluated)


def test_language_model(workdir):
    cfg, result = fit_sequence_task(
        "leptospira_lm", f"data.genome={SLICE / 'contigs.gbk'}", "data.window=200",
        "data.stride=150", "model.hidden_size=16", "model.num_layers=1")
    contigs = datamodule_of(cfg).contigs["test"]
    write_contigs(workdir / "test.fa", contigs, lowercase=True)
    predicted = predict(result.run_id, workdir / "test.fa", workdir / "p.csv")
    assert list(predicted[0]) == ["id", "tokens", "nll", "perplexity"]
    first = contigs[0].id
    assert [r["id"] for r in predicted[:2]] == [f"{first}:0-200", f"{first}:150-350"]
    assert predicted[0]["tokens"] == "199"
    assert_same(predicted, recorded(result.run_id, workdir), relative=("nll",))


def test_a_checkpoint_without_an_input_spec_is_refused(in_tiny_fit, tmp_path):
    import torch

    old = torch.load(in_tiny_fit.checkpoint, weights_only=True)
    del old["hyper_parameters"]["input_spec"]
    torch.save(old, tmp_path / "old.ckpt")
    (tmp_path / "x.fa").write_text(">x\n" + "A" * 81 + "\n")
    result = runner.invoke(app, ["predict", str(tmp_path / "old.ckpt"), str(tmp_path / "x.fa"),
                                 "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2 and "has no input spec" in result.output
    assert "re-train" in result.output and not (tmp_path / "p.csv").exists()


def test_a_wrong_length_policy_names_the_choices(in_tiny_fit, tmp_path):
    result = runner.invoke(app, ["predict", in_tiny_fit.run_id, str(DATA / "ecoli_prom_30.fa"),
                                 "-o", str(tmp_path / "p.csv"), "--length-policy", "trim"])
    assert result.exit_code == 2
    assert "--length-policy: 'trim' is not a length policy; choose error, crop" in result.output
