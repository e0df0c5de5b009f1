import numpy as np
import pytest
import torch

from biodl.config.data import GenbankTagsData, GroupSplitConfig, LanguageData, PairsData
from biodl.data.groups import split_groups
from biodl.data.labelled_windows import GenbankTagsDataModule, LanguageDataModule, window_starts
from biodl.data.markov import markov_perplexity
from biodl.data.pairs import PairsDataModule
from biodl.errors import BiodlError
from biodl.vocab import BOS, EOS, PAD, PROTEIN_TOKENS
from tests.unit.test_genbank import genbank_record

SIZES = {"a": 100, "b": 200, "c": 300, "d": 400, "e": 500, "f": 1500}
# three contigs: 10 bp (CDS on bases 2-4), 8 bp, 6 bp
THREE = (genbank_record("c1", "ACGTACGTAC", [("CDS", "2..4")])
         + genbank_record("c2", "GGGGCCCC", []) + genbank_record("c3", "TTTTAA", []))


# ---- group split ---------------------------------------------------------------------------

def test_explicit_groups_win_and_keep_input_order():
    cfg = GroupSplitConfig(val_groups=["d", "b"], test_groups=["a"])
    assert split_groups(SIZES, cfg) == {"train": ["c", "e", "f"], "val": ["b", "d"],
                                        "test": ["a"]}


def test_seeded_split_by_length_is_exact_and_reproducible():
    cfg = GroupSplitConfig(val=0.2, test=0.2, seed=0)
    split = split_groups(SIZES, cfg)
    # targets 600 of 3000 bases each: val 300 + 400, test 100 + 500, whole groups only
    assert split == {"train": ["b", "f"], "val": ["c", "d"], "test": ["a", "e"]}
    assert split_groups(SIZES, cfg) == split
    assert split_groups(SIZES, GroupSplitConfig(val=0.2, test=0.2, seed=1)) != split


def test_one_explicit_split_and_the_other_drawn():
    split = split_groups(SIZES, GroupSplitConfig(val=0.0, test=0.2, val_groups=["f"]))
    assert split["val"] == ["f"] and len(split["test"]) >= 1
    assert sorted(sum(split.values(), [])) == sorted(SIZES)


@pytest.mark.parametrize("cfg, message", [
    (GroupSplitConfig(val_groups=["x"]), "no group 'x'; valid groups: a, b, c"),
    (GroupSplitConfig(val_groups=["a"], test_groups=["a"]), "both val_groups and test_groups"),
    (GroupSplitConfig(val=0.6, test=0.5), "summing below 1"),
])
def test_bad_group_splits(cfg, message):
    with pytest.raises(BiodlError, match=message):
        split_groups(SIZES, cfg)


def test_too_few_groups_for_three_splits():
    with pytest.raises(BiodlError, match="cannot give a non-empty val split"):
        split_groups({"a": 10, "b": 10}, GroupSplitConfig(val=0.1, test=0.1))
    assert split_groups({"a": 10, "b": 10}, GroupSplitConfig(val=0.1, test=0.0, seed=0))[
        "test"] == []


# ---- windows of GenBank contigs --------------------------------------------------------------

def test_window_starts():
    assert window_starts(10, 4, 4).tolist() == [0, 4, 8]
    assert window_starts(8, 4, 4).tolist() == [0, 4]
    assert window_starts(3, 4, 4).tolist() == [0]
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]


def tags_module(path, **kwargs) -> GenbankTagsDataModule:
    split = GroupSplitConfig(val_groups=["c2.1"], test_groups=["c3.1"])
    return GenbankTagsDataModule(GenbankTagsData(genbank=path, split=split, **kwargs))


def test_tag_windows_mask_the_short_last_window(write):
    dm = tags_module(write("g.gbk", THREE), window=4, batch_size=8)
    dm.setup()
    dm.setup()  # idempotent
    assert dm.split_ids == {"train": ["c1.1"], "val": ["c2.1"], "test": ["c3.1"]}
    assert dm.target == "tags" and dm.model_kwargs() == {"num_outputs": 2, "input": "onehot"}
    assert dm.input_files == [write("g.gbk", THREE)]
    batch = dm.datasets["train"].__getitems__([0, 1, 2])  # ACGT ACGT AC
    assert batch["x"].shape == (3, 4, 4) and batch["x"].dtype == torch.float32
    assert batch["lengths"].tolist() == [4, 4, 2]
    assert batch["y"].tolist() == [[0, 1, 1, 1], [0, 0, 0, 0], [0, 0, -100, -100]]
    assert batch["x"][2, :, 2:].abs().sum() == 0  # padding encodes to zeros
    assert batch["x"][2, :, 0].tolist() == [1, 0, 0, 0]  # A
    assert dm.class_counts() == [7, 3]


def test_tag_windows_as_tokens_with_overlap(write):
    dm = tags_module(write("g.gbk", THREE), window=4, stride=3, input="tokens")
    dm.setup()
    batch = next(iter(dm.test_dataloader()))  # TTTTAA: windows at 0 and 3
    assert batch["x"].tolist() == [[4, 4, 4, 4], [4, 1, 1, 0]]
    assert batch["lengths"].tolist() == [4, 3]
    assert batch["y"][1].tolist() == [0, 0, 0, -100]


