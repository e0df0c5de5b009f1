"""`biodl variant-effect` on bad input: one line naming the file, the line and the fix, exit
2, no traceback, and no output file (nor a temporary one) left behind."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from biodl.cli import app

from .test_variant_effect import HEADER, genome  # noqa: F401 (the module's genome fixture)

runner = CliRunner()


def run(checkpoint, vcf, genome_path, out, *extra: str):
    return runner.invoke(app, ["variant-effect", str(checkpoint), "--vcf", str(vcf),
                               "--genome", str(genome_path), "-o", str(out), *extra])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def bad_vcf_cases(chroms: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    a0 = chroms["chrA"][0]
    ok = f"chrA\t1\t.\t{a0}\tN"
    return [
        (f"{ok}\nchrA\t7\t.\tA", "line 4: 4 column(s), a VCF record has at least 5", []),
        (f"{ok}\nchrA\tseven\t.\tA\tC", "line 4: POS 'seven' is not a position", []),
        (f"{ok}\nchrA\t7\t.\tA\tC,Z", "line 4: ALT 'Z' has characters outside ACGTN", []),
        (f"{ok}\nchrA\t300\t.\tAAA\tA", "line 4: chrA:300 (REF to 302) is beyond the end of "
                                         "chrA (300 bp); the VCF and genome must be the same "
                                         "assembly", []),
        (f"{ok}\nA\t7\t.\tA\tC", "line 4: the genome has no chromosome 'A' (it has chrA, chrB); "
                                 "the genome names it with 'chr': pass --chrom-map add-chr", []),
        (ok, "line 3: the genome has no chromosome 'chrA' ('chrA' mapped to 'A' by --chrom-map "
             "strip-chr) (it has chrA, chrB); the genome names it 'chrA' too: drop --chrom-map "
             "strip-chr", ["--chrom-map", "strip-chr"]),
        (f"{ok}\nchr9\t7\t.\tA\tC", "line 4: the genome has no chromosome 'chr9' (it has chrA, "
                                    "chrB); the VCF and genome must be the same assembly", []),
        (f"chrA\t1\t.\t{'T' if a0 != 'T' else 'G'}\tN", f"line 3: REF {'T' if a0 != 'T' else 'G'}"
                                                       f" but the genome has {a0} at chrA:1",
         ["--strict"]),
    ]


@pytest.mark.parametrize("case", range(8))
def test_bad_vcf_is_one_line_naming_file_and_line(tiny_fit, genome, write, tmp_path, case):
    path, chroms = genome
    text, message, extra = bad_vcf_cases(chroms)[case]
    vcf = write("bad.vcf", HEADER + text + "\n")
    out = tmp_path / "out.tsv"
    line = one_error_line(run(tiny_fit.checkpoint, vcf, path, out, *extra))
    assert f"{vcf} {message}" in line
    assert list(tmp_path.glob("*out.tsv*")) == []  # neither the output nor a .partial


def test_unsorted_vcf_is_scored_and_said_harmless(tiny_fit, genome, write, tmp_path):
    path, chroms = genome
    a = chroms["chrA"]
    vcf = write("u.vcf", HEADER + f"chrA\t9\t.\t{a[8]}\tN\nchrA\t3\t.\t{a[2]}\tN\n")
    result = run(tiny_fit.checkpoint, vcf, path, tmp_path / "u.tsv")
    assert result.exit_code == 0, result.output
    assert "1 record(s) out of position order: harmless" in result.output
    rows = (tmp_path / "u.tsv").read_text().splitlines()[1:]
    assert [r.split("\t")[1] for r in rows] == ["9", "3"]


def test_refuses_overwrite_without_force(tiny_fit, genome, write, tmp_path):
    path, chroms = genome
    vcf = write("v.vcf", HEADER + f"chrA\t9\t.\t{chroms['chrA'][8]}\tN\n")
    out = write("keep.tsv", "precious\n")
    line = one_error_line(run(tiny_fit.checkpoint, vcf, path, out))
    assert line == f"error: {out}: already exists; choose another --output or pass --force"
    assert out.read_text() == "precious\n"
    assert run(tiny_fit.checkpoint, vcf, path, out, "--force").exit_code == 0
    assert out.read_text().startswith("chrom\tpos\t")


def test_model_that_is_not_a_sequence_model(tiny_fit, genome, write, tmp_path):
    path, chroms = genome
    checkpoint = torch.load(tiny_fit.checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["input_spec"].update(
        kind="images", length=None, size=8, channels=["r", "g", "b"])
    image_model = tmp_path / "image.ckpt"
    torch.save(checkpoint, image_model)
    vcf = write("v.vcf", HEADER + f"chrA\t9\t.\t{chroms['chrA'][8]}\tN\n")
    line = one_error_line(run(image_model, vcf, path, tmp_path / "o.tsv"))
    assert "this model reads images and predicts class (data format fasta); variant effects " \
           "need a fixed-length DNA sequence model" in line


def test_genome_that_cannot_be_read_at_random(tiny_fit, genome, write, tmp_path):
    import gzip

    pytest.importorskip("pysam")  # without it the message says to install it or decompress
    path, chroms = genome
    packed = tmp_path / "plain_gzip.fa.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    vcf = write("v.vcf", HEADER + f"chrA\t9\t.\t{chroms['chrA'][8]}\tN\n")
    line = one_error_line(run(tiny_fit.checkpoint, vcf, packed, tmp_path / "o.tsv"))
    assert f"{packed}: cannot be read at random" in line and "must be bgzip, not gzip" in line
    line = one_error_line(run(tiny_fit.checkpoint, tmp_path / "none.vcf", path,
                              tmp_path / "o.tsv"))
    assert line == f"error: --vcf {tmp_path / 'none.vcf'}: file not found; check the path"
