"""Adding artefacts to a finished run (e.g. `biodl explain`'s), never over existing ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from biodl.tracking.store import RUN_ID, read_client, tracking_uri


def run_of_source(source: str, uri: str | None = None) -> Optional[str]:
    """The run a model source belongs to: a run id (or prefix), `models:/NAME/VERSION`, or a
    checkpoint under `<checkpoint dir>/<run id>/` that the store holds; None otherwise."""
    from mlflow.exceptions import MlflowException

    if source.startswith("models:/"):
        name, _, version = source[len("models:/"):].partition("/")
        return read_client(uri).get_model_version(name, version).run_id
    path = Path(source)
    if not path.is_file():
        from biodl.tracking.store import resolve_run_id

        return resolve_run_id(source, uri)
    folder = path.resolve().parent.name
    if not RUN_ID.fullmatch(folder):
        return None
    try:
        return read_client(uri).get_run(folder).info.run_id
    except Exception as error:  # no store or no such run: the checkpoint stands alone
        if isinstance(error, (MlflowException, ValueError, OSError)):
            return None
        raise


def free_folder(run_id: str, parent: str, stem: str, uri: str | None = None) -> str:
    """`parent/stem-N` with the first N >= 1 that the run does not hold yet."""
    client = read_client(uri)
    taken = {Path(info.path).name for info in client.list_artifacts(run_id, parent)}
    numbers = [int(m.group(1)) for name in taken
               if (m := re.fullmatch(re.escape(stem) + r"-(\d+)", name))]
    return f"{parent}/{stem}-{max(numbers, default=0) + 1}"


def log_folder(run_id: str, folder: Path, destination: str, uri: str | None = None) -> str:
    """Copy a local folder into the run's artefacts at `destination` (`parent/stem-N`), or at
    the next free `stem-N` if another command took that one meanwhile (two `explain`s of one
    run at once); the destination used. The check and the copy hold the store's lock."""
    from biodl.tracking.store import store_lock

    parent, name = destination.rsplit("/", 1)
    stem = name.rsplit("-", 1)[0]
    with store_lock(tracking_uri(uri)):
        client = read_client(uri)
        taken = {Path(info.path).name for info in client.list_artifacts(run_id, parent)}
        if name in taken:
            destination = free_folder(run_id, parent, stem, uri)
        client.log_artifacts(run_id, str(folder), destination)
    return destination
