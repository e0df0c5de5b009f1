"""`biodl shuffle`: dinucleotide shuffles keep every dinucleotide count and both end bases,
are seeded per record, and refuse what they cannot shuffle without touching the output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from biodl.data.fasta import read_fasta
from biodl.data.shuffle import shuffle_fasta, shuffles
from biodl.errors import BiodlError

PROMOTERS = Path(__file__).parents[1] / "data" / "ecoli_prom_30.fa"


def dinucleotides(seq: str) -> Counter:
    return Counter(seq[i:i + 2] for i in range(len(seq) - 1))


def test_every_shuffle_keeps_dinucleotides_and_ends(tmp_path):
    out = tmp_path / "shuffled.fa"
    assert shuffle_fasta(PROMOTERS, out, copies=3) == 90
    originals = {r.id: r.seq.decode().upper() for r in read_fasta(PROMOTERS)}
    shuffled = list(read_fasta(out))
    assert len(shuffled) == 90 and shuffled[1].id == shuffled[0].id[:-1] + "1"
    for record in shuffled:
        original = originals[record.id.rsplit("_shuffle", 1)[0]]
        bases = record.seq.decode()
        assert bases != original and len(bases) == len(original) == 81
        assert dinucleotides(bases) == dinucleotides(original)
        assert (bases[0], bases[-1]) == (original[0], original[-1])


def test_seeded_per_record(tmp_path):
    seq = next(iter(read_fasta(PROMOTERS))).seq
    assert shuffles(seq, 2, 5, "x") == shuffles(seq, 2, 5, "x") != shuffles(seq, 2, 6, "x")
    shuffle_fasta(PROMOTERS, tmp_path / "a.fa", copies=1, seed=10)
    second = list(read_fasta(tmp_path / "a.fa"))[1].seq.decode()
    assert second == shuffles(list(read_fasta(PROMOTERS))[1].seq, 1, 11, "x")[0]


def test_n_stays_n_and_case_is_upper():
    seq = b"acgttagcNNNacggttaccagatagcaatcg"
    for bases in shuffles(seq, 4, 0, "x"):
        assert bases.count("NNN") == 1 and bases.count("N") == 3
        assert set(bases) <= set("ACGTN")


def test_refusals_leave_no_file(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nACGTACGTAC\n>b\nACGTRACGTACGATCGATCG\n")
    out = tmp_path / "out.fa"
    with pytest.raises(BiodlError, match=r"bad.fa: line 3: 'R' at base 5; .* by N"):
        shuffle_fasta(bad, out)
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    out.write_text("mine\n")
    with pytest.raises(BiodlError, match="exists; give another --output or --force"):
        shuffle_fasta(PROMOTERS, out)
    assert out.read_text() == "mine\n"
    (tmp_path / "short.fa").write_text(">s\nACGTNNACGTTA\n")
    with pytest.raises(BiodlError, match="line 1: 12 bases with too few distinct"):
        shuffle_fasta(tmp_path / "short.fa", tmp_path / "s.fa", copies=2)


def test_the_shipped_background_is_what_the_command_writes(tmp_path):
    pipelines = Path(__file__).parents[2] / "pipelines"
    shipped = pipelines / "ecoli_promoters_vs_shuffled" / "data" / "Ecoli_prom_shuffled.fa"
    shuffle_fasta(pipelines / "ecoli_promoters" / "data" / "Ecoli_prom.fa", tmp_path / "s.fa",
                  copies=3)
    assert (tmp_path / "s.fa").read_bytes() == shipped.read_bytes()
