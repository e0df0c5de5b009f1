"""What each run records: the logger, params, config, tags, artifacts, the model, and how it
ends (FINISHED, FAILED with the error, KILLED)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import subprocess
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import biodl
from biodl.config.schema import TrackingConfig
from biodl.errors import BiodlError
from biodl.tracking.store import (_quiet_mlflow, artifact_location, check_reachable,
                                  check_writable, prepare_experiment, store_lock, tracking_uri,
                                  unique_run_name)
from biodl.tracking.views import add_to_view

if TYPE_CHECKING:  # Lightning costs seconds to import: only `make_logger` needs it
    from pytorch_lightning.loggers import MLFlowLogger


def make_logger(cfg: TrackingConfig, run_id: str | None = None,
                parent: str | None = None) -> MLFlowLogger:
    """A logger for a new run, or for continuing run `run_id` (then marked RUNNING again).
    A new run is named `cfg.run_name` (else the experiment's name), with ` #2`, ` #3`, ...
    when the experiment already holds a run of that name; `parent`: the run it nests under
    (a `biodl cv` fold, a `biodl tune` trial)."""
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
                              tracking_uri=uri, tags={**cfg.tags, **parent_tag(parent)},
                              run_id=run_id,
                              artifact_location=artifact_location(uri, cfg.experiment))
        logger.run_id  # creates the run (on rank 0) while the name is still free
    if run_id:
        logger.experiment.update_run(run_id, status="RUNNING")
    return logger


def parent_tag(parent: str | None) -> dict[str, str]:
    """MLflow's own tag for a nested run (the UI shows it under its parent)."""
    return {"mlflow.parentRunId": parent} if parent else {}


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


def set_tags(logger: MLFlowLogger, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        logger.experiment.set_tag(logger.run_id, key, value)


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


def log_model(logger: MLFlowLogger, checkpoint: Path, kind: str, output_header: list[str],
              register: str | None = None, input_spec: dict | None = None) -> str | None:
    """Log the best checkpoint as an MLflow pyfunc model with its signature (input columns ->
    output columns) and, with `register`, register it; returns the new version or None."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from biodl.pyfunc import IMAGE_EXAMPLE, SEQUENCE_EXAMPLE

    example = IMAGE_EXAMPLE if kind == "images" else SEQUENCE_EXAMPLE
    output = pd.DataFrame([[("x" if c in ("id", "predicted") else 0.5) for c in output_header]],
                          columns=output_header)
    code = Path(biodl.__file__).with_name("pyfunc_code.py")  # models-from-code: no pickle
    mlflow.set_tracking_uri(logger._tracking_uri)
    with mlflow.start_run(run_id=logger.run_id):
        info = mlflow.pyfunc.log_model(name="model", python_model=str(code),
                                       artifacts={"checkpoint": str(checkpoint)},
                                       signature=infer_signature(example, output),
                                       pip_requirements=["biodl"],
                                       metadata={"input_spec": input_spec or {}})
    if not register:
        return None
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        version = mlflow.register_model(info.model_uri, register).version  # biodl says it
    return str(version)


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
