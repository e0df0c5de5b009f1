import numpy as np
import pytest

from biodl.config import load_config
from biodl.data.datamodules import SequenceDataModule, stratified_split
from biodl.errors import BiodlError

from ..conftest import DATA


def test_stratified_split_is_exact_and_seeded():
    labels = np.array([0] * 60 + [1] * 30)
    split = stratified_split(labels, 0.1, 0.2, seed=0)
    assert [len(split[s]) for s in ("train", "val", "test")] == [63, 9, 18]
    assert int(labels[split["test"]].sum()) == 6  # 20% of the 30 positives
    assert np.array_equal(split["test"], stratified_split(labels, 0.1, 0.2, seed=0)["test"])
    assert not np.array_equal(split["test"], stratified_split(labels, 0.1, 0.2, seed=1)["test"])
    every = np.sort(np.concatenate(list(split.values())))
    assert np.array_equal(every, np.arange(90))


def test_batches_are_onehot_with_labels_in_class_order():
    cfg = load_config(DATA / "tiny_pipeline.yaml").data
    dm = SequenceDataModule(cfg)
    dm.setup("fit")
    assert dm.class_names == ["non_promoter", "promoter"]
    assert dm.class_counts() == [48, 24]
    batch = next(iter(dm.val_dataloader()))
    assert batch["x"].shape == (9, 4, 81)  # 10% of 60 + 10% of 30, in file order
    assert batch["y"].tolist() == [0] * 6 + [1] * 3
    assert batch["x"].sum(dim=1).eq(1).all()  # every position is exactly one of ACGT


def test_augmented_training_batches_keep_shape_and_content(write):
    cfg = load_config(DATA / "tiny_pipeline.yaml",
                      ["data.augment.reverse_complement=true", "data.augment.shift=3"]).data
    dm = SequenceDataModule(cfg)
    dm.setup("fit")
    x = next(iter(dm.train_dataloader()))["x"]
    assert x.shape == (16, 4, 81)
    assert x.sum(dim=1).le(1).all() and x.sum() >= 16 * 78  # at most 3 bases shifted out


def test_sequences_of_different_lengths_need_data_length(write):
    a = write("a.fa", ">a\nACGT\n>b\nACGTA\n")
    b = write("b.fa", ">c\nACGT\n")
    cfg = load_config(DATA / "tiny_pipeline.yaml", [f"data.classes={{a: {a}, b: {b}}}",
                                                     "data.length=null", "data.split.val=0",
                                                     "data.split.test=0"]).data
    with pytest.raises(BiodlError, match="sequences differ in length .*set data.length"):
        SequenceDataModule(cfg).setup("fit")


def test_policy_rejection_names_file_record_and_fix(write):
    a = write("a.fa", ">a\nACGT\n>b\nACNT\n")
    cfg = load_config(DATA / "tiny_pipeline.yaml", [f"data.classes={{a: {a}, b: {a}}}",
                                                     "data.unknown=error"]).data
    with pytest.raises(BiodlError, match=r"a.fa line 3: record 'b' has base 'N'.*set data.unknown"):
        SequenceDataModule(cfg).setup("fit")
