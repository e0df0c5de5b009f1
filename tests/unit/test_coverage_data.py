"""The coverage format on a tiny generated genome and BigWig tracks written by the test."""

from __future__ import annotations

import numpy as np
import pytest

from biodl.config import load_config
from biodl.data.bigwig import Track, bin_values, check_summary
from biodl.data.formats import build_datamodule
from biodl.errors import BiodlError

from ..conftest import DATA
from ..toy_coverage import CHROMS, cov, minus, plus, random_genome, toy, overrides, write_bigwig


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return toy(tmp_path_factory.mktemp("coverage"))


def module(files, extra=(), stranded=False):
    cfg = load_config(DATA / "tiny_pipeline.yaml", [*overrides(files, stranded), *extra])
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    return datamodule


def decode(x) -> str:
    """(4, L) one-hot -> bases."""
    return "".join("ACGT"[i] for i in x.argmax(0).tolist())


def test_track_reads_values_and_zero_where_the_file_has_none(tmp_path):
    path = tmp_path / "sparse.bw"
    import pyBigWig

    handle = pyBigWig.open(str(path), "w")
    handle.addHeader([("chr1", 100)])
    handle.addEntries(["chr1"], [10], ends=[15], values=[3.0])
    handle.close()
    values = Track(path).values("chr1", 8, 17)
    assert values.tolist() == [0, 0, 3, 3, 3, 3, 3, 0, 0] and values.dtype == np.float32


def test_bins_sum_and_mean():
    values = np.arange(12, dtype=np.float32).reshape(1, 2, 6)
    assert bin_values(values, 3, "sum").tolist() == [[[3, 12], [21, 30]]]
    assert bin_values(values, 2, "mean").tolist() == [[[0.5, 2.5, 4.5], [6.5, 8.5, 10.5]]]


def test_windows_are_centred_on_peaks_and_targets_are_the_centre(files):
    dm = module(files)
    assert dm.output_names == ["cov"] and dm.target.value == "coverage"
    test = dm.datasets["test"]
    assert len(test) == 5 + 0  # 5 peaks on chr4, background 0.1 x 5 rounds to 0
    batch = test.__getitems__([0])
    assert batch["x"].shape == (1, 4, 100) and batch["y"].shape == (1, 1, 40)
    seq = random_genome(CHROMS)["chr4"]
    assert decode(batch["x"][0]) == seq[350:450]  # peak 390-410, centre 400
    assert batch["y"][0, 0].tolist() == cov("chr4", np.arange(380, 420)).tolist()
    assert dm.split_ids["test"][0] == "chr4:350-450"


def test_binned_targets_sum_or_average_each_bin(files):
    summed = module(files, ["data.bin_size=10"]).datasets["test"].__getitems__([0])["y"]
    mean = module(files, ["data.bin_size=10", "data.bin_reduce=mean"]).datasets["test"]
    expected = cov("chr4", np.arange(380, 420)).reshape(4, 10)
    assert summed[0, 0].tolist() == expected.sum(1).tolist()
    assert mean.__getitems__([0])["y"][0, 0].tolist() == pytest.approx(expected.mean(1).tolist())


def test_jitter_moves_sequence_and_targets_together(files):
    dm = module(files, ["data.augment.jitter=7", "data.background=0"])
    train, genome = dm.datasets["train"], random_genome(CHROMS)
    batch = train.__getitems__(list(range(len(train))))
    starts = []
    for i in range(len(train)):
        chrom = train.chroms[train.chrom_index[i]]
        start = genome[chrom].find(decode(batch["x"][i]))
        starts.append(start - int(train.starts[i]))
        assert batch["y"][i, 0].tolist() == cov(chrom, np.arange(start + 30, start + 70)).tolist()
    assert min(starts) >= -7 and max(starts) <= 7 and len(set(starts)) > 3


