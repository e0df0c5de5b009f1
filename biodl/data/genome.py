"""A genome without loading it: a samtools-style .fai index and random access by seek. No torch.
BED/narrowPeak intervals and the windows sampled from them are in `biodl.data.intervals`.

Coordinates are 0-based and half-open, as in BED: `fetch("chr1", 0, 10)` is the first 10 bases.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from biodl.data.files import is_gzip
from biodl.errors import BiodlError

INDEX_BLOCK = 4 << 20  # bytes read at a time while indexing: about 4x that at the peak


class FaiEntry(NamedTuple):
    """One line of a .fai file, as samtools faidx writes it."""

    name: str
    length: int  # bases
    offset: int  # byte offset of the first base
    linebases: int  # bases per full line
    linewidth: int  # bytes per full line, newline included

    def byte(self, position: int) -> int:
        """Byte offset in the file of a 0-based base position."""
        return self.offset + position // self.linebases * self.linewidth + position % self.linebases


class Window(NamedTuple):
    chrom: str
    start: int
    end: int


def cache_folder() -> Path:
    """Where indexes go when the FASTA's folder is read-only ($BIODL_CACHE or ~/.cache/biodl)."""
    return Path(os.environ.get("BIODL_CACHE", Path.home() / ".cache" / "biodl")) / "fai"


# ---- the .fai index ------------------------------------------------------------------------

def require_plain(path: Path) -> None:
    """Random access needs an uncompressed file: say so, rather than read a .gz whole."""
    path = Path(path)
    if not path.is_file():
        raise BiodlError(f"{path}: file not found (check the genome path in the config)")
    if is_gzip(path):
        raise BiodlError(f"{path}: random access needs a plain (uncompressed, not bgzip/gzip) "
                         f"FASTA; decompress it once (`gunzip -k {path}` or `bgzip -d`) and "
                         "point the config at the .fa file")


def build_fai(path: Path) -> list[FaiEntry]:
    """Index a plain FASTA as `samtools faidx` would, reading it in blocks (never whole)."""
    path = Path(path)
    require_plain(path)
    builder = _IndexBuilder(path)
    with open(path, "rb") as handle:
        carry, base = b"", 0  # carry: an unfinished line; base: file offset of data[0]
        while block := handle.read(INDEX_BLOCK):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            builder.add_lines(data[:cut], base)
            base, carry = base + cut, data[cut:]
        if carry:
            builder.add_lines(carry + b"\n", base)
    return builder.finish()


