import gzip

import pytest

from biodl.data.fasta import read_fasta
from biodl.errors import BiodlError

from ..conftest import DATA


def test_reads_multiline_records_with_ids_and_lines():
    records = list(read_fasta(DATA / "ecoli_prom_30.fa"))
    assert len(records) == 30
    assert records[0].id == "ECK120010467__accAp__forward__208411"
    assert records[0].line == 1 and records[1].line == 4
    assert len(records[0].seq) == 81
    assert records[0].seq.startswith(b"GCCCGGGAAAAATATGCTCG")


def test_reads_gzip_whatever_the_name(write):
    path = write("x.fa", gzip.compress(b">a desc\nAC\nGT\n>b\nnnA\n"))
    assert [(r.id, r.seq) for r in read_fasta(path)] == [("a", b"ACGT"), ("b", b"nnA")]


def test_space_after_gt_still_gives_the_id(write):
    path = write("x.fa", "> 6400\nACGT\n")
    assert next(read_fasta(path)).id == "6400"


@pytest.mark.parametrize("text, message", [
    ("", "x.fa: no FASTA records (the file is empty or has no '>' header)"),
    ("ACGT\n>a\nAC\n", "x.fa line 1: not FASTA: expected a '>' header before sequence"),
    (">a\n>b\nAC\n", "x.fa line 1: record 'a' has a header but no sequence"),
    (">a\nACGT\nACJT\n", "x.fa line 3 column 3: character 'J' is not a DNA base or IUPAC code"),
    (">a\nAC\n>a\nGT\n", "x.fa line 3: duplicate id 'a' (first at line 1)"),
    (">\nAC\n", "x.fa line 1: header '>' has no id"),
])
def test_bad_files_name_the_file_line_and_problem(write, text, message):
    path = write("x.fa", text)
    with pytest.raises(BiodlError) as error:
        list(read_fasta(path))
    assert str(error.value).startswith(f"{path.parent}/{message}")


def test_missing_file(tmp_path):
    with pytest.raises(BiodlError, match="nope.fa: file not found"):
        list(read_fasta(tmp_path / "nope.fa"))


@pytest.mark.parametrize("block", [3, 7, 1 << 20])
def test_records_and_lines_do_not_depend_on_the_block_size(write, monkeypatch, block):
    import biodl.data.fasta as fasta
    monkeypatch.setattr(fasta, "BLOCK_BYTES", block)
    path = write("x.fa", "\n>a one\r\nAC\r\nGT\r\n>b\tdesc\nnnA\n\n> c\nR\n")
    assert list(read_fasta(path)) == [("a", b"ACGT", 2), ("b", b"nnA", 5), ("c", b"R", 8)]


def test_bad_character_in_a_later_block_names_its_line(write, monkeypatch):
    import biodl.data.fasta as fasta
    monkeypatch.setattr(fasta, "BLOCK_BYTES", 8)
    path = write("x.fa", ">a\nACGT\n>b\nAC\nG T\n")
    with pytest.raises(BiodlError, match="x.fa line 5 column 2: character ' ' is not a DNA"):
        list(read_fasta(path))


def test_trailing_spaces_and_a_lone_carriage_return(write):
    assert next(read_fasta(write("x.fa", ">a\nAC  \nGT\n"))).seq == b"ACGT"
    with pytest.raises(BiodlError, match=r"line 2 column 2: character '\\r'"):
        list(read_fasta(write("y.fa", ">a\nA\rC\n")))


def test_repeated_ids_can_be_allowed(write):
    path = write("x.fa", ">a\nAC\n>a\nGT\n")
    assert [r.seq for r in read_fasta(path, unique_ids=False)] == [b"AC", b"GT"]
