"""The FASTA parsing loop, compiled by numba: one pass over a block's bytes that copies the
bases out, checks each one, and finds the ids, lengths and header lines. No torch.

The loop does what a C reader (kseq, pyfastx) does, in one place that is easy to read and
test. It only ever takes the clean case: on anything unusual (a character that is not a base,
a space at a line end, an empty id or sequence) it stops and says so, and `fasta.py` reads
that block line by line to tolerate it or to name the line and column.

Each record is first copied optimistically (`_quick_lines`: lines found from their newlines,
copied eight bytes at a time, no check per byte), then all its bases are checked in one
vectorised pass (`_plain`, else the IUPAC table); only a record that fails is parsed again one
line at a time (`_careful_lines`), which tolerates '\r\n' and blank lines or finds what is
wrong. On 10 kbp records that takes a quarter off a loop checking inside the copy.

Compiled once per machine and cached next to this file (numba's `cache=True`); the first call
after an install pays about a second.
"""

from __future__ import annotations

import numba
import numpy as np

OK, UNCLEAN = 0, 1  # `scan`'s status
_GT, _NEWLINE, _RETURN = 62, 10, 13
_FNV_OFFSET, _FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _is_space(byte: np.uint8) -> bool:
    """What `bytes.split()` splits at: space, \\t, \\n, \\x0b, \\x0c, \\r."""
    return byte == 32 or (9 <= byte <= 13)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _mix(h: np.uint64, byte: np.uint8) -> np.uint64:
    """One FNV-1a step, with every non-ASCII byte taken as '?': ids are decoded as ASCII with
    each such byte replaced, so ids equal as text hash equal."""
    return (h ^ np.uint64(byte if byte < 128 else 63)) * _FNV_PRIME


@numba.njit(cache=True, nogil=True, boundscheck=False)
def hash_lines(data):
    """The hash `scan` gives an id, of each '\\n'-terminated line of `data`."""
    hashes = np.empty(np.count_nonzero(data == _NEWLINE), dtype=np.uint64)
    h, r = _FNV_OFFSET, 0
    for byte in data:
        if byte == _NEWLINE:
            hashes[r], h, r = h, _FNV_OFFSET, r + 1
        else:
            h = _mix(h, byte)
    return hashes


# The helpers index a slice from 0 with a loop counter: numba then knows the index is not
# negative and drops its wraparound check, which otherwise costs four times the loop itself.

@numba.njit(cache=True, nogil=True, boundscheck=False)
def _find(data, start, byte) -> int:
    """The first index >= start of `byte` in data, or len(data)."""
    rest = data[start:]
    for t in range(len(rest)):
        if rest[t] == byte:
            return start + t
    return len(data)


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _id(data, start, ids, k):
    """Copy the id (the first word) of the header whose text begins at `start` to ids[k:];
    returns (where it ends, its length, its hash)."""
    rest, h = data[start:], _FNV_OFFSET
    first = 0
    while first < len(rest) and rest[first] != _NEWLINE and _is_space(rest[first]):
        first += 1
    word, out = rest[first:], ids[k:]
    size = 0
    for t in range(len(word)):
        if _is_space(word[t]):
            break
        out[t] = word[t]
        h = _mix(h, word[t])
        size = t + 1
    return start + first + size, size, h


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _same_width_lines(data, i, width, bad, bases, out):
    """Copy the lines from `i` on that are `width` bytes of bases and a newline, with no
    branch per byte; stop before the first that is not, or a header. Returns (i, out, lines)."""
    n, lines = len(data), 0
    while i + width < n and data[i + width] == _NEWLINE:
        row, dest = data[i:i + width], bases[out:out + width]
        flags = np.uint8(0)
        for t in range(width):
            dest[t] = row[t]
            flags |= bad[row[t]]
        if flags:
            break
        out, i, lines = out + width, i + width + 1, lines + 1
        if i < n and data[i] == _GT:
            break
    return i, out, lines


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _line(data, i, bad, bases, out):
    """Copy one line's bases (up to its newline or the end); returns (where it stopped, out,
    whether the line is clean: only bases, and at most a '\\r' before the newline)."""
    rest, dest = data[i:], bases[out:]
    size = len(rest)
    for t in range(len(rest)):
        if bad[rest[t]]:
            size = t
            break
        dest[t] = rest[t]
    end = i + size
    if end == len(data) or data[end] == _NEWLINE:
        return end, out + size, True
    crlf = data[end] == _RETURN and (end + 1 == len(data) or data[end + 1] == _NEWLINE)
    return end + 1 if crlf else end, out + size, crlf


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _load8(row, t) -> np.uint64:
    """Bytes t..t+7 as one little-endian word (the compiler makes it one load)."""
    word = np.uint64(0)
    for b in range(8):
        word |= np.uint64(row[t + b]) << np.uint64(8 * b)
    return word


