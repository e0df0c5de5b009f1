"""`biodl variant-effect`: windows built by hand, SNV effects against direct re-scoring of the
mutated window, strand merging on a model with a known asymmetric answer, the exact rows of
a VCF holding every kind of allele, and every bad input as one line and exit 2."""

from __future__ import annotations

import csv
import gzip
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biodl.cli import app
from biodl.data.encoding import to_codes
from biodl.data.genome import Genome
from biodl.data.spec import InputSpec, Kind, Target
from biodl.data.vcf import VcfStream, chrom_mapper
from biodl.inference import variants
from biodl.inference.batches import Batch, encode
from biodl.inference.model import load
from biodl.inference.predict import scores
from biodl.tasks import ClassificationTask

runner = CliRunner()
WINDOW = 81  # the tiny pipeline's data.length
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"


def fasta(path, chroms: dict[str, str]):
    path.write_text("".join(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(
        0, len(seq), 60)) + "\n" for name, seq in chroms.items()))
    return path


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    rng = np.random.default_rng(1)
    chroms = {"chrA": "".join(rng.choice(list("ACGT"), 300)),
              "chrB": "".join(rng.choice(list("ACGT"), 150))}
    return fasta(tmp_path_factory.mktemp("genome") / "genome.fa", chroms), chroms


