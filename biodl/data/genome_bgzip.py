"""A bgzip-compressed genome read through its .fai and .gzi indexes (pysam, optional). No torch.

`open_genome(path)` gives `biodl.data.genome.Genome` for a plain FASTA and `BgzipGenome` for
a bgzip one: both `fetch(chrom, start, end)` (0-based, half-open, N outside the chromosome)
and `lengths`, and neither reads the genome whole. A plain-gzip FASTA cannot be read at random
and is refused with the command that makes it bgzip.
"""

from __future__ import annotations

from pathlib import Path

from biodl.data.files import is_gzip
from biodl.data.genome import Genome
from biodl.errors import BiodlError


def open_genome(path: Path):
    """A Genome (plain FASTA) or a BgzipGenome (bgzip FASTA), opened for random access."""
    path = Path(path)
    if path.is_file() and is_gzip(path):
        return BgzipGenome(path)
    return Genome(path)


class BgzipGenome:
    """pysam.FastaFile behind Genome's interface (fetch with N padding, lengths, close)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            import pysam
        except ImportError:
            raise BiodlError(f"{path}: a compressed genome needs pysam (`pip install pysam`); "
                             f"or decompress it once (`gunzip -k {path}`)") from None
        try:
            self._fasta = pysam.FastaFile(str(path))
        except (OSError, ValueError) as error:
            raise BiodlError(f"{path}: cannot be read at random ({error}); a compressed genome "
                             f"must be bgzip, not gzip: `zcat {path} | bgzip > genome.fa.gz`, "
                             "or decompress it") from None
        self.lengths = dict(zip(self._fasta.references, self._fasta.lengths))

    def fetch(self, chrom: str, start: int, end: int) -> bytes:
        first, last = max(start, 0), min(end, self.lengths[chrom])
        inside = self._fasta.fetch(chrom, first, last).encode("ascii") if first < last else b""
        left = min(max(-start, 0), end - start)
        return b"N" * left + inside + b"N" * (end - start - left - len(inside))

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> "BgzipGenome":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
