"""What the MLflow UI shows: a saved view of each experiment with its metric columns, and the
addresses `biodl ui` prints to open it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from biodl.tracking.store import has_store, local_database, read_client, tracking_uri

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

# MLflow shows metric columns only when a view selects them: each fit adds its metrics to a
# view stored as an experiment tag, which the UI loads for `...?viewStateShareKey=biodl`.
VIEW_KEY = "biodl"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
VIEW_COLUMNS = ["attributes.`Source`", "attributes.`Models`"]  # the UI's own defaults
VIEW_MAX_CHARS = 5000  # what an experiment tag holds on every store


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
