"""`biodl fit` against a real `mlflow server` on 127.0.0.1, and against one that is not there."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import DATA

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
         "--artifacts-destination", str(folder / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{uri}/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("mlflow server did not come up in 120 s")
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its workers
        process.wait(timeout=30)


def fit(uri: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return subprocess.run([sys.executable, "-m", "biodl.cli", "fit", str(DATA / "tiny_pipeline.yaml"),
                           *extra], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def test_fit_records_to_a_tracking_server(server, tmp_path):
    done = fit(server, tmp_path, "--set", "tracking.experiment=remote")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = done.stdout.split("mlflow run id: ")[1].split()[0]
    client = MlflowClient(server)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.name"] == "cnn1d"
    assert {"val/loss", "test/mcc"} <= set(run.data.metrics)
    paths = [a.path for a in client.list_artifacts(run_id, "checkpoints")]
    assert paths == ["checkpoints/best.ckpt"]
    assert not (tmp_path / "mlruns.db").exists()  # nothing recorded locally


def test_unreachable_server_fails_in_seconds_before_training(tmp_path):
    started = time.time()
    done = fit(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: MLflow tracking server http://127.0.0.1:")
    assert "does not answer" in done.stderr and "Traceback" not in done.stderr
    assert "epoch" not in done.stdout
    assert time.time() - started < 30
