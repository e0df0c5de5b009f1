"""Peak memory of `biodl fit` on genome windows as the genome grows (it should stay flat).

    .venv/bin/python benchmarks/genome_fit_memory.py --mbp 250 1000 --peaks 20000 --batches 200

For each size a random genome (5 chromosomes, 60-base lines) and a BED of `--peaks` peaks are
written to a temporary folder under /tmp (deleted afterwards; a 1,000 Mbp FASTA is ~1 GB);
then `python -m biodl.cli fit` runs on them as a child process, one epoch of `--batches`
training batches of 256 windows with a small CNN (chr4 validation, chr5 test, both read in
full). The child's peak RSS comes from `os.wait4` (its own rusage, DataLoader workers
included as their maximum), so sizes measured one after another do not mix.
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

ROOT = Path(__file__).resolve().parent.parent
CHROMS = 5
LINE = 60
BLOCK_LINES = 100_000  # 6 Mbp generated and written at a time
PIPELINE = """\
defaults:
  - {root}/configs/model/cnn1d.yaml
  - {root}/configs/task/binary.yaml
  - {root}/configs/trainer/cpu.yaml
name: genome_fit_memory
data:
  format: genome
  genome: genome.fa
  intervals: {{peak: peaks.bed}}
  window: 200
  val_chroms: [chr4]
  test_chroms: [chr5]
  batch_size: 256
model: {{channels: [32, 32]}}
trainer: {{max_epochs: 1, enable_progress_bar: false, enable_model_summary: false,
          num_sanity_val_steps: 0}}
tracking: {{experiment: genome_fit_memory, log_checkpoint: false}}
"""


def chromosome_lengths(mbp: float) -> dict[str, int]:
    """Decreasing sizes (5:4:3:2:1 shares), as in real assemblies."""
    weights = np.arange(CHROMS, 0, -1)
    return {f"chr{i + 1}": int(mbp * 1e6 * w / weights.sum()) for i, w in enumerate(weights)}


def write_genome(path: Path, lengths: dict[str, int], seed: int = 0) -> None:
    """Random ACGT in 60-base lines, generated a block at a time (memory stays small)."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as handle:
        for name, length in lengths.items():
            handle.write(b">%s\n" % name.encode())
            for first in range(0, length, BLOCK_LINES * LINE):
                n = min(BLOCK_LINES * LINE, length - first)
                handle.write(_lines(letters[rng.integers(0, 4, n, dtype=np.uint8)]))


def _lines(bases: np.ndarray) -> bytes:
    full = len(bases) // LINE * LINE
    rows = np.hstack([bases[:full].reshape(-1, LINE), np.full((full // LINE, 1), 10, np.uint8)])
    tail = bases[full:].tobytes() + b"\n" if full < len(bases) else b""
    return rows.tobytes() + tail


def write_peaks(path: Path, lengths: dict[str, int], count: int, seed: int = 1) -> None:
    """`count` peaks of 100-500 bp, placed uniformly over the genome."""
    rng = np.random.default_rng(seed)
    names = list(lengths)
    sizes = np.array(list(lengths.values()))
    which = rng.choice(len(names), count, p=sizes / sizes.sum())
    widths = rng.integers(100, 500, count)
    starts = (rng.random(count) * (sizes[which] - widths - 1000)).astype(np.int64) + 500
    order = np.lexsort((starts, which))
    path.write_text("".join(f"{names[c]}\t{s}\t{s + w}\n" for c, s, w in
                            zip(which[order], starts[order], widths[order])))


def measure_fit(folder: Path, batches: int, workers: int) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, exit code) of one `biodl fit` child process."""
    (folder / "pipeline.yaml").write_text(PIPELINE.format(root=ROOT))
    command = [sys.executable, "-m", "biodl.cli", "fit", "pipeline.yaml",
               "--set", f"trainer.limit_train_batches={batches}",
               "--set", f"data.num_workers={workers}"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = str(ROOT)
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                             stderr=open(folder / "fit.log", "wb"))
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode:
        print((folder / "fit.log").read_text()[-3000:], file=sys.stderr)
    return usage.ru_maxrss / 1024, seconds, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbp", type=float, nargs="+", default=[250, 1000])
    parser.add_argument("--peaks", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    print("| genome Mbp | FASTA GB | peaks | write s | fit wall s | fit peak RSS MB | exit |")
    print("|---|---|---|---|---|---|---|")
    for mbp in args.mbp:
        with tempfile.TemporaryDirectory(dir="/tmp", prefix="biodl_genome_") as tmp:
            folder = Path(tmp)
            lengths = chromosome_lengths(mbp)
            started = time.perf_counter()
            write_genome(folder / "genome.fa", lengths)
            write_peaks(folder / "peaks.bed", lengths, args.peaks)
            written = time.perf_counter() - started
            rss, seconds, code = measure_fit(folder, args.batches, args.workers)
            size = (folder / "genome.fa").stat().st_size / 1e9
            print(f"| {mbp:,.0f} | {size:.2f} | {args.peaks:,} | {written:.1f} | {seconds:.1f} "
                  f"| {rss:,.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
