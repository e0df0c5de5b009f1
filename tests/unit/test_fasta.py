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
