"""Reading the inputs users give inference commands, as raw records. No torch.

- sequences: a FASTA (plain or gzip) or a CSV/TSV with a `sequence` column (and optional
  `id`), yielding `(id, bases, where)`;
- images: a folder (searched recursively) or a CSV manifest with a `path` column;
- series: a CSV/TSV with an `id` column and `<series>_<day>` columns (`infected_0`, ...),
  in percent of the population, as `biodl fit` simulated them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from biodl.data.fasta import read_fasta
from biodl.data.files import open_bytes
from biodl.data.spec import InputSpec
from biodl.data.tables import iter_rows
from biodl.errors import BiodlError
from biodl.vocab import IMAGE_SUFFIXES

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
Record = tuple[str, bytes, str]  # id, bases, where (for error messages)


def sequence_records(path: Path) -> Iterator[Record]:
    """Records of a FASTA or of a table with a `sequence` column, streamed."""
    if is_fasta(path):
        for record in read_fasta(path):
            yield record.id, record.seq, f"{path} line {record.line}: record '{record.id}'"
        return
    for number, (line, row) in enumerate(iter_rows(path)):
        if "sequence" not in row:
            raise BiodlError(f"{path}: no 'sequence' column; give a FASTA file or a CSV/TSV "
                             "with columns id (optional) and sequence")
        rid = row.get("id", str(number))
        yield rid, row["sequence"].encode(), f"{path} line {line}: record '{rid}'"


def is_fasta(path: Path) -> bool:
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith(FASTA_SUFFIXES):
        return True
    with open_bytes(path) as handle:
        return handle.read(1) == b">"


def image_files(path: Path) -> list[Path]:
    """Image files of a folder (sorted, recursive) or of a manifest's `path` column."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise BiodlError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        return files
    files = []
    for line, row in iter_rows(path):
        if "path" not in row:
            raise BiodlError(f"{path}: no 'path' column; give an image folder or a CSV with "
                             "a path column (relative to the CSV's folder)")
        files.append(path.parent / row["path"])
    return files


def series_columns(spec: InputSpec) -> list[str]:
    """The columns a series table must have, in model order: `<series>_<day>`."""
    return [f"{name}_{day}" for name in spec.channels for day in range(spec.length)]


def series_rows(path: Path, spec: InputSpec) -> Iterator[tuple[str, np.ndarray]]:
    """(id, (C, L) float64 percent) per row of a series table."""
    columns = series_columns(spec)
    for number, (line, row) in enumerate(iter_rows(path)):
        missing = [c for c in columns if c not in row]
        if missing:
            raise BiodlError(f"{path}: no column '{missing[0]}' ({len(missing)} missing); the "
                             f"model reads {', '.join(spec.channels)} on days 0-"
                             f"{spec.length - 1} as columns {columns[0]} ... {columns[-1]}")
        try:
            values = np.array([float(row[c]) for c in columns])
        except ValueError:
            raise BiodlError(f"{path} line {line}: a value is not a number; give percents of "
                             "the population") from None
        yield row.get("id", str(number)), values.reshape(len(spec.channels), spec.length)
