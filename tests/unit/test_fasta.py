import gzip

import numpy as np
import pytest

from biodl.data.fasta import read_fasta, read_fasta_packed
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


# The packed reader: the same checks and messages, the records as arrays.

def _arrays(packed):
    return (packed.ids, packed.seq.tobytes(), packed.starts.tolist(), packed.lengths.tolist(),
            packed.lines.tolist())


def test_packed_gives_exact_arrays(write):
    packed = read_fasta_packed(write("x.fa", ">a desc\nAC\nGT\n>b\nnnA\n"))
    assert _arrays(packed) == (["a", "b"], b"ACGTnnA", [0, 4], [4, 3], [1, 4])
    assert packed.seq.dtype == np.uint8 and packed.starts.dtype == np.int64
    assert len(packed) == 2 and packed.record(1) == ("b", b"nnA", 4)


@pytest.mark.parametrize("block", [3, 7, 1 << 20])
def test_packed_gzip_crlf_blank_lines_and_lowercase(write, monkeypatch, block):
    import biodl.data.fasta as fasta
    monkeypatch.setattr(fasta, "BLOCK_BYTES", block)
    text = b"\n>a one\r\nAC\r\ngt\r\n\r\n>b\tdesc\nnnA\n\n> c\nR"
    for path in (write("x.fa", text), write("x.fa.gz", gzip.compress(text))):
        packed = read_fasta_packed(path)
        assert _arrays(packed) == (["a", "b", "c"], b"ACgtnnAR", [0, 4, 7], [4, 3, 1], [2, 6, 9])
        assert packed.records() == list(read_fasta(path))


@pytest.mark.parametrize("block", [3, 7, 16, 1 << 20])
def test_clean_and_unclean_records_give_the_same_arrays_at_any_block_size(write, monkeypatch,
                                                                          block):
    """The compiled loop takes clean records, a record with spaces goes line by line, and a
    block cuts records anywhere (a record longer than the block grows it)."""
    import biodl.data.fasta as fasta
    monkeypatch.setattr(fasta, "BLOCK_BYTES", block)
    path = write("x.fa", ">a\nACG\nT\n>b x\nGG  \n>c\nACGTACGTACGTACGTACGT\n>d\nA")
    assert _arrays(read_fasta_packed(path)) == (
        ["a", "b", "c", "d"], b"ACGTGGACGTACGTACGTACGTACGTA", [0, 4, 6, 26], [4, 2, 20, 1],
        [1, 4, 6, 8])
    assert [r.seq for r in read_fasta(path)] == [b"ACGT", b"GG", b"ACGT" * 5, b"A"]
    with pytest.raises(BiodlError, match="line 7 column 3: character 'J'"):
        read_fasta_packed(write("y.fa", ">a\nACG\n>b x\nGG\n>c\nAC\nACJ\n"))
    spaced = write("z.fa", ">a\nAC \n>b\nGG\n>c\nTT \n>d\nAA\n>e\nAC \n")  # slow, fast, slow...
    assert _arrays(read_fasta_packed(spaced)) == (
        ["a", "b", "c", "d", "e"], b"ACGGTTAAAC", [0, 2, 4, 6, 8], [2] * 5, [1, 3, 5, 7, 9])


@pytest.mark.parametrize("text, line, first", [
    (">a\nAC\n>b\nGT \n>a\nGG\n", 5, 1),  # first clean, then through the slow path
    (">a\nAC \n>b\nGT\n>a\nGG\n", 5, 1),  # first through the slow path, then clean
    (b">\xe9\nA\n>\xe8 \nC\n", 3, 1),  # non-ASCII bytes: the same id once decoded
])
def test_duplicates_are_found_across_the_fast_and_slow_paths(write, text, line, first):
    path = write("x.fa", text)
    for read in (lambda p: list(read_fasta(p)), read_fasta_packed):
        with pytest.raises(BiodlError, match=f"line {line}: duplicate id .* \\(first at line "
                                             f"{first}\\)"):
            read(path)


@pytest.mark.parametrize("header, rid", [
    ("> 6400", "6400"), (">" + "x" * 300 + " d", "x" * 300), (">a\x01b c", "a\x01b"),
    (">a\x1cb", "a\x1cb"), (">\xe9t\xe9 x", "\ufffdt\ufffd"), (">a>b", "a>b")])
def test_packed_ids_are_the_first_word_as_bytes_split_finds_it(write, header, rid):
    path = write("x.fa", (header + "\nAC\n>z\nGT\n").encode("latin-1"))
    assert read_fasta_packed(path).ids == [rid, "z"]


