"""Windows/s and peak memory of `biodl predict --scan` on a synthetic genome, by genome size and
torch threads (memory should stay flat as the genome grows).

    .venv/bin/python benchmarks/scan_genome.py --mbp 10 100 --threads 1 2

For each size a random genome (5 chromosomes, 60-base lines, written a block at a time) goes
to a temporary folder under /tmp (deleted afterwards) and its .fai is built once, untimed. The
model is a small CNN built directly (`build_model("cnn1d", channels=[32, 32])`, random weights,
a binary promoter-style head) saved as a biodl checkpoint with a matching 200-bp InputSpec.
Each scan is a child process running the CLI, `biodl predict model.ckpt genome.fa --scan
--stride 100 -o track.bw`, with OMP_NUM_THREADS set (torch's intra-op threads). Its peak RSS
comes from `os.wait4`; "scan s" is the command's own time (model loading, indexing checks,
scanning, writing), clocked in the child after the imports (torch, Lightning: ~5 s, shown as
"process s" with them); windows/s = windows / scan s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genome_fit_memory import chromosome_lengths, write_genome  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WINDOW, CHANNELS = 200, [32, 32]
CHILD = """\
import sys, time
import biodl.tasks, pyBigWig  # the imports, apart from the command's own time
from biodl.cli import app
started = time.perf_counter()
code = app(sys.argv[1:], standalone_mode=False)
print(f"scan seconds {time.perf_counter() - started:.3f}")
sys.exit(code or 0)
"""


def write_checkpoint(path: Path, window: int = WINDOW) -> None:
    """A biodl checkpoint of an untrained small CNN that `biodl.inference.model.load` reads."""
    import pytorch_lightning as pl
    import torch

    from biodl.data.spec import InputSpec, Kind, Target
    from biodl.models import build_model
    from biodl.tasks import ClassificationTask

    torch.manual_seed(0)
    model_spec = {"name": "cnn1d", "kwargs": {"channels": CHANNELS, "seq_len": window,
                                               "num_outputs": 1}}
    spec = InputSpec(format="fasta", kind=Kind.ONEHOT, target=Target.CLASS,
                     output_names=("background", "site"), length=window)
    task = ClassificationTask(build_model("cnn1d", **model_spec["kwargs"]), num_classes=2,
                              class_names=list(spec.output_names), mode="binary",
                              model_spec=model_spec, input_spec=spec.to_dict())
    torch.save({"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams),
                "pytorch-lightning_version": pl.__version__, "biodl_task": "classification"},
               path)


def measure_scan(folder: Path, threads: int, stride: int) -> tuple[float, float, float, int]:
    """(peak RSS in MB, scan seconds, process seconds, exit code) of one scan child."""
    command = [sys.executable, "-c", CHILD, "predict", "model.ckpt", "genome.fa", "--scan",
               "--stride", str(stride), "-o", f"track_{threads}.bw", "--force"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=open(folder / "out.log", "wb"),
                             stderr=open(folder / "scan.log", "wb"))
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    log = (folder / "out.log").read_text()
    if code or "scan seconds" not in log:
        print(log[-2000:], (folder / "scan.log").read_text()[-3000:], file=sys.stderr)
        return usage.ru_maxrss / 1024, float("nan"), seconds, code or 1
    scan = float(log.rsplit("scan seconds ", 1)[1])
    return usage.ru_maxrss / 1024, scan, seconds, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbp", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stride", type=int, default=WINDOW // 2)
    args = parser.parse_args()
    from biodl.data.genome import Genome
    from biodl.data.prepare import scan_windows

    print(f"model: cnn1d channels {CHANNELS}, window {WINDOW}, stride {args.stride}, BigWig, "
          "batch 512")
    print("| genome Mbp | windows | torch threads | scan s | windows/s | process s | "
          "peak RSS MB | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for mbp in args.mbp:
        with tempfile.TemporaryDirectory(dir="/tmp", prefix="biodl_scan_") as tmp:
            folder = Path(tmp)
            write_genome(folder / "genome.fa", chromosome_lengths(mbp))
            lengths = Genome(folder / "genome.fa").lengths  # builds the .fai, untimed
            windows = sum(len(scan_windows(n, WINDOW, args.stride)) for n in lengths.values())
            write_checkpoint(folder / "model.ckpt")
            for threads in args.threads:
                rss, scan, seconds, code = measure_scan(folder, threads, args.stride)
                print(f"| {mbp:,.0f} | {windows:,} | {threads} | {scan:.1f} | "
                      f"{windows / scan:,.0f} | {seconds:.1f} | {rss:,.0f} | {code} |",
                      flush=True)


if __name__ == "__main__":
    main()
