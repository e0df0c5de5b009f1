"""A fit killed with SIGKILL after an epoch's checkpoint, or stopped with SIGTERM mid-epoch,
resumes into the same run and ends exactly where the uninterrupted fit with the same seed
ends: every epoch's train/loss and val metrics and the test metrics equal to 1e-6."""

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from ..conftest import DATA, ROOT

pytestmark = pytest.mark.system  # several processes: CI runs these, make test skips them

SIGNAL_FIT = Path(__file__).parent / "signal_fit.py"
EXACT = ["trainer.max_epochs=3", "trainer.limit_train_batches=1.0",
         "trainer.limit_val_batches=1.0", "trainer.limit_test_batches=1.0",
         "trainer.deterministic=true", "trainer.enable_progress_bar=false",
         "callbacks.early_stopping.enabled=false"]
# the E. coli CNN on 90 records, 5 batches an epoch, every augmentation a draw: strand, shift,
# substitution; dropout in the model; batches built in a (persistent) worker process
CNN = [str(DATA / "tiny_pipeline.yaml"), *EXACT, "data.augment.reverse_complement=true",
       "data.augment.substitution=0.05", "data.num_workers=1"]
SLICE = DATA / "leptospira_slice"
# a BiLSTM tagger over variable-length windows batched by LengthBuckets, dropout between layers
RNN = [str(ROOT / "pipelines" / "leptospira_coding"), *EXACT, "trainer.num_sanity_val_steps=0",
       f"data.genbank={SLICE / 'contigs.gbk'}", "data.window=300", "data.batch_size=8",
       "data.split.val_groups=[NZ_AHMY02000073.1]", "data.split.test_groups=[NZ_AHMY02000072.1]",
       "model.hidden_size=8", "model.conv_channels=[8]", "model.dropout=0.3"]


def biodl_fit(folder: Path, args: list[str], signal_at: tuple[str, int, int] | None = None):
    """`biodl fit PIPELINE --set ARGS...` (or `biodl fit --resume RUN_ID`) in `folder`, with
    its own MLflow store, optionally sending itself a signal after training batch (epoch,
    batch); one thread, as in every fit compared here."""
    folder.mkdir(exist_ok=True)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlruns.db'}",
           "OMP_NUM_THREADS": "1"}
    start = ([str(SIGNAL_FIT), *map(str, signal_at)] if signal_at else ["-m", "biodl.cli", "fit"])
    if args[0] != "--resume":
        args = [args[0], *(x for s in args[1:] for x in ("--set", s))]
    return subprocess.run([sys.executable, *start, *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def run_id_of(folder: Path) -> str:
    (run,) = (folder / "biodl_runs").iterdir()
    return run.name


def recorded(folder: Path, run_id: str) -> dict:
    """The run's status, and (step, value) per epoch of train/loss and every val/ and test/
    metric, in step order."""
    client = MlflowClient(f"sqlite:///{folder / 'mlruns.db'}")
    run = client.get_run(run_id)
    names = [n for n in run.data.metrics if n == "train/loss" or n.startswith(("val/", "test/"))]
    history = {n: [(m.step, m.value) for m in sorted(client.get_metric_history(run_id, n),
                                                     key=lambda m: (m.step, m.timestamp))]
               for n in names}
    return {"status": run.info.status, "runs": len(client.search_runs(
        [run.info.experiment_id])), "metrics": history}


def assert_same_metrics(resumed: dict, uninterrupted: dict) -> None:
    assert resumed["metrics"].keys() == uninterrupted["metrics"].keys()
    for name, expected in uninterrupted["metrics"].items():
        got = resumed["metrics"][name]
        assert [s for s, _ in got] == [s for s, _ in expected], name
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], abs=1e-6), name


def interrupted_then_resumed(folder: Path, args: list[str], signal_at, status: str) -> dict:
    stopped = biodl_fit(folder, args, signal_at)
    run_id = run_id_of(folder)
    assert recorded(folder, run_id)["status"] == status, stopped.stderr[-2000:]
    done = biodl_fit(folder, ["--resume", run_id])
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert f"mlflow run id: {run_id}" in done.stdout
    return {"stopped": stopped, "resumed": done, "record": recorded(folder, run_id)}


