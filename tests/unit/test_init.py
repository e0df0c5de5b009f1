"""`biodl init` on tiny files written here: the YAML it writes loads, its data module sets up,
it names the positive class, refuses to overwrite, and turns bad input into one line."""

import subprocess
import sys

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from biodl.cli import app
from biodl.config import load_config
from biodl.errors import BiodlError
from biodl.init import plan_fasta, plan_images, plan_table, write_pipeline

from ..conftest import ROOT

runner = CliRunner()


def fasta(path, lengths, seed=0):
    rng = np.random.default_rng(seed)
    records = [f">r{i}\n{''.join(rng.choice(list('ACGT'), n))}\n" for i, n in enumerate(lengths)]
    path.write_text("".join(records))
    return path


def table(path, rows, header="name,dna_seq,cls", sep=","):
    path.write_text(header.replace(",", sep) + "\n" + "".join(sep.join(r) + "\n" for r in rows))
    return path


def comments(text):
    """The YAML's comments as one line of words (wrapped comments read as one sentence)."""
    return " ".join(line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line)


def setup_data(folder):
    from biodl.data.formats import build_datamodule

    cfg = load_config(folder)
    dm = build_datamodule(cfg.data)
    dm.setup("fit")
    return cfg, dm


def test_fasta_classes_in_order_second_positive_and_data_module_sets_up(tmp_path):
    neg, pos = fasta(tmp_path / "neg.fa", [30] * 20), fasta(tmp_path / "pos.fa", [30] * 20, 1)
    out = tmp_path / "mine"
    plan = plan_fasta([f"background={neg}", f"promoter={pos}"], out)
    path = write_pipeline(out, plan)
    text = path.read_text()
    assert ("The positive class is the second, 'promoter': sn, f1 and auprc are computed "
            "for it (swap the two lines to change it)") in comments(text)
    assert "  - biodl:configs/task/binary.yaml" in text
    assert "  length: 30                        # every record is 30 bp" in text
    assert plan.notes[:2] == ["2 classes: background (20 records), promoter (20 records)",
                              "positive class: promoter (the second --fasta); negative: background"]
    cfg, dm = setup_data(out)
    assert cfg.name == "mine" and cfg.tracking.experiment == "mine"
    assert cfg.data.classes == {"background": neg, "promoter": pos}
    assert cfg.model.name == "cnn1d" and "sn" in cfg.task.metrics
    assert dm.class_names == ["background", "promoter"]
    assert [len(dm.datasets[s]) for s in ("train", "val", "test")] == [32, 4, 4]


def test_fasta_files_inside_the_folder_are_written_relative(tmp_path):
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    a, b = fasta(out / "data/a.fa", [20] * 10), fasta(out / "data/b.fa", [20] * 10, 1)
    text = write_pipeline(out, plan_fasta([f"a={a}", f"b={b}"], out)).read_text()
    assert "    a: data/a.fa" in text and str(tmp_path) not in text.split("data:")[1]


def test_fasta_lengths_that_differ_a_little_are_padded_to_the_longest(tmp_path):
    a = fasta(tmp_path / "a.fa", [28, 29, 30, 31, 32] * 4)
    b = fasta(tmp_path / "b.fa", [30] * 20, 1)
    plan = plan_fasta([f"a={a}", f"b={b}"], tmp_path / "p")
    write_pipeline(tmp_path / "p", plan)
    cfg, dm = setup_data(tmp_path / "p")
    assert (cfg.data.length, cfg.data.length_policy) == (32, "pad")
    assert plan.notes[2] == ("length 32, pad: records are 28-32 bp (median 30): the model reads "
                             "32 bp; the 36 shorter ones are centred in N, none is cut")
    assert dm.datasets["train"].codes.shape[1] == 32


def test_fasta_lengths_far_apart_use_the_median_and_crop_pad(tmp_path):
    a = fasta(tmp_path / "a.fa", [20] * 15 + [100] * 5)
    b = fasta(tmp_path / "b.fa", [20] * 15 + [100] * 5, 1)
    write_pipeline(tmp_path / "p", plan_fasta([f"a={a}", f"b={b}"], tmp_path / "p"))
    text = (tmp_path / "p/pipeline.yaml").read_text()
    assert "  length_policy: crop_pad           # 10 centre-cropped, 0 padded with N" in text
    cfg, dm = setup_data(tmp_path / "p")
    assert (cfg.data.length, cfg.data.length_policy) == (20, "crop_pad")
    assert dm.datasets["train"].codes.shape[1] == 20


def test_three_fasta_classes_are_multiclass_without_a_positive_class(tmp_path):
    files = [f"{c}={fasta(tmp_path / f'{c}.fa', [25] * 10, i)}" for i, c in enumerate("xyz")]
    text = write_pipeline(tmp_path / "p", plan_fasta(files, tmp_path / "p")).read_text()
    assert "biodl:configs/task/multiclass.yaml" in text
    assert "3 classes: multiclass, no positive class" in text
    cfg, dm = setup_data(tmp_path / "p")
    assert dm.class_names == ["x", "y", "z"] and cfg.task.loss == "auto"