@numba.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _store8(dest, t, word) -> None:
    for b in range(8):
        dest[t + b] = np.uint8((word >> np.uint64(8 * b)) & np.uint64(255))


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _copy(row, dest) -> None:
    """dest[:len(row)] = row, eight bytes at a time (a loop of bytes is not vectorised for
    lines this short)."""
    t, size = 0, len(row)
    while t + 8 <= size:
        _store8(dest, t, _load8(row, t))
        t += 8
    for b in range(size - t):
        dest[t + b] = row[t + b]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _plain(bases) -> bool:
    """Whether every byte is A, C, G, T or N (either case): one branch-free pass, which the
    compiler turns into vector instructions."""
    other = False
    for t in range(len(bases)):
        b = bases[t]
        other |= not ((b == 65) | (b == 67) | (b == 71) | (b == 84) | (b == 78) | (b == 97)
                      | (b == 99) | (b == 103) | (b == 116) | (b == 110))
    return not other


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _valid(bases, bad) -> bool:
    """Whether every byte is a base by the table `bad` (any IUPAC code)."""
    flags = np.uint8(0)
    for t in range(len(bases)):
        flags |= bad[bases[t]]
    return flags == 0


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _quick_lines(data, i, width, bases, out):
    """Copy a record's sequence lines from `i` (to the next header or the end) unchecked: a
    line is taken as `width` bytes when a newline follows them, else found by its newline.
    Returns (i, out, lines, width, whether no line was empty). The copy is right only if
    every byte copied is a base (no newline, '\r', space or '>' inside a line), which the
    caller checks; if not, it parses the record again line by line."""
    n, lines = len(data), 0
    while i < n and data[i] != _GT:
        if width and i + width < n and data[i + width] == _NEWLINE:
            end = i + width
        else:
            end = _find(data, i, _NEWLINE)
            if end == i:
                return i, out, lines, width, False
        _copy(data[i:end], bases[out:])
        out += end - i
        if end + 1 < n and data[end + 1] != _GT:  # not the record's last line
            width = end - i
        i, lines = end + 1, lines + 1
    return i, out, lines, width, True


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _careful_lines(data, i, width, bad, bases, out, line):
    """Copy and check a record's sequence lines from `i`, one at a time (tolerating '\r\n'
    and empty lines); returns (i, out, line, width, whether every line was clean)."""
    n = len(data)
    while i < n and data[i] != _GT:
        if width:
            i, out, same = _same_width_lines(data, i, width, bad, bases, out)
            line += same
            if i >= n or data[i] == _GT:
                break
        start = i
        i, out, clean = _line(data, i, bad, bases, out)
        if not clean:
            return i, out, line, width, False
        if i + 1 < n and data[i + 1] != _GT:  # not the record's last line
            width = i - start
        i, line = i + 1, line + 1
    return i, out, line, width, True


@numba.njit(cache=True, nogil=True, boundscheck=False)
def scan(data, final, bad, bases, at, ids, lengths, lines, hashes, first_line):
    """Parse the records of `data` (it starts with '>').

    Writes record r's bases to `bases[at:]` end to end, its length to `lengths[r]`, the line of
    its header to `lines[r]` (counting from `first_line`), a 64-bit FNV-1a hash of its id to
    `hashes[r]`, and its id followed by a newline to `ids`. Unless `final`, the last record may
    continue in the next block, so it is left for then. `bad[b]` is 1 where byte b is not a
    base (`bad_bytes`). Stops before the first record that is not clean.

    Returns (status, records, bases written, id bytes, bytes consumed, newlines consumed).
    """
    n, i, r, out, k, line = len(data), 0, 0, at, 0, first_line
    width = 0  # of the last line read whole: the next one is most likely as wide
    while i < n:
        head, head_line, head_out, head_k = i, line, out, k
        if data[i] != _GT:
            return UNCLEAN, r, out - at, k, head, line - first_line
        i, size, h = _id(data, i + 1, ids, k)
        k += size
        i, line = _find(data, i, _NEWLINE) + 1, line + 1
        body, body_line, body_width = i, line, width
        i, out, taken, width, regular = _quick_lines(data, i, width, bases, out)
        line += taken
        if not (regular and (_plain(bases[head_out:out]) or _valid(bases[head_out:out], bad))):
            i, out, line, width, clean = _careful_lines(data, body, body_width, bad, bases,
                                                        head_out, body_line)
            if not clean:
                return UNCLEAN, r, head_out - at, head_k, head, head_line - first_line
        if i >= n and not final:  # this record may go on in the next block
            return OK, r, head_out - at, head_k, head, head_line - first_line
        if out == head_out or k == head_k:
            return UNCLEAN, r, head_out - at, head_k, head, head_line - first_line
        ids[k] = _NEWLINE
        k += 1
        lengths[r], lines[r], hashes[r] = out - head_out, head_line, h
        r += 1
    return OK, r, out - at, k, n, line - first_line - (n > 0 and data[n - 1] != _NEWLINE)


def bad_bytes(valid_bases: bytes) -> np.ndarray:
    """`scan`'s table: 1 for every byte not in `valid_bases`."""
    bad = np.ones(256, dtype=np.uint8)
    bad[np.frombuffer(valid_bases, dtype=np.uint8)] = 0
    return bad
