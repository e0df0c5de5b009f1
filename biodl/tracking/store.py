"""Where runs go and how they are found: the store (an embedded SQLite file by default, or
`$MLFLOW_TRACKING_URI`), experiments, run ids and their prefixes, checkpoints and configs of
recorded runs. Commands that only read never create a store: `read_client` refuses a missing
one."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from biodl.config.binding import closest
from biodl.errors import BiodlError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

DEFAULT_STORE = "mlruns.db"
# MLflow 3 tells model-training experiments from GenAI ones by this experiment tag; its UI
# opens a `custom_model_development` experiment on its runs table, not on traces.
KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
RUN_ID = re.compile(r"[0-9a-f]{32}")
MIN_PREFIX = 6


def tracking_uri(configured: str | None = None) -> str:
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{Path.cwd() / DEFAULT_STORE}"


def local_database(uri: str) -> Path | None:
    """The file of a local SQLite store, None for a server or another store."""
    return Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None


def store_lock(uri: str):
    """An exclusive file lock beside a local SQLite store; no lock for a server."""
    database = local_database(uri)
    if database is None:
        return nullcontext()
    database.parent.mkdir(parents=True, exist_ok=True)
    return _file_lock(Path(f"{database}.lock"))


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def prepare_experiment(client: MlflowClient, uri: str, name: str) -> str:
    """The experiment's id, creating it as a training experiment, or tagging one created
    before biodl set the kind (so the MLflow 3 UI opens it on its runs)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return client.create_experiment(name, artifact_location(uri, name),
                                            tags={KIND_TAG: TRAINING_KIND})
        except MlflowException:  # another fit on the same server created it first
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if KIND_TAG not in found.tags:
        client.set_experiment_tag(found.experiment_id, KIND_TAG, TRAINING_KIND)
    return found.experiment_id


def unique_run_name(client: MlflowClient, experiment_id: str, name: str) -> str:
    """`name`, or `name #N` with the smallest N >= 2 that no run of the experiment has."""
    prefix = re.split(r"['\"\\]", name)[0]  # the filter's quoting: match on the part before
    query = f"attributes.run_name LIKE '{prefix}%'" if prefix else ""
    taken = {run.info.run_name for run in _all_runs(client, [experiment_id], query)}
    number = 2
    candidate = name
    while candidate in taken:
        candidate = f"{name} #{number}"
        number += 1
    return candidate


