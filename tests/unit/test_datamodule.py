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


def test_substitution_changes_about_the_rate_of_bases_and_never_padding():
    from biodl.data import encoding
    from biodl.data.sequences import substitute

    codes = encoding.to_codes([b"A" * 1000, b"C" * 10], 1000)
    out = substitute(codes, 0.3, np.random.default_rng(0))
    changed = (out[0] != codes[0]).mean()
    assert 0.2 < changed < 0.25  # 0.3 x 3/4 (a draw of the same base changes nothing)
    assert (out[1] == 0).sum() == 990  # padding stays padding
    assert set(np.unique(out[0]).tolist()) <= set(b"ACGT")


def test_mixup_mixes_inputs_and_labels_with_the_same_weight():
    import torch

    from biodl.data.sequences import mixup

    torch.manual_seed(0)
    x = torch.stack([torch.zeros(4, 5), torch.ones(4, 5)])
    y = torch.tensor([0, 1])
    mixed_x, mixed_y = mixup(x, y, 0.4, num_classes=2)
    assert mixed_y.shape == (2, 2)
    assert torch.allclose(mixed_y.sum(dim=1), torch.ones(2))
    # sample i mixes with a partner: its x value equals its weight on class 1
    assert torch.allclose(mixed_x[:, 0, 0], mixed_y[:, 1])


def test_test_time_reverse_complement_averages_both_strands():
    import torch

    from biodl.config import TaskConfig
    from biodl.models.cnn1d import CNN1D
    from biodl.tasks import build_task

    model = CNN1D(channels=(4,)).eval()
    task = build_task(TaskConfig(), model, "binary", ["a", "b"], [1, 1], {},
                      test_reverse_complement=True)
    x = torch.rand(3, 4, 20)
    expected = (model(x) + model(x.flip(-2, -1))) / 2
    assert torch.allclose(task.test_outputs(x), expected)
    assert torch.allclose(task.test_outputs(x.flip(-2, -1)), expected, atol=1e-6)


def test_worker_batches_travel_as_codes_and_encode_after_transfer():
    import torch

    in_process = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml").data)
    in_process.setup("fit")
    workers = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml",
                                             ["data.num_workers=1"]).data)
    workers.setup("fit")
    raw = next(iter(workers.val_dataloader()))
    assert raw["codes"].dtype == torch.uint8 and raw["codes"].shape == (9, 81)
    encoded = workers.on_after_batch_transfer(raw, 0)
    expected = next(iter(in_process.val_dataloader()))
    assert torch.equal(encoded["x"], expected["x"]) and torch.equal(encoded["y"], expected["y"])
