"""Opening input files: plain or gzip whatever their name, with errors that name the file (a
missing file, a folder, a truncated or corrupt gzip stream). No torch."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO

from biodl.errors import BiodlError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC

def open_bytes(path: Path) -> BinaryIO:
    """Open a file for binary reading, decompressing gzip whatever its name; a truncated or
    corrupt gzip stream is a BiodlError naming the file."""
    handle = open(_existing(Path(path)), "rb")
    if handle.peek(2)[:2] == GZIP_MAGIC:
        return _NamedGzip(Path(path), io.BufferedReader(handle))  # type: ignore[return-value]
    return handle

class _NamedGzip(gzip.GzipFile):
    """gzip.GzipFile whose decompression errors (EOFError, zlib.error, BadGzipFile) name the
    file and the fix instead of surfacing as a bare library error."""

    def __init__(self, path: Path, fileobj):
        super().__init__(fileobj=fileobj, mode="rb")
        self.source = path

    def _named(method):
        def wrapper(self, *args):
            try:
                return method(self, *args)
            except (EOFError, zlib.error, gzip.BadGzipFile) as error:
                raise BiodlError(f"{self.source}: the gzip data is truncated or corrupt "
                                 f"({error}); copy or download the file again (`gzip -t "
                                 f"{self.source}` checks it)") from None
        return wrapper

    read = _named(gzip.GzipFile.read)
    read1 = _named(gzip.GzipFile.read1)
    readinto = _named(gzip.GzipFile.readinto)
    readline = _named(gzip.GzipFile.readline)
    peek = _named(gzip.GzipFile.peek)

def _existing(path: Path) -> Path:
    if not path.is_file():
        hint = "it is a folder" if path.is_dir() else "check the path"
        raise BiodlError(f"{path}: file not found ({hint})")
    return path
