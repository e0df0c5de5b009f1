import os
import pickle

import numpy as np
import pytest

from biodl.data import genome as G
from biodl.data import intervals as I
from biodl.errors import BiodlError

# chr1: header 11 bytes, 12 bases in lines of 5 (+newline); chr2 starts at byte 11+6+6+3 = 26,
# its header is 6 bytes, so its bases start at 32, 6 bases in lines of 4.
FASTA = ">chr1 desc\nACGTA\nCCGGT\nTT\n>chr2\nGGGG\nCC\n"
FAI = "chr1\t12\t11\t5\t6\nchr2\t6\t32\t4\t5\n"


@pytest.fixture
def genome(write, tmp_path, monkeypatch):
    monkeypatch.setenv("BIODL_CACHE", str(tmp_path / "cache"))
    return G.Genome(write("g.fa", FASTA))


def test_fai_matches_samtools_and_is_written_beside_the_fasta(genome, tmp_path):
    assert (tmp_path / "g.fa.fai").read_text() == FAI
    assert G.build_fai(tmp_path / "g.fa") == G.read_fai(tmp_path / "g.fa.fai")


def test_fai_of_windows_line_endings_counts_the_carriage_return(write):
    path = write("crlf.fa", b">a\r\nACG\r\nT\r\n")
    assert G.build_fai(path) == [G.FaiEntry("a", 4, 4, 3, 5)]
    assert G.Genome(path).fetch("a", 1, 4) == b"CGT"


def test_index_read_in_small_blocks_is_the_same(genome, tmp_path, monkeypatch):
    monkeypatch.setattr(G, "INDEX_BLOCK", 4)
    assert "".join("\t".join(map(str, e)) + "\n" for e in G.build_fai(tmp_path / "g.fa")) == FAI


def test_uneven_lines_are_an_error_naming_the_line(write):
    path = write("bad.fa", ">a\nACGT\nAC\nACGT\n")
    with pytest.raises(BiodlError, match=r"bad.fa line 4: record 'a' has lines of different"):
        G.build_fai(path)


def test_index_goes_to_the_cache_when_the_folder_is_read_only(write, tmp_path, monkeypatch):
    monkeypatch.setenv("BIODL_CACHE", str(tmp_path / "cache"))
    path = write("ro/g.fa", FASTA)
    real_link = os.link

    def refuse_beside(source, target):
        if str(target).startswith(str(path.parent) + "/g.fa"):
            raise PermissionError(target)
        real_link(source, target)
    monkeypatch.setattr(G.os, "link", refuse_beside)
    G.Genome(path)
    assert not (path.parent / "g.fa.fai").exists()
    [cached] = (tmp_path / "cache" / "fai").iterdir()
    assert cached.read_text() == FAI


def test_a_stale_user_index_is_an_error_and_is_not_overwritten(write):
    path = write("g.fa", FASTA)
    index = write("g.fa.fai", "chr1\t99\t11\t5\t6\n")
    os.utime(index, (1, 1))
    with pytest.raises(BiodlError, match="g.fa.fai: this index is older than g.fa"):
        G.Genome(path)
    assert index.read_text() == "chr1\t99\t11\t5\t6\n"


def test_gzip_genome_asks_for_a_plain_file(write):
    import gzip
    path = write("g.fa.gz", gzip.compress(FASTA.encode()))
    with pytest.raises(BiodlError, match=r"random access needs a plain \(uncompressed"):
        G.Genome(path)


def test_fetch_across_lines_and_padding_at_both_ends(genome):
    assert genome.lengths == {"chr1": 12, "chr2": 6}
    assert genome.fetch("chr1", 3, 8) == b"TACCG"
    assert genome.fetch("chr1", 0, 12) == b"ACGTACCGGTTT"
    assert genome.fetch("chr2", 2, 6) == b"GGCC"
    assert genome.fetch("chr1", -2, 3) == b"NNACG"
    assert genome.fetch("chr1", 10, 14) == b"TTNN"
    assert genome.fetch("chr2", 8, 10) == b"NN"
    assert genome.fetch("chr1", 4, 4) == b""


