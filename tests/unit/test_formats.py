"""Every sequence data format through the data module, on tiny real or hand-made inputs."""

import numpy as np
import pytest

from biodl.config import load_config
from biodl.data.datamodules import SequenceDataModule
from biodl.errors import BiodlError

from ..conftest import DATA

GUE = DATA / "gue_tf0"


def table_module(*overrides):
    base = ["data.format=table", f"data.train={GUE / 'train.csv'}", f"data.val={GUE / 'dev.csv'}",
            f"data.test={GUE / 'test.csv'}", "data.length=null"]
    dm = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml", [*base, *overrides]).data)
    dm.setup("fit")
    return dm


def test_table_with_its_own_split_files():
    dm = table_module()
    assert [len(dm.datasets[s]) for s in ("train", "val", "test")] == [40, 40, 40]
    assert dm.class_names == ["0", "1"] and dm.target == "class"
    assert dm.datasets["train"].codes.shape == (40, 101)
    first = next(iter(dm.train_dataloader()))
    assert first["x"].shape == (16, 4, 101) and first["y"].dtype.is_floating_point is False


def test_table_missing_column_names_the_closest():
    with pytest.raises(BiodlError, match=r"train.csv: no column 'sequnce' \(set by "
                                         r"data.sequence_column\); did you mean 'sequence'\?"):
        table_module("data.sequence_column=sequnce")


def test_table_bad_character_names_the_line(write):
    bad = write("bad.csv", "sequence,label\nACGT,0\nACXT,1\n")
    with pytest.raises(BiodlError, match=r"bad.csv line 3: character 'X' is not a DNA base"):
        table_module(f"data.train={bad}")


def test_table_ragged_row_names_the_line(write):
    bad = write("bad.tsv", "sequence\tlabel\nACGT\t0\nACGT\n")
    with pytest.raises(BiodlError, match=r"bad.tsv line 3: 1 fields, the header has 2"):
        table_module(f"data.train={bad}")


def test_fasta_with_label_table_multilabel_and_regression(write):
    fasta = write("s.fa", "".join(f">r{i}\n{'ACGT'[i % 4] * 8}\n" for i in range(20)))
    rows = "".join(f"r{i}\t{i % 2}\t{(i // 2) % 2}\t{i / 10}\n" for i in range(20))
    labels = write("labels.tsv", "id\tbound\topen\tsignal\n" + rows)
    common = ["data.format=fasta_labels", f"data.fasta={fasta}", f"data.labels={labels}",
              "data.split.val=0.2", "data.split.test=0.2", "data.length=null",
              "data.leakage=ignore"]
    multi = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml", [
        *common, "data.label_columns=[bound, open]"]).data)
    multi.setup("fit")
    assert multi.num_outputs == 2 and multi.target == "multilabel"
    batch = multi.datasets["train"].__getitems__([0, 1])
    assert batch["y"].shape == (2, 2) and batch["x"].shape == (2, 4, 8)
    reg = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml", [
        *common, "data.label_columns=[signal]", "data.target=regression"]).data)
    reg.setup("fit")
    assert reg.num_outputs == 1
    ids = reg.split_ids["train"]
    assert np.allclose(reg.datasets["train"].labels[:, 0].numpy(),
                       [int(i[1:]) / 10 for i in ids])


def test_fasta_record_without_labels_is_named(write):
    fasta = write("s.fa", ">a\nACGT\n>b\nACGT\n")
    labels = write("l.csv", "id,y\na,1\n")
    cfg = load_config(DATA / "tiny_pipeline.yaml", ["data.format=fasta_labels",
                                                     f"data.fasta={fasta}", f"data.labels={labels}"])
    with pytest.raises(BiodlError, match=r"s.fa line 3: record 'b' has no row in .*l.csv"):
        SequenceDataModule(cfg.data).setup("fit")


def test_leakage_can_fail(write):
    same = write("same.csv", "sequence,label\n" + "ACGT,0\nACGT,1\n" * 5)
    with pytest.raises(BiodlError, match="test sequences also occur in the training split"):
        table_module(f"data.train={same}", f"data.val={same}", f"data.test={same}",
                     "data.leakage=error")
    with pytest.warns(UserWarning, match="10 of 10 test sequences also occur"):
        table_module(f"data.train={same}", f"data.val={same}", f"data.test={same}")


def test_unknown_format_names_the_valid_ones():
    with pytest.raises(BiodlError, match="data.format: unknown format 'tabel'; did you mean 'table'"):
        load_config(DATA / "tiny_pipeline.yaml", ["data.format=tabel"])


