"""The CLI's non-training commands on the tiny real slice."""

import json

import yaml
from typer.testing import CliRunner

from biodl.cli import app
from biodl.config import bind_config, to_dict

from ..conftest import DATA

runner = CliRunner()
TINY = str(DATA / "tiny_pipeline.yaml")


def test_check_data_reports_splits_classes_and_duplicates():
    result = runner.invoke(app, ["check-data", TINY])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "train       72 records  length 81-81  non-ACGT 0.00% (0 records)  "
        "non_promoter: 48  promoter: 24",
        "               raw length 81-81 (median 81): 0 cropped, 0 padded",
        "val          9 records  length 81-81  non-ACGT 0.00% (0 records)  "
        "non_promoter: 6  promoter: 3",
        "               raw length 81-81 (median 81): 0 cropped, 0 padded",
        "test         9 records  length 81-81  non-ACGT 0.00% (0 records)  "
        "non_promoter: 6  promoter: 3",
        "               raw length 81-81 (median 81): 0 cropped, 0 padded",
        "identical records across splits: train/val 0  train/test 0  val/test 0",
    ]


def test_check_data_json_counts_non_acgt(write):
    a = write("a.fa", "".join(f">a{i}\nACGTN\n" for i in range(10)))
    b = write("b.fa", "".join(f">b{i}\nACGTA\n" for i in range(10)))
    result = runner.invoke(app, ["check-data", TINY, "--json", "--set",
                                 f"data.classes={{a: {a}, b: {b}}}", "--set", "data.length=null"])
    report = json.loads(result.output)
    assert report["train"]["records"] == 16
    assert report["train"]["records_with_non_acgt"] == 8
    assert report["train"]["non_acgt_fraction"] == 8 / 80
    assert report["duplicates_across_splits"]["train/test"] == 2  # identical records


def test_check_data_bad_file_exits_2(write):
    empty = write("empty.fa", "")
    result = runner.invoke(app, ["check-data", TINY, "--set",
                                 f"data.classes={{a: {empty}, b: {empty}}}"])
    assert result.exit_code == 2
    assert "empty.fa: no FASTA records" in result.output


def test_config_show_prints_yaml_that_binds_back():
    result = runner.invoke(app, ["config", "show", TINY, "--set", "seed=7"])
    assert result.exit_code == 0
    tree = yaml.safe_load(result.output)
    assert tree["seed"] == 7 and tree["model"]["channels"] == [8, 8]
    once = to_dict(bind_config(tree))
    assert once["model"] == tree["model"] and once["trainer"] == tree["trainer"]
    assert to_dict(bind_config(once)) == once


def test_config_validate_checks_model_arguments():
    result = runner.invoke(app, ["config", "validate", TINY, "--set", "model.kernel=5"])
    assert result.exit_code == 2
    assert "model.kernel: 'cnn1d' has no argument 'kernel'; did you mean 'kernel_size'?" in (
        result.output)
    assert runner.invoke(app, ["config", "validate", TINY]).exit_code == 0


def test_models_json_lists_names_and_parameter_counts():
    result = runner.invoke(app, ["models", "--json"])
    rows = {row["name"]: row["params"] for row in json.loads(result.output)}
    assert rows["cnn1d"] == 152_705


def test_cli_start_up_imports_no_torch_lightning_or_mlflow():
    import subprocess
    import sys

    code = ("import sys, biodl.cli; heavy = [m for m in ('torch', 'pytorch_lightning', 'mlflow') "
            "if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "biodl.cli", "--help"],
                               capture_output=True, text=True).stdout
    for command in ("fit", "test", "validate", "predict", "sample", "models", "config",
                    "check-data", "runs", "ui", "init"):
        assert f" {command} " in help_text


def test_a_truncated_gzip_table_exits_2_naming_the_file(workdir):
    import gzip

    data = gzip.compress(("sequence,label\n" + "ACGTACGTAC,1\nTTGGCCAATT,0\n" * 5000).encode())
    (workdir / "t.csv.gz").write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["check-data", TINY, "--set", "data.format=table", "--set",
                                 f"data.train={workdir / 't.csv.gz'}", "--set", "data.length=null"])
    assert result.exit_code == 2
    assert f"{workdir / 't.csv.gz'}: the gzip data is truncated or corrupt" in result.output
    assert "Traceback" not in result.output