def effect(checkpoint, vcf, genome_path, out, *extra: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["variant-effect", str(checkpoint), "--vcf", str(vcf),
                                 "--genome", str(genome_path), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def direct(task, spec, seqs: list[str], both: bool = False) -> np.ndarray:
    """P(promoter) of whole windows through `biodl predict`'s scoring path."""
    saved, task.test_reverse_complement = task.test_reverse_complement, both
    try:
        x = encode(to_codes([s.encode() for s in seqs], WINDOW), spec)
        (_, values), = scores(task, [Batch([], x)])
    finally:
        task.test_reverse_complement = saved
    return values.astype(np.float64)


def centred(seq: str, start: int, ref_len: int, alt: str) -> tuple[str, str]:
    """Reference and alternative windows by the documented rule, from the whole chromosome."""
    padded = "N" * WINDOW + seq + "N" * WINDOW
    at = WINDOW + start
    mutated = padded[:at] + alt + padded[at + ref_len:]
    r, a = at + ref_len // 2 - WINDOW // 2, at + len(alt) // 2 - WINDOW // 2
    return padded[r:r + WINDOW], mutated[a:a + WINDOW]


def test_windows_by_hand(tmp_path):
    path = fasta(tmp_path / "g.fa", {"c": "ACGTACGTAC"})
    with Genome(path) as g:
        def window(start: int, ref_len: int, alt: bytes) -> tuple[bytes, bytes, bytes]:
            return variants.windows(g, "c", start, ref_len, alt, 5)

        assert window(4, 2, b"A") == (b"AC", b"TACGT", b"GTAGT")  # deletion of C
        assert window(2, 1, b"GTT") == (b"G", b"ACGTA", b"CGTTT")  # insertion of TT
        assert window(0, 1, b"G") == (b"A", b"NNACG", b"NNGCG")  # N before the start
        assert window(9, 1, b"T") == (b"C", b"TACNN", b"TATNN")  # N after the end


def test_snv_diff_equals_rescoring_the_mutated_window(tiny_fit, genome, write, tmp_path):
    path, chroms = genome
    task, spec, _ = load(tiny_fit.checkpoint)
    rng = np.random.default_rng(2)
    sites = [("chrA", 1), ("chrA", 300), ("chrB", 75)] + [
        ("chrA", int(p)) for p in rng.integers(1, 301, 20)]
    lines, expected = [], []
    for chrom, pos in sites:
        ref = chroms[chrom][pos - 1]
        alt = next(b for b in "ACGT" if b != ref)
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}")
        expected.append(centred(chroms[chrom], pos - 1, 1, alt))
    vcf = write("snv.vcf", HEADER + "\n".join(lines) + "\n")
    for both in (False, True):
        rows = effect(tiny_fit.checkpoint, vcf, path, tmp_path / f"snv{both}.tsv",
                      "--strands", "both" if both else "auto")
        ref = direct(task, spec, [r for r, _ in expected], both)
        alt = direct(task, spec, [a for _, a in expected], both)
        got = np.array([[float(r[f"{s}_promoter"]) for s in ("ref", "alt", "diff")]
                        for r in rows])
        np.testing.assert_allclose(got, np.stack([ref, alt, alt - ref], axis=1), atol=1e-5)
        logit = np.log(alt / (1 - alt)) - np.log(ref / (1 - ref))
        np.testing.assert_allclose([float(r["logit_diff_promoter"]) for r in rows], logit,
                                   atol=1e-4)


class LeftA(torch.nn.Module):
    """logit = the number of A in the window's left half and centre: a strand-asymmetric
    answer (on the reverse complement it counts T in the centre and the right half)."""

    def __init__(self, length: int):
        super().__init__()
        self.half, self.scale = length // 2, torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * x[:, 0, :self.half + 1].sum(-1, keepdim=True)  # (N, 1)


@pytest.mark.parametrize("strands, merge, ref, alt, logit", [
    ("forward", "mean", 0.5, 0.5, 0.0),
    ("auto", "mean", 0.5, 1 / (1 + math.exp(-0.5)), 0.5),  # logits averaged: (0 + 1) / 2
    ("auto", "max", 0.5, 1 / (1 + math.exp(-1.0)), 1.0),  # the reverse strand moves more
])
def test_strand_merge_on_an_asymmetric_model(tmp_path, write, strands, merge, ref, alt, logit):
    path = fasta(tmp_path / "c.fa", {"c": "C" * 21})
    spec = InputSpec("fasta", Kind.ONEHOT, Target.CLASS, ("neg", "pos"), length=9,
                     trained_reverse_complement=True)
    task = ClassificationTask(LeftA(9), 2, ["neg", "pos"], metrics=["acc"])
    setup = variants.plan(spec, strands, merge)
    summary = variants.Summary()
    with Genome(path) as g:
        stream = variants.alleles(VcfStream(write("t.vcf", "c\t11\t.\tC\tT\n")), g,
                                  chrom_mapper({"c"}, None, path), 9, summary)
        (row,) = list(variants.effects(task, spec, setup, stream, summary))
    assert row[:7] == ["c", 11, ".", "C", "T", "snv", "yes"]
    assert row[7:] == pytest.approx([ref, alt, alt - ref, alt - ref, math.log2(
        (alt + 1e-6) / (ref + 1e-6)), logit], abs=1e-6)


def test_every_kind_of_allele_gives_the_expected_rows(tiny_fit, genome, write, tmp_path):
    path, chroms = genome
    a = chroms["chrA"]
    other = {b: next(c for c in "ACGT" if c != b) for b in "ACGT"}
    lines = [f"chrA\t50\tdel\t{a[49:52]}\t{a[49]}", f"chrA\t60\tins\t{a[59]}\t{a[59]}TTG",
             f"chrA\t70\tmulti\t{a[69]}\t{other[a[69]]},{other[other[a[69]]]}",
             f"chrA\t80\tmism\t{other[a[79]]}\t{a[79]}", f"chrA\t90\tsv\t{a[89]}\t<DEL>",
             f"chrA\t95\tnone\t{a[94]}\t.", f"chrB\t5\tlast\t{chroms['chrB'][4]}\tN"]
    vcf = write("kinds.vcf", HEADER + "\n".join(lines) + "\n")
    result = runner.invoke(app, ["variant-effect", str(tiny_fit.checkpoint), "--vcf", str(vcf),
                                 "--genome", str(path), "-o", str(tmp_path / "k.tsv")])
    assert result.exit_code == 0, result.output
    assert "effects of 6 alleles of 7 records written to" in result.output
    assert "skipped 1 symbolic or breakend allele(s)" in result.output
    assert "skipped 1 missing ('.') allele(s)" in result.output
    assert "1 allele(s) whose REF differs from the genome" in result.output
    with open(tmp_path / "k.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    first = [[r[c] for c in variants.FIRST_COLUMNS] for r in rows]
    assert first == [["chrA", "50", "del", a[49:52], a[49], "deletion", "yes"],
                     ["chrA", "60", "ins", a[59], a[59] + "TTG", "insertion", "yes"],
                     ["chrA", "70", "multi", a[69], other[a[69]], "snv", "yes"],
                     ["chrA", "70", "multi", a[69], other[other[a[69]]], "snv", "yes"],
                     ["chrA", "80", "mism", other[a[79]], a[79], "snv", "no"],
                     ["chrB", "5", "last", chroms["chrB"][4], "N", "snv", "yes"]]
    task, spec, _ = load(tiny_fit.checkpoint)
    pairs = [centred(a, 49, 3, a[49]), centred(a, 59, 1, a[59] + "TTG"),
             centred(a, 69, 1, other[a[69]]), centred(a, 69, 1, other[other[a[69]]]),
             centred(a, 79, 1, a[79]), centred(chroms["chrB"], 4, 1, "N")]
    ref, alt = (direct(task, spec, [p[i] for p in pairs]) for i in (0, 1))
    got = np.array([[float(r["ref_promoter"]), float(r["alt_promoter"])] for r in rows])
    np.testing.assert_allclose(got, np.stack([ref, alt], axis=1), atol=1e-5)
    assert header_of(tmp_path / "k.tsv") == variants.FIRST_COLUMNS + [
        f"{s}_promoter" for s in variants.SCORES]


def header_of(path) -> list[str]:
    return path.read_text().splitlines()[0].split("\t")


def test_compressed_inputs_read_as_plain(tiny_fit, genome, write, tmp_path):
    pysam = pytest.importorskip("pysam")  # the `variants` extra: bgzip genomes

    path, chroms = genome
    text = HEADER + f"chrA\t40\t.\t{chroms['chrA'][39]}\tN\nchrB\t3\t.\t{chroms['chrB'][2]}\tN\n"
    plain = effect(tiny_fit.checkpoint, write("p.vcf", text), path, tmp_path / "plain.tsv")
    packed = tmp_path / "genome.fa.gz"
    pysam.tabix_compress(str(path), str(packed))
    (tmp_path / "v.vcf.gz").write_bytes(gzip.compress(text.encode()))
    assert effect(tiny_fit.checkpoint, tmp_path / "v.vcf.gz", packed,
                  tmp_path / "packed.tsv") == plain


def test_logged_to_the_run(in_tiny_fit, genome, write):
    from mlflow.tracking import MlflowClient

    path, chroms = genome
    vcf = write("r.vcf", HEADER + f"chrA\t40\t.\t{chroms['chrA'][39]}\tN\n")
    result = runner.invoke(app, ["variant-effect", in_tiny_fit.run_id[:8], "--vcf", str(vcf),
                                 "--genome", str(path), "-o", "run_effects.tsv"])
    assert result.exit_code == 0, result.output
    assert f"logged to run {in_tiny_fit.run_id} as variant_effects/run_effects.tsv" in result.output
    listed = MlflowClient(in_tiny_fit.uri).list_artifacts(in_tiny_fit.run_id, "variant_effects")
    assert [f.path for f in listed] == ["variant_effects/run_effects.tsv"]


class ThreeWay(torch.nn.Module):
    """Three logits from the centre base: (A, C, 2 * G)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor([1.0, 1.0, 2.0]))

    def forward(self, x):
        return x[:, :3, x.shape[-1] // 2] * self.scale  # (N, 3)


def test_multiclass_log_odds_from_softmax(tmp_path, write):
    path = fasta(tmp_path / "c.fa", {"c": "ACGTA"})
    spec = InputSpec("fasta", Kind.ONEHOT, Target.CLASS, ("a", "c", "g"), length=3)
    task = ClassificationTask(ThreeWay(), 3, list(spec.output_names), mode="multiclass",
                              metrics=["acc"])
    setup, summary = variants.plan(spec), variants.Summary()
    with Genome(path) as g:
        stream = variants.alleles(VcfStream(write("m.vcf", "c\t2\t.\tC\tG\n")), g,
                                  chrom_mapper({"c"}, None, path), 3, summary)
        (row,) = list(variants.effects(task, spec, setup, stream, summary))
    ref, alt = torch.tensor([0.0, 1.0, 0.0]).softmax(0), torch.tensor([0.0, 0.0, 2.0]).softmax(0)
    odds = lambda p: torch.log(p / (1 - p))  # noqa: E731
    values = np.array(row[7:], dtype=np.float64).reshape(3, 6)  # per class: SCORES
    np.testing.assert_allclose(values[:, 0], ref, atol=1e-6)
    np.testing.assert_allclose(values[:, 1], alt, atol=1e-6)
    np.testing.assert_allclose(values[:, 5], odds(alt) - odds(ref), atol=1e-5)
