"""Variants/s and peak memory of `biodl variant-effect` on a synthetic genome and VCF, by the
number of variants (memory should stay flat as the VCF grows).

    .venv/bin/python benchmarks/variant_effect.py --variants 10000 1000000

A random genome (`--mbp`, 5 chromosomes, 60-base lines) and, per size, a sorted VCF are
written to a temporary folder under /tmp (deleted afterwards); the .fai is built once, untimed.
Records: 90% SNVs, 4% deletions and 4% insertions of 1-3 bases, 2% multi-allelic SNVs (two
ALTs) and one symbolic <DEL> per 1,000 (skipped), REF read from the genome. The model is a
small CNN with random weights (`build_model("cnn1d", channels=--channels)`, a binary head,
`--window` bp, trained_reverse_complement set so both strands are scored) saved as a biodl
checkpoint. Each run is a child process running the CLI (`biodl variant-effect model.ckpt
--vcf v.vcf.gz --genome genome.fa -o effects.tsv`) with OMP_NUM_THREADS=--threads; its peak RSS
comes from `os.wait4`. "baseline" is the peak RSS of a child that imports the same libraries
and loads the model, then exits: "above baseline" is what the command itself adds. "run s"
is the command's own time after the imports; variants/s = ALT alleles scored / run s.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genome_fit_memory import chromosome_lengths, write_genome  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHILD = """\
import sys, time
import biodl.tasks  # the imports, apart from the command's own time
from biodl.cli import app
from biodl.inference.model import load
if sys.argv[1] == "baseline":
    load("model.ckpt")
    sys.exit(0)
started = time.perf_counter()
code = app(sys.argv[1:], standalone_mode=False)
print(f"run seconds {time.perf_counter() - started:.3f}")
sys.exit(code or 0)
"""


def write_checkpoint(path: Path, window: int, channels: list[int]) -> None:
    """A biodl checkpoint of an untrained small CNN that `biodl.inference.model.load` reads."""
    import pytorch_lightning as pl
    import torch

    from biodl.data.spec import InputSpec, Kind, Target
    from biodl.models import build_model
    from biodl.tasks import ClassificationTask

    torch.manual_seed(0)
    model_spec = {"name": "cnn1d", "kwargs": {"channels": channels, "seq_len": window,
                                               "num_outputs": 1}}
    spec = InputSpec(format="fasta", kind=Kind.ONEHOT, target=Target.CLASS,
                     output_names=("background", "site"), length=window,
                     trained_reverse_complement=True)
    task = ClassificationTask(build_model("cnn1d", **model_spec["kwargs"]), num_classes=2,
                              class_names=list(spec.output_names), mode="binary",
                              model_spec=model_spec, input_spec=spec.to_dict())
    torch.save({"state_dict": task.state_dict(), "hyper_parameters": dict(task.hparams),
                "pytorch-lightning_version": pl.__version__, "biodl_task": "classification"},
               path)


def read_chromosomes(path: Path) -> dict[str, bytes]:
    """The synthetic genome in memory (the benchmark's parent only; the child never is)."""
    chroms, name, parts = {}, None, []
    for line in open(path, "rb"):
        if line.startswith(b">"):
            if name:
                chroms[name] = b"".join(parts)
            name, parts = line[1:].strip().decode(), []
        else:
            parts.append(line.strip())
    chroms[name] = b"".join(parts)
    return chroms


def write_vcf(path: Path, chroms: dict[str, bytes], count: int, seed: int = 0) -> int:
    """A sorted gzip VCF of `count` records; the ALT alleles it holds to score."""
    rng = np.random.default_rng(seed)
    sizes = np.array([len(s) for s in chroms.values()])
    per = rng.multinomial(count, sizes / sizes.sum())
    alleles = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for (name, seq), n in zip(chroms.items(), per):
            positions = np.sort(rng.integers(1, len(seq) - 4, n))
            kinds = rng.random(n)
            lines = []
            for pos, kind in zip(positions.tolist(), kinds.tolist()):
                ref, alt = _alleles(seq, pos, kind, rng)
                alleles += 0 if alt.startswith("<") else alt.count(",") + 1
                lines.append(f"{name}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n")
            out.write("".join(lines))
    return alleles


def _alleles(seq: bytes, pos: int, kind: float, rng) -> tuple[str, str]:
    ref = chr(seq[pos - 1])
    others = [b for b in "ACGT" if b != ref]
    if kind < 0.001:
        return ref, "<DEL>"
    if kind < 0.90:
        return ref, others[int(rng.integers(3))]
    if kind < 0.94:
        return seq[pos - 1:pos + int(rng.integers(1, 4))].decode(), ref
    if kind < 0.98:
        return ref, ref + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 4))))
    return ref, f"{others[0]},{others[1]}"


def child(folder: Path, threads: int, *args: str) -> tuple[float, float, int, str]:
    """(peak RSS MB, run seconds, exit code, stdout) of one child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    with open(folder / "out.log", "wb") as out, open(folder / "err.log", "wb") as err:
        process = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=folder, env=env,
                                   stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
    code, log = os.waitstatus_to_exitcode(status), (folder / "out.log").read_text()
    if code:
        print(log[-2000:], (folder / "err.log").read_text()[-3000:], file=sys.stderr)
    seconds = float(log.rsplit("run seconds ", 1)[1]) if "run seconds" in log else float("nan")
    return usage.ru_maxrss / 1024, seconds, code, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--mbp", type=float, default=20)
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 16])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    from biodl.data.genome import Genome

    with tempfile.TemporaryDirectory(dir="/tmp", prefix="biodl_variants_") as tmp:
        folder = Path(tmp)
        write_genome(folder / "genome.fa", chromosome_lengths(args.mbp))
        Genome(folder / "genome.fa")  # builds the .fai, untimed
        chroms = read_chromosomes(folder / "genome.fa")
        write_checkpoint(folder / "model.ckpt", args.window, args.channels)
        base, _, _, _ = child(folder, args.threads, "baseline")
        print(f"model: cnn1d channels {args.channels}, window {args.window}, both strands "
              f"(mean), batch {args.batch_size}, {args.threads} thread(s); genome {args.mbp:g} "
              f"Mbp; baseline RSS (imports + model) {base:,.0f} MB")
        print("| records | alleles | run s | variants/s | peak RSS MB | above baseline MB | "
              "exit |")
        print("|---|---|---|---|---|---|---|")
        for count in args.variants:
            alleles = write_vcf(folder / "v.vcf.gz", chroms, count)
            rss, seconds, code, _ = child(
                folder, args.threads, "variant-effect", "model.ckpt", "--vcf", "v.vcf.gz",
                "--genome", "genome.fa", "-o", "effects.tsv", "--force",
                "--batch-size", str(args.batch_size))
            print(f"| {count:,} | {alleles:,} | {seconds:.1f} | {alleles / seconds:,.0f} | "
                  f"{rss:,.0f} | {rss - base:,.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
