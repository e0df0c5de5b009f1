"""Reading FASTA, plain or gzip, with errors that name the file, the line and the fix. No torch.

`read_fasta_packed` returns a whole file as arrays (`Packed`: the ids, all bases end to end in
one uint8 array, where each record starts, its length and its header's line); `read_fasta`
yields one `Record` at a time and is a view over the same block reader.

The file is read in blocks (about 4 MB) by `fasta_blocks`, and each block is parsed by one
compiled loop (`fasta_kernel`); `Packed` keeps the ids as bytes until they are read. Only a
stretch that the loop refuses is walked line by line (`fasta_lines`), to tolerate spaces at
line ends as before and to report the exact line and column.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Union

import numpy as np

from biodl.data.fasta_blocks import (VALID_BASES, Bases, Blocks, Piece, Unclean, decode_ids,
                                     open_fasta)
from biodl.data.fasta_lines import (FirstLines, Record, duplicate, parse_slowly,
                                    skip_preamble)
from biodl.data.files import _existing, is_gzip
from biodl.errors import BiodlError

__all__ = ["VALID_BASES", "Ids", "Packed", "Record", "read_fasta", "read_fasta_packed"]

BLOCK_BYTES = 4 << 20  # parse size: larger costs more page faults, smaller more calls
PREAMBLE_BYTES = 1 << 16  # read at a time while looking for the first header


@dataclass(frozen=True)
class Packed:
    """The records of a file as arrays, no Python object per record (the ids become strings
    when first read).

    Record i is `ids[i]`, its header is on line `lines[i]`, and its bases (ASCII as in the
    file, case kept, no newlines) are `seq[starts[i]:starts[i] + lengths[i]]`; records lie end
    to end in file order, so `seq` holds all the bases of the file and nothing else.
    """

    ids: Ids  # a Sequence[str]
    seq: np.ndarray  # (total bases,) uint8
    starts: np.ndarray  # (records,) int64
    lengths: np.ndarray  # (records,) int64
    lines: np.ndarray  # (records,) int64, 1-based

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, index: int) -> Record:
        start = int(self.starts[index])
        return Record(self.ids[index], self.seq[start:start + int(self.lengths[index])].tobytes(),
                      int(self.lines[index]))

    def records(self) -> list[Record]:
        ends = self.starts + self.lengths
        return _records(self.ids, _slices(self.seq.tobytes(), self.starts, ends), self.lines)


def _slices(data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[bytes]:
    return list(map(data.__getitem__, map(slice, starts.tolist(), ends.tolist())))


def _piece_records(piece: Piece) -> list[Record]:
    starts = piece.starts
    return _records(piece.ids, _slices(piece.bases.tobytes(), starts, starts + piece.lengths),
                    piece.lines)


def _records(ids: list[str], seqs: list[bytes], lines: np.ndarray) -> list[Record]:
    """The Record tuples, with the cyclic garbage collector paused: it would otherwise walk
    every live object many times over while a million tuples are made (half the time of
    reading short records), and these tuples of str, bytes and int can form no cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return list(map(tuple.__new__, repeat(Record), zip(ids, seqs, lines.tolist())))
    finally:
        if enabled:
            gc.enable()


def read_fasta(path: Path, unique_ids: bool = True) -> Iterator[Record]:
    """Yield records, checking the format and the characters as it goes.

    Raises BiodlError for an empty file, text that is not FASTA, a header without a sequence,
    a character that is not an IUPAC nucleotide code, and (with `unique_ids`) an id seen
    twice. Records are checked a block (about 4 MB) at a time, so an error stops the reading
    before any record of its block is yielded.
    """
    pieces = _pieces(Path(path), _Seen(unique_ids, each_block=True))
    return chain.from_iterable(map(_piece_records, pieces))


def read_fasta_packed(path: Path, unique_ids: bool = True) -> Packed:
    """The whole file as a `Packed`, with the same checks and errors as `read_fasta`."""
    path = _existing(Path(path))
    size = path.stat().st_size
    bases, seen = Bases(4 * size if is_gzip(path) else size), _Seen(unique_ids, each_block=False)
    ids, lengths, lines = Ids(), [], []
    try:
        for piece in _pieces(path, seen, bases):
            ids.add(piece)
            lengths.append(piece.lengths)
            lines.append(piece.lines)
    except BiodlError:
        seen.check(path)  # an id seen twice, if any, came before this error
        raise
    seen.check(path)
    lengths = np.concatenate(lengths)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return Packed(ids, bases.array(), starts, lengths, np.concatenate(lines))


