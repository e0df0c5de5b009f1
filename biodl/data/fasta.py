"""Reading FASTA, plain or gzip, with errors that name the file, the line and the fix. No torch.

The reader works on big blocks of whole records rather than line by line: a block is split at
each '\\n>', a record's newlines are deleted and its characters checked with two
`bytes.translate` calls (C speed). Only a record that fails the check is walked line by line,
to tolerate spaces at line ends as before and to report the exact line and column.
"""

from __future__ import annotations

import gzip
import io
from itertools import chain, repeat
from pathlib import Path
from typing import BinaryIO, Iterator, NamedTuple

import numpy as np

from biodl.errors import BiodlError

# Every IUPAC nucleotide code, both cases; what each one means is decided in encoding.py.
VALID_BASES = b"ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"
BLOCK_BYTES = 8 << 20  # read size: large enough that per-read overhead vanishes
_GZIP_MAGIC = b"\x1f\x8b"
_RARE_SPACES = (b"\t", b"\r", b"\x0b", b"\x0c", b"\n ")  # ids need bytes.split after these


class Record(NamedTuple):
    """One FASTA record. A NamedTuple, not a dataclass: with a million short records, building
    them in C (`_records`) costs a quarter of a frozen dataclass's __init__."""

    id: str
    seq: bytes  # ASCII bases as in the file (case kept)
    line: int  # 1-based line of the header


def _records(ids: list[str], seqs: list[bytes], lines: list[int]) -> list[Record]:
    return list(map(tuple.__new__, repeat(Record), zip(ids, seqs, lines)))


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_bytes(path: Path) -> BinaryIO:
    """Open a file for binary reading, decompressing gzip whatever its name."""
    path = Path(path)
    if not path.is_file():
        hint = "it is a folder" if path.is_dir() else "check the path"
        raise BiodlError(f"{path}: file not found ({hint})")
    handle = open(path, "rb")
    if handle.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.open(io.BufferedReader(handle), "rb")  # type: ignore[return-value]
    return handle


def read_fasta(path: Path, unique_ids: bool = True) -> Iterator[Record]:
    """Yield records, checking the format and the characters as it goes.

    Raises BiodlError for an empty file, text that is not FASTA, a header without a sequence,
    a character that is not an IUPAC nucleotide code, and (with `unique_ids`) an id seen
    twice. Records are
    checked a block (about 8 MB) at a time, so an error stops the reading before any record
    of its block is yielded.
    """
    return chain.from_iterable(_record_lists(Path(path), unique_ids))


class _Seen(dict):
    """The ids read so far (id -> first line); with `unique` False, repeats are accepted."""

    def __init__(self, unique: bool):
        super().__init__()
        self.unique = unique

    def clashes(self, block_ids: dict[str, int], count: int) -> bool:
        if not self.unique:
            return False
        return len(block_ids) != count or not self.keys().isdisjoint(block_ids)


def _record_lists(path: Path, unique: bool) -> Iterator[list[Record]]:
    seen = _Seen(unique)
    line = 1
    with open_bytes(path) as handle:
        for block in read_blocks(handle, BLOCK_BYTES):
            if not seen and not block.startswith(b">"):
                block, line = _skip_preamble(path, block)
                if not block:
                    continue
            records, line = _parse_block(path, block, line, seen)
            yield records
    if not seen:
        raise BiodlError(f"{path}: no FASTA records (the file is empty or has no '>' header)")