def test_every_registered_format_fills_the_contract():
    import inspect

    from biodl.config.data import DATA_FORMATS
    from biodl.data.base import DataFormat
    from biodl.data.formats import FORMATS

    assert set(FORMATS) == set(DATA_FORMATS)
    for name, cls in FORMATS.items():
        assert issubclass(cls, DataFormat) and not inspect.isabstract(cls), name


def test_an_unknown_format_names_the_valid_ones():
    from types import SimpleNamespace

    from biodl.data.formats import build_datamodule

    with pytest.raises(BiodlError, match="unknown format 'fastq'; did you mean 'fasta'"):
        build_datamodule(SimpleNamespace(format="fastq"))
    with pytest.raises(BiodlError, match="unknown format 'bigwig'; valid formats: coverage, fasta"):
        build_datamodule(SimpleNamespace(format="bigwig"))


def test_training_refuses_other_lengths_unless_the_policy_says(write):
    short = write("short.fa", ">s1\nACGTACGT\n>s2\nACG\n" + "".join(
        f">s{i}\nACGTACGT\n" for i in range(3, 12)))
    other = write("other.fa", "".join(f">o{i}\nTTGGCCAA\n" for i in range(11)))
    overrides = [f"data.classes={{a: {short}, b: {other}}}", "data.length=8"]
    cfg = load_config(DATA / "tiny_pipeline.yaml", overrides)
    with pytest.raises(BiodlError, match=r"record 's2' is 3 bp but the model takes 8-bp windows "
                                         r"\(1 record\(s\) differ\); set data.length_policy pad"):
        SequenceDataModule(cfg.data).setup("fit")
    dm = SequenceDataModule(load_config(DATA / "tiny_pipeline.yaml", [
        *overrides, "data.length_policy=pad"]).data)
    dm.setup("fit")
    report = dm.report()
    raw = [report[s]["raw_length"] for s in ("train", "val", "test")]
    assert sum(r["padded"] for r in raw) == 1 and min(r["min"] for r in raw) == 3
    assert dm.input_spec().length_policy == "pad"


def test_table_single_file_is_split_by_the_fractions():
    dm = table_module("data.val=null", "data.test=null",
                      "data.split={val: 0.25, test: 0.25, seed: 0}")
    assert [len(dm.datasets[s]) for s in ("train", "val", "test")] == [20, 10, 10]


@pytest.mark.parametrize("given, missing", [("val", "test"), ("test", "val")])
def test_table_val_without_test_or_test_without_val_is_refused(given, missing):
    message = (rf"data.{given}: given without data.{missing}; give both data.val and data.test "
               r"files \(the dataset's own split\), or neither and set data.split fractions")
    with pytest.raises(BiodlError, match=message):  # at config load, before any data is read
        load_config(DATA / "tiny_pipeline.yaml", ["data.format=table",
                    f"data.train={GUE / 'train.csv'}", f"data.{given}={GUE / 'dev.csv'}"])
    cfg = load_config(DATA / "tiny_pipeline.yaml", ["data.format=table",
                      f"data.train={GUE / 'train.csv'}"])
    setattr(cfg.data, given, GUE / "dev.csv")  # built in Python: the data module refuses too
    with pytest.raises(BiodlError, match=message):
        SequenceDataModule(cfg.data).setup("fit")


def test_table_without_train_is_refused():
    with pytest.raises(BiodlError, match=r"data.train: format table needs a train file"):
        load_config(DATA / "tiny_pipeline.yaml", ["data.format=table"])


@pytest.mark.parametrize("delimiter, char", [(";", ";"), ("tab", "\t"), ('"\\t"', "\t"),
                                             ("','", ",")])  # as YAML values of --set
def test_table_delimiter_key_overrides_the_suffix(write, delimiter, char):
    rows = "".join(f"{'ACGTACGT'[i % 4:][:4]}{char}{i % 2}\n" for i in range(40))
    path = write("data.csv", f"sequence{char}label\n{rows}")  # .csv whatever the delimiter
    dm = table_module(f"data.train={path}", "data.val=null", "data.test=null",
                      f"data.delimiter={delimiter}")
    assert dm.class_names == ["0", "1"]
    assert sum(len(dm.datasets[s]) for s in ("train", "val", "test")) == 40


def test_table_wrong_delimiter_says_which_to_set(write):
    path = write("data.csv", "sequence\tlabel\nACGT\t0\nACGA\t1\n")
    with pytest.raises(BiodlError, match=r"data.csv: no column 'sequence'.*one column holding "
                                         r"'tab': set data.delimiter=tab"):
        table_module(f"data.train={path}", "data.val=null", "data.test=null")


def test_table_unknown_delimiter_names_the_choices():
    with pytest.raises(BiodlError, match=r"data.delimiter: '\|' \(str\) is not one of 'auto'"):
        table_module("data.delimiter='|'")
