"""A real one-node Slurm cluster on this machine (slurmctld, slurmd and munged from Debian's
packages, installed with apt-get when missing): `make slurm` submits the tiny pipeline as 2
CPU DDP tasks, the job completes and leaves one finished MLflow run; a job signalled with
SIGUSR1 saves a checkpoint, requeues itself and resumes into the same run.

Slow (about 75 s here, the cluster start included; the package install adds about 15 s the
first time) and needs root for apt-get and the daemons: `make test-slow`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ..conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

SLURM = ROOT / "tests" / "slurm"
TINY = "tests/data/tiny_pipeline.yaml"  # relative: the job runs in the submitting folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, store_template) -> dict[str, str]:
    """The environment of a running cluster: SLURM_CONF and a fresh MLflow store."""
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        pytest.skip("no Slurm installed and no apt-get to install Debian's slurm-wlm")
    state = tmp_path_factory.mktemp("slurm")
    shutil.copy(store_template, state / "mlruns.db")
    env = {**os.environ, "SLURM_CONF": str(state / "slurm.conf"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{state / 'mlruns.db'}"}
    started = subprocess.run([SLURM / "start_cluster.sh", state], env=env, text=True,
                             capture_output=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr
    yield env
    subprocess.run([SLURM / "stop_cluster.sh", state], env=env, timeout=120)


def submit(env: dict[str, str], settings: list[str], tasks: int = 2) -> str:
    """`make slurm` from the repository root, `tasks` CPU processes; returns the job id."""
    done = subprocess.run(
        ["make", "--no-print-directory", "slurm", f"PIPELINE={TINY}", "NODES=1", "GPUS=0",
         f"TASKS={tasks}", "CPUS=1", f"SET={' '.join(settings)}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return re.search(r"submitted job (\d+)", done.stdout).group(1)


def job(env: dict[str, str], job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (JobState, Restarts, ExitCode, StdOut, ...)."""
    shown = subprocess.run(["scontrol", "show", "job", "--oneliner", job_id], env=env,
                           capture_output=True, text=True, check=True).stdout
    return dict(field.split("=", 1) for field in shown.split() if "=" in field)


def wait_for_end(env: dict[str, str], job_id: str, timeout: float = 600) -> dict[str, str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = job(env, job_id)
        if state["JobState"] not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING",
                                     "REQUEUED", "REQUEUE_HOLD"):
            return state
        time.sleep(2)
    subprocess.run(["scancel", job_id], env=env)
    raise TimeoutError(f"job {job_id} still {state['JobState']} after {timeout} s")


def only_run(env: dict[str, str], experiment: str):
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    [run] = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return client, run


def test_make_slurm_runs_two_ddp_tasks_to_one_finished_run(cluster, tmp_path):
    job_id = submit(cluster, ["trainer.max_epochs=2", "trainer.limit_train_batches=1.0",
                              "tracking.experiment=slurm",
                              f"callbacks.checkpoint.dir={tmp_path / 'runs'}"])
    state = wait_for_end(cluster, job_id)
    log = Path(state["StdOut"]).read_text()
    assert (state["JobState"], state["ExitCode"]) == ("COMPLETED", "0:0"), log
    assert log.count("mlflow run id:") == 1  # only rank 0 reports

    client, run = only_run(cluster, "slurm")
    assert run.info.status == "FINISHED"
    assert run.data.metrics["train/examples"] == 36  # 72 training sequences over 2 ranks
    assert "test/mcc" in run.data.metrics
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 2  # one an epoch
    assert (ROOT / ".slurm" / f"{job_id}.run_id").read_text().strip() == run.info.run_id
    [folder] = (tmp_path / "runs").iterdir()
    assert folder.name == run.info.run_id
    assert sorted(p.name for p in folder.iterdir()) == ["best.ckpt", "fit.log", "last.ckpt"]


def test_preempted_job_requeues_and_resumes_into_the_same_run(cluster, tmp_path):
    """Two DDP tasks: biodl's SlurmPreemption agrees on the signal at a batch boundary and
    checkpoints there (Lightning's own handler, which saves inside the signal handler, could
    hang on a barrier against the other rank's gradient all-reduce)."""
    runs = tmp_path / "runs"
    job_id = submit(cluster, ["trainer.max_epochs=10", "trainer.limit_train_batches=1.0",
                              "callbacks.early_stopping.enabled=false",
                              "tracking.experiment=slurm-requeue",
                              f"callbacks.checkpoint.dir={runs}"], tasks=2)
    deadline = time.time() + 300
    while not list(runs.glob("*/last.ckpt")):  # after epoch 0: Lightning's handlers are set
        assert time.time() < deadline and job(cluster, job_id)["JobState"] in ("PENDING",
                                                                               "RUNNING")
        time.sleep(0.2)
    # what Slurm sends 90 s before the time limit (--signal=SIGUSR1@90), to the tasks only
    subprocess.run(["scancel", "--signal=USR1", job_id], env=cluster, check=True)
    state = wait_for_end(cluster, job_id)
    log = Path(state["StdOut"]).read_text()  # --open-mode=append: both launches
    assert (state["JobState"], state["Restarts"]) == ("COMPLETED", "1"), log

    client, run = only_run(cluster, "slurm-requeue")
    assert run.info.status == "FINISHED"
    assert "test/mcc" in run.data.metrics
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "val/loss")]
    assert steps == sorted(set(steps))  # unbroken: increasing, no step twice
    # every epoch's validation (3 steps an epoch: 36 sequences a rank, batches of 16); after a
    # mid-epoch resume Lightning may validate once more at the resumed step
    assert {3 * epoch + 2 for epoch in range(10)} <= set(steps) and len(steps) <= 11
    [folder] = runs.iterdir()
    assert folder.name == run.info.run_id
    names = {p.name for p in folder.iterdir()}
    # mid-epoch: hpc_ckpt_1; at an epoch's last batch the job requeues after its last.ckpt
    assert {"best.ckpt", "fit.log", "last.ckpt"} <= names <= {"best.ckpt", "fit.log", "last.ckpt",
                                                      "hpc_ckpt_1.ckpt"}
