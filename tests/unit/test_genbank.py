import gzip

import numpy as np
import pytest

from biodl.data.genbank import is_genbank, read_contigs
from biodl.data.tables import read_table
from biodl.errors import BiodlError
from tests.conftest import DATA

SLICE = DATA / "leptospira_slice"

# 24 bp; a CDS on the minus strand in two parts (3..5 and 9..12, 1-based), a gene, a tRNA
HAND_MADE = """\
LOCUS       ctg1                      24 bp    DNA     linear   BCT 01-JAN-2000
DEFINITION  hand-made contig.
ACCESSION   ctg1
VERSION     ctg1.1
FEATURES             Location/Qualifiers
     source          1..24
     CDS             complement(join(3..5,9..12))
                     /locus_tag="minus"
     gene            14..16
     tRNA            20..22
ORIGIN
        1 acgtacgtac gtacgtacgt acgt
//
"""


def genbank_record(name: str, seq: str, features: list[tuple[str, str]]) -> str:
    """GenBank text of one record; features as (type, location) in GenBank notation."""
    lines = [f"LOCUS       {name:<16}{len(seq):>12} bp    DNA     linear   BCT 01-JAN-2000",
             f"ACCESSION   {name}", f"VERSION     {name}.1",
             "FEATURES             Location/Qualifiers"]
    lines += [f"     {kind:<16}{location}" for kind, location in features]
    lines.append("ORIGIN")
    for i in range(0, len(seq), 60):
        lines.append(f"{i + 1:>9} " + " ".join(seq[j:j + 10] for j in range(i, i + 60, 10)
                                                 if j < len(seq)))
    return "\n".join(lines) + "\n//\n"


def test_join_cds_on_the_minus_strand_labels_each_part(write):
    (contig,) = read_contigs(write("one.gbk", HAND_MADE))
    assert contig.id == "ctg1.1"
    assert contig.seq == b"ACGT" * 6
    assert contig.labels.dtype == np.uint8
    assert np.flatnonzero(contig.labels).tolist() == [2, 3, 4, 8, 9, 10, 11]


def test_several_feature_types_and_gzip(write):
    path = write("one.gbk.gz", gzip.compress(HAND_MADE.encode()))
    (contig,) = read_contigs(path, features=["CDS", "tRNA"])
    assert np.flatnonzero(contig.labels).tolist() == [2, 3, 4, 8, 9, 10, 11, 19, 20, 21]
    assert is_genbank(path)


def test_generated_records_parse_in_order(write):
    text = (genbank_record("a", "ACGT" * 20, [("CDS", "1..6")])
            + genbank_record("b", "GGCC" * 5, [("CDS", "complement(18..20)")]))
    a, b = read_contigs(write("two.gbk", text))
    assert (a.id, len(a.seq), int(a.labels.sum())) == ("a.1", 80, 6)
    assert (b.id, np.flatnonzero(b.labels).tolist()) == ("b.1", [17, 18, 19])


def test_a_feature_beyond_the_contig_end_is_an_error(write):
    path = write("bad.gbk", genbank_record("a", "ACGT" * 5, [("CDS", "15..25")]))
    with pytest.raises(BiodlError, match=r"record 'a.1'.*beyond the contig \(20 bp\)"):
        read_contigs(path)


def test_fasta_is_not_genbank(write):
    path = write("x.fa", ">a\nACGT\n")
    assert not is_genbank(path)
    with pytest.raises(BiodlError, match="no GenBank records"):
        read_contigs(path)


def test_repeated_record_ids_are_an_error(write):
    record = genbank_record("a", "ACGT", [])
    with pytest.raises(BiodlError, match="'a.1' occurs twice"):
        read_contigs(write("dup.gbk", record + record))


def test_real_slice_labels_cover_every_annotated_cds():
    contigs = {c.id: c for c in read_contigs(SLICE / "contigs.gbk")}
    assert len(contigs) == 6 and sum(len(c.seq) for c in contigs.values()) == 15208
    table = read_table(SLICE / "cds_protein.tsv")
    rows = zip(*(table.columns[k] for k in ("contig", "start", "end", "cds")))
    for contig, start, end, cds in rows:
        seq, labels = contigs[contig].seq, contigs[contig].labels
        assert labels[int(start):int(end)].all()
        assert cds.encode() in (seq[int(start):int(end)], _revcomp(seq[int(start):int(end)]))


def _revcomp(seq: bytes) -> bytes:
    return seq.translate(bytes.maketrans(b"ACGT", b"TGCA"))[::-1]