def test_tag_errors(write):
    with pytest.raises(BiodlError, match="data.genbank: format genbank_tags needs"):
        GenbankTagsDataModule(GenbankTagsData()).setup()
    bad = write("n.gbk", genbank_record("c1", "ACGNNACGT", []))
    with pytest.raises(BiodlError, match="contig 'c1.1' base 4: 'N'.*data.unknown"):
        GenbankTagsDataModule(GenbankTagsData(genbank=bad, unknown="error")).setup()


# ---- language-model windows and the Markov baseline ---------------------------------------

@pytest.mark.parametrize("name, text", [
    ("g.gbk", THREE), ("g.fa", ">c1.1\nACGTACGTAC\n>c2.1\nGGGGCCCC\n>c3.1\nttttAA\n")])
def test_language_windows_from_genbank_or_fasta(write, name, text):
    split = GroupSplitConfig(val_groups=["c2.1"], test_groups=["c3.1"])
    dm = LanguageDataModule(LanguageData(genome=write(name, text), window=4, split=split))
    dm.setup()
    assert dm.target == "lm" and dm.model_kwargs() == {"vocab_size": 6}
    batch = next(iter(dm.train_dataloader()))
    assert sorted(batch["tokens"].tolist()) == [[1, 2, 0, 0], [1, 2, 3, 4], [1, 2, 3, 4]]
    assert dm.windows("test") == [b"TTTT", b"AA"]


def test_markov_baseline():
    assert markov_perplexity(["ACGT" * 100], ["ACGT" * 50], k=2) == pytest.approx(1.0, abs=0.04)
    # 'AC': C after A (count 100 of 100); 'GGNT': G after G (0 of 100); N and the T after it
    # are not scored
    expected = np.exp(-(np.log(101 / 104) + np.log(1 / 104)) / 2)
    assert markov_perplexity(["ACGT" * 100], ["AC", "GGNT"], k=2) == pytest.approx(expected)
    random = np.random.default_rng(0).choice(list("ACGT"), 4000)
    text = "".join(random)
    assert markov_perplexity([text[:3000]], [text[3000:]], k=1) == pytest.approx(4.0, abs=0.1)
    with pytest.raises(BiodlError, match="choose 1 to 10"):
        markov_perplexity(["ACGT"], ["ACGT"], k=11)


# ---- seq2seq pairs ---------------------------------------------------------------------------

PAIRS = """contig\tcds\tprotein
c1\tATGAAATAA\tMK*
c1\tATGTAA\tM
c2\tATGGCC\tMA
c3\tATGNNNTGGTAA\tmxw
c4\tATGAAAAAAAAAAAAAAAAAA\tMKKKKKK
"""


def pairs_module(path, **kwargs) -> PairsDataModule:
    split = GroupSplitConfig(val_groups=["c2"], test_groups=["c3"])
    return PairsDataModule(PairsData(table=path, split=split, max_source_length=15, **kwargs))


def test_pairs_batches_put_bos_eos_and_pad_in_place(write):
    dm = pairs_module(write("p.tsv", PAIRS))
    dm.setup()
    assert dm.skipped == 1  # c4's source is longer than 15
    assert dm.split_ids == {"train": ["c1"], "val": ["c2"], "test": ["c3"]}
    assert dm.model_kwargs() == {"src_vocab_size": 6, "tgt_vocab_size": 25}
    m, k = PROTEIN_TOKENS.index("M"), PROTEIN_TOKENS.index("K")
    assert (m, k) == (13, 11)
    batch = dm.datasets["train"].__getitems__([0, 1])
    assert batch["src"].tolist() == [[1, 4, 3, 1, 1, 1, 4, 1, 1], [1, 4, 3, 4, 1, 1, 0, 0, 0]]
    assert batch["src_lengths"].tolist() == [9, 6]
    assert batch["tgt_in"].tolist() == [[BOS, m, k], [BOS, m, PAD]]
    assert batch["tgt_out"].tolist() == [[m, k, EOS], [m, EOS, PAD]]
    test = next(iter(dm.test_dataloader()))  # lowercase protein, N codons -> token 5
    assert test["src"].tolist() == [[1, 4, 3, 5, 5, 5, 4, 3, 3, 4, 1, 1]]
    assert test["tgt_out"].tolist() == [[m, PROTEIN_TOKENS.index("X"),
                                         PROTEIN_TOKENS.index("W"), EOS]]


def test_pairs_errors(write):
    bad = write("bad.tsv", "contig\tcds\tprotein\nc1\tATG\tMJ\n")
    with pytest.raises(BiodlError, match="bad.tsv line 2: column 'protein' character 2 "
                                         r"\('J'\).*as X"):
        pairs_module(bad).setup()
    with pytest.raises(BiodlError, match="no column 'gene'"):
        pairs_module(write("p.tsv", PAIRS), group_column="gene").setup()


def test_length_buckets_cover_every_example_once_with_little_padding():
    from biodl.data.buckets import LengthBuckets

    lengths = np.random.default_rng(1).integers(10, 1000, 203)
    sampler = LengthBuckets(lengths, batch_size=8, seed=3, pool=5)
    first, second = list(sampler), list(sampler)
    assert len(first) == len(sampler) == 26
    assert sorted(i for batch in first for i in batch) == list(range(203))
    assert first != second  # a new order each epoch
    assert first == list(LengthBuckets(lengths, batch_size=8, seed=3, pool=5))  # seeded
    spread = np.mean([np.ptp(lengths[b]) for b in first])
    assert spread < 0.3 * np.ptp(lengths)  # batches of similar lengths