def _all_runs(client: MlflowClient, experiment_ids: list[str], query: str) -> list:
    runs, token = [], None
    while True:
        page = client.search_runs(experiment_ids, query, max_results=5000, page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            return runs


def read_client(uri: str | None = None) -> MlflowClient:
    """A client for a command that only reads: it never creates a store (a missing local
    store is an error naming the folder and MLFLOW_TRACKING_URI, not a new empty file)."""
    from mlflow.tracking import MlflowClient

    _quiet_mlflow()
    store = tracking_uri(uri)
    check_reachable(store)
    database = local_database(store)
    if database is not None and not has_store(database):
        raise BiodlError(f"no MLflow runs in {database.parent}: {database.name} does not exist "
                         "there; run from the folder where `biodl fit` ran, or set "
                         "MLFLOW_TRACKING_URI to the store (e.g. sqlite:////path/mlruns.db)")
    return MlflowClient(store)


def has_store(database: Path) -> bool:
    """False for a missing SQLite file and for the empty one older biodl versions left."""
    return database.is_file() and database.stat().st_size > 0


def resolve_run_id(text: str, uri: str | None = None, other: str = "") -> str:
    """The full id of the run whose id is `text` or starts with it (>= 6 characters, unique
    in the store); `other` names what else `text` could have been, for the error."""
    text = text.strip().lower()
    if RUN_ID.fullmatch(text):
        return text
    if len(text) < MIN_PREFIX or not re.fullmatch(r"[0-9a-f]+", text):
        raise BiodlError(f"'{text}': not {other}a run id (the 32 characters `biodl runs` "
                         f"prints, or a unique prefix of at least {MIN_PREFIX})")
    from mlflow.entities import ViewType

    client = read_client(uri)
    experiments = [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)]
    found = sorted(run.info.run_id for run in
                   _all_runs(client, experiments, f"attributes.run_id LIKE '{text}%'"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise BiodlError(f"run id '{text}': no run in {tracking_uri(uri)} starts with it; "
                         "`biodl runs EXPERIMENT` lists the runs, or check MLFLOW_TRACKING_URI")
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    raise BiodlError(f"run id '{text}' is ambiguous: {shown}; give more characters")


def check_writable(uri: str, *folders: Path) -> None:
    """Fail in a moment, not after minutes of SQLite retries, when a local store's folder or
    another folder a fit writes (checkpoints) cannot be written."""
    database = local_database(uri)
    for folder in [*([database.parent] if database else []), *folders]:
        existing = Path(folder).absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not _can_write(existing):
            raise BiodlError(
                f"folder {existing} is read-only: `biodl fit` writes its MLflow store "
                f"({DEFAULT_STORE}) and checkpoints (biodl_runs/) there; run from a writable "
                "folder, or set MLFLOW_TRACKING_URI and callbacks.checkpoint.dir to writable "
                "places")


def _can_write(folder: Path) -> bool:
    """os.access alone is not enough: root passes it on a chmod'ed folder, and a network or
    read-only mount can refuse what it allows; so also write (and remove) a real file."""
    if not os.access(folder, os.W_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_reachable(uri: str, timeout: float = 5.0) -> None:
    """Fail in seconds, before any training, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as answer:
            if answer.status == 200:
                return
            reason = f"HTTP {answer.status}"
    except (urllib.error.URLError, OSError) as error:
        reason = str(getattr(error, "reason", error))
    raise BiodlError(f"MLflow tracking server {uri} does not answer ({reason}); start it, fix "
                     "MLFLOW_TRACKING_URI or tracking.uri, or unset them to record locally")


def fetch_checkpoint(source: str, uri: str | None = None) -> Path:
    """A local checkpoint for a run id or `models:/NAME/VERSION` (downloaded once, cached)."""
    from mlflow.exceptions import MlflowException

    store = tracking_uri(uri)
    client = read_client(store)
    try:
        if source.startswith("models:/"):
            name, _, version = source[len("models:/"):].partition("/")
            run_id = client.get_model_version(name, version).run_id
        else:
            run_id = client.get_run(source).info.run_id
        folder = cache_folder() / "runs" / run_id
        target = folder / "checkpoints" / "best.ckpt"
        if not target.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            return Path(client.download_artifacts(run_id, "checkpoints/best.ckpt", str(folder)))
        return target
    except (MlflowException, OSError) as error:
        raise BiodlError(f"{source}: no checkpoint found in {store} "
                         f"({str(error).splitlines()[0]}); give a .ckpt path, a run id or "
                         "models:/NAME/VERSION") from None


def list_runs(experiment: str, uri: str | None = None) -> list[dict]:
    """The runs of an experiment, newest first: id, name, status, params, final metrics."""
    store = tracking_uri(uri)
    client = read_client(store)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        names = [e.name for e in client.search_experiments()]
        raise BiodlError(f"experiment '{experiment}' not found in {store}"
                         f"{closest(experiment, names, 'experiments')}")
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"],
                              max_results=5000)
    return [{"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
             "params": dict(r.data.params), "metrics": dict(r.data.metrics)} for r in runs]


def cache_folder() -> Path:
    return Path(os.environ.get("BIODL_CACHE", Path.home() / ".cache" / "biodl"))


def run_config(run_id: str, uri: str | None = None) -> str:
    """The resolved config YAML a run recorded, for --resume and --from-run."""
    from mlflow.exceptions import MlflowException

    store = tracking_uri(uri)
    client = read_client(store)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = client.download_artifacts(run_id, "config.yaml", folder)
            return Path(path).read_text()
    except (MlflowException, OSError) as error:
        raise BiodlError(f"run {run_id}: not found in {store} or it has no config.yaml "
                         f"({str(error).splitlines()[0]}); check the run id and "
                         "MLFLOW_TRACKING_URI") from None


def artifact_location(uri: str, experiment: str) -> str | None:
    """For a local SQLite store, artifacts of a new experiment live beside the database
    (`<folder>/mlruns/<experiment>`), wherever the command is run from; a server decides its own."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri[len("sqlite:///"):])
    return str(database.parent / "mlruns" / experiment)


def _quiet_mlflow() -> None:
    """MLflow's store migrations and Lightning's 'creating experiment' notes are noise here."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent",
                 "pytorch_lightning.loggers.mlflow", "lightning.pytorch.loggers.mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # its store errors (a full disk) are logged with the traceback, then raised: raised is enough
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)


def attach_artifact(run_id: str, path: Path, folder: str, uri: str | None = None) -> str:
    """Log a file to an existing (finished) run under `folder`, e.g. an inference result;
    the artifact path it gets."""
    from mlflow.exceptions import MlflowException

    try:
        read_client(uri).log_artifact(run_id, str(path), folder)
    except (MlflowException, OSError) as error:
        raise BiodlError(f"run {run_id}: could not log {path.name} ({str(error).splitlines()[0]})"
                         "; the file is written, log it by hand or check MLFLOW_TRACKING_URI") \
            from None
    return f"{folder}/{path.name}"
