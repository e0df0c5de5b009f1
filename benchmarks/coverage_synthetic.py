"""A synthetic genome with planted motifs and footprint coverage, written as FASTA + BigWig +
narrowPeak, for `pipelines/coverage_synthetic` and the coverage benchmarks.

The footprint model: sites are planted with a 12-base motif with 0-3 mismatches (30% with a
second copy 25-60 bases away); then every match of the final sequence with at most 3
mismatches, on either strand (planted or by chance), is a site of strength 0.55 ** mismatches,
so coverage is a function of the sequence alone. Expected coverage per base is a floor of
`background` plus, per site, height x strength x a Gaussian (sd 35 bases) around the site, with
a dip to 15% over the motif's 12 bases (the bound factor protects them); observed coverage is
Poisson around it. Each planted site is a narrowPeak whose summit is the site +- 10 bases.
The data is synthetic: nothing here resembles a real assay beyond this shape.

    python benchmarks/coverage_synthetic.py OUT_DIR   # 5 x 5 Mbp, a site every ~15 kbp

The defaults (25 Mbp, about 1,670 planted sites) are what `pipelines/coverage_synthetic` is
measured on; the tests write 5 x 30 kbp.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

MOTIF = "GCCACCAGGGGG"  # CTCF-like core
CHROMS, LENGTH, SPACING = 5, 5_000_000, 15_000  # the defaults: 25 Mbp
SD, DIP, DIP_DEPTH = 35.0, 6, 0.15
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


def genome(rng: np.random.Generator, length: int) -> np.ndarray:
    """Random bases, 42% GC."""
    return BASES[rng.choice(4, size=length, p=[0.29, 0.21, 0.21, 0.29])]


def variant(rng: np.random.Generator, mismatches: int) -> np.ndarray:
    motif = np.frombuffer(MOTIF.encode(), dtype=np.uint8).copy()
    for position in rng.choice(len(motif), size=mismatches, replace=False):
        motif[position] = rng.choice([b for b in BASES if b != motif[position]])
    return motif if rng.random() < 0.5 else reverse_complement(motif)


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    table[BASES] = BASES[::-1]
    return table[codes[::-1]]


def plant(rng: np.random.Generator, seq: np.ndarray, spacing: int) -> tuple[list, list]:
    """Motifs every ~`spacing` bases: (centre, strength) per site, (centre, summit) per peak."""
    sites, peaks = [], []
    position = spacing // 2
    while position < len(seq) - spacing // 2:
        mismatches = int(rng.integers(0, 4))
        strength = 0.55 ** mismatches
        seq[position - 6:position + 6] = variant(rng, mismatches)
        sites.append((position, strength))
        if rng.random() < 0.3:  # a second copy nearby
            other = position + int(rng.integers(25, 60))
            extra = int(rng.integers(0, 4))
            seq[other - 6:other + 6] = variant(rng, extra)
            sites.append((other, 0.55 ** extra))
        peaks.append((position, position + int(rng.integers(-10, 11))))
        position += int(rng.integers(spacing // 2, 3 * spacing // 2))
    return sites, peaks


def matches(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centres, mismatches) of every motif match with at most 3 mismatches, either strand."""
    motif = np.frombuffer(MOTIF.encode(), dtype=np.uint8)
    best = np.zeros(len(seq) - len(motif) + 1, dtype=np.int8)
    for pattern in (motif, reverse_complement(motif)):
        same = np.zeros(len(best), dtype=np.int8)
        for k, base in enumerate(pattern.tolist()):
            same += seq[k:k + len(best)] == base
        np.maximum(best, same, out=best)
    starts = np.flatnonzero(best >= len(motif) - 3)
    return starts + len(motif) // 2, len(motif) - best[starts].astype(np.int64)


def expected(length: int, sites: list, height: float, background: float) -> np.ndarray:
    rate = np.full(length, background, dtype=np.float64)
    offsets = np.arange(-4 * int(SD), 4 * int(SD) + 1)
    shape = np.exp(-0.5 * (offsets / SD) ** 2)
    shape[np.abs(offsets) < DIP] *= DIP_DEPTH
    for centre, strength in sites:
        where = centre + offsets
        keep = (where >= 0) & (where < length)
        rate[where[keep]] += height * strength * shape[keep]
    return rate


def write_fasta(path: Path, records: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as out:
        for name, seq in records.items():
            out.write(f">{name}\n".encode())
            lines = np.full((-(-len(seq) // 60), 61), ord("\n"), dtype=np.uint8)
            padded = np.concatenate([seq, np.zeros(lines.shape[0] * 60 - len(seq), np.uint8)])
            lines[:, :60] = padded.reshape(-1, 60)
            out.write(lines.tobytes().replace(b"\x00", b""))


def write_bigwig(path: Path, counts: dict[str, np.ndarray]) -> None:
    """Non-zero bases only: BigWig readers take absent bases as no coverage."""
    import pyBigWig

    track = pyBigWig.open(str(path), "w")
    track.addHeader([(name, len(c)) for name, c in counts.items()])
    for name, c in counts.items():
        where = np.flatnonzero(c).astype(np.int64)
        track.addEntries([name] * len(where), where, ends=where + 1,
                         values=c[where].astype(np.float64))
    track.close()


def write_peaks(path: Path, peaks: dict[str, list]) -> None:
    with open(path, "w") as out:
        for name, rows in peaks.items():
            for centre, summit in rows:
                start = centre - 100
                out.write(f"{name}\t{start}\t{centre + 100}\tpeak\t0\t.\t0\t0\t0\t"
                          f"{summit - start}\n")


def generate(folder: Path, chroms: int, length: int, spacing: int = SPACING, height: float = 12.0,
             background: float = 0.02, seed: int = 0) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    seqs, counts, peaks = {}, {}, {}
    for i in range(1, chroms + 1):
        name = f"chr{i}"
        seqs[name] = genome(rng, length)
        _, peaks[name] = plant(rng, seqs[name], spacing)
        centres, mismatches = matches(seqs[name])
        sites = list(zip(centres.tolist(), (0.55 ** mismatches).tolist()))
        counts[name] = rng.poisson(expected(length, sites, height, background)).astype(np.float32)
    paths = {"genome": folder / "genome.fa", "track": folder / "coverage.bw",
             "peaks": folder / "peaks.narrowPeak"}
    write_fasta(paths["genome"], seqs)
    write_bigwig(paths["track"], counts)
    write_peaks(paths["peaks"], peaks)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chroms", type=int, default=CHROMS)
    parser.add_argument("--length", type=int, default=LENGTH, help="bases per chromosome")
    parser.add_argument("--spacing", type=int, default=SPACING, help="mean bases between sites")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    paths = generate(args.folder, args.chroms, args.length, args.spacing, seed=args.seed)
    print(f"{args.chroms} x {args.length:,} bp written in {time.perf_counter() - started:.1f} s: "
          + ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
