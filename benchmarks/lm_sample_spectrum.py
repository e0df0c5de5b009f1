"""3-mer spectrum distance between language-model samples and held-out DNA, with baselines.

The spectrum of a set of sequences: the frequencies of its 64 overlapping 3-mers (counted
within each sequence, skipping any 3-mer with a base other than ACGT), summing to 1. Distances
to the reference spectrum q, the held-out windows of the run's own pipeline (the lm data
module's test split, all of it):
- TV = 0.5 * sum |p - q| over the 64 3-mers (total variation, 0 to 1);
- JS = Jensen-Shannon divergence in bits, 0.5 * KL(p || m) + 0.5 * KL(q || m), m = (p + q) / 2.
Rows, each NUM x LENGTH bases, mean and range over SEEDS: the model at each temperature;
uniform random bases; an order-2 Markov chain fitted on the training windows (it models 3-mers
exactly, so it is the spectrum's ceiling for a model of the training contigs); random chunks
of the training windows (real DNA of the same size: the floor set by sampling noise). The
last row compares the whole training spectrum with the held-out one.

    .venv/bin/python benchmarks/lm_sample_spectrum.py RUN_ID_OR_CKPT [--num 50] [--length 500]
        [--temperatures 0.8 1.0 1.5] [--seeds 0 1 2 3 4]
(a run id is looked up in MLFLOW_TRACKING_URI, or ./mlruns.db as `biodl fit` writes it)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from biodl.config import config_from_yaml
from biodl.data.datamodules import build_datamodule
from biodl.inference.sample import load_language_model, sample

INDEX = np.full(256, 4, dtype=np.int64)  # ASCII -> 0..3 for ACGT, 4 for anything else
INDEX[list(b"ACGT")] = np.arange(4)


def counts3(seqs: Sequence[bytes | str]) -> np.ndarray:
    """(64,) counts of overlapping ACGT 3-mers, index 16a + 4b + c."""
    total = np.zeros(64, dtype=np.int64)
    for seq in seqs:
        raw = seq.encode() if isinstance(seq, str) else seq
        x = INDEX[np.frombuffer(raw, dtype=np.uint8)]
        a, b, c = x[:-2], x[1:-1], x[2:]
        ok = (a < 4) & (b < 4) & (c < 4)
        total += np.bincount((16 * a + 4 * b + c)[ok], minlength=64)
    return total


def spectrum(seqs: Sequence[bytes | str]) -> np.ndarray:
    counts = counts3(seqs)
    return counts / counts.sum()


def tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def js_bits(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        keep = a > 0
        return float((a[keep] * np.log2(a[keep] / m[keep])).sum())
    return 0.5 * kl(p) + 0.5 * kl(q)


def gc(seqs: Sequence[str | bytes]) -> float:
    text = b"".join(s.encode() if isinstance(s, str) else s for s in seqs)
    return (text.count(b"G") + text.count(b"C")) / max(1, sum(text.count(b) for b in b"ACGT"))


def uniform_random(num: int, length: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join("ACGT"[i] for i in rng.integers(4, size=length)) for _ in range(num)]


def markov2_sampler(train: Sequence[bytes]) -> Callable[[int, int, int], list[str]]:
    """Sequences from an order-2 chain on the training 3-mer counts (first two bases from the
    training 2-mer frequencies)."""
    counts = counts3(train).reshape(16, 4) + 1  # add-one, as biodl.data.markov does
    next_cdf = np.cumsum(counts / counts.sum(axis=1, keepdims=True), axis=1)  # (16, 4)
    start_cdf = np.cumsum(counts.sum(axis=1) / counts.sum())  # (16,)

    def draw(num: int, length: int, seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        pair = np.minimum((start_cdf <= rng.random(num)[:, None]).sum(axis=1), 15)  # (num,)
        out = np.zeros((num, length), dtype=np.int64)
        out[:, 0], out[:, 1] = pair // 4, pair % 4
        for t in range(2, length):
            cdf = next_cdf[4 * out[:, t - 2] + out[:, t - 1]]  # (num, 4)
            out[:, t] = np.minimum((cdf <= rng.random(num)[:, None]).sum(axis=1), 3)
        return ["".join("ACGT"[i] for i in row) for row in out]
    return draw


def real_chunks(windows: Sequence[bytes]) -> Callable[[int, int, int], list[bytes]]:
    """Random LENGTH-base chunks of the (full-length) windows."""
    def draw(num: int, length: int, seed: int) -> list[bytes]:
        rng = np.random.default_rng(seed)
        long_enough = [w for w in windows if len(w) >= length]
        picks = rng.choice(len(long_enough), size=num, replace=False)
        starts = [int(rng.integers(len(long_enough[i]) - length + 1)) for i in picks]
        return [long_enough[i][s:s + length] for i, s in zip(picks, starts)]
    return draw


def checkpoint_of(source: str) -> Path:
    if Path(source).is_file():
        return Path(source)
    from biodl.tracking import fetch_checkpoint

    return fetch_checkpoint(source)


def row(name: str, draws: list, reference: np.ndarray) -> str:
    tvs = [tv(spectrum(d), reference) for d in draws]
    jss = [js_bits(spectrum(d), reference) for d in draws]
    gcs = [gc(d) for d in draws]
    return (f"| {name} | {np.mean(tvs):.4f} ({min(tvs):.4f}-{max(tvs):.4f}) | "
            f"{np.mean(jss):.5f} ({min(jss):.5f}-{max(jss):.5f}) | {np.mean(gcs):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a .ckpt file, an MLflow run id or models:/NAME/VERSION")
    parser.add_argument("--num", type=int, default=50)
    parser.add_argument("--length", type=int, default=500)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.8, 1.0, 1.5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = checkpoint_of(args.source)
    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True)["biodl_config"]
    datamodule = build_datamodule(config_from_yaml(recorded, [], f"{checkpoint} config").data)
    train, held_out = datamodule.windows("train"), datamodule.windows("test")
    reference = spectrum(held_out)
    model = load_language_model(checkpoint)
    n, length, seeds = args.num, args.length, args.seeds
    print(f"{checkpoint}: {len(train)} training windows, {len(held_out)} test windows "
          f"({int(counts3(held_out).sum()):,} test 3-mers, GC {gc(held_out):.3f}); "
          f"{n} x {length} bases per draw, seeds {seeds}")
    print("| sequences | TV distance to test 3-mers | JS (bits) | GC |")
    print("|---|---|---|---|")
    for temperature in args.temperatures:
        started = time.perf_counter()
        draws = [sample(model, n, length, temperature, seed=s) for s in seeds]
        seconds = (time.perf_counter() - started) / len(seeds)
        print(row(f"LM, temperature {temperature:g} ({seconds:.1f} s a draw)", draws, reference),
              flush=True)
    print(row("uniform random bases", [uniform_random(n, length, s) for s in seeds], reference))
    markov = markov2_sampler(train)
    print(row("order-2 Markov chain (train)", [markov(n, length, s) for s in seeds], reference))
    chunks = real_chunks(train)
    print(row("real DNA: random train chunks", [chunks(n, length, s) for s in seeds], reference))
    print(f"| all training windows ({int(counts3(train).sum()):,} 3-mers) | "
          f"{tv(spectrum(train), reference):.4f} | {js_bits(spectrum(train), reference):.5f} | "
          f"{gc(train):.3f} |")


if __name__ == "__main__":
    main()