class Ids(Sequence[str]):
    """The ids of a `Packed`, decoded to strings when first read: the reader keeps each
    block's ids as bytes (an id and a newline each), which a million ids turn into strings
    in about 0.1 s, paid only by a caller that reads them."""

    def __init__(self):
        self.parts: list[Union[bytes, list[str]]] = []  # id bytes, or the slow path's strings
        self.count = 0

    def add(self, piece: Piece) -> None:
        self.parts.append(piece.id_text if piece.id_text is not None else piece.ids)
        self.count += len(piece.lengths)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        return self.strings[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.strings)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and self.strings == list(other)

    def __repr__(self) -> str:
        return f"Ids({self.strings!r})"

    @cached_property
    def strings(self) -> list[str]:
        """All the ids; runs of byte parts are decoded at once (one split, not one a block)."""
        ids: list[str] = []
        texts: list[bytes] = []
        for part in self.parts:
            if isinstance(part, bytes):
                texts.append(part)
            else:
                ids += decode_ids(texts) + part
                texts = []
        decoded = decode_ids(texts)
        if not ids:
            return decoded  # the usual case: no slow-path block, no copy of the list
        return ids + decoded


class _Seen:
    """The ids of the blocks read so far, to find one seen twice. With `each_block` (for
    `read_fasta`, which yields as it goes) a set checks each block as it comes; without,
    `check` sorts the ids' hashes once at the end, a third of the cost of the set."""

    def __init__(self, unique: bool, each_block: bool):
        self.unique, self.each_block = unique, each_block
        self.ids: set[str] = set()
        self.pieces: list[Piece] = []
        self.hashes: list[np.ndarray] = []
        self.first: FirstLines | None = None

    def add(self, piece: Piece) -> bool:
        """Take a block's ids; False (an error to report) if one was already seen."""
        if not self.unique:
            return True
        if self.each_block:
            before = len(self.ids)
            self.ids.update(piece.ids)
            if len(self.ids) != before + len(piece.ids):
                return False
        else:
            self.hashes.append(piece.hashes)
        self.pieces.append(piece)
        if self.first is not None:
            self.first.add(piece)
        return True

    def raiseduplicate(self, path: Path, piece: Piece) -> None:
        """Raise the error of the first record of `piece` whose id came before."""
        first = dict(self.first_lines())
        for rid, line in zip(piece.ids, piece.lines.tolist()):
            if rid in first:
                raise duplicate(path, rid, line, first[rid])
            first[rid] = line

    def first_lines(self) -> FirstLines:
        """id -> line of its first header, over the blocks taken so far."""
        if self.first is None:
            self.first = FirstLines(self.unique)
            for piece in self.pieces:
                self.first.add(piece)
        return self.first

    def check(self, path: Path) -> None:
        """Raise the error of the first record (in file order) whose id came before."""
        if not self.hashes:
            return
        hashes = np.concatenate(self.hashes)
        ordered = np.sort(hashes)
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return
        ids = list(chain.from_iterable(piece.ids for piece in self.pieces))
        lines = np.concatenate([piece.lines for piece in self.pieces]).tolist()
        first: dict[str, int] = {}
        for index in np.flatnonzero(np.isin(hashes, ordered[1:][same])).tolist():
            if ids[index] in first:
                raise duplicate(path, ids[index], lines[index], first[ids[index]])
            first[ids[index]] = lines[index]


def _pieces(path: Path, seen: _Seen, out: Optional[Bases] = None) -> Iterator[Piece]:
    """The file's records block by block, every check made; with `out`, the bases go there."""
    started = False
    with open_fasta(_existing(path)) as source:
        head, line = _start(path, source, min(BLOCK_BYTES, PREAMBLE_BYTES))
        for piece in Blocks(source, BLOCK_BYTES, line, head).pieces(out):
            if isinstance(piece, Unclean):
                piece = _slow_piece(path, piece, seen)
                if out is not None:
                    out.add(piece.bases)
            elif not seen.add(piece):
                seen.raiseduplicate(path, piece)
            started = True
            yield piece
    if not started:
        raise BiodlError(f"{path}: no FASTA records (the file is empty or has no '>' header)")


def _start(path: Path, source: BinaryIO, size: int) -> tuple[bytes, int]:
    """The bytes read from the first header on, and its line: blank lines before it are
    skipped, anything else there is not FASTA."""
    text = b""
    while True:
        chunk = bytearray(size)
        got = source.readinto(chunk)
        text += chunk[:got]
        if text.startswith(b">"):
            return text, 1
        if b"\n>" in text or not got or text.strip():
            return skip_preamble(path, text)


def _slow_piece(path: Path, unclean: Unclean, seen: _Seen) -> Piece:
    text = unclean.text
    if b"\r" in text:
        text = text.replace(b"\r\n", b"\n")  # a lone '\r' is then a bad character
    before = seen.first_lines() if seen.unique else FirstLines(False)
    piece = Piece.of_records(list(parse_slowly(path, text, unclean.line, before)),
                             text.count(b"\n"))
    seen.add(piece)
    return piece
