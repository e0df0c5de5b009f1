"""Random genome windows: index build, then fetch + one-hot, windows/s, without loading the genome.

    python benchmarks/genome_windows.py --mbp 100 --windows 20000 --length 1000

A generated genome (`--mbp` Mbp over 5 chromosomes, 60-base lines, some N runs) goes to a
temporary folder. The index is built once (timed); then the same random windows are read
three ways, interleaved, best of `--repeat`:
  seek:      biodl Genome.fetch_codes (os.pread per window; the genome stays on disk);
  seek+1hot: the same followed by encoding.onehot, in batches of 256 (the training path);
  in memory: slices of the whole genome held as bytes (the upper bound, costs its size in RAM).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from biodl.data import encoding
from biodl.data.genome import Genome, Window, build_fai

BATCH = 256


def write_genome(path: Path, mbp: float, chroms: int = 5, seed: int = 0) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    lengths = {f"chr{i + 1}": int(mbp * 1e6 * (chroms + 1 - i) / sum(range(2, chroms + 2)))
               for i in range(chroms)}
    with open(path, "wb") as handle:
        for name, length in lengths.items():
            seq = letters[rng.integers(0, 4, length)]
            seq[length // 3: length // 3 + 50_000] = ord("N")  # a gap, as assemblies have
            handle.write(b">%s\n" % name.encode())
            handle.write(b"\n".join(seq[i:i + 60].tobytes() for i in range(0, length, 60)) + b"\n")
    return lengths


def random_windows(lengths: dict[str, int], count: int, length: int, seed: int) -> list[Window]:
    rng = np.random.default_rng(seed)
    names = list(lengths)
    which = rng.integers(0, len(names), count)
    return [Window(names[c], s, s + length) for c, s in
            zip(which.tolist(), (rng.random(count) * [lengths[names[c]] - length for c in which])
                .astype(int).tolist())]


def in_memory(path: Path) -> dict[str, bytes]:
    genome, name, lines = {}, None, []
    for line in path.read_bytes().split(b"\n"):
        if line.startswith(b">"):
            if name:
                genome[name] = b"".join(lines)
            name, lines = line[1:].decode(), []
        else:
            lines.append(line)
    genome[name] = b"".join(lines)
    return genome


def methods(genome: Genome, memory: dict[str, bytes], windows: list[Window]) -> dict:
    table = encoding.onehot_table()
    batches = [windows[i:i + BATCH] for i in range(0, len(windows), BATCH)]
    return {
        "biodl seek (fetch_codes)": lambda: [genome.fetch_codes(b) for b in batches],
        "biodl seek + onehot": lambda: [encoding.onehot(genome.fetch_codes(b), table)
                                        for b in batches],
        "in memory slices (bound)": lambda: [b"".join(memory[c][s:e] for c, s, e in b)
                                             for b in batches],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbp", type=float, default=100)
    parser.add_argument("--windows", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "genome.fa"
        lengths = write_genome(path, args.mbp)
        start = time.perf_counter()
        build_fai(path)
        print(f"genome {path.stat().st_size / 1e6:.0f} MB, {len(lengths)} chromosomes; "
              f"index built in {time.perf_counter() - start:.2f} s")
        genome = Genome(path)
        windows = random_windows(lengths, args.windows, args.length, seed=1)
        run(methods(genome, in_memory(path), windows), len(windows), args.repeat)


def run(candidates: dict, count: int, repeat: int) -> None:
    best = {name: float("inf") for name in candidates}
    for _ in range(repeat):
        for name, method in candidates.items():
            start = time.perf_counter()
            method()
            best[name] = min(best[name], time.perf_counter() - start)
    print("| method | windows/s | x in memory |")
    print("|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {count / seconds:,.0f} | "
              f"{best['in memory slices (bound)'] / seconds:.2f} |")


if __name__ == "__main__":
    main()
