"""The streaming VCF reader: records, allele kinds, order counting, chromosome naming and
every malformed line named by file and line with its fix."""

from __future__ import annotations

import gzip

import pytest

from biodl.data.vcf import Variant, VcfStream, allele_kind, chrom_mapper
from biodl.errors import BiodlError

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def records(path) -> list[Variant]:
    return list(VcfStream(path))


def test_reads_records_with_lines_and_uppercase_alleles(write):
    path = write("a.vcf", HEADER + "chr1\t5\trs1\tA\tg\t.\t.\t.\n\nchr1\t9\t.\tAT\tA,<DEL>\n")
    assert records(path) == [Variant("chr1", 5, "rs1", "A", ("G",), 3),
                             Variant("chr1", 9, ".", "AT", ("A", "<DEL>"), 5)]


def test_gzip_reads_as_plain(write, tmp_path):
    text = HEADER + "1\t3\t.\tC\tT\n"
    path = tmp_path / "a.vcf.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert records(path) == records(write("a.vcf", text))


@pytest.mark.parametrize("ref, alt, kind", [
    ("A", "G", "snv"), ("AC", "GT", "mnv"), ("A", "ATT", "insertion"), ("ATT", "A", "deletion"),
    ("AT", "GCC", "complex"), ("A", "<DEL>", "symbolic"), ("A", "<*>", "symbolic"),
    ("A", "A[chr2:10[", "symbolic"), ("A", "]chr2:10]A", "symbolic"), ("A", ".A", "symbolic"),
    ("A", "A.", "symbolic"), ("A", "*", "symbolic"), ("A", ".", "missing")])
def test_allele_kinds(ref, alt, kind):
    assert allele_kind(ref, alt) == kind


def test_counts_records_out_of_order(write):
    lines = ["1\t10\t.\tA\tC", "1\t5\t.\tA\tC", "2\t1\t.\tA\tC", "1\t20\t.\tA\tC"]
    stream = VcfStream(write("a.vcf", "\n".join(lines) + "\n"))
    assert [v.pos for v in stream] == [10, 5, 1, 20]
    assert stream.unsorted == 2  # 5 after 10; chromosome 1 again after 2


@pytest.mark.parametrize("line, message", [
    ("chr1\t5\t.\tA", "line 3: 4 column(s), a VCF record has at least 5 (CHROM, POS, ID, REF, "
                      "ALT); each record needs CHROM, POS, ID, REF and ALT"),
    ("chr1 5 . A G", "line 3: 1 column(s), a VCF record has at least 5 (CHROM, POS, ID, REF, "
                     "ALT); its columns are separated by spaces; VCF columns are separated by "
                     "tabs"),
    ("chr1\tfive\t.\tA\tG", "line 3: POS 'five' is not a position (a whole number from 1); "
                            "fix the second column"),
    ("chr1\t0\t.\tA\tG", "line 3: POS '0' is not a position"),
    ("chr1\t5\t.\tA\tGXT", "line 3: ALT 'GXT' has characters outside ACGTN; give bases, a "
                           "symbolic allele such as <DEL> (skipped), or '.' for none"),
    ("chr1\t5\t.\tA\tG,R", "line 3: ALT 'R' has characters outside ACGTN"),
    ("chr1\t5\t.\tA-\tG", "line 3: REF 'A-' has characters outside ACGTN"),
])
def test_malformed_lines_name_file_line_and_fix(write, line, message):
    path = write("bad.vcf", HEADER + line + "\n")
    with pytest.raises(BiodlError) as error:
        records(path)
    assert str(error.value).startswith(f"{path} {message}")


def test_chrom_map_choices(write, tmp_path):
    names = {"chr1", "chr2", "MT"}
    vcf = tmp_path / "a.vcf"
    assert chrom_mapper(names, None, vcf)("chr1", 1) == "chr1"
    assert chrom_mapper(names, "add-chr", vcf)("2", 1) == "chr2"
    assert chrom_mapper({"1"}, "strip-chr", vcf)("chr1", 1) == "1"
    table = write("map.tsv", "# vcf\tgenome\nchrM\tMT\n1\tchr1\n")
    lookup = chrom_mapper(names, str(table), vcf)
    assert (lookup("chrM", 1), lookup("1", 2), lookup("chr2", 3)) == ("MT", "chr1", "chr2")


@pytest.mark.parametrize("names, chrom, choice, fix", [
    ({"chr1", "chr2"}, "1", None, "the genome names it with 'chr': pass --chrom-map add-chr"),
    ({"1", "2"}, "chr1", None, "the genome names it without 'chr': pass --chrom-map strip-chr"),
    ({"1", "2"}, "chrX", None, "the VCF and genome must be the same assembly; map other names "
                               "with --chrom-map FILE"),
])
def test_missing_chromosome_names_the_option(tmp_path, names, chrom, choice, fix):
    vcf = tmp_path / "a.vcf"
    with pytest.raises(BiodlError) as error:
        chrom_mapper(names, choice, vcf)(chrom, 7)
    assert str(error.value).startswith(f"{vcf} line 7: the genome has no chromosome '{chrom}'")
    assert fix in str(error.value)


def test_bad_chrom_map_file(write, tmp_path):
    with pytest.raises(BiodlError, match="--chrom-map nope.tsv: no such file"):
        chrom_mapper({"1"}, "nope.tsv", tmp_path / "a.vcf")
    table = write("map.tsv", "1 chr1\n")
    with pytest.raises(BiodlError, match=r"map.tsv line 1: 1 column\(s\); a chromosome map"):
        chrom_mapper({"1"}, str(table), tmp_path / "a.vcf")
