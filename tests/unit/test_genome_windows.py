import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from biodl.config.data import AugmentConfig, GenomeData, SplitConfig
from biodl.data import encoding
from biodl.data.genome_windows import GenomeDataModule
from biodl.data.sequences import collate
from biodl.errors import BiodlError

LENGTHS = {"chr1": 3000, "chr2": 2500, "chr3": 2000, "chr4": 1500}
BED = "chr1\t100\t200\nchr1\t1000\t1100\nchr2\t500\t520\nchr3\t40\t60\nchr4\t300\t400\n"
# window 50 -> centres 150, 1050, 510, 50, 350 -> these positives
POSITIVES = {"train": ["chr1:125-175", "chr1:1025-1075", "chr2:485-535"],
             "val": ["chr3:25-75"], "test": ["chr4:325-375"]}


def random_seqs(lengths: dict[str, int], seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    return {name: "".join(rng.choice(list("ACGT"), n)) for name, n in lengths.items()}


def fasta(seqs: dict[str, str]) -> str:
    """Multi-line FASTA, 60 bases a line."""
    return "".join(f">{name} generated\n" + "".join(seq[i:i + 60] + "\n"
                                                    for i in range(0, len(seq), 60))
                   for name, seq in seqs.items())


@pytest.fixture
def genome(write, tmp_path, monkeypatch):
    monkeypatch.setenv("BIODL_CACHE", str(tmp_path / "cache"))
    seqs = random_seqs(LENGTHS)
    return write("g.fa", fasta(seqs)), seqs


def module(genome_path, intervals: dict, **kwargs) -> GenomeDataModule:
    cfg = GenomeData(genome=genome_path, intervals=intervals, window=50, val_chroms=["chr3"],
                     test_chroms=["chr4"], batch_size=4, **kwargs)
    dm = GenomeDataModule(cfg)
    dm.setup("fit")
    return dm


def spans(names: list[str]) -> list[tuple[str, int, int]]:
    return [(n.split(":")[0], *map(int, n.split(":")[1].split("-"))) for n in names]


def test_binary_windows_labels_and_chromosome_split(genome, write):
    path, seqs = genome
    dm = module(path, {"peak": write("p.bed", BED)})
    assert dm.target == "class" and dm.class_names == ["background", "peak"]
    assert dm.num_outputs == 2 and dm.input_files == [path, dm.cfg.intervals["peak"]]
    for split, positives in POSITIVES.items():
        ids, labels = dm.split_ids[split], dm.datasets[split].labels.tolist()
        assert sorted(i for i, y in zip(ids, labels) if y == 1) == sorted(positives)
        assert labels.count(0) == len(positives)  # negatives: 1.0 per positive
        chroms = {"train": {"chr1", "chr2"}, "val": {"chr3"}, "test": {"chr4"}}[split]
        assert {c for c, _, _ in spans(ids)} <= chroms
    assert dm.class_counts() == [3, 3]
    assert dm.model_kwargs() == {"in_channels": 4, "seq_len": 50}
    spec = dm.input_spec()
    assert (spec.format, spec.kind, spec.target, spec.length) == ("genome", "onehot", "class", 50)
    assert (spec.unknown, spec.lowercase, spec.output_names) == ("zeros", "upper",
                                                                 ("background", "peak"))
    codes = dm.datasets["train"].codes
    for row, (chrom, start, end) in enumerate(spans(dm.split_ids["train"])):
        assert bytes(codes[row]).decode() == seqs[chrom][start:end]


def test_negatives_are_seeded_and_clear_of_every_positive(genome, write):
    path, _ = genome
    bed = write("p.bed", BED)
    first = module(path, {"peak": bed}, negatives=4.0)
    again = module(path, {"peak": bed}, negatives=4.0)
    other = module(path, {"peak": bed}, negatives=4.0, split=SplitConfig(seed=1))
    other_ids = dict(other.split_ids)
    assert dict(first.split_ids) == dict(again.split_ids) != other_ids
    positives = spans(sum(POSITIVES.values(), []))
    intervals = [(c, int(s), int(e)) for c, s, e in (line.split("\t") for line in
                                                      BED.splitlines())]
    for split, dataset in first.datasets.items():
        negatives = [w for w, y in zip(spans(first.split_ids[split]), dataset.labels) if y == 0]
        assert len(negatives) == 4 * len(POSITIVES[split])
        for chrom, start, end in negatives:
            assert end - start == 50 and 0 <= start and end <= LENGTHS[chrom]
            assert not any(c == chrom and s < end and start < e
                           for c, s, e in positives + intervals)


def test_multilabel_from_two_files_marks_every_overlap(genome, write):
    path, _ = genome
    a = write("a.bed", BED)
    # b: one peak overlapping a's chr1 window 125-175, one of its own, narrowPeak summit
    b = write("b.narrowPeak", "chr1\t170\t180\nchr2\t1000\t1200\tp\t0\t.\t1\t1\t1\t20\n"
                              "chr3\t1000\t1010\nchr4\t1000\t1010\n")
    dm = module(path, {"a": a, "b": b}, negatives=0.0)
    assert dm.target == "multilabel" and dm.output_names == ["a", "b"] and dm.num_outputs == 2
    train = dict(zip(dm.split_ids["train"], dm.datasets["train"].labels.tolist()))
    assert train == {"chr1:125-175": [1.0, 1.0], "chr1:150-200": [1.0, 1.0],
                     "chr1:1025-1075": [1.0, 0.0], "chr2:485-535": [1.0, 0.0],
                     "chr2:995-1045": [0.0, 1.0]}
    assert dm.datasets["train"].labels.dtype == torch.float32
    assert dm.class_counts() == [4, 3]


def test_batches_are_onehot_of_the_windows_and_survive_worker_processes(genome, write):
    path, _ = genome
    dm = module(path, {"peak": write("p.bed", BED)},
                augment=AugmentConfig(reverse_complement=True, shift=3))
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == (4, 4, 50) and batch["x"].dtype == torch.float32
    assert batch["y"].shape == (4,) and batch["y"].dtype == torch.int64
    val = dm.datasets["val"]
    expected = encoding.onehot(val.codes[np.arange(len(val))], dm.table)
    assert torch.equal(next(iter(dm.val_dataloader()))["x"], torch.from_numpy(expected))
    assert torch.equal(pickle.loads(pickle.dumps(val))[1]["x"], val[1]["x"])
    loader = DataLoader(val, batch_size=2, collate_fn=collate, num_workers=1)
    assert torch.equal(torch.cat([b["x"] for b in loader]), torch.from_numpy(expected))
    assert np.asarray(val.codes).shape == (2, 50)


def test_setup_is_idempotent_and_reads_no_sequence_into_memory(genome, write):
    path, _ = genome
    dm = module(path, {"peak": write("p.bed", BED)})
    datasets = dict(dm.datasets)
    dm.setup("test")
    assert dm.datasets == datasets
    codes = dm.datasets["train"].codes
    assert codes.chrom_index.dtype == np.int32 and codes.starts.dtype == np.int64
    assert not any(isinstance(v, (bytes, np.ndarray)) and getattr(v, "nbytes", len(v)) > 1000
                   for v in vars(dm.genome).values())


def test_identical_windows_in_train_and_test_are_reported(write, tmp_path, monkeypatch):
    monkeypatch.setenv("BIODL_CACHE", str(tmp_path / "cache"))
    seqs = random_seqs({"chr1": 600, "chr2": 600})
    path = write("rep.fa", fasta({**seqs, "chr3": seqs["chr1"]}))  # chr3 repeats chr1
    bed = write("p.bed", "chr1\t100\t110\nchr2\t100\t110\nchr3\t100\t110\n")
    cfg = dict(genome=path, intervals={"p": bed}, window=50, val_chroms=["chr2"],
               test_chroms=["chr3"])
    with pytest.warns(UserWarning, match="1 training windows are identical to a test window"):
        GenomeDataModule(GenomeData(**cfg)).setup()
    with pytest.raises(BiodlError, match="set data.leakage=warn"):
        GenomeDataModule(GenomeData(**cfg, leakage="error")).setup()


@pytest.mark.parametrize("bed, kwargs, message", [
    (BED, dict(val_chroms=[]), r"set both, e\.g\. data\.val_chroms=\[chr4\] \(chromosomes in "
                               r".*g\.fa: chr1, chr2, chr3, chr4\)"),
    (BED, dict(test_chroms=["chr9"]), r"data\.test_chroms: no chromosome 'chr9'"),
    (BED, dict(test_chroms=["chr3"]), r"val_chroms and data.test_chroms both hold 'chr3'"),
    ("chr1\t10\t20\nchr2\t1\t2\nchr4\t1\t2\n", {},
     r"data\.val_chroms \['chr3'\]: the val split has no positive windows .* \(intervals per "
     r"chromosome: chr1 1, chr2 1, chr4 1\)"),
    ("chr3\t10\t20\nchr4\t1\t2\n", {}, r"the train split has no positive windows"),
    ("chr1\t10\t20\nchr2\t2400\t2501\n", {}, r"p\.bed line 2: interval chr2:2400-2501 ends "
                                             r"beyond chr2 \(length 2500\)"),
    ("chr1\t10\t20\n1\t5\t8\n", {}, r"p\.bed line 2: .*unknown chromosome '1'"),
    (BED, dict(window=2600), r"p\.bed line 3: a 2600-bp window does not fit in chr2 "
                             r"\(length 2500\)"),
    (BED, dict(negatives=0.0), r"data\.negatives: 0\.0; one intervals file makes a binary"),
    (BED, dict(unknown="error"), r"data\.unknown: 'error' would stop training"),
])
def test_errors_name_the_file_line_or_key_and_the_fix(genome, write, bed, kwargs, message):
    path, _ = genome
    settings = dict(genome=path, intervals={"peak": write("p.bed", bed)}, window=50,
                    val_chroms=["chr3"], test_chroms=["chr4"])
    with pytest.raises(BiodlError, match=message):
        GenomeDataModule(GenomeData(**{**settings, **kwargs})).setup()
