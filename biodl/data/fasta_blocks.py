"""A FASTA file in blocks of whole records, and one block (it starts with '>') to arrays,
with numpy and bytes operations only: no Python step per record for the bases. No torch.

Plain files are sliced from a memory map; gzip files are inflated by zlib directly, member
after member.

For a block of n bytes and r records the work is a handful of C passes over the n bytes
(find the newlines; delete them with one `bytes.replace`; copy the records out past their
headers; check every base with one `bytes.translate`), a few numpy operations on r-sized
arrays, and one `str.split` that makes the r ids. `pack_block` returns None when a check
fails; `fasta.py` then parses that block line by line to name the problem.
"""

from __future__ import annotations

import mmap
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Optional, Sequence

import numpy as np

from biodl.errors import BiodlError

# Every IUPAC nucleotide code, both cases; what each one means is decided in encoding.py.
VALID_BASES = b"ACGTNRYSWKMBDHVUacgtnryswkmbdhvu"
MAX_ID_WINDOW = 256  # ids are looked for in this many bytes after '>' (longer: per header)
SHORT_ID_WINDOW = 16  # tried first: most ids are shorter
MAX_ROW_GROUPS = 8  # `_bases` copies rows when records have at most this many lengths
MASK_BELOW = 400  # bytes per record under which `_bases` masks rather than joins
IN_PLACE_ABOVE = 4096  # bytes per record above which bases stay where they are in the block
GZIP_READ_BYTES = 1 << 18  # compressed bytes handed to zlib at a time
GZIP_OUT_BYTES = 16 << 20  # most bytes one zlib call may return (bounds memory)
_GZIP_MAGIC = b"\x1f\x8b"
_RARE_SPACES = (b"\t", b"\r", b"\x0b", b"\x0c", b"\n ")  # ids need bytes.split after these
_NEWLINES = np.full(MAX_ID_WINDOW, 10, dtype=np.uint8)


@dataclass(frozen=True)
class Piece:
    """The records of one block: ids, their bases end to end, lengths and header lines."""

    ids: list[str]
    data: bytes  # record i's bases are data[starts[i]:starts[i] + lengths[i]]
    starts: np.ndarray  # int64
    lengths: np.ndarray  # int64
    lines: np.ndarray  # int64, 1-based
    newlines: int  # how many lines the block holds (its '\n' count)

    def end_to_end(self) -> bool:
        """Whether `data` holds the bases and nothing else (else headers lie between)."""
        return len(self.data) == int(self.lengths.sum())

    @classmethod
    def of_records(cls, records: Sequence, newlines: int) -> Piece:
        """From (id, seq, line) records, as the slow path builds them."""
        lengths = np.fromiter(map(len, (r[1] for r in records)), np.int64, len(records))
        return cls([r[0] for r in records], b"".join(r[1] for r in records),
                   np.cumsum(lengths) - lengths, lengths,
                   np.fromiter((r[2] for r in records), np.int64, len(records)), newlines)


def file_blocks(path: Path, size: int) -> Iterator[bytes]:
    """The file (plain or gzip) in blocks of about `size` bytes that each end just before a
    line starting with '>' (a record longer than that is one block)."""
    with open(path, "rb") as handle:
        if handle.peek(2)[:2] == _GZIP_MAGIC:
            yield from record_blocks(_inflate(path, handle), size)
        elif path.stat().st_size:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                yield from _mapped_blocks(view, size)


def _mapped_blocks(view: mmap.mmap, size: int) -> Iterator[bytes]:
    """Blocks sliced straight from the mapped file: one copy, not a read and a join."""
    start, end = 0, len(view)
    while start < end:
        cut = view.rfind(b"\n>", start, start + size) + 1 if start + size < end else end
        if cut <= start:  # no record starts in the next `size` bytes
            cut = view.find(b"\n>", start + size - 1) + 1 or end
        yield view[start:cut]
        start = cut


