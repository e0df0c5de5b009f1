"""Attribution speed: biodl's ISM against tangermeme's saturation_mutagenesis, DeepLIFT/SHAP
sequences/s, and the peak memory of `biodl explain` streaming 100,000 sequences.

    .venv/bin/python benchmarks/explain_speed.py --checkpoint CKPT --sequences 100000

Side by side in one process, one thread, best of `--repeat`, on the same model and sequences:
  ism:     `biodl.interpret.attribute(model, x, "ism")` (regional: each layer of the conv
           front recomputed over the window a substitution reaches, positions in blocks, the
           head on the spliced feature map) against `tangermeme.saturation_mutagenesis`
           (batch_size 32; fast=False, and fast=True: fastISM, which tangermeme tries only for jobs
           it estimates at > 30 s);
           the outputs are checked equal (tangermeme centres over the bases; so is ours here);
  deeplift_shap: biodl (tangermeme's rules, 10 dinucleotide-shuffled references);
  memory:  `biodl explain CKPT FASTA --method saliency` in a child process on a FASTA of
           `--sequences` random records of the model's window; its peak RSS (/usr/bin/time).
Models: a random Basset-like CNN on 8 x 1 kbp sequences, and the checkpoint's model (e.g. the
E. coli promoter CNN, 81 bp) on 100 test-like random sequences.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from biodl.interpret import attribute, make_references
from biodl.models import build_model


def random_onehot(n: int, length: int, seed: int = 0) -> torch.Tensor:
    bases = torch.randint(0, 4, (n, length), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.one_hot(bases, 4).transpose(1, 2).float()


def best_time(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare_ism(name: str, model, x: torch.Tensor, target: int, repeat: int,
                batch_size: int) -> list[str]:
    import warnings

    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    ours_s, ours = best_time(lambda: attribute(model, x, "ism", target,
                                               batch_size=batch_size), repeat)
    centred = ours - ours.mean(dim=1, keepdim=True)
    rows = []
    for fast in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_s, theirs = best_time(lambda: saturation_mutagenesis(
                model, x, target=target, device="cpu", hypothetical=True, fast=fast), repeat)
        difference = float((centred - theirs.float()).abs().max())
        n = len(x)
        rows.append(f"| {name} | ISM vs fast={fast} | {n / ours_s:.2f} | {n / theirs_s:.2f} | "
                    f"{theirs_s / ours_s:.2f} | max difference {difference:.1e} |")
    return rows


def deeplift_rate(name: str, model, x: torch.Tensor, target: int, repeat: int) -> str:
    refs = make_references(x, 10)
    seconds, _ = best_time(lambda: attribute(model, x, "deeplift_shap", target,
                                             references=refs, batch_size=64), repeat)
    return f"| {name} | DeepLIFT/SHAP (10 refs) | {len(x) / seconds:.2f} | | | |"


def peak_memory(checkpoint: Path, sequences: int, length: int) -> str:
    """Peak RSS of `biodl explain` on `sequences` random records, in a child process."""
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        fasta = Path(folder) / "many.fa"
        rng = np.random.default_rng(0)
        with open(fasta, "w") as out:
            for i in range(sequences):
                out.write(f">s{i}\n{''.join(rng.choice(list('ACGT'), length))}\n")
        command = [sys.executable, "-m", "biodl.cli", "explain", str(checkpoint), str(fasta),
                   "--method", "saliency", "--batch-size", "256", "--top-k", "3",
                   "-o", str(Path(folder) / "out")]
        # /usr/bin/time measures the exec'd command alone: a forked child's ru_maxrss would
        # start at this (large) process's own resident size
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], cwd=folder, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "MLFLOW_TRACKING_URI": ""})
        seconds = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"biodl explain failed: {done.stderr[-500:]}")
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        size = (Path(folder) / "out" / "attributions.npz").stat().st_size / 2**20
    return (f"| {checkpoint.name} | `biodl explain --method saliency`, {sequences:,} x "
            f"{length} bp | {sequences / seconds:.0f} | | | peak RSS {peak:.0f} MiB, "
            f".npz {size:.0f} MiB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--sequences", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ism-batch", type=int, default=512)
    parser.add_argument("--memory-only", action="store_true", help="only the streaming row")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from biodl.inference.model import load

    task, spec, _ = load(args.checkpoint)
    trained = task.model.eval()
    torch.manual_seed(0)
    basset = build_model("basset", seq_len=1000, channels=[64, 64, 64], hidden=[128, 128],
                         num_outputs=2).eval()
    rows = ["| model | method | biodl seq/s | tangermeme seq/s | ratio | notes |",
            "|---|---|---|---|---|---|"]
    if args.memory_only:
        print("\n".join([*rows, peak_memory(args.checkpoint, args.sequences, spec.length)]))
        return
    rows += compare_ism("basset-like, 8 x 1 kbp", basset, random_onehot(8, 1000), 1,
                        args.repeat, args.ism_batch)
    rows += compare_ism(f"{args.checkpoint.name}, 100 x {spec.length} bp", trained,
                        random_onehot(100, spec.length), 0, args.repeat, args.ism_batch)
    rows.append(deeplift_rate("basset-like, 8 x 1 kbp", basset, random_onehot(8, 1000), 1,
                              args.repeat))
    rows.append(deeplift_rate(f"{args.checkpoint.name}, 100 x {spec.length} bp", trained,
                              random_onehot(100, spec.length), 0, args.repeat))
    rows.append(peak_memory(args.checkpoint, args.sequences, spec.length))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
