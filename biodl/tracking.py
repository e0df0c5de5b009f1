"""The one place MLflow is configured: where runs go and what each run records.

Runs go to `tracking.uri` if the config names one, else `$MLFLOW_TRACKING_URI`, else an
embedded SQLite store `mlruns.db` in the working folder, so `mlflow ui` and a remote server
(`MLFLOW_TRACKING_URI=http://host:5000`) work with no code change. Commands that only read
(`runs`, `test`, `predict`, ...) never create a store: `read_client` refuses a missing one.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import traceback
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import biodl
from biodl.config.binding import closest
from biodl.config.schema import TrackingConfig
from biodl.errors import BiodlError

if TYPE_CHECKING:  # Lightning costs seconds to import: only `make_logger` needs it
    from mlflow.tracking import MlflowClient
    from pytorch_lightning.loggers import MLFlowLogger

DEFAULT_STORE = "mlruns.db"
# MLflow 3 tells model-training experiments from GenAI ones by this experiment tag; its UI
# opens a `custom_model_development` experiment on its runs table, not on traces.
KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
# ... and shows metric columns only when a view selects them: each fit adds its metrics to a
# view stored as an experiment tag, which the UI loads for `...?viewStateShareKey=biodl`.
VIEW_KEY = "biodl"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
VIEW_COLUMNS = ["attributes.`Source`", "attributes.`Models`"]  # the UI's own defaults
VIEW_MAX_CHARS = 5000  # what an experiment tag holds on every store
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


def make_logger(cfg: TrackingConfig, run_id: str | None = None) -> MLFlowLogger:
    """A logger for a new run, or for continuing run `run_id` (then marked RUNNING again).
    A new run is named `cfg.run_name` (else the experiment's name), with ` #2`, ` #3`, ...
    when the experiment already holds a run of that name."""
    from mlflow.tracking import MlflowClient
    from pytorch_lightning.loggers import MLFlowLogger

    _quiet_mlflow()
    uri = tracking_uri(cfg.uri)
    check_reachable(uri)
    check_writable(uri)
    with store_lock(uri):  # parallel fits (`make -j sweep`) must not race on migrations or names
        client = MlflowClient(uri)
        experiment_id = prepare_experiment(client, uri, cfg.experiment)
        name = None if run_id else unique_run_name(client, experiment_id,
                                                   cfg.run_name or cfg.experiment)
        logger = MLFlowLogger(experiment_name=cfg.experiment, run_name=name,
                              tracking_uri=uri, tags=dict(cfg.tags), run_id=run_id,
                              artifact_location=artifact_location(uri, cfg.experiment))
        logger.run_id  # creates the run (on rank 0) while the name is still free
    if run_id:
        logger.experiment.update_run(run_id, status="RUNNING")
    return logger


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


def log_model(logger: MLFlowLogger, checkpoint: Path, kind: str, output_header: list[str],
              register: str | None = None, input_spec: dict | None = None) -> str | None:
    """Log the best checkpoint as an MLflow pyfunc model with its signature (input columns ->
    output columns) and, with `register`, register it; returns the new version or None."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from biodl.pyfunc import IMAGE_EXAMPLE, SEQUENCE_EXAMPLE, BiodlModel

    example = IMAGE_EXAMPLE if kind == "images" else SEQUENCE_EXAMPLE
    output = pd.DataFrame([[("x" if c in ("id", "predicted") else 0.5) for c in output_header]],
                          columns=output_header)
    mlflow.set_tracking_uri(logger._tracking_uri)
    with mlflow.start_run(run_id=logger.run_id):
        info = mlflow.pyfunc.log_model(name="model", python_model=BiodlModel(),
                                       artifacts={"checkpoint": str(checkpoint)},
                                       signature=infer_signature(example, output),
                                       pip_requirements=["biodl"],
                                       metadata={"input_spec": input_spec or {}})
    if not register:
        return None
    return str(mlflow.register_model(info.model_uri, register).version)


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


def record_run_start(logger: MLFlowLogger, params: dict[str, Any], config_yaml: str,
                     data_files: list[Path]) -> None:
    """Params, version and provenance tags, data hashes and the resolved config."""
    logger.log_hyperparams(params)
    tags = {**version_tags(), **{f"data.sha256.{p.name}": file_sha256(p) for p in data_files}}
    client, run_id = logger.experiment, logger.run_id
    for key, value in tags.items():
        client.set_tag(run_id, key, value)
    client.log_text(run_id, config_yaml, "config.yaml")


@contextmanager
def run_outcome(logger: MLFlowLogger) -> Iterator[None]:
    """End the run FINISHED, KILLED (Ctrl-C) or FAILED with the error saved as `error.txt`."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit):  # Lightning turns Ctrl-C into SystemExit(1)
        end_run(logger, "KILLED")
        raise KeyboardInterrupt from None
    except Exception as error:
        try:
            end_run(logger, "FAILED", traceback.format_exc(), f"{type(error).__name__}: {error}")
        except Exception as recording:  # e.g. the full disk holds the store too
            if not disk_full(recording):
                logging.getLogger("biodl").warning("could not record run %s as FAILED: %s",
                                                   logger.run_id, str(recording).splitlines()[0])
        if disk_full(error):
            raise BiodlError(f"no space left for the MLflow store {logger._tracking_uri} of run "
                             f"{logger.run_id}; free space there, then `biodl fit --resume "
                             f"{logger.run_id}`") from None
        raise
    else:
        end_run(logger, "FINISHED")


def disk_full(error: BaseException) -> bool:
    """A full disk under a local SQLite store (MLflow wraps sqlite's error) or a file."""
    return (getattr(error, "errno", None) == errno.ENOSPC
            or "database or disk is full" in str(error))


def end_run(logger: MLFlowLogger, status: str, details: str = "", summary: str = "") -> None:
    """The status first, then the error's text (an artifact: a full disk may refuse it)."""
    client, run_id = logger.experiment, logger.run_id
    if summary:
        client.set_tag(run_id, "biodl.error", summary[:5000])
    client.set_terminated(run_id, status)
    if details:
        client.log_text(run_id, details, "error.txt")
    if status == "FINISHED":
        add_to_view(client, client.get_run(run_id))


def add_to_view(client: MlflowClient, run) -> None:
    """Add the run's val/ and test/ metrics to the experiment's `biodl` view of the UI."""
    import json

    from biodl.runs import shown_metrics

    experiment = client.get_experiment(run.info.experiment_id)
    try:
        view = json.loads(experiment.tags.get(VIEW_TAG, "{}"))
    except json.JSONDecodeError:
        view = {}
    metrics = [c for c in view.get("selectedColumns", []) if c.startswith("metrics.")]
    metrics += [f"metrics.`{name}`" for name in shown_metrics(run.data.metrics)]
    columns = [*VIEW_COLUMNS, *sorted(set(metrics))]
    view = {**view, "selectedColumns": columns}
    while len(json.dumps(view)) > VIEW_MAX_CHARS and len(view["selectedColumns"]) > 2:
        view["selectedColumns"].pop()
    client.set_experiment_tag(experiment.experiment_id, VIEW_TAG, json.dumps(view))


def ui_address(port: int, uri: str | None = None) -> list[str]:
    """`name: URL` for each biodl experiment of the store, opening its runs with the metrics."""
    store = tracking_uri(uri)
    database = local_database(store)
    if database is not None and not has_store(database):
        return []
    return [f"{e.name}: http://127.0.0.1:{port}/#/experiments/{e.experiment_id}/runs"
            f"?workflowType=machine_learning&viewStateShareKey={VIEW_KEY}"
            for e in read_client(store).search_experiments() if VIEW_TAG in e.tags]


def log_artifact(logger: MLFlowLogger, path: Path, folder: str) -> None:
    logger.experiment.log_artifact(logger.run_id, str(path), folder)


def log_artifacts(logger: MLFlowLogger, folder: Path, destination: str) -> None:
    logger.experiment.log_artifacts(logger.run_id, str(folder), destination)


def metric_history(logger: MLFlowLogger) -> dict[str, list[tuple[int, int, float]]]:
    """Every metric of the run, `epoch` included, as (step, timestamp ms, value) records in
    step order: Lightning logs `epoch` with the same step and timestamp as each metric."""
    client, run_id = logger.experiment, logger.run_id
    names = client.get_run(run_id).data.metrics
    return {name: sorted((m.step, m.timestamp, m.value)
                         for m in client.get_metric_history(run_id, name))
            for name in names}


def version_tags() -> dict[str, str]:
    import pytorch_lightning
    import torch

    tags = {"biodl.version": biodl.__version__, "torch.version": torch.__version__,
            "lightning.version": pytorch_lightning.__version__,
            "python.version": sys.version.split()[0],
            "biodl.command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
    commit = git_commit(Path.cwd())
    if commit:
        tags["git.commit"] = commit
    return tags


def git_commit(folder: Path) -> str | None:
    """The commit of the git checkout holding `folder` (`+dirty` if changed), or None."""
    try:
        head = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file; of a folder, over its files' relative paths and contents, in order."""
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(member.relative_to(path)).encode() + b"\0")
            digest.update(file_sha256(member).encode())
        return digest.hexdigest()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quiet_mlflow() -> None:
    """MLflow's store migrations and Lightning's 'creating experiment' notes are noise here."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent",
                 "pytorch_lightning.loggers.mlflow", "lightning.pytorch.loggers.mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # its store errors (a full disk) are logged with the traceback, then raised: raised is enough
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