def _inflate(path: Path, handle: BinaryIO) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file (of every member: bgzip, `cat a.gz b.gz`), read
    with zlib directly in chunks of at most GZIP_OUT_BYTES."""
    inflate, fed = zlib.decompressobj(31), False
    try:
        for data in iter(partial(handle.read, GZIP_READ_BYTES), b""):
            while data:
                yield inflate.decompress(data, GZIP_OUT_BYTES)
                data, fed = inflate.unconsumed_tail, True
                if inflate.eof:
                    data, inflate, fed = inflate.unused_data, zlib.decompressobj(31), False
        if fed:
            while chunk := inflate.decompress(b"", GZIP_OUT_BYTES):  # what zlib still holds
                yield chunk
    except zlib.error as error:
        raise BiodlError(f"{path}: not a valid gzip file ({error}); check the file or "
                         "compress it again") from None
    if fed and not inflate.eof:
        raise BiodlError(f"{path}: the gzip stream ends early (truncated file); copy or "
                         "download it again")


def record_blocks(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup chunks of a file into blocks that each end just before a line starting with
    '>', cutting chunks larger than `size` so that blocks stay near `size`."""
    pending: list = []
    for data in chunks:
        for offset in range(0, len(data), size):
            part = memoryview(data)[offset:offset + size]
            cut = data.rfind(b"\n>", offset, offset + size)
            if cut >= offset:
                pending.append(part[:cut + 1 - offset])  # joined without a copy of its own
                yield b"".join(pending)
                pending = [part[cut + 1 - offset:]]
            elif part[:1] == b">" and pending and pending[-1][-1:] == b"\n":
                yield b"".join(pending)
                pending = [part]
            else:
                pending.append(part)
    if pending:
        yield b"".join(pending)


def pack_block(block: bytes, line: int) -> Optional[Piece]:
    """The records of `block` (whose first line is `line`), or None if any record is not
    clean: an empty id, an empty sequence, a character outside VALID_BASES (a space too)."""
    codes = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(codes == 10)
    ends = newlines if block.endswith(b"\n") else np.append(newlines, len(block))
    after = newlines[:len(ends) - 1] + 1  # where lines 1, 2, ... start (line 0 is a header)
    headers = np.flatnonzero(codes[after] == ord(">"))
    header_lines = np.concatenate(([0], headers + 1))
    heads = np.concatenate(([0], after[headers]))  # each '>'
    head_ends = ends[header_lines]  # the '\n' after it
    stripped = block.replace(b"\n", b"")
    # a byte's place in `stripped` is its place in `block` less the newlines before it, and
    # the header on line k (0-based) has k newlines before it
    first = head_ends - header_lines
    last = np.append(heads[1:] - header_lines[1:], len(stripped))
    lengths = last - first
    if not lengths.all():
        return None
    ids = _window_ids(codes, heads, head_ends) or _split_ids(block, heads, head_ends)
    if not all(ids):
        return None
    lines = header_lines + line
    if len(stripped) > IN_PLACE_ABOVE * len(first):  # long records: leave the headers between
        if not _clean_between(stripped, first, last):
            return None
        return Piece(ids, stripped, first, lengths, lines, len(newlines))
    bases = _bases(stripped, first, last)
    if bases.translate(None, VALID_BASES):
        return None
    return Piece(ids, bases, np.cumsum(lengths) - lengths, lengths, lines, len(newlines))


def _clean_between(stripped: bytes, first: np.ndarray, last: np.ndarray) -> bool:
    """Whether every base of stripped[first[i]:last[i]] is valid, with one `translate` of the
    whole of `stripped`: what it leaves must be exactly what the headers between leave."""
    view = memoryview(stripped)
    gaps = np.concatenate(([0], last[:-1])).tolist()
    headers = b"".join(map(view.__getitem__, map(slice, gaps, first.tolist())))
    return stripped.translate(None, VALID_BASES) == headers.translate(None, VALID_BASES)


