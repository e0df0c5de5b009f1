"""Shared fixtures: one thread for torch, one MLflow store built per session and copied, the
smoke trainer preset as overrides, and one trained tiny checkpoint shared by the session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def smoke_overrides() -> list[str]:
    """configs/trainer/smoke.yaml as --set overrides, for fits of full pipelines in tests."""
    import yaml

    preset = yaml.safe_load((ROOT / "configs" / "trainer" / "smoke.yaml").read_text())
    return [f"trainer.{k}={'null' if v is None else str(v).lower() if isinstance(v, bool) else v}"
            for k, v in preset["trainer"].items()]


SMOKE = smoke_overrides()


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)  # 2-3x faster for tiny models on a 2-core machine


@pytest.fixture(scope="session")
def store_template(tmp_path_factory) -> Path:
    """An empty, migrated MLflow SQLite store (migrations cost seconds; do them once)."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlruns.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


def use_store(folder: Path, template: Path, monkeypatch) -> str:
    """Work in `folder` with a copy of the store; MLflow (env and global state) points at it."""
    import mlflow

    shutil.copy(template, folder / "mlruns.db")
    uri = f"sqlite:///{folder / 'mlruns.db'}"
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)  # Lightning's logger sets it globally; do not inherit one
    return uri


@pytest.fixture
def workdir(tmp_path, monkeypatch, store_template) -> Path:
    """A fresh working folder holding a copy of the store, with MLflow pointed at it."""
    use_store(tmp_path, store_template, monkeypatch)
    return tmp_path


@pytest.fixture
def write(tmp_path):
    """write("name.fa", text) -> path of a new file under tmp_path."""
    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path
    return _write


@pytest.fixture(scope="session")
def tiny_fit(tmp_path_factory, store_template):
    """One fit of tests/data/tiny_pipeline.yaml through the CLI, registered as tiny_cnn, shared
    by every test that only needs a trained checkpoint: (folder, run_id, checkpoint, output)."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from biodl.cli import app

    with pytest.MonkeyPatch.context() as monkeypatch:
        folder = tmp_path_factory.mktemp("tiny_fit")
        uri = use_store(folder, store_template, monkeypatch)
        monkeypatch.setenv("BIODL_CACHE", str(folder / "cache"))
        result = CliRunner().invoke(app, ["fit", str(DATA / "tiny_pipeline.yaml"), "--register",
                                          "tiny_cnn", "--set", "tracking.run_name=tiny-run"])
        assert result.exit_code == 0, result.output
        run_id = result.output.split("mlflow run id: ")[1].split()[0]
    return SimpleNamespace(folder=folder, uri=uri, run_id=run_id, output=result.output,
                           checkpoint=folder / "biodl_runs" / run_id / "best.ckpt")


@pytest.fixture
def in_tiny_fit(tiny_fit, monkeypatch):
    """Work in the shared fit's folder, MLflow pointed at its store."""
    import mlflow

    monkeypatch.chdir(tiny_fit.folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tiny_fit.uri)
    monkeypatch.setenv("BIODL_CACHE", str(tiny_fit.folder / "cache"))
    mlflow.set_tracking_uri(tiny_fit.uri)
    return tiny_fit


def tiff_classes(root: Path, channels: int, height: int = 12, width: int = 12) -> Path:
    """root/{dim,bright}/<i>.tif: 12 random 16-bit (C, H, W) stacks each, bright ones shifted
    up by 20,000 so a model can tell them apart."""
    import numpy as np
    import tifffile

    rng = np.random.default_rng(0)
    for label, shift in (("dim", 0), ("bright", 20000)):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(12):
            image = rng.integers(0, 30000, (channels, height, width)).astype(np.uint16) + shift
            tifffile.imwrite(folder / f"{i}.tif", image)
    return root


def variable_length_rnn(write) -> tuple[Path, Path, list[str]]:
    """Two FASTA classes of 8-28 bp records and the overrides of a tiny variable-length RNN."""
    a = write("a.fa", "".join(f">a{i}\n{'ACGT' * (3 + i % 5)}\n" for i in range(30)))
    b = write("b.fa", "".join(f">b{i}\n{'GGCA' * (2 + i % 7)}\n" for i in range(30)))
    return a, b, [f"data.classes={{a: {a}, b: {b}}}", "data.length=null",
                  "data.variable_length=true", "data.leakage=ignore",
                  "model={name: rnn_classifier, input: onehot, hidden_size: 8}",
                  "task.metrics=null"]