def read_blocks(handle: BinaryIO, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Yield the file in blocks that each end just before a line starting with '>'."""
    pending: list = []
    while data := handle.read(size):
        cut = data.rfind(b"\n>")
        if cut >= 0:
            pending.append(memoryview(data)[:cut + 1])  # joined without a copy of its own
            yield b"".join(pending)
            pending = [data[cut + 1:]]
        elif data[:1] == b">" and pending and pending[-1][-1:] == b"\n":
            yield b"".join(pending)
            pending = [data]
        else:
            pending.append(data)
    if pending:
        yield b"".join(pending)


def _skip_preamble(path: Path, block: bytes) -> tuple[bytes, int]:
    """Drop blank lines before the first header; anything else there is not FASTA."""
    start = block.find(b"\n>") + 1 if block.find(b"\n>") >= 0 else len(block)
    for number, text in enumerate(block[:start].split(b"\n"), start=1):
        if text.strip():
            shown = _preview(text.rstrip(b"\r"))
            raise BiodlError(f"{path} line {number}: not FASTA: expected a '>' header "
                             f"before sequence (got {shown})")
    return block[start:], block.count(b"\n", 0, start) + 1


def _parse_block(path: Path, block: bytes, line: int, seen: _Seen) -> tuple[list[Record], int]:
    """The records of one block (it starts with '>') and the line number after it.

    Newlines go in one `translate` of the whole block; numpy finds the header lines, and the
    checks run once per block in C. If any check fails, the block is parsed again record by
    record to name the first problem exactly.
    """
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")  # a lone '\r' is then a bad character
    layout = _Layout(block)
    stripped = block.translate(None, b"\n")
    headers = [stripped[a:b] for a, b in zip(layout.header_starts, layout.seq_starts)]
    seqs = [stripped[a:b] for a, b in zip(layout.seq_starts, layout.seq_ends)]
    ids = _ids(headers)
    lines = [line + number for number in layout.header_lines]
    if not _block_is_clean(ids, seqs, lines, seen, stripped, headers):
        return list(_parse_slowly(path, block, line, seen)), line + layout.lines
    return _records(ids, seqs, lines), line + layout.lines


class _Layout:
    """Where the headers and sequences of a block lie once its newlines are deleted."""

    def __init__(self, block: bytes):
        codes = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(codes == 10)  # the newline ending each line
        self.lines = len(ends)
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))  # the last line has no newline
        starts = np.concatenate(([0], ends[:-1] + 1))
        header_lines = np.flatnonzero(codes[starts] == ord(">"))
        # position once newlines are deleted = position - newlines before it (k on line k)
        self.header_starts = (starts[header_lines] - header_lines + 1).tolist()  # after '>'
        self.seq_starts = (ends[header_lines] - header_lines).tolist()
        self.seq_ends = [start - 1 for start in self.header_starts[1:]]  # before the next '>'
        self.seq_ends.append(len(block) - self.lines)
        self.header_lines = header_lines.tolist()


def _ids(headers: list[bytes]) -> list[str]:
    """The id (first word) of each header, as `bytes.split` finds it, a block at a time."""
    text = b"\n".join(headers)
    if any(space in text for space in _RARE_SPACES) or text.startswith(b" "):
        return [(h.split(None, 1) or [b""])[0].decode("ascii", errors="replace") for h in headers]
    return [h.partition(" ")[0] for h in text.decode("ascii", errors="replace").split("\n")]


def _block_is_clean(ids: list[str], seqs: list[bytes], lines: list[int], seen: _Seen,
                    stripped: bytes, headers: list[bytes]) -> bool:
    """All ids present and new, all sequences present and made of IUPAC codes; if so, the ids
    join `seen`.

    The characters are checked in one pass: what `translate` leaves of the whole block must
    be exactly what it leaves of its headers and their '>'.
    """
    block_ids = dict(zip(ids, lines))
    if not (all(ids) and all(seqs)) or seen.clashes(block_ids, len(ids)):
        return False
    left = b">".join(headers).translate(None, VALID_BASES)
    if stripped.translate(None, VALID_BASES) != b">" + left:
        return False
    seen.update(block_ids)
    return True


def _parse_slowly(path: Path, block: bytes, line: int, seen: _Seen) -> Iterator[Record]:
    for index, part in enumerate(block.split(b"\n>")):
        header, _, body = part.partition(b"\n")
        yield _finish(path, header[index == 0:], line, _checked_lines(path, body, line + 1), seen)
        line += part.count(b"\n") + 1


def _checked_lines(path: Path, body: bytes, first: int) -> bytes:
    """The slow path: strip each line and name the line and column of a bad character."""
    lines = []
    for number, text in enumerate(body.split(b"\n"), start=first):
        text = text.strip()
        bad = text.translate(None, VALID_BASES)
        if bad:
            raise _bad_character(path, number, text, bad[:1])
        lines.append(text)
    return b"".join(lines)


def _finish(path: Path, header: bytes, line: int, seq: bytes, seen: _Seen) -> Record:
    name = header.split(None, 1)
    if not name:
        raise BiodlError(f"{path} line {line}: header '>' has no id; write an id after '>'")
    rid = name[0].decode("ascii", errors="replace")
    if not seq:
        raise BiodlError(f"{path} line {line}: record '{rid}' has a header but no sequence; "
                         "remove the record or add its sequence")
    if seen.unique and rid in seen:
        raise BiodlError(f"{path} line {line}: duplicate id '{rid}' (first at line {seen[rid]}); "
                         "ids must be unique within a file (or set data.duplicate_ids=allow "
                         "where ids are only names)")
    seen.setdefault(rid, line)
    return Record(rid, seq, line)


def _bad_character(path: Path, number: int, line: bytes, char: bytes) -> BiodlError:
    column = line.index(char) + 1
    shown = char.decode("ascii", errors="replace")
    return BiodlError(f"{path} line {number} column {column}: character {shown!r} is not a DNA "
                      "base or IUPAC code; fix the sequence or remove the record")


def _preview(line: bytes) -> str:
    text = line[:30].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > 30 else ""))
