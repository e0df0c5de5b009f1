"""A tiny genome with BigWig tracks whose values are known functions of position, written by
the tests: 4 chromosomes of 3,000 random bases; `cov.bw` holds (p % 7) + chromosome number at
base p, `plus.bw` p % 5 and `minus.bw` 10 + p % 3; peaks every 500 bases from 400."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHROMS = {f"chr{i}": 3000 for i in range(1, 5)}


def random_genome(lengths: dict[str, int], seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    return {name: "".join(rng.choice(list("ACGT"), n)) for name, n in lengths.items()}


def write_fasta(path: Path, seqs: dict[str, str]) -> Path:
    path.write_text("".join(f">{name}\n" + "".join(seq[i:i + 60] + "\n"
                                                   for i in range(0, len(seq), 60))
                            for name, seq in seqs.items()))
    return path


def write_bigwig(path: Path, lengths: dict[str, int], value) -> Path:
    """`value(chrom, positions)` -> float values of every base."""
    import pyBigWig

    track = pyBigWig.open(str(path), "w")
    track.addHeader(list(lengths.items()))
    for chrom, length in lengths.items():
        values = np.asarray(value(chrom, np.arange(length)), dtype=np.float64)
        track.addEntries(chrom, 0, values=values, span=1, step=1)
    track.close()
    return path


def number(chrom: str) -> int:
    return int(chrom.removeprefix("chr"))


def cov(chrom: str, p: np.ndarray) -> np.ndarray:
    return (p % 7) + number(chrom)


def plus(chrom: str, p: np.ndarray) -> np.ndarray:
    return p % 5


def minus(chrom: str, p: np.ndarray) -> np.ndarray:
    return 10 + p % 3


def toy(folder: Path) -> dict[str, Path]:
    seqs = random_genome(CHROMS)
    peaks = folder / "peaks.bed"
    peaks.write_text("".join(f"{c}\t{s - 10}\t{s + 10}\n" for c in CHROMS
                             for s in range(400, 2700, 500)))
    return {"genome": write_fasta(folder / "genome.fa", seqs),
            "cov": write_bigwig(folder / "cov.bw", CHROMS, cov),
            "plus": write_bigwig(folder / "plus.bw", CHROMS, plus),
            "minus": write_bigwig(folder / "minus.bw", CHROMS, minus), "peaks": peaks}


def overrides(files: dict[str, Path], stranded: bool = False) -> list[str]:
    tracks = (f"{{chip: [{files['plus']}, {files['minus']}]}}" if stranded
              else f"{{cov: {files['cov']}}}")
    return ["data.format=coverage", f"data.genome={files['genome']}", f"data.tracks={tracks}",
            f"data.peaks=[{files['peaks']}]", "data.window=100", "data.output_length=40",
            "data.val_chroms=[chr3]", "data.test_chroms=[chr4]", "data.batch_size=4",
            "task.metrics=null"]