def test_table_columns_found_from_content_and_names(tmp_path):
    rows = [(f"s{i}", "ACGTACGTAC"[i % 3:] + "ACGT", str(i % 2)) for i in range(40)]
    path = table(tmp_path / "data.csv", rows, "name,dna_seq,cls")
    plan = plan_table(path, tmp_path / "p")
    write_pipeline(tmp_path / "p", plan)
    assert plan.notes[0] == ("columns: sequence 'dna_seq' (the only DNA column), label 'cls' "
                             "(the only other column), id 'name'")
    cfg, dm = setup_data(tmp_path / "p")
    assert (cfg.data.sequence_column, cfg.data.label_columns, cfg.data.id_column) == (
        "dna_seq", ["cls"], "name")
    assert cfg.data.train == path and cfg.data.val is None and cfg.data.delimiter == ","
    assert (cfg.data.length, cfg.data.length_policy) == (14, "pad")
    assert dm.class_names == ["0", "1"]
    assert "The positive class is the second, '1'" in comments(
        (tmp_path / "p/pipeline.yaml").read_text())
    assert dm.split_ids["train"][0].startswith("s")


def test_table_tabs_in_a_csv_are_found_and_written(tmp_path):
    rows = [("ACGTACGTAA", "bound" if i % 2 else "unbound") for i in range(20)]
    path = table(tmp_path / "data.csv", rows, "sequence,label", sep="\t")
    write_pipeline(tmp_path / "p", plan_table(path, tmp_path / "p"))
    text = (tmp_path / "p/pipeline.yaml").read_text()
    assert "  delimiter: tab                    # found in the header, not the .csv default" in text
    cfg, dm = setup_data(tmp_path / "p")
    assert cfg.data.delimiter == "tab" and dm.class_names == ["bound", "unbound"]


def test_table_given_columns_and_delimiter(tmp_path):
    rows = [("ACGTACGTAA", "GGGGCCCCAAAA", str(i % 2), "x") for i in range(20)]
    path = table(tmp_path / "t.txt", rows, "a,b,y,note", sep=";")
    plan = plan_table(path, tmp_path / "p", sequence_column="a", label_column="y", delimiter=";")
    write_pipeline(tmp_path / "p", plan)
    cfg, _ = setup_data(tmp_path / "p")
    assert (cfg.data.sequence_column, cfg.data.label_columns, cfg.data.delimiter) == (
        "a", ["y"], ";")


def test_table_real_valued_labels_are_regression(tmp_path):
    rows = [("ACGTACGTAA", f"{i / 7:.3f}") for i in range(30)]
    path = table(tmp_path / "expr.csv", rows, "sequence,expression")
    write_pipeline(tmp_path / "p", plan_table(path, tmp_path / "p"))
    text = (tmp_path / "p/pipeline.yaml").read_text()
    assert "task.yaml" not in text and "binary" not in text
    cfg, dm = setup_data(tmp_path / "p")
    assert (cfg.data.target, cfg.task.loss, dm.output_names) == ("regression", "mse",
                                                                 ["expression"])


