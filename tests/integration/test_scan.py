"""`biodl predict --scan`: the tiny promoter CNN slid along a three-record genome, written as
bedGraph, BigWig and TSV, checked against `biodl predict` of single windows and a direct
computation of both strands."""

from __future__ import annotations

import csv
import gzip
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biodl.cli import app
from biodl.config import load_config
from biodl.data import encoding
from biodl.inference.model import load
from biodl.train import fit

from ..conftest import DATA, use_store

runner = CliRunner()
TOLERANCE = 1e-6
WINDOW = 81  # the tiny pipeline's data.length
SIZES = {"chrA": 300, "chrB": 200, "chrC": 50}  # chrC is shorter than the window
STARTS = {"chrA": [0, 40, 80, 120, 160, 200], "chrB": [0, 40, 80]}  # default stride 40


@pytest.fixture(scope="module")
def trained(tmp_path_factory, store_template):
    """(folder, checkpoint, genome): one tiny fit and a random genome of SIZES, 60 bp lines."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        folder = tmp_path_factory.mktemp("scan")
        use_store(folder, store_template, monkeypatch)
        monkeypatch.setenv("BIODL_CACHE", str(folder / "cache"))
        result = fit(load_config(DATA / "tiny_pipeline.yaml", []), echo=lambda *_: None)
        rng = np.random.default_rng(0)
        genome = folder / "genome.fa"
        with open(genome, "w") as out:
            for name, size in SIZES.items():
                seq = "".join(rng.choice(list("ACGT"), size))
                if size > 105:  # an N inside windows, encoded as zeros
                    seq = seq[:100] + "N" * 5 + seq[105:]
                lines = [seq[i:i + 60] for i in range(0, size, 60)]
                out.write(f">{name} random\n" + "\n".join(lines) + "\n")
        yield folder, result.best_checkpoint, genome


def scan(checkpoint, genome, out, *extra: str) -> str:
    result = runner.invoke(app, ["predict", str(checkpoint), str(genome), "--scan", "-o",
                                 str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def tsv(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def genome_seqs(path) -> dict[str, str]:
    seqs, name = {}, None
    for line in open(path):
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = ""
        else:
            seqs[name] += line.strip()
    return seqs


def test_tsv_holds_every_window_and_bedgraph_its_central_bin(trained):
    folder, checkpoint, genome = trained
    output = scan(checkpoint, genome, folder / "track.tsv")
    rows = tsv(folder / "track.tsv")
    assert list(rows[0]) == ["chrom", "start", "end", "p_promoter"]
    expected = [(c, s, s + WINDOW) for c, starts in STARTS.items() for s in starts]
    assert [(r["chrom"], int(r["start"]), int(r["end"])) for r in rows] == expected
    assert all(0 < float(r["p_promoter"]) < 1 for r in rows)
    assert "9 windows of 2 record(s) scored (window 81, stride 40, strands forward (auto: " \
           "trained on the forward strand only))" in output
    assert "skipped 1 record(s) shorter than the 81-bp window: 'chrC' (50 bp)" in output

    scan(checkpoint, genome, folder / "track.bedgraph")
    lines = (folder / "track.bedgraph").read_text().splitlines()
    assert lines[0].startswith('track type=bedGraph name="p_promoter" description="biodl scan')
    assert "strands forward" in lines[0]
    fields = [line.split("\t") for line in lines[1:]]
    # bin = [start + (81 - 40) // 2, + 40): contiguous, non-overlapping
    assert [(f[0], int(f[1]), int(f[2])) for f in fields] == [
        (c, s + 20, s + 60) for c, starts in STARTS.items() for s in starts]
    assert [f[3] for f in fields] == [r["p_promoter"] for r in rows]


def test_bigwig_has_the_genome_header_and_the_bins(trained):
    import pyBigWig

    folder, checkpoint, genome = trained
    scan(checkpoint, genome, folder / "track.bw", "--stride", "30")
    scan(checkpoint, genome, folder / "s30.tsv", "--stride", "30")
    rows = tsv(folder / "s30.tsv")
    track = pyBigWig.open(str(folder / "track.bw"))
    assert track.chroms() == SIZES and list(track.chroms()) == list(SIZES)
    intervals = [(c, *i) for c in ("chrA", "chrB") for i in track.intervals(c)]
    assert track.intervals("chrC") is None
    # stride 30: bins [start + 25, start + 55)
    assert [(c, b, e) for c, b, e, _ in intervals] == [
        (r["chrom"], int(r["start"]) + 25, int(r["start"]) + 55) for r in rows]
    values = np.array([v for *_, v in intervals])
    assert np.abs(values - [float(r["p_promoter"]) for r in rows]).max() <= TOLERANCE
    track.close()


def test_a_window_scores_as_predict_scores_its_sequence(trained):
    folder, checkpoint, genome = trained
    scan(checkpoint, genome, folder / "windows.tsv", "--stride", "17")
    rows = tsv(folder / "windows.tsv")
    seqs = genome_seqs(genome)
    fasta = folder / "windows.fa"
    fasta.write_text("".join(f">{r['chrom']}_{r['start']}\n"
                             f"{seqs[r['chrom']][int(r['start']):int(r['end'])]}\n" for r in rows))
    result = runner.invoke(app, ["predict", str(checkpoint), str(fasta), "-o",
                                 str(folder / "windows.csv")])
    assert result.exit_code == 0, result.output
    with open(folder / "windows.csv") as handle:
        predicted = list(csv.DictReader(handle))
    assert [p["id"] for p in predicted] == [f"{r['chrom']}_{r['start']}" for r in rows]
    worst = max(abs(float(p["p_promoter"]) - float(r["p_promoter"]))
                for p, r in zip(predicted, rows))
    assert worst <= TOLERANCE


def test_both_strands_average_the_logits_of_each_window_and_its_reverse_complement(trained):
    folder, checkpoint, genome = trained
    output = scan(checkpoint, genome, folder / "both.tsv", "--strands", "both")
    assert "strands both (--strands both)" in output
    rows = tsv(folder / "both.tsv")
    seqs = genome_seqs(genome)
    codes = np.array([np.frombuffer(seqs[r["chrom"]][int(r["start"]):int(r["end"])].encode(),
                                    np.uint8) for r in rows])
    table = encoding.onehot_table("zeros", "upper")
    forward = torch.from_numpy(encoding.onehot(codes, table))
    reverse = torch.from_numpy(encoding.onehot(encoding.reverse_complement_codes(codes), table))
    task = load(checkpoint).task
    with torch.no_grad():
        direct = torch.sigmoid((task.model(forward) + task.model(reverse)).squeeze(-1) / 2)
        one_strand = torch.sigmoid(task.model(forward).squeeze(-1))
    scanned = np.array([float(r["p_promoter"]) for r in rows])
    assert np.abs(scanned - direct.numpy()).max() <= TOLERANCE
    assert np.abs(scanned - one_strand.numpy()).max() > 1e-3  # the strands really differ
    assert task.test_reverse_complement is False  # what the checkpoint says, untouched


def test_gzip_genome_gives_the_same_track(trained):
    folder, checkpoint, genome = trained
    packed = folder / "genome.fa.gz"
    with open(genome, "rb") as plain, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(plain, out)
    scan(checkpoint, genome, folder / "plain.tsv", "--batch-size", "4")
    scan(checkpoint, packed, folder / "packed.tsv", "--batch-size", "4")
    assert (folder / "packed.tsv").read_text() == (folder / "plain.tsv").read_text()
    # batches of 4 windows span records (chrA's 6 windows end in a batch with chrB's first 2)
    scan(checkpoint, packed, folder / "whole.tsv")
    small, whole = tsv(folder / "plain.tsv"), tsv(folder / "whole.tsv")
    assert [r["start"] for r in small] == [r["start"] for r in whole]
    assert max(abs(float(a["p_promoter"]) - float(b["p_promoter"]))
               for a, b in zip(small, whole)) <= TOLERANCE


def test_stride_longer_than_the_window_warns_and_bins_are_the_windows(trained):
    folder, checkpoint, genome = trained
    output = scan(checkpoint, genome, folder / "gaps.bedgraph", "--stride", "100")
    assert "warning: --stride 100 is longer than the 81-bp window: 19 bp between windows are " \
           "not scored" in output
    lines = (folder / "gaps.bedgraph").read_text().splitlines()[1:]
    assert [tuple(line.split("\t")[:3]) for line in lines] == [
        ("chrA", "0", "81"), ("chrA", "100", "181"), ("chrA", "200", "281"), ("chrB", "0", "81"),
        ("chrB", "100", "181")]


def unscannable(folder, checkpoint):
    """The tiny checkpoint relabelled as a variable-length model."""
    values = torch.load(checkpoint, map_location="cpu", weights_only=True)
    values["hyper_parameters"]["input_spec"]["variable_length"] = True
    path = folder / "variable.ckpt"
    torch.save(values, path)
    return path


@pytest.mark.parametrize("case, message", [
    ("stride 0", "--stride 0: the stride must be at least 1 base"),
    ("stride 301", "--stride 301: longer than the longest record"),
    ("missing folder", "does not exist; create it first"),
    ("existing output", "already exists; choose another --output or pass --force"),
    ("bad suffix", "--scan writes .bedgraph, .bw, .bigwig, .tsv"),
    ("variable length", "--scan: this model reads onehot sequences of variable length"),
    ("unknown output", "--output-name enhancer: the model's outputs are promoter"),
    ("strands", "--strands: 'reverse' is not a choice"),
])
def test_bad_input_is_one_line_and_exit_2(trained, case, message):
    folder, checkpoint, genome = trained
    out, extra = folder / "bad.bedgraph", []
    if case.startswith("stride"):
        extra = ["--stride", case.split()[1]]
    elif case == "missing folder":
        out = folder / "nowhere" / "t.bedgraph"
    elif case == "existing output":
        out = folder / "kept.bedgraph"
        out.write_text("precious\n")
    elif case == "bad suffix":
        out = folder / "t.csv"
    elif case == "variable length":
        checkpoint = unscannable(folder, checkpoint)
    elif case == "unknown output":
        extra = ["--output-name", "enhancer"]
    elif case == "strands":
        extra = ["--strands", "reverse"]
    result = runner.invoke(app, ["predict", str(checkpoint), str(genome), "--scan", "-o",
                                 str(out), *extra])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and message in result.output
    assert not (folder / "bad.bedgraph").exists()
    if case == "existing output":
        assert out.read_text() == "precious\n"
