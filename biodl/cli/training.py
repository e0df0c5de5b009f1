"""Commands that write a pipeline or train and evaluate one: init, fit, test, validate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from biodl.cli.app import (SET, SOURCE, SOURCES, app, checkpoints_of, fails_cleanly,
                           print_metrics, run_id_of)
from biodl.errors import BiodlError


@app.command()
@fails_cleanly
def init(out: Path = typer.Argument(..., metavar="OUT_FOLDER",
                                    help="Folder to write pipeline.yaml into (made if missing)."),
         fasta: Optional[List[str]] = typer.Option(
             None, "--fasta", metavar="CLASS=FILE",
             help="One FASTA per class, two or more; the second listed is the positive class."),
         table: Optional[Path] = typer.Option(
             None, "--table", help="A CSV/TSV with a sequence column and a label column."),
         images: Optional[Path] = typer.Option(
             None, "--images", help="A folder holding one sub-folder of images per class."),
         sequence_column: Optional[str] = typer.Option(
             None, help="--table: the sequence column (default: found from the rows)."),
         label_column: Optional[str] = typer.Option(
             None, help="--table: the label column (default: found from the names)."),
         delimiter: str = typer.Option("auto", help="--table: auto (from the suffix), ',', "
                                                    "';' or tab."),
         force: bool = typer.Option(False, help="Replace an existing pipeline.yaml.")) -> None:
    """Write a commented pipeline.yaml for your own data, then say the next commands."""
    from biodl.init import plan_fasta, plan_images, plan_table, target_file, write_pipeline

    given = [name for name, value in (("--fasta", fasta), ("--table", table),
                                      ("--images", images)) if value]
    if len(given) != 1:
        got = f" (got {' and '.join(given)})" if given else ""
        raise BiodlError("give one input: --fasta CLASS=FILE (two or more), --table FILE, or "
                         f"--images FOLDER{got}")
    if not table and (sequence_column or label_column or delimiter != "auto"):
        raise BiodlError("--sequence-column, --label-column and --delimiter go with --table")
    target_file(out, force)  # refuse before reading any data
    plan = (plan_fasta(fasta, out) if fasta else
            plan_table(table, out, sequence_column, label_column, delimiter) if table else
            plan_images(images, out))
    typer.echo(f"wrote {write_pipeline(out, plan, force)}")
    for note in plan.notes:
        typer.echo(f"  {note}")
    command = _own_command()
    typer.echo("next:")
    typer.echo(f"  {command} check-data {out}   # read and check the data, no training")
    typer.echo(f"  {command} fit {out}          # train, test the best checkpoint, record it")


def _own_command() -> str:
    """`biodl`, or the path it was run by when `biodl` is not on PATH (.venv/bin/biodl)."""
    import shutil

    program = Path(sys.argv[0])
    if shutil.which("biodl") or program.name != "biodl":
        return "biodl"
    return str(program)


@app.command()
@fails_cleanly
def fit(pipeline: Optional[str] = typer.Argument(
            None, help="A pipeline: YAML file, folder with pipeline.yaml, or a name under "
                       "./pipelines/ (not needed with --resume or --from-run)."),
        overrides: Optional[List[str]] = SET,
        resume: Optional[str] = typer.Option(
            None, "--resume", metavar="RUN_ID",
            help="Continue this run from its last checkpoint, into the same MLflow run."),
        from_run: Optional[str] = typer.Option(
            None, "--from-run", metavar="RUN_ID",
            help="Replay this run's recorded config as a new run (with any --set)."),
        register: Optional[str] = typer.Option(
            None, "--register", metavar="NAME",
            help="Register the best checkpoint in MLflow's model registry under NAME."),
        init_from: Optional[Path] = typer.Option(
            None, "--init-from", metavar="FILE",
            help="Start from these weights (a biodl checkpoint or a state_dict, e.g. "
                 "torchvision's), with a new head."),
        freeze_backbone: bool = typer.Option(
            False, "--freeze-backbone", help="Train only the output layers.")) -> None:
    """Train a pipeline, test its best checkpoint, record everything in MLflow."""
    overrides = list(overrides or [])
    if init_from:
        overrides.append(f"finetune.init_from={init_from.resolve()}")
    if freeze_backbone:
        overrides.append("finetune.freeze_backbone=true")
    resume, from_run = run_id_of(resume), run_id_of(from_run)
    cfg = _fit_config(pipeline, overrides, resume or from_run)
    _writable_for(cfg)
    from biodl.train import fit as run_fit  # after the config is known to be valid

    result = run_fit(cfg, echo=typer.echo, resume=resume, register=register)
    if result.run_id is None:  # a DDP worker process: rank 0 reports
        return
    typer.echo("test metrics (best checkpoint):")
    print_metrics(result.test_metrics)
    typer.echo(f"best checkpoint: {result.best_checkpoint}")
    typer.echo(f"mlflow run id: {result.run_id}   ({result.seconds:.0f} s; see it with `biodl ui`)")


def _fit_config(pipeline: Optional[str], overrides: list[str], run_id: Optional[str]):
    from biodl.config import config_from_yaml, load_config

    if run_id and pipeline:
        raise BiodlError("give a pipeline or --resume/--from-run RUN_ID, not both")
    if run_id:
        from biodl.tracking import run_config

        cfg = config_from_yaml(run_config(run_id), overrides, f"run {run_id} config.yaml")
    elif not pipeline:
        raise BiodlError("give a pipeline to fit, e.g. `biodl fit pipelines/ecoli_promoters`")
    else:
        cfg = load_config(pipeline, overrides)
    if run_id or not cfg.tracking.run_name:  # a name set in the config or by --set wins
        from biodl.runs import run_name  # a replay adds its overrides to the recorded name

        cfg.tracking.run_name = run_name(cfg.tracking.run_name or cfg.name, overrides)
    return cfg


def _writable_for(cfg) -> None:
    from biodl.tracking import check_writable, tracking_uri

    check_writable(tracking_uri(cfg.tracking.uri), Path(cfg.callbacks.checkpoint.dir))


@app.command()
@fails_cleanly
def test(sources: List[str] = SOURCES, overrides: Optional[List[str]] = SET) -> None:
    """Metrics of a trained model on its pipeline's test split (or other data via --set);
    several models (or a `biodl cv` run) are scored by their mean prediction."""
    _evaluate(sources, overrides or [], "test")


@app.command()
@fails_cleanly
def validate(source: str = SOURCE, overrides: Optional[List[str]] = SET) -> None:
    """Metrics of a trained model on its pipeline's validation split."""
    _evaluate([source], overrides or [], "val")


def _evaluate(sources: list[str], overrides: list[str], split: str) -> None:
    from biodl.train import evaluate

    checkpoints = checkpoints_of(sources)
    configs = [_recorded_config(path, overrides) for path in checkpoints]
    if len(checkpoints) == 1:
        print_metrics(evaluate(configs[0], checkpoints[0], split))
        return
    from biodl.selection.evaluate import check_unseen, evaluate_ensemble

    check_unseen(configs[0], [_recorded_config(path, []) for path in checkpoints])
    typer.echo(f"mean of {len(checkpoints)} models:")
    print_metrics(evaluate_ensemble(configs[0], checkpoints, split))


def _recorded_config(checkpoint: Path, overrides: list[str]):
    import torch

    from biodl.config import config_from_yaml

    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True).get("biodl_config")
    if recorded is None:
        raise BiodlError(f"{checkpoint}: holds no biodl config (written before biodl 0.1?); "
                         "give the run id instead")
    return config_from_yaml(recorded, overrides, f"{checkpoint} config")
