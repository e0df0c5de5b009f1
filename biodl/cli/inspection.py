"""Commands that look without training: runs, config, check-data, models, ui."""

from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

import typer

from biodl.cli.app import PIPELINE, SET, app, config_app, fails_cleanly
from biodl.errors import BiodlError


@app.command()
@fails_cleanly
def runs(experiment: str = typer.Argument(..., help="An MLflow experiment, or a pipeline (its "
                                                    "tracking.experiment)."),
         sort: Optional[str] = typer.Option(None, help="Sort by this metric, e.g. test/auroc "
                                                       "(losses ascending, others descending)."),
         metric: Optional[List[str]] = typer.Option(None, "--metric", "-m",
                                                    help="Show only these metrics."),
         as_csv: bool = typer.Option(False, "--csv", help="Print CSV.")) -> None:
    """Compare the runs of an experiment: the params that differ and the final metrics."""
    from biodl.runs import as_csv as to_csv
    from biodl.runs import as_text, comparison
    from biodl.tracking import list_runs

    header, rows = comparison(list_runs(_experiment_of(experiment)), sort, metric or None)
    typer.echo(to_csv(header, rows) if as_csv else as_text(header, rows), nl=not as_csv)


def _experiment_of(name: str) -> str:
    """A pipeline's experiment when `name` is a pipeline, else `name` itself."""
    from biodl.config import find_pipeline, load_config

    try:
        find_pipeline(name)
    except BiodlError:
        return name
    return load_config(name).tracking.experiment


@config_app.command("show")
@fails_cleanly
def config_show(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET) -> None:
    """Print the resolved config (defaults, composed files and overrides applied) as YAML."""
    from biodl.config import dump_yaml, load_config

    typer.echo(dump_yaml(load_config(pipeline, overrides or [])), nl=False)


@config_app.command("validate")
@fails_cleanly
def config_validate(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET) -> None:
    """Check a config, the model's arguments included, without reading data or training."""
    from biodl.config import load_config
    from biodl.models import check_model_kwargs

    cfg = load_config(pipeline, overrides or [])
    check_model_kwargs(cfg.model.name, cfg.model.kwargs)
    typer.echo(f"{pipeline}: config is valid")


@app.command("check-data")
@fails_cleanly
def check_data(pipeline: str = PIPELINE, overrides: Optional[List[str]] = SET,
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Read and check a pipeline's data without training: counts, lengths, N content,
    duplicates across splits."""
    import warnings

    from biodl.config import load_config
    from biodl.data.formats import build_datamodule
    from biodl.data.report import format_report

    cfg = load_config(pipeline, overrides or [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states duplicates itself
        datamodule = build_datamodule(cfg.data)
        datamodule.setup("fit")
    report = datamodule.report()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for line in format_report(report):
        typer.echo(line)


@app.command()
@fails_cleanly
def models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the registered models with their parameter counts at default settings."""
    import torch

    from biodl.models import MODELS, build_model, count_parameters

    with torch.device("meta"):  # shapes only: VGG-19's 143M weights need no memory or init
        rows = [{"name": name, "params": count_parameters(build_model(name))} for name in MODELS]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['name']:<16} {row['params']:>12,}")


@app.command()
def ui(port: int = typer.Option(5000, help="Port to serve on."),
       uri: Optional[str] = typer.Option(None, help="Tracking store (default: as `biodl fit`).")) -> None:
    """Serve the MLflow UI on biodl's tracking store."""
    from biodl.tracking import tracking_uri, ui_address

    store = tracking_uri(uri)
    typer.echo(f"MLflow UI for {store} at http://127.0.0.1:{port}")
    for line in ui_address(port, store):  # each experiment's runs, with their metric columns
        typer.echo(f"  {line}")
    mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
    os.execv(mlflow, [mlflow, "ui", "--backend-store-uri", store, "--port", str(port)])