class _IndexBuilder:
    """Consumes whole lines a block at a time; numpy measures them, Python sees only headers."""

    def __init__(self, path: Path):
        self.path, self.entries, self.names, self.line = path, [], set(), 0
        self.record: dict | None = None

    def add_lines(self, data: bytes, base: int) -> None:
        if not data:
            return
        codes = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(codes == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        widths = ends - starts + 1
        bases = widths - 1 - ((codes[ends - 1] == 13) & (widths > 1))
        headers = np.flatnonzero(codes[starts] == ord(">")).tolist()
        previous = 0
        for header in headers + [len(ends)]:
            self._sequence(widths[previous:header], bases[previous:header], self.line + previous)
            if header < len(ends):
                self._header(data[starts[header] + 1:ends[header]], base + int(ends[header]) + 1,
                             self.line + header + 1)
            previous = header + 1
        self.line += len(ends)

    def _header(self, text: bytes, offset: int, number: int) -> None:
        self._close()
        words = text.split(None, 1)
        if not words:
            raise BiodlError(f"{self.path} line {number}: header '>' has no name")
        name = words[0].decode("ascii", errors="replace")
        self.record = dict(name=name, line=number, offset=offset, length=0, linebases=0,
                           linewidth=0, short=None)

    def _sequence(self, widths: np.ndarray, bases: np.ndarray, first: int) -> None:
        """Check one run of sequence lines (0-based line numbers from `first`)."""
        record = self.record
        if record is None:
            if bases.any():
                raise BiodlError(f"{self.path} line {first + 1 + int(np.argmax(bases > 0))}: "
                                 "not FASTA: sequence before the first '>' header")
            return
        if len(widths) == 0:
            return
        if record["linewidth"] == 0:
            record["linebases"], record["linewidth"] = int(bases[0]), int(widths[0])
        record["length"] += int(bases.sum())
        odd = np.flatnonzero(widths != record["linewidth"])
        if record["short"] is not None and bases.any():
            self._uneven(first + int(np.argmax(bases > 0)))
        if len(odd):
            short = int(odd[0])
            if bases[short] > record["linebases"]:
                self._uneven(first + short)
            after = np.flatnonzero(bases[short + 1:])
            if len(after):
                self._uneven(first + short + 1 + int(after[0]))
            record["short"] = first + short

    def _uneven(self, line: int) -> None:
        raise BiodlError(f"{self.path} line {line + 1}: record '{self.record['name']}' has lines "
                         "of different lengths; random access needs every line of a record but "
                         "its last to hold the same number of bases (rewrap it, e.g. "
                         "`seqkit seq -w 60`)")

    def _close(self) -> None:
        record = self.record
        if record is None:
            return
        if record["name"] in self.names:
            raise BiodlError(f"{self.path} line {record['line']}: duplicate name "
                             f"'{record['name']}'; names must be unique in a genome")
        self.names.add(record["name"])
        self.entries.append(FaiEntry(record["name"], record["length"], record["offset"],
                                     record["linebases"], record["linewidth"]))

    def finish(self) -> list[FaiEntry]:
        self._close()
        if not self.entries:
            raise BiodlError(f"{self.path}: no FASTA records (the file is empty or has no '>')")
        return self.entries


def write_fai(entries: list[FaiEntry], path: Path) -> None:
    Path(path).write_text("".join("\t".join(map(str, entry)) + "\n" for entry in entries))


def read_fai(path: Path) -> list[FaiEntry]:
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = line.split("\t")
        try:
            entries.append(FaiEntry(fields[0], *map(int, fields[1:5])))
        except (ValueError, TypeError, IndexError):
            raise BiodlError(f"{path} line {number}: not a .fai line (name, length, offset, "
                             "linebases, linewidth); delete the file to rebuild it") from None
    return entries


def load_index(fasta: Path) -> list[FaiEntry]:
    """The index of `fasta`: the .fai beside it or in the cache, else built and saved.

    Saved beside the FASTA when that folder is writable, else in `cache_folder()`. A user's
    .fai is never overwritten: one older than the FASTA that no longer matches it is an error.
    """
    fasta = Path(fasta)
    require_plain(fasta)
    beside, cached = Path(f"{fasta}.fai"), _cache_path(fasta)
    if beside.is_file():
        return _checked(beside, fasta)
    if cached.is_file():
        return read_fai(cached)
    entries = build_fai(fasta)
    for target in (beside, cached):
        if _save(entries, target):
            break
    return entries


def _checked(index: Path, fasta: Path) -> list[FaiEntry]:
    entries = read_fai(index)
    if index.stat().st_mtime >= fasta.stat().st_mtime or entries == build_fai(fasta):
        return entries
    raise BiodlError(f"{index}: this index is older than {fasta.name} and no longer matches it; "
                     "delete it (biodl rebuilds it) or run `samtools faidx` again")


def _cache_path(fasta: Path) -> Path:
    """One cache file per FASTA path, size and modification time: an edit gets a new index."""
    stat = fasta.stat()
    key = f"{fasta.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    return cache_folder() / f"{fasta.name}-{hashlib.sha1(key).hexdigest()[:16]}.fai"


def _save(entries: list[FaiEntry], target: Path) -> bool:
    """Write the index without replacing any file; False if the folder is not writable."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_fai(entries, temporary)
        os.link(temporary, target)  # fails rather than replace a file made meanwhile
    except FileExistsError:
        pass  # another process indexed it first; load_index reads theirs next time
    except OSError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


# ---- random access -------------------------------------------------------------------------

class Genome:
    """A plain FASTA opened for random access through its index; cheap to pickle to workers.

    Reads use `os.pread`, so processes forked with an open Genome never share a file offset.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.index = {entry.name: entry for entry in load_index(self.path)}
        self._fd, self._pid = -1, -1

    @property
    def lengths(self) -> dict[str, int]:
        return {name: entry.length for name, entry in self.index.items()}

    def entry(self, chrom: str) -> FaiEntry:
        if chrom not in self.index:
            known = ", ".join(list(self.index)[:5]) + (", ..." if len(self.index) > 5 else "")
            raise BiodlError(f"{self.path}: unknown chromosome '{chrom}' (known: {known}); check "
                             "the naming ('chr1' vs '1') of the intervals and the genome")
        return self.index[chrom]

    def fetch(self, chrom: str, start: int, end: int, pad: bool = True) -> bytes:
        """Bases [start, end) of `chrom`; parts outside the chromosome are N if `pad`, else an
        error."""
        entry = self.entry(chrom)
        if start > end:
            raise BiodlError(f"{self.path}: window {chrom}:{start}-{end} has start > end")
        inside = self._read(entry, max(start, 0), min(end, entry.length))
        if start >= 0 and end <= entry.length:
            return inside
        if not pad:
            raise BiodlError(f"{self.path}: window {chrom}:{start}-{end} runs past the ends of "
                             f"{chrom} (0-{entry.length}); use pad=True to fill with N")
        left = min(max(-start, 0), end - start)
        return b"N" * left + inside + b"N" * (end - start - left - len(inside))

    def fetch_codes(self, windows: list[Window], pad: bool = True) -> np.ndarray:
        """(N, L) uint8 codes of equal-length windows, ready for encoding.onehot/tokens."""
        lengths = {end - start for _, start, end in windows}
        if len(lengths) > 1:
            raise BiodlError(f"windows of different lengths {sorted(lengths)[:3]}; use "
                             "centred_windows to give them one length")
        data = b"".join([self.fetch(chrom, start, end, pad) for chrom, start, end in windows])
        return np.frombuffer(data, dtype=np.uint8).reshape(len(windows), -1).copy()

    def _read(self, entry: FaiEntry, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        if self._pid != os.getpid():
            self._fd, self._pid = os.open(self.path, os.O_RDONLY), os.getpid()
        first, last = entry.byte(start), entry.byte(end - 1) + 1
        bases = os.pread(self._fd, last - first, first).translate(None, b"\r\n")
        if len(bases) != end - start:
            raise BiodlError(f"{self.path}: read {len(bases)} bases for {entry.name}:{start}-{end}"
                             f"; the .fai index does not match the file (delete it to rebuild)")
        return bases

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": -1, "_pid": -1}

    def close(self) -> None:
        if self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = -1, -1

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
