import re
from pathlib import Path

import pytest

from biodl.config import flatten, load_config, to_dict
from biodl.errors import BiodlError

from ..conftest import DATA, ROOT

ECOLI = ROOT / "pipelines" / "ecoli_promoters"


def test_pipeline_composes_defaults_and_resolves_paths_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(ECOLI)
    assert cfg.model.name == "cnn1d"
    assert cfg.model.kwargs["channels"] == [128, 128]  # from configs/model/cnn1d.yaml
    assert cfg.task.optimizer.name == "adamw"  # from configs/task/binary.yaml
    assert cfg.trainer.accelerator == "cpu"  # from configs/trainer/cpu.yaml
    assert list(cfg.data.classes) == ["non_promoter", "promoter"]
    assert cfg.data.classes["promoter"] == ECOLI / "data" / "Ecoli_prom.fa"


def test_pipeline_by_name_under_pipelines(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert load_config("ecoli_promoters").name == "ecoli_promoters"


def test_overrides_parse_yaml_values_and_win():
    cfg = load_config(ECOLI, ["trainer.max_epochs=3", "task.optimizer.lr=1e-4",
                              "model.channels=[16, 32]", "trainer.gradient_clip_val=null"])
    assert cfg.trainer.max_epochs == 3
    assert cfg.task.optimizer.lr == 1e-4  # YAML 1.1 reads "1e-4" as a string; still a float
    assert cfg.model.kwargs["channels"] == [16, 32]
    assert cfg.trainer.gradient_clip_val is None


def test_override_path_is_relative_to_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(ECOLI, ["data.classes={a: x.fa, b: y.fa}"])
    assert cfg.data.classes == {"a": tmp_path / "x.fa", "b": tmp_path / "y.fa"}


def test_value_mapping_is_replaced_not_merged():
    cfg = load_config(DATA / "tiny_pipeline.yaml")
    assert cfg.data.classes == {"non_promoter": DATA / "ecoli_nonprom_60.fa",
                                "promoter": DATA / "ecoli_prom_30.fa"}


@pytest.mark.parametrize("override, message", [
    ("trainer.max_epoch=3", "trainer.max_epoch: unknown key; did you mean 'max_epochs'?"),
    ("task.optimizer.name=adamx", "task.optimizer.name: 'adamx' (str) is not one of 'sgd'"),
    ("trainer.max_epochs=ten", "trainer.max_epochs: expected an integer, got 'ten' (str)"),
    ("data.batch_size=true", "data.batch_size: expected an integer, got True (bool)"),
    ("datta.batch_size=4", "datta: unknown key; did you mean 'data'?"),
    ("trainer.max_epochs", "--set 'trainer.max_epochs': expected key.sub=value"),
])
def test_bad_keys_and_types_name_the_key_and_the_fix(override, message):
    with pytest.raises(BiodlError) as error:
        load_config(ECOLI, [override])
    assert str(error.value).startswith(message)


def test_switching_model_name_drops_the_old_model_arguments(write):
    path = write("p.yaml", f"defaults: [{ECOLI / 'pipeline.yaml'}]\nmodel: {{name: other}}\n")
    assert load_config(path).model.kwargs == {}


def test_yaml_syntax_error_names_file_and_line(write):
    path = write("bad.yaml", "trainer:\n  max_epochs: [1\n")
    with pytest.raises(BiodlError, match=r"bad.yaml line \d+: not valid YAML"):
        load_config(path)


def test_defaults_loop_is_reported(write):
    write("a.yaml", "defaults: [b.yaml]\n")
    path = write("b.yaml", "defaults: [a.yaml]\n")
    with pytest.raises(BiodlError, match="defaults include each other in a loop"):
        load_config(path)


def test_missing_pipeline_says_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BiodlError, match="pipeline 'nope' not found"):
        load_config("nope")


def test_flattened_config_is_plain_params():
    flat = flatten(to_dict(load_config(ECOLI)))
    assert flat["model.name"] == "cnn1d"
    assert flat["task.optimizer.lr"] == 0.001
    assert flat["data.split.seed"] == 0
    assert isinstance(flat["data.classes.promoter"], str)


def _copy_out(pipeline: Path, folder: Path, shipped: bool) -> Path:
    """A pipeline copied out of the repository, its defaults as relative paths or biodl:."""
    import shutil

    shutil.copytree(pipeline / "data", folder / "data")
    text = (pipeline / "pipeline.yaml").read_text()
    if shipped:
        text = text.replace("../../configs/", "biodl:configs/")
    (folder / "pipeline.yaml").write_text(text)
    return folder


def test_copied_pipeline_with_biodl_defaults_composes_the_shipped_configs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy = load_config(_copy_out(ECOLI, tmp_path / "mine", shipped=True))
    original = load_config(ECOLI)
    assert copy.data.classes == {"non_promoter": tmp_path / "mine/data/Ecoli_non_prom.fa",
                                 "promoter": tmp_path / "mine/data/Ecoli_prom.fa"}
    copy.data.classes = original.data.classes
    assert to_dict(copy) == to_dict(original)  # the same parts, from biodl's own configs/


def test_copied_pipeline_with_relative_defaults_names_the_missing_part(tmp_path):
    folder = _copy_out(ECOLI, tmp_path / "mine", shipped=False)
    with pytest.raises(BiodlError, match=r"defaults entry '../../configs/model/cnn1d.yaml' not "
                                         r"found \(looked at "):
        load_config(folder)


@pytest.mark.parametrize("entry", ["biodl:configs/model/cnn2d.yaml", "biodl:pyproject.toml",
                                   "biodl:configs/../pyproject.toml"])
def test_unknown_shipped_config_lists_the_shipped_ones(tmp_path, entry):
    path = tmp_path / "p.yaml"
    path.write_text(f"defaults: ['{entry}']\n")
    with pytest.raises(BiodlError, match=rf"p.yaml: defaults entry '{re.escape(entry)}' is not "
                                         r"one of biodl's shipped configs .*shipped: "
                                         r"biodl:configs/model/cnn1d.yaml, "):
        load_config(path)


def test_shipped_configs_are_biodls_own():
    from biodl.config.shipped import shipped_config

    assert shipped_config("biodl:configs/trainer/smoke.yaml") == ROOT / "configs/trainer/smoke.yaml"
