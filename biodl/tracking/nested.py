"""Parent runs that hold nested runs: a `biodl cv` run over its folds, a `biodl tune` study
over its trials. A nested run carries MLflow's `mlflow.parentRunId` tag (set by
`make_logger(parent=...)`); the parent records the summary (mean and sd of the folds' test
metrics, the best trial) and, for cv, the fold runs that form its ensemble (`ENSEMBLE_TAG`)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from biodl.config.schema import TrackingConfig
from biodl.errors import BiodlError
from biodl.tracking.store import (_quiet_mlflow, check_reachable, check_writable,
                                  prepare_experiment, read_client, store_lock, tracking_uri,
                                  unique_run_name)

KIND = "biodl.kind"  # cv or tune on a parent run
ENSEMBLE_TAG = "biodl.ensemble"  # comma-separated run ids of the models a parent stands for


@dataclass
class ParentRun:
    uri: str
    run_id: str

    @property
    def client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(self.uri)

    def log(self, metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None,
            params: dict[str, Any] | None = None) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            self.run_id, metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()])

    def log_file(self, path: Path, folder: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), folder)

    def log_text(self, text: str, name: str) -> None:
        self.client.log_text(self.run_id, text, name)


def open_parent(cfg: TrackingConfig, name: str, kind: str, run_id: str | None = None) -> ParentRun:
    """A new parent run named `name` (made unique) tagged `biodl.kind=kind`, or the existing
    `run_id` marked RUNNING again (a resumed study)."""
    from mlflow.tracking import MlflowClient

    from biodl.tracking.run import version_tags

    _quiet_mlflow()
    uri = tracking_uri(cfg.uri)
    check_reachable(uri)
    check_writable(uri)
    with store_lock(uri):  # a client of a new SQLite store migrates it: one process at a time
        client = MlflowClient(uri)
        if run_id:
            client.update_run(run_id, status="RUNNING")
            return ParentRun(uri, run_id)
        experiment_id = prepare_experiment(client, uri, cfg.experiment)
        run_name = unique_run_name(client, experiment_id, name)
        run = client.create_run(experiment_id, run_name=run_name,
                                tags={**cfg.tags, **version_tags(), KIND: kind})
    return ParentRun(uri, run.info.run_id)


@contextmanager
def parent_outcome(parent: ParentRun) -> Iterator[ParentRun]:
    """End the parent FINISHED, KILLED (Ctrl-C) or FAILED with the error as a tag."""
    try:
        yield parent
    except (KeyboardInterrupt, SystemExit):
        parent.client.set_terminated(parent.run_id, "KILLED")
        raise
    except Exception as error:
        summary = f"{type(error).__name__}: {error}"[:5000]
        parent.client.set_tag(parent.run_id, "biodl.error", summary)
        parent.client.set_terminated(parent.run_id, "FAILED")
        raise
    else:
        parent.client.set_terminated(parent.run_id, "FINISHED")


def download(uri: str, run_id: str, artifact: str, folder: Path) -> Path:
    """A run's artifact, downloaded into `folder`."""
    from mlflow.tracking import MlflowClient

    return Path(MlflowClient(uri).download_artifacts(run_id, artifact, str(folder)))


def ensemble_members(run_id: str, uri: str | None = None) -> list[str] | None:
    """The run ids a parent run stands for (its `biodl.ensemble` tag), None for a plain run."""
    from mlflow.exceptions import MlflowException

    client = read_client(uri)
    try:
        tags = client.get_run(run_id).data.tags
    except MlflowException as error:
        raise BiodlError(f"run {run_id}: not found in {tracking_uri(uri)} "
                         f"({str(error).splitlines()[0]})") from None
    members = tags.get(ENSEMBLE_TAG)
    if members is None and tags.get(KIND) == "cv":
        raise BiodlError(f"run {run_id}: a `biodl cv` run that did not finish its folds (no "
                         f"{ENSEMBLE_TAG} tag); run `biodl cv` again or give fold run ids")
    return members.split(",") if members else None
