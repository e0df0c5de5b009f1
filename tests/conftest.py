"""Shared fixtures: one thread for torch, one MLflow store built per session and copied."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


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
