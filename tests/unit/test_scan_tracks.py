"""The scan's rules without a model: what can scan, strands, batch packing, bins, columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError
from biodl.inference import scan, tracks

SPEC = InputSpec(format="fasta", kind=Kind.ONEHOT, target=Target.CLASS,
                 output_names=("no", "yes"), length=81)


def test_only_fixed_length_sequence_models_scan():
    assert scan.window_of(SPEC) == 81
    for change, reads in [({"variable_length": True}, "onehot sequences of variable length"),
                          ({"length": None}, "onehot sequences of variable length"),
                          ({"kind": Kind.IMAGES, "length": None}, "reads images"),
                          ({"target": Target.TAGS}, "81 bp and predicts tags")]:
        with pytest.raises(BiodlError, match=reads):
            scan.window_of(dataclasses.replace(SPEC, **change))


@pytest.mark.parametrize("change, choice, chosen, reason", [
    ({}, "auto", "forward", "auto: trained on the forward strand only"),
    ({"trained_reverse_complement": True}, "auto", "both",
     "auto: trained with reverse complement"),
    ({"strands": "both"}, "auto", "both", "auto: the model averages both strands at test"),
    ({"trained_reverse_complement": True}, "forward", "forward", "--strands forward"),
    ({}, "both", "both", "--strands both"),
])
def test_strands(change, choice, chosen, reason):
    assert scan.strands_of(dataclasses.replace(SPEC, **change), choice) == (chosen, reason)


def test_token_models_scan_one_strand_only():
    tokens = dataclasses.replace(SPEC, kind=Kind.TOKENS)
    assert scan.strands_of(tokens, "forward") == ("forward", "--strands forward")
    with pytest.raises(BiodlError, match="pass --strands forward"):
        scan.strands_of(tokens, "both")


def test_pieces_pack_into_full_batches_across_records():
    pieces = [scan._Piece(c, np.arange(n), np.zeros((n, 3), np.uint8))
              for c, n in [("a", 3), ("b", 1), ("c", 4)]]
    groups = list(scan._groups(iter(pieces), 3))
    assert [[(p.chrom, p.starts.tolist()) for p in g] for g in groups] == [
        [("a", [0, 1, 2])], [("b", [0]), ("c", [0, 1])], [("c", [2, 3])]]


def test_central_bins_tile_at_stride_up_to_the_window():
    starts = np.array([0, 40, 80])
    assert [b.tolist() for b in tracks.central_bins(starts, 81, 40)] == [[20, 60, 100],
                                                                         [60, 100, 140]]
    assert [b.tolist() for b in tracks.central_bins(starts, 80, 40)] == [[20, 60, 100],
                                                                         [60, 100, 140]]
    assert [b.tolist() for b in tracks.central_bins(np.array([0, 3]), 10, 3)] == [[3, 6], [6, 9]]
    # longer than the window: the window itself
    assert [b.tolist() for b in tracks.central_bins(np.array([0, 100]), 81, 100)] == [
        [0, 100], [81, 181]]


def test_track_suffixes():
    assert [tracks.track_format(p) for p in ("a.bedGraph", "a.BW", "a.bigwig", "a.tsv")] == [
        "bedgraph", "bigwig", "bigwig", "tsv"]
    with pytest.raises(BiodlError, match="not '.csv'; rename the output"):
        tracks.track_format("a.csv")


def test_columns_of_several_outputs():
    names, labels = ["a", "b", "c"], ["p_a", "p_b", "p_c"]
    assert tracks.select_columns("t.tsv", names, labels, None) == [0, 1, 2]
    assert tracks.select_columns("t.bw", names, labels, "b") == [1]
    assert tracks.select_columns("t.bedgraph", names, labels, "p_c") == [2]
    assert tracks.select_columns("t.bw", ["yes"], ["p_yes"], None) == [0]
    with pytest.raises(BiodlError, match=r"3 outputs \(a, b, c\) and a bigwig file holds one "
                                         "track; choose one with --output-name NAME"):
        tracks.select_columns("t.bw", names, labels, None)
    with pytest.raises(BiodlError, match="--output-name d: the model's outputs are a, b, c"):
        tracks.select_columns("t.tsv", names, labels, "d")