@pytest.mark.parametrize("args, message", [
    (("chr3", 0, 5), "unknown chromosome 'chr3' (known: chr1, chr2)"),
    (("chr1", 5, 2), "window chr1:5-2 has start > end"),
    (("chr1", 10, 14, False), "window chr1:10-14 runs past the ends of chr1 (0-12)"),
])
def test_fetch_errors(genome, args, message):
    with pytest.raises(BiodlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        genome.fetch(*args)


def test_fetch_codes_and_pickling(genome):
    windows = [G.Window("chr1", 0, 4), G.Window("chr2", 4, 8)]
    codes = pickle.loads(pickle.dumps(genome)).fetch_codes(windows)
    assert codes.dtype == np.uint8 and codes.shape == (2, 4)
    assert bytes(codes[1]) == b"CCNN"


def test_read_bed_and_narrowpeak(write, genome):
    path = write("p.bed", "track name=x\n# comment\nchr1\t2\t6\n"
                          "chr2\t0\t6\tpeak1\t17\t+\t5.1\t3.2\t1.1\t4\n")
    assert I.read_intervals(path, genome) == [
        I.Interval("chr1", 2, 6),
        I.Interval("chr2", 0, 6, "peak1", 17.0, "+", 4),
    ]
    assert [i.centre for i in I.read_intervals(path)] == [4, 4]


@pytest.mark.parametrize("text, message", [
    ("chr1\t1\t2\nchr1\t5\n", "p.bed line 2: expected at least 3 columns"),
    ("chr1\tx\t2\n", "p.bed line 1: invalid literal for int"),
    ("chr1\t5\t2\n", "p.bed line 1: interval chr1:5-2 needs 0 <= start <= end"),
    ("chr1\t5\t13\n", "p.bed line 1: interval chr1:5-13 ends beyond chr1 (length 12)"),
    ("chrX\t5\t8\n", "p.bed line 1: .*unknown chromosome 'chrX'"),
])
def test_bad_bed_lines_name_file_and_line(write, genome, text, message):
    path = write("p.bed", text)
    with pytest.raises(BiodlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        I.read_intervals(path, genome)


def test_centred_windows_and_negatives(write, tmp_path, monkeypatch):
    monkeypatch.setenv("BIODL_CACHE", str(tmp_path / "cache"))
    seq = "ACGT" * 250
    genome = G.Genome(write("n.fa", f">c1\n{seq}\n>c2\n{seq}\n>allN\n{'N' * 1000}\n"))
    positives = I.centred_windows([I.Interval("c1", 100, 120), I.Interval("c2", 0, 10, summit=2)],
                                  50)
    assert positives == [G.Window("c1", 85, 135), G.Window("c2", -23, 27)]
    negatives = I.sample_negatives(genome, 40, 50, positives, seed=1)
    assert negatives == I.sample_negatives(genome, 40, 50, positives, seed=1)
    assert len(set(negatives)) == 40
    for chrom, start, end in negatives:
        assert chrom != "allN" and end - start == 50
        assert not any(c == chrom and start < e and s < end for c, s, e in positives)
    with pytest.raises(BiodlError, match="found only 0 of 1 negative windows"):
        I.sample_negatives(genome, 1, 50, [], chroms=["allN"])


def test_split_by_chromosome_holds_out_whole_chromosomes():
    windows = [G.Window(c, 0, 5) for c in ("c1", "c2", "c1", "c3")]
    split = I.split_by_chromosome(windows, val=("c2",), test=("c3",))
    assert {k: v.tolist() for k, v in split.items()} == {"train": [0, 2], "val": [1], "test": [3]}
    with pytest.raises(BiodlError, match=r"test chromosomes \['c9'\] have no windows"):
        I.split_by_chromosome(windows, test=("c9",))


def test_a_window_longer_than_the_chromosome_names_the_line(write, genome):
    path = write("p.bed", "chr1\t2\t6\nchr2\t0\t6\n")
    assert len(I.read_intervals(path, genome, window=6)) == 2
    with pytest.raises(BiodlError, match=r"p.bed line 2: a 8-bp window does not fit in chr2"):
        I.read_intervals(path, genome, window=8)


def test_overlap_mask_matches_a_per_window_check():
    intervals = [I.Interval("a", 10, 20), I.Interval("a", 15, 30), I.Interval("b", 5, 5)]
    chroms = ["a", "b", "c"]
    index = np.array([0, 0, 0, 1, 1, 2, 0])
    starts = np.array([0, 25, 30, 0, 5, 0, -5])
    ends = starts + 6
    mask = I.overlap_mask(intervals, chroms, index, starts, ends)
    assert mask.tolist() == [False, True, False, True, False, False, False]