def images(root, classes, count=10, size=(12, 10)):
    from PIL import Image

    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.full((size[1], size[0], 3), 20 * c + i, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_images_two_class_folders_binary_with_size_from_the_images(tmp_path):
    root = images(tmp_path / "cells", ["healthy", "infected"])
    (root / "healthy" / "notes.txt").write_text("not an image")
    plan = plan_images(root, tmp_path / "p")
    text = write_pipeline(tmp_path / "p", plan).read_text()
    assert plan.notes[:2] == ["2 classes: healthy (10 images), infected (10 images)",
                              "positive class: infected (the second folder by name); "
                              "negative: healthy"]
    assert "biodl:configs/model/resnet18_small.yaml" in text
    assert "biodl:configs/task/binary.yaml" in text and "'infected'" in text
    cfg, dm = setup_data(tmp_path / "p")
    assert (cfg.data.root, cfg.data.size, cfg.model.name) == (root, 10, "resnet18")
    assert dm.class_names == ["healthy", "infected"]


def test_refuses_to_overwrite_without_force(tmp_path):
    a, b = fasta(tmp_path / "a.fa", [20] * 10), fasta(tmp_path / "b.fa", [20] * 10, 1)
    write_pipeline(tmp_path / "p", plan_fasta([f"a={a}", f"b={b}"], tmp_path / "p"))
    plan = plan_fasta([f"b={b}", f"a={a}"], tmp_path / "p")
    with pytest.raises(BiodlError, match=r"p/pipeline.yaml: already exists; pass --force to "
                                         r"replace it, or give another folder"):
        write_pipeline(tmp_path / "p", plan)
    write_pipeline(tmp_path / "p", plan, force=True)
    assert list(load_config(tmp_path / "p").data.classes) == ["b", "a"]


@pytest.mark.parametrize("make, message", [
    (lambda d: plan_fasta([f"a={fasta(d / 'a.fa', [9] * 4)}", f"b={d / 'missing.fa'}"], d),
     r"--fasta b=.*missing.fa: file '.*missing.fa' not found; check the path"),
    (lambda d: plan_fasta([f"a={fasta(d / 'a.fa', [9] * 4)}"], d),
     r"--fasta: 1 class given; give two or more --fasta CLASS=FILE, one FASTA per class"),
    (lambda d: plan_fasta(["a.fa", "b.fa"], d),
     r"--fasta 'a.fa': expected CLASS=FILE, e.g. --fasta promoter=promoters.fa"),
    (lambda d: plan_fasta([f"a={fasta(d / 'a.fa', [9] * 4)}", f"b={fasta(d / 'b.fa', [])}"], d),
     r"b.fa: no FASTA records \(the file is empty or has no '>' header\)"),
    (lambda d: plan_table(table(d / "t.csv", [("x1", "hello", "0")] * 5), d),
     r"--table .*t.csv: no column of DNA sequences in the first 5 rows \(columns: name, "
     r"dna_seq, cls\); give --sequence-column"),
    (lambda d: plan_table(table(d / "t.csv", [("x1", "ACGTACGTAC", "0")] * 5), d),
     r"--table: column 'cls' holds one class only \('0'\)"),
    (lambda d: plan_table(d / "nope.csv", d), r"--table .*nope.csv: file not found"),
    (lambda d: plan_table(table(d / "t.csv", [("x", "ACGTACGTAC", "0")] * 5), d,
                          label_column="label"),
     r"--label-column label: no such column in .*t.csv; valid keys: cls, dna_seq, name"),
    (lambda d: plan_images(images(d / "cells", ["only"]), d),
     r"--images .*cells: 1 class sub-folder\(s\) \(only\); give a folder with one sub-folder"),
])
def test_bad_input_names_the_file_and_the_fix(tmp_path, make, message):
    with pytest.raises(BiodlError, match=message):
        make(tmp_path)


def test_cli_writes_prints_the_next_commands_and_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = fasta(tmp_path / "a.fa", [20] * 10), fasta(tmp_path / "b.fa", [20] * 10, 1)
    result = runner.invoke(app, ["init", "mine", "--fasta", f"neg={a}", "--fasta", f"pos={b}"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "wrote mine/pipeline.yaml"
    assert lines[-3:] == ["next:",
                          "  biodl check-data mine   # read and check the data, no training",
                          "  biodl fit mine          # train, test the best checkpoint, record it"]
    again = runner.invoke(app, ["init", "mine", "--fasta", f"neg={a}", "--fasta", f"pos={b}"])
    assert again.exit_code == 2
    assert again.output.strip() == ("error: mine/pipeline.yaml: already exists; pass --force to "
                                    "replace it, or give another folder")
    both = runner.invoke(app, ["init", "x", "--table", "t.csv", "--images", "cells"])
    assert both.exit_code == 2 and "give one input" in both.output


def test_written_yaml_is_plain_yaml_with_biodl_defaults(tmp_path):
    a, b = fasta(tmp_path / "a.fa", [20] * 10), fasta(tmp_path / "b.fa", [20] * 10, 1)
    tree = yaml.safe_load(write_pipeline(tmp_path / "p", plan_fasta(
        [f"yes={a}", f"1={b}"], tmp_path / "p")).read_text())
    assert tree["defaults"] == ["biodl:configs/model/cnn1d.yaml",
                                "biodl:configs/task/binary.yaml",
                                "biodl:configs/trainer/cpu.yaml"]
    assert list(tree["data"]["classes"]) == ["yes", "1"]  # quoted: still strings


def test_init_imports_no_torch(tmp_path):
    a, b = fasta(tmp_path / "a.fa", [20] * 10), fasta(tmp_path / "b.fa", [20] * 10, 1)
    code = ("import sys; from pathlib import Path; from biodl.init import plan_fasta, "
            f"write_pipeline; write_pipeline(Path('{tmp_path}/p'), plan_fasta(['a={a}', "
            f"'b={b}'], Path('{tmp_path}/p'))); assert 'torch' not in sys.modules, 'torch'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_class_order_is_numeric_for_integers_else_alphabetical():
    from biodl.vocab import class_order

    assert class_order({"10", "9", "-1"}) == ["-1", "9", "10"]
    assert class_order({"b", "a", "B"}) == ["B", "a", "b"]
    assert class_order({"1", "a"}) == ["1", "a"]
