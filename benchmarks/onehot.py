"""One-hot and token encoding speed, side by side with this machine's memory-copy bandwidth.

    python benchmarks/onehot.py --batch 1024 --length 1000 --repeat 7

Every method encodes the same (batch, length) uint8 codes (random ACGT with 4% N); the runs
are interleaved and the best of `--repeat` is kept. "of copy" is the method's float32 output
bytes per second over `np.copyto` of a preallocated float32 array of the same size, measured
in the same run: the part of memory bandwidth the encoder reaches.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from biodl.data import encoding

PYTHON_ROWS = 8  # the per-character loop is timed on a few rows only


def python_loop(seqs: list[bytes]) -> np.ndarray:
    """The baseline a first version would write: one Python step per base."""
    out = np.zeros((len(seqs), 4, len(seqs[0])), dtype=np.float32)
    for i, seq in enumerate(seqs):
        for j, base in enumerate(seq):
            k = "ACGT".find(chr(base))
            if k >= 0:
                out[i, k, j] = 1.0
    return out


def per_channel_take(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """biodl's previous onehot: one np.take per channel."""
    out = np.empty((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    for channel in range(4):
        np.take(table[:, channel], codes, out=out[:, channel])
    return out


def per_channel_compare(codes: np.ndarray) -> np.ndarray:
    """The reference bar: one comparison per channel (uppercase ACGT only, no policy)."""
    out = np.empty((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    for channel, base in enumerate(b"ACGT"):
        np.equal(codes, base, out=out[:, channel], casting="unsafe")
    return out


def methods(codes: np.ndarray) -> dict:
    zeros, iupac = encoding.onehot_table("zeros"), encoding.onehot_table("iupac")
    out = np.empty((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    rows = [bytes(row) for row in codes[:PYTHON_ROWS]]
    return {
        "python per-character loop": (lambda: python_loop(rows), PYTHON_ROWS),
        "numpy take per channel (old)": (lambda: per_channel_take(codes, zeros), len(codes)),
        "numpy compare per channel (bar)": (lambda: per_channel_compare(codes), len(codes)),
        "biodl onehot, zeros": (lambda: encoding.onehot(codes, zeros), len(codes)),
        "biodl onehot, zeros, out=": (lambda: encoding.onehot(codes, zeros, out=out), len(codes)),
        "biodl onehot, iupac (4% N)": (lambda: encoding.onehot(codes, iupac), len(codes)),
        "biodl tokens (int64)": (lambda: encoding.tokens(codes), len(codes)),
    }


def best_times(codes: np.ndarray, repeat: int) -> tuple[dict[str, float], float]:
    candidates = methods(codes)
    best = {name: float("inf") for name in candidates}
    source = np.ones(codes.size * 4, dtype=np.float32)
    target = np.empty_like(source)
    copy = float("inf")
    for _ in range(repeat):
        for name, (run, _) in candidates.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
        start = time.perf_counter()
        np.copyto(target, source)
        copy = min(copy, time.perf_counter() - start)
    return best, copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    codes = letters[rng.choice(5, (args.batch, args.length), p=[.24, .24, .24, .24, .04])]
    check(codes)
    best, copy = best_times(codes, args.repeat)
    copy_rate = codes.size * 16 / copy
    print(f"memory copy (np.copyto, float32, {codes.size * 16 / 1e6:.0f} MB): "
          f"{copy_rate / 1e9:.2f} GB/s")
    print("| method | Mbases/s | output GB/s | of copy | x python loop |")
    print("|---|---|---|---|---|")
    counts = {name: rows for name, (_, rows) in methods(codes).items()}
    python_rate = counts["python per-character loop"] * args.length / best["python per-character loop"]
    for name, seconds in best.items():
        bases = counts[name] * args.length / seconds
        width = 8 if "tokens" in name else 16  # bytes written per base
        print(f"| {name} | {bases / 1e6:.1f} | {bases * width / 1e9:.2f} | "
              f"{bases * width / copy_rate:.0%} | {bases / python_rate:.0f} |")


def check(codes: np.ndarray) -> None:
    """All encoders agree before any is timed."""
    table = encoding.onehot_table("zeros")
    expected = per_channel_take(codes, table)
    assert np.array_equal(encoding.onehot(codes, table), expected)
    assert np.array_equal(per_channel_compare(codes), expected)
    assert np.array_equal(python_loop([bytes(r) for r in codes[:2]]), expected[:2])


if __name__ == "__main__":
    main()