@pytest.mark.parametrize("args", [CNN, RNN], ids=["cnn-augmented", "rnn-length-buckets"])
def test_resume_after_sigkill_or_sigterm_equals_the_uninterrupted_fit(tmp_path, args):
    # the three fits are independent processes (one thread each, their own stores): run at
    # once, they take the time of the longest
    with ThreadPoolExecutor(3) as pool:
        plain = pool.submit(biodl_fit, tmp_path / "plain", args)
        # SIGKILL during epoch 1: nothing can end the run; it resumes from epoch 0's last.ckpt
        kill = pool.submit(interrupted_then_resumed, tmp_path / "kill", args, ("KILL", 1, 1),
                           "RUNNING")
        # SIGTERM after epoch 1's batch 1: a checkpoint at that batch boundary, the run KILLED
        term = pool.submit(interrupted_then_resumed, tmp_path / "term", args, ("TERM", 1, 1),
                           "KILLED")
        plain, killed, termed = plain.result(), kill.result(), term.result()
    assert plain.returncode == 0, plain.stderr[-3000:]
    uninterrupted = recorded(tmp_path / "plain", run_id_of(tmp_path / "plain"))
    assert len(uninterrupted["metrics"]["train/loss"]) == 3
    assert killed["stopped"].returncode == -9
    assert "last.ckpt" in killed["resumed"].stdout.split("resuming run")[1].splitlines()[0]
    assert termed["stopped"].returncode == 130, termed["stopped"].stderr[-2000:]
    assert "hpc_ckpt_1.ckpt" in termed["resumed"].stdout.split("resuming run")[1].splitlines()[0]

    for outcome in (killed, termed):
        assert outcome["record"]["status"] == "FINISHED"
        assert outcome["record"]["runs"] == 1  # resumed into the same run
        assert_same_metrics(outcome["record"], uninterrupted)


def test_resume_skips_a_truncated_last_checkpoint(tmp_path):
    args = [*CNN[:1], "trainer.max_epochs=2", "trainer.enable_progress_bar=false"]
    first = biodl_fit(tmp_path, args, ("KILL", 1, 0))
    assert first.returncode == -9
    folder = tmp_path / "biodl_runs" / run_id_of(tmp_path)
    torch.load(folder / "best.ckpt", weights_only=True)  # whole: written beside, then renamed
    last = folder / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])  # corrupted by something outside biodl
    os.utime(folder / "best.ckpt", (1, 1))  # older than last.ckpt: the fallback

    done = biodl_fit(tmp_path, ["--resume", folder.name])
    assert done.returncode == 0, done.stderr[-3000:]
    warning = next(line for line in done.stdout.splitlines() if line.startswith("warning:"))
    assert "last.ckpt is unreadable (" in warning and "resuming from best.ckpt" in warning

    best = folder / "best.ckpt"
    best.write_bytes(best.read_bytes()[:1000])  # now neither loads
    last.write_bytes(b"not a checkpoint")
    failed = biodl_fit(tmp_path, ["--resume", folder.name])
    assert failed.returncode == 2
    (line,) = failed.stderr.strip().splitlines()
    assert f"no readable checkpoint in {folder}: last.ckpt is unreadable" in line
    assert "best.ckpt is unreadable" in line and "Traceback" not in failed.stderr


def unshare_works() -> bool:
    """Root, unshare, and a mount namespace allowed (mounting a small tmpfs for a test)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not unshare_works(), reason="mounting a tmpfs needs root and unshare -m")
@pytest.mark.parametrize("full", ["checkpoints", "everything"])
def test_a_full_disk_fails_the_run_in_one_line(tmp_path, full):
    """A real 3 MB tmpfs holding the checkpoints (best.ckpt, 1.9 MB, fits; last.ckpt does
    not), or the working folder with the MLflow store too (whichever write fails first)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    work = disk if full == "everything" else tmp_path
    channels = "[128, 128]" if full == "checkpoints" else "[96, 96]"
    sets = " ".join(f"--set '{s}'" for s in [f"model.channels={channels}",
                                             "trainer.max_epochs=2",
                                             f"callbacks.checkpoint.dir={disk / 'runs'}"])
    status = (f"{sys.executable} -c \"from mlflow.tracking import MlflowClient as C; "
              f"c = C('sqlite:///{work}/mlruns.db'); print('status', *[r.info.status for r in "
              "c.search_runs([e.experiment_id for e in c.search_experiments()])])\"")
    script = (f"mount -t tmpfs -o size=3m tmpfs {disk} && cd {work} && "
              f"MLFLOW_TRACKING_URI=sqlite:///{work}/mlruns.db {sys.executable} -m biodl.cli "
              f"fit {CNN[0]} {sets}; code=$?; {status} >&2; exit $code")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    (line,) = [s for s in done.stderr.splitlines() if s.startswith("error:")]
    assert line.startswith("error: no space left ") and "biodl fit --resume" in line
    if full == "checkpoints":
        assert line.startswith(f"error: no space left in {disk / 'runs'}/")
        assert "to write last.ckpt: it needs 1.9 MB" in line
        assert "status FAILED" in done.stderr
