"""FASTA parsing speed: biodl's readers against Biopython and pyfastx, side by side.

Generated files in a temporary folder (deleted afterwards, never committed):
  long:  200 Mbp in 10 kbp records, 60-character lines (genome-like);
  short: 1,000,000 records of 200 bp, 60-character lines (reads/peaks-like);
each plain and gzip (level 1). `--scale` shrinks them (default 0.1 so a run takes about a
minute; the numbers in RESULTS_data.md use --scale 1).

    python benchmarks/fasta_parse.py --scale 1 --repeat 5

Parsers: Bio SimpleFastaParser (the reference), biodl read_fasta (a Record per entry),
biodl read_fasta_packed (arrays; its ids stay bytes until read), the same with every id made
a str, pyfastx.Fastx (C; `pip install biodl[bench]`, skipped with a
note when missing), and for gzip files zlib alone (decompression only, what any reader pays).
Each round runs every parser once, in a seeded random order; the table gives
the median seconds and, for the ratio to SimpleFastaParser, the median of the per-round
ratios, so a load spike on a shared machine hits both sides of a pair. It gives the ratio of
wall-clock seconds and of CPU seconds (`time.process_time`, all threads of the process): on
a machine shared with other jobs the wall clock also counts the time a parser waited for a
core, the CPU seconds do not. biodl inflates gzip in a second thread, so its CPU seconds
include that thread's: the CPU ratio is the conservative one for biodl. The last column is
the ratio of each parser's best round (as `timeit` reports: load only ever adds time).

biodl's reader compiles its parsing loop with numba once per install (cached on disk); the
first read in a process also loads numba (about half a second), which the rounds after the
first do not pay (the median leaves it out; the first round is printed separately).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import tempfile
import time
import zlib
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

from biodl.data.fasta import read_fasta, read_fasta_packed

try:
    import pyfastx
except ImportError:  # optional: pip install biodl[bench]
    pyfastx = None

REFERENCE = "Bio SimpleFastaParser"


def write_fasta(path: Path, records: int, length: int, width: int = 60, seed: int = 0) -> Path:
    """Random ACGT records (with some N) wrapped at `width`."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as handle:
        for start in range(0, records, 1000):
            batch = min(1000, records - start)
            bases = np.frombuffer(b"ACGTN", np.uint8)[rng.choice(5, (batch, length),
                                                                  p=[.24, .24, .24, .24, .04])]
            handle.write(b"".join(_record(start + i, row.tobytes(), width)
                                  for i, row in enumerate(bases)))
    return path


def _record(index: int, seq: bytes, width: int) -> bytes:
    lines = [seq[i:i + width] for i in range(0, len(seq), width)]
    return b">seq%d some description\n" % index + b"\n".join(lines) + b"\n"


def simple_parse(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(len(seq) for _, seq in SimpleFastaParser(handle))


def biodl_parse(path: Path) -> int:
    return sum(len(r.seq) for r in read_fasta(path))


def packed_parse(path: Path) -> int:
    return int(read_fasta_packed(path).lengths.sum())


def packed_ids_parse(path: Path) -> int:
    """read_fasta_packed and every id made a str (`Packed.ids` decodes on first read)."""
    packed = read_fasta_packed(path)
    assert len(list(packed.ids)) == len(packed)
    return int(packed.lengths.sum())


def pyfastx_parse(path: Path) -> int:
    return sum(len(seq) for _, seq in pyfastx.Fastx(str(path), uppercase=False))


def first_read(path: Path) -> None:
    """The first biodl read of the process (numba loaded, the compiled loop read from its
    cache or compiled), which the table's medians leave out."""
    start = time.perf_counter()
    packed_parse(path)
    print(f"first biodl read in this process (loads numba): {time.perf_counter() - start:.2f} s")


def zlib_alone(path: Path) -> Optional[int]:
    """Decompress only, in the reader's chunk size; no count (it would include headers)."""
    inflate = zlib.decompressobj(31)
    with open(path, "rb") as handle:
        for data in iter(partial(handle.read, 1 << 18), b""):
            inflate.decompress(data)
    return None


def parsers(path: Path) -> dict[str, Callable[[Path], Optional[int]]]:
    chosen = {REFERENCE: simple_parse, "biodl read_fasta": biodl_parse,
              "biodl read_fasta_packed": packed_parse,
              "biodl read_fasta_packed, ids as str": packed_ids_parse}
    if pyfastx is not None:
        chosen["pyfastx.Fastx (C)"] = pyfastx_parse
    if path.suffix == ".gz":
        chosen["zlib alone (decompression)"] = zlib_alone
    return chosen


Times = dict[str, list[tuple[float, float]]]  # parser -> (wall, CPU) seconds per round


def timed_rounds(path: Path, repeat: int) -> Times:
    """Wall and CPU seconds of each parser in each round, in a seeded random order per round
    (what ran just before changes what a parser's fresh memory costs); every
    parser that counts must agree on the number of bases."""
    chosen = parsers(path)
    names = list(chosen)
    times: Times = {name: [] for name in names}
    counts = set()
    for round_ in range(repeat):
        for name in random.Random(round_).sample(names, len(names)):
            wall, cpu = time.perf_counter(), time.process_time()
            count = chosen[name](path)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
            if count is not None:
                counts.add(count)
    assert len(counts) == 1, f"parsers disagree on the number of bases: {counts}"
    return times


def report(label: str, path: Path, times: Times) -> None:
    megabytes = path.stat().st_size / 1e6
    reference = times[REFERENCE]
    for name, rounds in times.items():
        wall = statistics.median(w for w, _ in rounds)
        cpu = statistics.median(c for _, c in rounds)
        by_wall = statistics.median(r[0] / s[0] for r, s in zip(reference, rounds))
        by_cpu = statistics.median(r[1] / s[1] for r, s in zip(reference, rounds))
        best = min(w for w, _ in reference) / min(w for w, _ in rounds)
        print(f"| {label} | {megabytes:.0f} | {name} | {wall:.3f} | {cpu:.3f} | "
              f"{megabytes / wall:.0f} | {by_wall:.2f} | {by_cpu:.2f} | {best:.2f} |", flush=True)


def make_files(folder: Path, scale: float) -> dict[str, Path]:
    long = write_fasta(folder / "long.fa", int(20_000 * scale), 10_000)
    short = write_fasta(folder / "short.fa", int(1_000_000 * scale), 200, seed=1)
    files = {"long (10 kbp records)": long, "short (200 bp records)": short}
    for label, path in list(files.items()):
        packed = path.with_suffix(".fa.gz")
        packed.write_bytes(gzip.compress(path.read_bytes(), compresslevel=1))
        files[label.replace(")", ", gzip -1)")] = packed
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 200 Mbp and 1M records")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per file")
    args = parser.parse_args()
    if pyfastx is None:
        print("note: pyfastx is not installed (pip install biodl[bench]); its rows are skipped")
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder), args.scale)
        print(f"load average before: {os.getloadavg()[0]:.1f}\n")
        first_read(next(iter(files.values())))
        print("| file | MB | parser | wall s | CPU s | MB/s | x SimpleFastaParser, wall | "
              "x SimpleFastaParser, CPU | x SimpleFastaParser, best wall of each |")
        print("|---|---|---|---|---|---|---|---|---|")
        for label, path in files.items():
            report(label, path, timed_rounds(path, args.repeat))
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
