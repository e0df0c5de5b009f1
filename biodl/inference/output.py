"""Writing inference results: through a temporary file beside the output, then renamed, so a
failure never leaves a half-written file and an existing output is replaced only with force."""

from __future__ import annotations

import csv
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from biodl.errors import BiodlError

FLOAT_FORMAT = "{:.8g}"  # float32 holds 7-8 significant digits: rounding to 6 would hide 1e-6


def check_output(path: Path, force: bool) -> None:
    """Refuse, before any work, an output that exists (without force) or has no folder."""
    path = Path(path)
    if path.exists() and not force:
        raise BiodlError(f"{path}: already exists; choose another --output or pass --force")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BiodlError(f"{path}: the folder {folder} does not exist; create it first "
                         f"(mkdir -p {folder}) or write elsewhere")
    if not os.access(folder, os.W_OK):
        raise BiodlError(f"{path}: the folder {folder} is not writable; write elsewhere")


@contextmanager
def atomic_path(path: Path, force: bool = False) -> Iterator[Path]:
    """A temporary path in the output's folder; renamed to `path` when the block succeeds.
    The file gets the permissions the umask gives a new file (mkstemp alone would give 0600)."""
    path = Path(path)
    check_output(path, force)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".partial")
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_table(path: Path, header: list[str], rows: Iterable[list], force: bool = False,
                delimiter: str = ",") -> int:
    """A CSV (or TSV) of `rows`; the number of rows written."""
    count = 0
    with atomic_path(path, force) as temporary:
        try:
            with open(temporary, "w", newline="") as out:
                writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
                writer.writerow(header)
                for row in rows:
                    writer.writerow([FLOAT_FORMAT.format(v) if isinstance(v, float) else v
                                     for v in row])
                    count += 1
        except OSError as error:  # name the real output, not the temporary file
            raise BiodlError(f"{path}: could not write ({error.strerror or error}); check the "
                             "free space and permissions of its folder") from None
    return count
