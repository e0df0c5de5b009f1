"""Coverage format: windows/s from disk beside the genome-window format, and the peak RSS of
`biodl fit` as the genome and its BigWig grow (it should stay flat: both are read lazily).

    .venv/bin/python benchmarks/coverage_memory.py --mbp 5 50 --peaks 1000 --batches 40

For each size a synthetic genome (5 chromosomes, `benchmarks/coverage_synthetic.py`, sites
spaced so that about `--peaks` peaks are planted whatever the size) is written to a temporary
folder. Throughput: shuffled batches of 256 windows of 600 bp from the training split, read
through the dataset's `__getitems__` in this process, coverage (sequence + 250 bp of
base-resolution targets, jitter and strand flips on) against format genome (the same peaks,
sequence only). Memory: `python -m biodl.cli fit` in a child process (a 32-filter BPNet, one
epoch of `--batches` batches of 64, val and test read in full); its peak RSS from `os.wait4`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from coverage_synthetic import generate  # noqa: E402

from biodl.config import load_config  # noqa: E402
from biodl.data.formats import build_datamodule  # noqa: E402

BATCH = 256
COMMON = ["data.window=600", "data.val_chroms=[chr4]", "data.test_chroms=[chr5]"]


def coverage_args(paths: dict) -> list[str]:
    return ["data.format=coverage", f"data.genome={paths['genome']}",
            f"data.tracks={{footprint: {paths['track']}}}", f"data.peaks=[{paths['peaks']}]",
            "data.output_length=250", "data.background=0.5", "data.augment.jitter=32",
            "data.augment.reverse_complement=true", *COMMON]


def genome_args(paths: dict) -> list[str]:
    return ["data.format=genome", f"data.genome={paths['genome']}",
            f"data.intervals={{peak: {paths['peaks']}}}", "data.negatives=0.5",
            "data.augment.reverse_complement=true", "data.leakage=ignore", *COMMON]


def windows_per_second(args: list[str], batches: int) -> float:
    cfg = load_config(ROOT / "pipelines" / "coverage_synthetic" / "pipeline.yaml", args)
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    train = datamodule.datasets["train"]
    rng = np.random.default_rng(0)
    train.__getitems__(list(range(min(BATCH, len(train)))))  # open files, warm the cache
    started = time.perf_counter()
    for _ in range(batches):
        train.__getitems__(rng.choice(len(train), BATCH).tolist())
    return batches * BATCH / (time.perf_counter() - started)


def fit_rss(args: list[str], folder: Path, batches: int) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of a one-epoch fit in a child process."""
    sets = [*args, "model={name: bpnet, filters: 32, layers: 6}", "trainer.max_epochs=1",
            f"trainer.limit_train_batches={batches}", "data.batch_size=64", "threads=1",
            "tracking.log_checkpoint=false"]
    command = [sys.executable, "-m", "biodl.cli", "fit",
               str(ROOT / "pipelines" / "coverage_synthetic" / "pipeline.yaml"),
               *[x for s in sets for x in ("--set", s)]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI":
           f"sqlite:///{folder / 'mlruns.db'}"}
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"fit failed: {child.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbp", type=int, nargs="+", default=[5, 50])
    parser.add_argument("--peaks", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--read-batches", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| genome | BigWig | peaks | coverage windows/s | genome windows/s | fit peak RSS | "
          "fit time |\n|---|---|---|---|---|---|---|")
    for mbp in args.mbp:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            folder, length = Path(tmp), mbp * 1_000_000 // 5
            paths = generate(folder, 5, length, spacing=5 * length // args.peaks)
            peaks = sum(1 for _ in open(paths["peaks"]))
            coverage = windows_per_second(coverage_args(paths), args.read_batches)
            genome = windows_per_second(genome_args(paths), args.read_batches)
            rss, seconds = fit_rss(coverage_args(paths), folder, args.batches)
            size = paths["track"].stat().st_size / 2**20
            print(f"| {mbp} Mbp | {size:.0f} MiB | {peaks} | {coverage:,.0f} | {genome:,.0f} | "
                  f"{rss:,.0f} MiB | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
