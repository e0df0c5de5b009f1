"""Reading FASTA, plain or gzip, with errors that name the file, the line and the fix. No torch."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from biodl.errors import BiodlError

# Every IUPAC nucleotide code, both cases; what each one means is decided in encoding.py.
VALID_BASES = b"ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Record:
    id: str
    seq: bytes  # ASCII bases as in the file (case kept)
    line: int  # 1-based line of the header


def open_bytes(path: Path) -> BinaryIO:
    """Open a file for binary reading, decompressing gzip whatever its name."""
    path = Path(path)
    if not path.is_file():
        hint = "it is a folder" if path.is_dir() else "check the path in the config"
        raise BiodlError(f"{path}: file not found ({hint})")
    handle = open(path, "rb")
    if handle.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.open(io.BufferedReader(handle), "rb")  # type: ignore[return-value]
    return handle


def read_fasta(path: Path) -> Iterator[Record]:
    """Yield records, checking the format and the characters as it goes.

    Raises BiodlError for an empty file, text that is not FASTA, a header without a sequence,
    a character that is not an IUPAC nucleotide code, and an id seen twice.
    """
    path = Path(path)
    seen: dict[str, int] = {}
    header, start, chunks = None, 0, []
    with open_bytes(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if line.startswith(b">"):
                if header is not None:
                    yield _finish(path, header, start, chunks, seen)
                header, start, chunks = line, number, []
            elif header is None:
                if line.strip():
                    raise BiodlError(f"{path} line {number}: not FASTA: expected a '>' header "
                                     f"before sequence (got {_preview(line)})")
            else:
                line = line.strip()
                bad = line.translate(None, VALID_BASES)
                if bad:
                    raise _bad_character(path, number, line, bad[:1])
                chunks.append(line)
    if header is None:
        raise BiodlError(f"{path}: no FASTA records (the file is empty or has no '>' header)")
    yield _finish(path, header, start, chunks, seen)


def _finish(path: Path, header: bytes, line: int, chunks: list[bytes], seen: dict) -> Record:
    name = header[1:].split(maxsplit=1)
    if not name:
        raise BiodlError(f"{path} line {line}: header '>' has no id; write an id after '>'")
    rid = name[0].decode("ascii", errors="replace")
    seq = b"".join(chunks)
    if not seq:
        raise BiodlError(f"{path} line {line}: record '{rid}' has a header but no sequence; "
                         "remove the record or add its sequence")
    if rid in seen:
        raise BiodlError(f"{path} line {line}: duplicate id '{rid}' (first at line {seen[rid]}); "
                         "ids must be unique within a file")
    seen[rid] = line
    return Record(rid, seq, line)


def _bad_character(path: Path, number: int, line: bytes, char: bytes) -> BiodlError:
    column = line.index(char) + 1
    shown = char.decode("ascii", errors="replace")
    return BiodlError(f"{path} line {number} column {column}: character {shown!r} is not a DNA "
                      "base or IUPAC code; fix the sequence or remove the record")


def _preview(line: bytes) -> str:
    text = line[:30].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > 30 else ""))
