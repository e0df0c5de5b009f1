"""The line-by-line FASTA reader: the reference for what `fasta_kernel`'s compiled loop must
give, and the path that names the line and column of a problem. It reads the stretches of
whole records that the loop refused. No torch."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

from biodl.data.fasta_blocks import VALID_BASES, Piece
from biodl.errors import BiodlError


class Record(NamedTuple):
    """One FASTA record. A NamedTuple, not a dataclass: with a million short records, building
    them in C (`_records`) costs a quarter of a frozen dataclass's __init__."""

    id: str
    seq: bytes  # ASCII bases as in the file (case kept)
    line: int  # 1-based line of the header


class FirstLines(dict):
    """id -> line of its first header, for the slow path's duplicate check."""

    def __init__(self, unique: bool):
        super().__init__()
        self.unique = unique

    def add(self, piece: Piece) -> None:
        for rid, line in zip(piece.ids, piece.lines.tolist()):
            self.setdefault(rid, line)


def skip_preamble(path: Path, block: bytes) -> tuple[bytes, int]:
    """Drop blank lines before the first header; anything else there is not FASTA."""
    start = block.find(b"\n>") + 1 if block.find(b"\n>") >= 0 else len(block)
    for number, text in enumerate(block[:start].split(b"\n"), start=1):
        if text.strip():
            shown = preview(text.rstrip(b"\r"))
            raise BiodlError(f"{path} line {number}: not FASTA: expected a '>' header "
                             f"before sequence (got {shown})")
    return block[start:], block.count(b"\n", 0, start) + 1


def parse_slowly(path: Path, block: bytes, line: int, seen: FirstLines) -> Iterator[Record]:
    for index, part in enumerate(block.split(b"\n>")):
        header, _, body = part.partition(b"\n")
        yield finish(path, header[index == 0:], line, checked_lines(path, body, line + 1), seen)
        line += part.count(b"\n") + 1


def checked_lines(path: Path, body: bytes, first: int) -> bytes:
    """The slow path: strip each line and name the line and column of a bad character."""
    lines = []
    for number, text in enumerate(body.split(b"\n"), start=first):
        text = text.strip()
        bad = text.translate(None, VALID_BASES)
        if bad:
            raise bad_character(path, number, text, bad[:1])
        lines.append(text)
    return b"".join(lines)


def finish(path: Path, header: bytes, line: int, seq: bytes, seen: FirstLines) -> Record:
    name = header.split(None, 1)
    if not name:
        raise BiodlError(f"{path} line {line}: header '>' has no id; write an id after '>'")
    rid = name[0].decode("ascii", errors="replace")
    if not seq:
        raise BiodlError(f"{path} line {line}: record '{rid}' has a header but no sequence; "
                         "remove the record or add its sequence")
    if seen.unique and rid in seen:
        raise duplicate(path, rid, line, seen[rid])
    seen.setdefault(rid, line)
    return Record(rid, seq, line)


def duplicate(path: Path, rid: str, line: int, first: int) -> BiodlError:
    return BiodlError(f"{path} line {line}: duplicate id '{rid}' (first at line {first}); ids "
                      "must be unique within a file (or set data.duplicate_ids=allow where ids "
                      "are only names)")


def bad_character(path: Path, number: int, line: bytes, char: bytes) -> BiodlError:
    column = line.index(char) + 1
    shown = char.decode("ascii", errors="replace")
    return BiodlError(f"{path} line {number} column {column}: character {shown!r} is not a DNA "
                      "base or IUPAC code; fix the sequence or remove the record")


def preview(line: bytes) -> str:
    text = line[:30].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > 30 else ""))