@pytest.mark.parametrize("text, message", [
    ("", "x.fa: no FASTA records (the file is empty or has no '>' header)"),
    ("ACGT\n>a\nAC\n", "x.fa line 1: not FASTA: expected a '>' header before sequence"),
    (">a\n>b\nAC\n", "x.fa line 1: record 'a' has a header but no sequence"),
    (">a\nACGT\nACJT\n", "x.fa line 3 column 3: character 'J' is not a DNA base or IUPAC code"),
    (">a\nAC\n>a\nGT\n", "x.fa line 3: duplicate id 'a' (first at line 1)"),
    (">a\nAC\n>b\nGG\n>a\nGT\n>c\nAC\n", "x.fa line 5: duplicate id 'a' (first at line 1)"),
    (">\nAC\n", "x.fa line 1: header '>' has no id"),
    (">a\nAC\n>b", "x.fa line 3: record 'b' has a header but no sequence"),
    (">a\nA C\n", "x.fa line 2 column 2: character ' ' is not a DNA base"),
])
def test_packed_bad_files_give_the_same_errors(write, text, message):
    path = write("x.fa", text)
    with pytest.raises(BiodlError) as error:
        read_fasta_packed(path)
    assert str(error.value).startswith(f"{path.parent}/{message}")


@pytest.mark.parametrize("block", [8, 1 << 20])
def test_an_earlier_duplicate_comes_before_a_later_bad_character(write, monkeypatch, block):
    import biodl.data.fasta as fasta
    monkeypatch.setattr(fasta, "BLOCK_BYTES", block)
    path = write("x.fa", ">a\nAC\n>a\nGT\n>b\nAC\n>c\nAJ\n")
    for read in (lambda p: list(read_fasta(p)), read_fasta_packed):
        with pytest.raises(BiodlError, match="line 3: duplicate id 'a' \\(first at line 1\\)"):
            read(path)


def test_packed_trailing_spaces_and_repeated_ids_allowed(write):
    packed = read_fasta_packed(write("x.fa", ">a\nAC  \nGT\n>a\nT\n"), unique_ids=False)
    assert _arrays(packed) == (["a", "a"], b"ACGTT", [0, 4], [4, 1], [1, 4])


def test_packed_ids_stay_bytes_until_read(write):
    packed = read_fasta_packed(write("x.fa", ">a x\nAC\n>b\nGT\n"))
    assert len(packed) == len(packed.ids) == 2 and "strings" not in vars(packed.ids)
    assert packed.ids[1] == "b" and list(packed.ids) == ["a", "b"] == packed.ids


def test_gzip_members_are_read_one_after_another_and_truncation_is_named(write):
    path = write("x.fa.gz", gzip.compress(b">a\nAC\n") + gzip.compress(b">b\nGT\n"))
    assert read_fasta_packed(path).ids == ["a", "b"]
    cut = write("y.fa.gz", gzip.compress(b"".join(b">r%d\nACGT\n" % i for i in range(900)))[:-20])
    with pytest.raises(BiodlError, match="y.fa.gz: the gzip stream ends early"):
        read_fasta_packed(cut)


def _random_fasta(rng) -> bytes:
    """Clean records mostly; now and then a space, a bad character, CRLF, a blank line, an
    id seen before, an empty record or no final newline."""
    parts = []
    for number in range(rng.randint(1, 12)):
        rid = rng.choice(["a", "b", "x" * 40]) if rng.random() < 0.03 else f"r{number}"
        parts.append(rng.choice([">", ">", "> "]) + rid + rng.choice(["", " desc", "\tx"]) + "\n")
        for _ in range(rng.randint(0 if rng.random() < 0.02 else 1, 6)):
            alphabet = "ACGTN" if rng.random() < 0.97 else "acgtnRYJ* >"
            width = rng.choice([1, 5, 60, 60, 60, 61])
            parts.append("".join(rng.choice(alphabet) for _ in range(width))
                         + (" " if rng.random() < 0.04 else "") + "\n")
        if rng.random() < 0.03:
            parts.append("\n")
    text = "".join(parts)
    text = text.rstrip("\n") if rng.random() < 0.1 else text
    return (text.replace("\n", "\r\n") if rng.random() < 0.1 else text).encode()


def _outcome(read, path):
    try:
        return [tuple(r) for r in read(path)]
    except BiodlError as error:
        return str(error)


def test_the_compiled_loop_agrees_with_the_line_by_line_reader(write, monkeypatch):
    """300 random files, each read by the compiled loop (at a random block size) and by the
    line-by-line path alone (`scan` made to refuse everything): the same records or the same
    error."""
    import random

    import biodl.data.fasta as fasta
    import biodl.data.fasta_blocks as blocks
    rng, scan = random.Random(0), blocks.scan
    refuse = lambda data, final, *rest: (1, 0, 0, 0, 0, 0)  # noqa: E731  (UNCLEAN, nothing)
    outcomes = {"records": 0, "errors": 0}
    for _ in range(300):
        path = write("x.fa", _random_fasta(rng))
        monkeypatch.setattr(fasta, "BLOCK_BYTES", rng.choice([7, 64, 1 << 20]))
        monkeypatch.setattr(blocks, "scan", scan)
        got = (_outcome(lambda p: read_fasta_packed(p).records(), path),
               _outcome(lambda p: list(read_fasta(p)), path))
        monkeypatch.setattr(blocks, "scan", refuse)
        expected = _outcome(lambda p: list(read_fasta(p)), path)
        assert got == (expected, expected), path.read_bytes()[:200]
        outcomes["errors" if isinstance(expected, str) else "records"] += 1
    assert min(outcomes.values()) > 50  # both kinds were tried
