"""Commands that select models: cv (k-fold cross-validation) and tune (Optuna search)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from biodl.cli.app import PIPELINE, SET, app, fails_cleanly, print_metrics


def _config(pipeline: str, overrides: list[str]):
    from biodl.config import load_config
    from biodl.runs import run_name

    cfg = load_config(pipeline, overrides)
    if not cfg.tracking.run_name:
        cfg.tracking.run_name = run_name(cfg.name, overrides)
    return cfg


@app.command()
@fails_cleanly
def cv(pipeline: str = PIPELINE,
       folds: int = typer.Option(5, "--folds", "-k", help="Folds: each example is tested once."),
       overrides: Optional[List[str]] = SET) -> None:
    """k-fold cross-validation: stratified folds (whole groups where the data has contigs),
    each fold a nested MLflow run; the parent holds mean and sd of every test metric, the
    pooled out-of-fold predictions, and the fold models as an ensemble (its run id works in
    `biodl predict` and `biodl test`)."""
    from biodl.selection.cv import cross_validate

    result = cross_validate(_config(pipeline, list(overrides or [])), folds, echo=typer.echo)
    typer.echo(f"test metrics over {folds} folds (mean, sd):")
    means = {k: v for k, v in result.summary.items() if not k.endswith("_sd")}
    for name, mean in sorted(means.items()):
        typer.echo(f"  {name:<14} {mean:.4f} +- {result.summary[name + '_sd']:.4f}")
    typer.echo(f"{result.oof_rows} out-of-fold predictions: evaluation/{'oof_predictions.csv'}")
    typer.echo(f"fold runs: {' '.join(result.fold_runs)}")
    typer.echo(f"mlflow run id: {result.run_id}   (the parent; `biodl predict "
               f"{result.run_id[:8]} FILE` applies the {folds} fold models)")


@app.command()
@fails_cleanly
def tune(pipeline: str = PIPELINE,
         trials: int = typer.Option(..., "--trials", "-n",
                                    help="Finished (complete or pruned) trials the study needs; "
                                         "a resumed or parallel study counts all of its own."),
         space: Optional[Path] = typer.Option(
             None, "--space", help="Search space YAML (default: space.yaml beside the "
                                   "pipeline)."),
         storage: Optional[str] = typer.Option(
             None, "--storage", help="Optuna storage URL shared by parallel workers (default: "
                                     "sqlite optuna.db beside the MLflow store)."),
         study: Optional[str] = typer.Option(None, "--study", help="Study name (default: the "
                                                                   "pipeline's name)."),
         timeout: Optional[float] = typer.Option(None, "--timeout", help="Stop starting trials "
                                                                         "after T seconds."),
         pruner: str = typer.Option("median", "--pruner", help="median, halving or none."),
         seed: Optional[int] = typer.Option(
             None, "--seed", help="Seed the sampler: trial k's draws depend on the seed, k "
                                  "and the finished trials (default: unseeded)."),
         out: Optional[Path] = typer.Option(None, "--out", "-o",
                                            help="Best config as a pipeline YAML (default: "
                                                 "best_<study>.yaml beside the pipeline)."),
         overrides: Optional[List[str]] = SET) -> None:
    """Optuna search (TPE) over a YAML search space: one parent MLflow run, one nested run per
    trial; pruned trials stop early on the monitored validation metric; resumes after a kill
    and shares its storage with parallel workers; writes the best config as a pipeline."""
    from biodl.selection.tune import TuneRequest, run_study

    request = TuneRequest(pipeline, list(overrides or []), trials, space, storage, study,
                          timeout, pruner, out, seed)
    result = run_study(request, echo=typer.echo)
    typer.echo(f"{result.finished} finished trials ({result.pruned} pruned, "
               f"{result.epochs} training epochs in all)")
    typer.echo(f"best trial {result.best_number}: {result.monitor} = {result.best_value:.4f}")
    for key, value in result.best_params.items():
        typer.echo(f"  {key} = {value}")
    if result.best_test:
        typer.echo("its test metrics:")
        print_metrics(result.best_test)
    typer.echo(f"best config: {result.best_yaml}   (`biodl fit {result.best_yaml}`)")
    typer.echo(f"mlflow run id: {result.run_id}   (the study's parent run)")