def test_reverse_strand_flips_profiles_and_swaps_plus_and_minus(files):
    dm = module(files, ["data.augment.reverse_complement=true", "data.background=0"], True)
    assert dm.output_names == ["chip+", "chip-"] and dm.input_spec().strand_swap == (1, 0)
    train = dm.datasets["train"]
    rows = list(range(len(train)))
    augmented = train.__getitems__(rows)
    train.augment = None
    forward = train.__getitems__(rows)
    flipped = [i for i in rows if not np.array_equal(augmented["x"][i], forward["x"][i])]
    assert 0 < len(flipped) < len(rows)
    for i in flipped:
        assert augmented["x"][i].tolist() == forward["x"][i].flip(0, 1).tolist()  # ACGT rc
        assert augmented["y"][i].tolist() == forward["y"][i].flip(-1)[[1, 0]].tolist()
    chrom, start = train.chroms[train.chrom_index[0]], int(train.starts[0]) + 30
    assert forward["y"][0, 0].tolist() == plus(chrom, np.arange(start, start + 40)).tolist()
    assert forward["y"][0, 1].tolist() == minus(chrom, np.arange(start, start + 40)).tolist()


def test_report_gives_totals_quantiles_and_zero_windows(files):
    report = module(files, ["data.background=1"]).report()
    test = report["test"]
    assert test["records"] == 10 and test["peak_windows"] == 5
    totals = [float(cov("chr4", np.arange(s - 20, s + 20)).sum()) for s in range(400, 2700, 500)]
    assert test["coverage"]["cov"]["window_quantiles"][0] <= min(totals)
    assert test["coverage"]["cov"]["zero_windows"] == 0
    summary = module(files).count_summary()
    assert summary["integer"] is True and summary["median_total"] > 0


def expect_error(files, extra, *words, stranded=False):
    with pytest.raises(BiodlError) as error:
        module(files, extra, stranded)
    for word in words:
        assert word in str(error.value)


def test_bigwig_with_other_lengths_or_names_is_refused(files, tmp_path):
    short = write_bigwig(tmp_path / "short.bw", {**CHROMS, "chr2": 2000}, cov)
    expect_error(files, [f"data.tracks={{cov: {short}}}"], "short.bw", "'chr2' has 2000",
                 "another genome build")
    renamed = write_bigwig(tmp_path / "renamed.bw", {"1": 3000, "2": 3000}, lambda c, p: p % 2)
    expect_error(files, [f"data.tracks={{cov: {renamed}}}"], "renamed.bw",
                 "no chromosome in common")


def test_negative_values_and_nan_summaries_are_refused(files, tmp_path):
    negative = write_bigwig(tmp_path / "neg.bw", CHROMS, lambda c, p: p % 3 - 1.0)
    expect_error(files, [f"data.tracks={{cov: {negative}}}"], "neg.bw", "negative")
    with pytest.raises(BiodlError, match="NaN"):
        check_summary({"minVal": 0, "sumData": float("nan")}, "x.bw")


def test_strand_pair_of_different_lengths_is_refused(files, tmp_path):
    other = write_bigwig(tmp_path / "minus_short.bw", {**CHROMS, "chr1": 2500}, minus)
    expect_error(files, [f"data.tracks={{chip: [{files['plus']}, {other}]}}"],
                 "data.tracks.chip", "minus_short.bw", "chr1 (3000 vs 2500)")


def test_window_off_a_chromosome_is_refused_or_dropped(files, tmp_path):
    edge = tmp_path / "edge.bed"
    edge.write_text(files["peaks"].read_text() + "chr1\t10\t30\n")
    expect_error(files, [f"data.peaks=[{edge}]"], "edge.bed", "chr1:10-30", "data.edge=drop")
    dm = module(files, [f"data.peaks=[{edge}]", "data.edge=drop"])
    assert dm.dropped == 1 and dm.report()["dropped_peaks"] == 1


def test_unchecked_config_values_are_named():
    from biodl.config.data import CoverageData
    from biodl.data.coverage import check_config
    from biodl.data.coverage_dataset import Layout

    cfg = CoverageData(genome="g.fa", peaks=["p.bed"], window=100, output_length=41)
    with pytest.raises(BiodlError, match="must be even"):
        check_config(cfg, Layout(100, 41, 1, "sum"))
