"""A FASTA file as blocks of whole records, each parsed by the compiled loop of
`fasta_kernel` into arrays. No torch.

Plain files are read straight into one reusable buffer; gzip files (every member: bgzip,
`cat a.gz b.gz`) are inflated by ISA-L (python-isal, about twice zlib's speed) in a second
thread, so decompressing and parsing overlap. A block ends where the buffer does; the record
that the buffer cuts is carried into the next block, and a record longer than the buffer
doubles it.

`Blocks.pieces` returns the clean records of each block as a `Piece`, and hands any stretch
that the loop calls unclean back as bytes, for `fasta.py` to read line by line.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Iterator, NamedTuple, Optional, Sequence, Union

import numpy as np
from isal import igzip_threaded, isal_zlib

from biodl.data.fasta_kernel import UNCLEAN, bad_bytes, hash_lines, scan
from biodl.data.files import GZIP_MAGIC
from biodl.errors import BiodlError

# Every IUPAC nucleotide code, both cases; what each one means is decided in encoding.py.
VALID_BASES = b"ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"
_BAD = bad_bytes(VALID_BASES)


@dataclass(frozen=True)
class Piece:
    """Records of one block: ids, their bases end to end, lengths, header lines, and how many
    lines of the file the block spans (its '\\n' count).

    The ids come as `id_text` (each id's bytes and a newline, as the compiled loop writes
    them; decoded when `ids` is first read, so a reader can decode many blocks at once) or,
    from the slow path, as `known_ids`."""

    id_text: Optional[bytes]
    bases: np.ndarray  # uint8; record i is bases[starts[i]:starts[i] + lengths[i]]
    lengths: np.ndarray  # int64
    lines: np.ndarray  # int64, 1-based
    hashes: np.ndarray  # uint64, of each id's bytes (to find an id seen twice)
    newlines: int
    known_ids: Optional[list[str]] = None

    @cached_property
    def ids(self) -> list[str]:
        return self.known_ids if self.known_ids is not None else decode_ids([self.id_text])

    @property
    def starts(self) -> np.ndarray:
        return np.cumsum(self.lengths) - self.lengths

    @classmethod
    def of_records(cls, records: Sequence, newlines: int) -> Piece:
        """From (id, seq, line) records, as the slow path builds them."""
        lengths = np.fromiter(map(len, (r[1] for r in records)), np.int64, len(records))
        bases = np.frombuffer(b"".join(r[1] for r in records), dtype=np.uint8)
        ids = [r[0] for r in records]
        names = "".join(rid + "\n" for rid in ids).encode("ascii", errors="replace")
        return cls(None, bases, lengths, np.fromiter((r[2] for r in records), np.int64,
                                                     len(records)),
                   hash_lines(np.frombuffer(names, dtype=np.uint8)), newlines, ids)


def decode_ids(texts: list[bytes]) -> list[str]:
    """The ids of `id_text`s, in order: ASCII, each other byte replaced (as in the slow path)."""
    text = b"".join(texts)  # each id ends in a newline: split at the ones between
    return text[:-1].decode("ascii", errors="replace").split("\n") if text else []


class Unclean(NamedTuple):
    """Whole records the loop refused (a space, a bad character, an empty id or sequence),
    for `fasta.py` to read line by line from `line` on."""

    text: bytes
    line: int


class Blocks:
    """The records of a FASTA file (its first byte a '>'), block by block.

    `out`, when given, is where every block's bases go, end to end (`read_fasta_packed`'s
    array, grown as needed); else each block gets its own array.
    """

    def __init__(self, source: BinaryIO, size: int, first_line: int, head: bytes = b""):
        self.source, self.line = source, first_line
        self.buffer = np.empty(max(size, len(head), 1), dtype=np.uint8)
        self.buffer[:len(head)] = np.frombuffer(head, dtype=np.uint8)
        self.filled, self.final = len(head), False
        self.scratch: Optional[tuple[np.ndarray, ...]] = None

    def pieces(self, out: Optional[Bases] = None) -> Iterator[Union[Piece, Unclean]]:
        while self._fill():
            data = self.buffer[:self.filled]
            clean, piece, used = self._scan(data, out)
            if not clean and piece is None:
                text = data.tobytes()
                used = len(text) if self.final else text.rfind(b"\n>") + 1
                if used:
                    yield Unclean(text[:used], self.line)
                    self.line += text.count(b"\n", 0, used)
            elif piece is not None:
                self.line += piece.newlines
                yield piece
            self._keep(used)

    def _scan(self, data: np.ndarray, out: Optional[Bases]) -> tuple[bool, Optional[Piece], int]:
        """(whether the loop found nothing unclean, the records before anything it refused or
        the block cuts, the bytes they take)."""
        bases = out.room(len(data)) if out is not None else np.empty(len(data), np.uint8)
        at = out.size if out is not None else 0
        ids, lengths, lines, hashes = self._scratch(len(data))
        status, records, written, id_bytes, used, newlines = scan(
            data, self.final, _BAD, bases, at, ids, lengths, lines, hashes, self.line)
        if not records:
            return status != UNCLEAN, None, 0
        if out is not None:
            out.size += written
        kept = bases[at:at + written] if out is None else bases[:0]  # no view of `out`: it grows
        return status != UNCLEAN, Piece(ids[:id_bytes].tobytes(), kept, lengths[:records].copy(),
                                        lines[:records].copy(), hashes[:records].copy(),
                                        newlines), used

    def _scratch(self, size: int) -> tuple[np.ndarray, ...]:
        """`scan`'s outputs for a block of `size` bytes, kept from block to block (fresh
        arrays cost a page fault per 4 kB on every block)."""
        if self.scratch is None or len(self.scratch[0]) < size + 1:
            most = size // 4 + 1  # a record takes at least '>', an id, '\n' and a base
            self.scratch = (np.empty(size + 1, np.uint8), np.empty(most, np.int64),
                            np.empty(most, np.int64), np.empty(most, np.uint64))
        return self.scratch

    def _fill(self) -> bool:
        """Top the buffer up from the file; False when nothing is left."""
        while not self.final and self.filled < len(self.buffer):
            got = self.source.readinto(memoryview(self.buffer)[self.filled:])
            self.final = not got
            self.filled += got
        return self.filled > 0

    def _keep(self, used: int) -> None:
        """Drop the `used` bytes; with none used the record is longer than the buffer."""
        rest = self.filled - used
        if used == 0 and self.final:
            raise AssertionError("a FASTA block made no progress")  # a bug, never bad input
        if used == 0:
            grown = np.empty(2 * len(self.buffer), dtype=np.uint8)
            grown[:rest] = self.buffer[:rest]
            self.buffer = grown
        elif rest:
            self.buffer[:rest] = self.buffer[used:self.filled].copy()
        self.filled = rest


class Bases:
    """A growing uint8 array (numpy memory: filled a block at a time, it pages in fast)."""

    def __init__(self, capacity: int):
        self.data = np.empty(max(capacity, 1 << 16), dtype=np.uint8)
        self.size = 0

    def room(self, more: int) -> np.ndarray:
        """The array, grown so that `more` bytes fit after what it holds."""
        if self.size + more > len(self.data):
            grown = np.empty(max(2 * len(self.data), self.size + more), dtype=np.uint8)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        return self.data

    def add(self, bases: np.ndarray) -> None:
        self.room(len(bases))[self.size:self.size + len(bases)] = bases
        self.size += len(bases)

    def array(self) -> np.ndarray:
        return self.data[:self.size]


def open_fasta(path: Path) -> BinaryIO:
    """The file for `readinto`: plain, or gzip inflated by ISA-L in a second thread."""
    handle = open(path, "rb")
    if handle.peek(2)[:2] != GZIP_MAGIC:
        return handle
    handle.close()
    return _NamedInflate(path)


class _NamedInflate:
    """igzip_threaded's reader, whose errors name the file and the fix."""

    def __init__(self, path: Path):
        self.path = path
        self.stream = igzip_threaded.open(path, "rb", threads=1)

    def readinto(self, view: memoryview) -> int:
        try:
            return self.stream.readinto(view)
        except EOFError:
            raise BiodlError(f"{self.path}: the gzip stream ends early (truncated file); copy "
                             "or download it again") from None
        except (isal_zlib.error, zlib.error, OSError) as error:
            raise BiodlError(f"{self.path}: not a valid gzip file ({error}); check the file "
                             "or compress it again") from None

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> _NamedInflate:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.close()
        except (EOFError, isal_zlib.error, zlib.error, OSError):
            pass  # already reported by readinto
