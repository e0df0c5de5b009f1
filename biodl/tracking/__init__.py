"""The one place MLflow is configured: where runs go (`store`), what each run records (`run`)
and what the UI shows (`views`).

Runs go to `tracking.uri` if the config names one, else `$MLFLOW_TRACKING_URI`, else an
embedded SQLite store `mlruns.db` in the working folder, so `mlflow ui` and a remote server
(`MLFLOW_TRACKING_URI=http://host:5000`) work with no code change. Importing this package
imports neither MLflow nor Lightning: each function imports them when called.
"""

from biodl.tracking.run import (end_run, file_sha256, git_commit, log_artifact, log_artifacts,
                                log_model, make_logger, metric_history, record_run_start,
                                run_outcome, set_tags, version_tags)
from biodl.tracking.store import (DEFAULT_STORE, KIND_TAG, MIN_PREFIX, TRAINING_KIND,
                                  artifact_location, attach_artifact, cache_folder,
                                  check_reachable, check_writable, fetch_checkpoint, has_store,
                                  list_runs,
                                  local_database, prepare_experiment, read_client,
                                  resolve_run_id, run_config, store_lock, tracking_uri,
                                  unique_run_name)
from biodl.tracking.nested import (ENSEMBLE_TAG, ParentRun, download, ensemble_members,
                                   open_parent, parent_outcome)
from biodl.tracking.views import VIEW_KEY, VIEW_TAG, add_to_view, ui_address

__all__ = ["ENSEMBLE_TAG", "ParentRun", "download", "ensemble_members", "open_parent",
           "parent_outcome", "DEFAULT_STORE", "KIND_TAG", "MIN_PREFIX", "TRAINING_KIND", "VIEW_KEY", "VIEW_TAG",
           "add_to_view", "artifact_location", "attach_artifact", "cache_folder",
           "check_reachable", "check_writable", "end_run", "fetch_checkpoint", "file_sha256",
           "git_commit",
           "has_store", "list_runs", "local_database", "log_artifact", "log_artifacts",
           "log_model", "make_logger", "metric_history", "prepare_experiment", "read_client",
           "record_run_start", "resolve_run_id", "run_config", "run_outcome", "set_tags",
           "store_lock", "tracking_uri", "ui_address", "unique_run_name", "version_tags"]