def _bases(stripped: bytes, first: np.ndarray, last: np.ndarray) -> bytes:
    """stripped[first[0]:last[0]] + stripped[first[1]:last[1]] + ...: the bases without the
    headers, by the cheapest of three routes: rows of equal length copied by numpy (a few
    distinct lengths), a join of slices (long records: the cost is per record, the loop in
    C), else a numpy mask (the cost is per byte)."""
    if len(first) == 1:
        return stripped[int(first[0]):]
    lengths = last - first
    sizes = np.unique(lengths)
    if len(sizes) <= MAX_ROW_GROUPS:
        return _rows(stripped, first, lengths, sizes)
    if len(stripped) > MASK_BELOW * len(first):
        view = memoryview(stripped)  # slices of a view: the join is the only copy
        return b"".join(map(view.__getitem__, map(slice, first.tolist(), last.tolist())))
    keep = np.zeros(2 * len(first), dtype=bool)
    keep[1::2] = True
    runs = np.empty(2 * len(first), dtype=np.int64)
    runs[0::2] = first - np.concatenate(([0], last[:-1]))  # a header
    runs[1::2] = lengths
    return np.frombuffer(stripped, dtype=np.uint8)[np.repeat(keep, runs)].tobytes()


def _rows(stripped: bytes, first: np.ndarray, lengths: np.ndarray, sizes: np.ndarray) -> bytes:
    """For each record length, one numpy copy of all the records of that length (into places
    that never overlap: each is one record's)."""
    source = np.frombuffer(stripped, dtype=np.uint8)
    if len(sizes) == 1:
        return _items(source, int(sizes[0]))[first].tobytes()
    bases = np.empty(int(lengths.sum()), dtype=np.uint8)
    at = np.cumsum(lengths) - lengths
    for size in sizes.tolist():
        group = lengths == size
        _items(bases, size)[at[group]] = _items(source, size)[first[group]]
    return bases.tobytes()


def _items(codes: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes at each offset as one item (a view): indexing it copies whole rows at
    memcpy speed, two to three times faster than rows of a 2-D sliding window."""
    return np.ndarray((len(codes) - width + 1,), dtype=f"V{width}", buffer=codes, strides=(1,))


def _window_ids(codes: np.ndarray, heads: np.ndarray, head_ends: np.ndarray) -> list[str]:
    """The first word of each header from a (headers, width) window after each '>', or []
    where a header starts with a space, has an id wider than the window or a rare control
    character (`_split_ids` then does it header by header)."""
    width = int(min((head_ends - heads).max(), MAX_ID_WINDOW))
    if width > SHORT_ID_WINDOW:  # most ids are short: try a narrow window first
        ids = _window_ids(codes, heads, np.minimum(head_ends, heads + SHORT_ID_WINDOW))
        if ids:
            return ids
    if heads[-1] + 1 + width > len(codes):
        codes = np.concatenate((codes, _NEWLINES[:width]))
    rows = _items(codes, width)[heads + 1].view(np.uint8).reshape(len(heads), width)
    sizes = (rows <= 32).argmax(axis=1)  # up to the first space or control character
    ends = rows[np.arange(len(rows)), sizes]
    if not sizes.all() or not ((ends == 32) | ((ends >= 9) & (ends <= 13))).all():
        return []  # an id wider than the window, empty, or cut by a control character
    kept = np.where(np.arange(width) < sizes[:, None], rows, 32)
    ids = str(kept, "ascii", errors="replace").split()
    return ids if len(ids) == len(heads) else []  # str.split also cuts at \x1c-\x1f


def _split_ids(block: bytes, heads: np.ndarray, head_ends: np.ndarray) -> list[str]:
    """The id (first word) of each header, as `bytes.split` finds it."""
    headers = list(map(block.__getitem__, map(slice, (heads + 1).tolist(), head_ends.tolist())))
    text = b"\n".join(headers)
    if any(space in text for space in _RARE_SPACES) or text.startswith(b" "):
        return [(h.split(None, 1) or [b""])[0].decode("ascii", errors="replace") for h in headers]
    return [h.partition(" ")[0] for h in text.decode("ascii", errors="replace").split("\n")]
