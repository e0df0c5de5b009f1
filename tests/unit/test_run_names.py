"""Run names from the pipeline and the command line's overrides (no MLflow, no seeded RNG)."""

from biodl.runs import run_name


def test_plain_pipeline_name_without_overrides():
    assert run_name("gue_tf0") == "gue_tf0"
    assert run_name("gue_tf0", []) == "gue_tf0"


def test_overrides_become_short_keys_and_values_as_typed():
    assert run_name("gue_tf0", ["task.optimizer.lr=3e-4", "model.dropout=0.3"]) == (
        "gue_tf0 lr=3e-4 dropout=0.3")


def test_shared_last_key_parts_keep_the_whole_key():
    assert run_name("p", ["model.dropout=0.3", "data.dropout=0.1", "seed=1"]) == (
        "p model.dropout=0.3 data.dropout=0.1 seed=1")


def test_tracking_overrides_are_left_out_and_paths_keep_their_file_name():
    assert run_name("p", ["tracking.experiment=x", "finetune.init_from=/w/resnet18.pth"]) == (
        "p init_from=resnet18.pth")


def test_long_values_are_cut():
    assert run_name("p", ["data.sequence_column=" + "a" * 30]) == (
        "p sequence_column=" + "a" * 23 + "\u2026")
