"""Where `biodl explain` and `biodl motifs` write: a local folder and a new folder of the
run's artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from biodl.errors import BiodlError


def destinations(source: str, stem: str, output: Optional[Path],
                 force: bool) -> tuple[Optional[str], Path, Optional[str]]:
    """(run id or None, local folder, artefact folder in the run): never over what exists."""
    from biodl.tracking.artifacts import free_folder, run_of_source

    run_id = run_of_source(source)
    destination = free_folder(run_id, "interpretation", stem.replace("_", "-")) if run_id else None
    name = destination.split("/")[-1] if destination else f"{stem.replace('_', '-')}-1"
    folder = Path(output) if output is not None else Path("interpretation") / name
    if folder.exists() and any(folder.iterdir()) and not force:
        raise BiodlError(f"{folder}: already exists and is not empty; choose another --output "
                         "or pass --force")
    return run_id, folder, destination


def log_run(run_id: Optional[str], folder: Path, destination: Optional[str]) -> None:
    if run_id is None:
        typer.echo("not logged to MLflow: the checkpoint belongs to no run of this store")
        return
    from biodl.tracking.artifacts import log_folder

    used = log_folder(run_id, folder, destination)
    if used != destination:
        typer.echo(f"{destination} was taken meanwhile (another command of this run)")
    typer.echo(f"logged to run {run_id} under {used}/")
