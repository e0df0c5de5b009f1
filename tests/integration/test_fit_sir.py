"""`biodl fit` of the two epidemic-forecasting pipelines, 2 batches each, read back from MLflow."""

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import ROOT, SMOKE, use_store

runner = CliRunner()
TINY = ["data.outbreaks=64", "data.batch_size=16", "model.hidden_size=8", *SMOKE]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, store_template):
    """Both pipelines fitted into one store: {cell: MLflow run}."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        client = MlflowClient(use_store(tmp_path_factory.mktemp("sir"), store_template,
                                        monkeypatch))
        found = {}
        for cell in ("lstm", "gru"):
            overrides = [arg for item in TINY for arg in ("--set", item)]
            result = runner.invoke(app, ["fit", str(ROOT / "pipelines" / f"sir_{cell}"),
                                         *overrides])
            assert result.exit_code == 0, result.output
            assert "test/peak_mae" in result.output
            found[cell] = client.get_run(result.output.split("mlflow run id: ")[1].split()[0])
        yield found


def test_runs_share_one_experiment_under_their_names(runs):
    assert {r.info.run_name for r in runs.values()} == {"sir_lstm", "sir_gru"}
    assert len({r.info.experiment_id for r in runs.values()}) == 1
    assert all(r.info.status == "FINISHED" for r in runs.values())


def test_runs_record_peak_errors_and_parameter_counts(runs):
    for run in runs.values():
        assert {"test/mse", "test/mae", "test/r2", "test/peak_mae", "test/peak_day_error",
                "test/peak_height_error", "val/peak_mae"} <= set(run.data.metrics)
        assert 0 <= run.data.metrics["test/peak_day_error"] <= 59
        assert run.data.params["data.format"] == "sir"
    # hidden 8, 2 input channels: 4 (LSTM) or 3 (GRU) gates x (8 x 2 + 8 x 8 + 2 x 8) + 8 x 60 + 60
    assert runs["lstm"].data.params["model_parameters"] == "924"
    assert runs["gru"].data.params["model_parameters"] == "828"
