"""Reading CSV/TSV tables of sequences and labels (plain or gzip). No torch."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from biodl.config.binding import closest
from biodl.data.files import open_bytes
from biodl.errors import BiodlError


@dataclass
class Table:
    path: Path
    columns: dict[str, list[str]]  # column name -> its values, in row order
    lines: list[int]  # the file line of each row (1-based; the header is line 1)

    def column(self, name: str, key: str) -> list[str]:
        if name not in self.columns:
            raise BiodlError(f"{self.path}: no column '{name}' (set by {key})"
                             f"{closest(name, self.columns)}; columns: {', '.join(self.columns)}"
                             f"{_delimiter_hint(list(self.columns))}")
        return self.columns[name]


TAB_SUFFIXES = (".tsv", ".tab", ".txt")


def _delimiter_hint(header: list[str]) -> str:
    """A header read as one column that holds another delimiter was split on the wrong one."""
    if len(header) == 1:
        for char, name in (("\t", "tab"), (";", ";"), (",", ",")):
            if char in header[0]:
                return f" (one column holding {name!r}: set data.delimiter={name})"
    return ""


def delimiter_for(path: Path, delimiter: str = "auto") -> str:
    """The field delimiter: `auto` is a tab for .tsv/.tab/.txt (also under .gz), else a comma;
    `tab` is a tab; any other value (",", "\t", ";") is used as given."""
    if delimiter == "tab":
        return "\t"
    if delimiter != "auto":
        return delimiter
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    return "\t" if suffixes and suffixes[-1] in TAB_SUFFIXES else ","


def iter_rows(path: Path, delimiter: str = "auto") -> Iterator[tuple[int, dict[str, str]]]:
    """Stream (line, {column: value}) from a delimited file with a header, without loading it."""
    with open_bytes(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter_for(path, delimiter))
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise BiodlError(f"{path}: empty table; expected a header row")
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise BiodlError(f"{path} line {reader.line_num}: {len(row)} fields, the header "
                                 f"has {len(header)}; check the delimiter (data.delimiter) and "
                                 "quoting")
            yield reader.line_num, dict(zip(header, (v.strip() for v in row)))


def read_table(path: Path, delimiter: str = "auto") -> Table:
    """All columns of a delimited file with a header row; every row must be complete."""
    with open_bytes(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter_for(path, delimiter))
        header = next(reader, None)
        if not header:
            raise BiodlError(f"{path}: empty table; expected a header row such as "
                             "'sequence,label'")
        names = [h.strip() for h in header]
        values: list[list[str]] = [[] for _ in names]
        lines = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(names):
                raise BiodlError(f"{path} line {reader.line_num}: {len(row)} fields, the header "
                                 f"has {len(names)}; check the delimiter (data.delimiter) and "
                                 "quoting")
            for column, value in zip(values, row):
                column.append(value.strip())
            lines.append(reader.line_num)
    if not lines:
        raise BiodlError(f"{path}: the table has a header but no rows")
    return Table(Path(path), dict(zip(names, values)), lines)
