"""FASTA parsing speed: biodl.read_fasta (validating) against Biopython, side by side.

Two generated files in a temporary folder (deleted afterwards, never committed):
  long:  200 Mbp in 10 kbp records, 60-character lines (genome-like);
  short: 1,000,000 records of 200 bp, 60-character lines (reads/peaks-like);
plus `long.gz` (gzip level 1) for the compressed path. `--scale` shrinks both (default 0.1
so a run takes seconds; the numbers in RESULTS_data.md use --scale 1).

    python benchmarks/fasta_parse.py --scale 1 --repeat 3

Each parser runs once per repeat, interleaved, and the best time is reported, so the ratios
are measured under the same machine load.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
from Bio import SeqIO
from Bio.SeqIO.FastaIO import SimpleFastaParser

from biodl.data.fasta import read_fasta


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


def biodl_parse(path: Path) -> int:
    return sum(len(r.seq) for r in read_fasta(path))


def simple_parse(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(len(seq) for _, seq in SimpleFastaParser(handle))


def seqio_parse(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(len(r.seq) for r in SeqIO.parse(handle, "fasta"))


PARSERS = {"biodl read_fasta": biodl_parse, "Bio SimpleFastaParser": simple_parse,
           "Bio SeqIO.parse": seqio_parse}


def best_times(path: Path, repeat: int) -> dict[str, float]:
    """Best wall time of each parser, runs interleaved; all must agree on the base count."""
    best = {name: float("inf") for name in PARSERS}
    counts = set()
    for _ in range(repeat):
        for name, parse in PARSERS.items():
            start = time.perf_counter()
            counts.add(parse(path))
            best[name] = min(best[name], time.perf_counter() - start)
    assert len(counts) == 1, f"parsers disagree on the number of bases: {counts}"
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 200 Mbp and 1M records")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder), args.scale)
        print("| file | MB | parser | seconds | MB/s | x SimpleFastaParser |")
        print("|---|---|---|---|---|---|")
        for label, path in files.items():
            report(label, path, best_times(path, args.repeat))


def make_files(folder: Path, scale: float) -> dict[str, Path]:
    long = write_fasta(folder / "long.fa", int(20_000 * scale), 10_000)
    short = write_fasta(folder / "short.fa", int(1_000_000 * scale), 200, seed=1)
    packed = folder / "long.fa.gz"
    packed.write_bytes(gzip.compress(long.read_bytes(), compresslevel=1))
    return {"long (10 kbp records)": long, "short (200 bp records)": short,
            "long, gzip -1": packed}


def report(label: str, path: Path, best: dict[str, float]) -> None:
    megabytes = path.stat().st_size / 1e6
    reference = best["Bio SimpleFastaParser"]
    for name, seconds in best.items():
        print(f"| {label} | {megabytes:.0f} | {name} | {seconds:.3f} | "
              f"{megabytes / seconds:.0f} | {reference / seconds:.2f} |")


if __name__ == "__main__":
    main()
