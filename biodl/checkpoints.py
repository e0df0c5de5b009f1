"""Where checkpoints are written, and which one a resumed fit reads.

A checkpoint is written to a temporary file in its own folder, flushed to disk and renamed
over the old one, so a full disk, a kill or a crash mid-write leaves the previous checkpoint
whole (Lightning's own writer stages in the system temp folder and moves across
filesystems). `resume_candidates` then lists a run's checkpoints newest first, and
`first_readable` skips one that cannot be read (truncated or corrupt by other means).
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from biodl.errors import BiodlError

LAST, BEST = "last.ckpt", "best.ckpt"
BATCH_GLOB = "hpc_ckpt_*.ckpt"  # mid-epoch checkpoints (SIGTERM, Slurm pre-emption)


class AtomicCheckpointIO(TorchCheckpointIO):
    """A checkpoint serialised in memory (as Lightning's own writer does), written to
    `.NAME.PID.tmp` beside the target, fsync'ed and renamed over it; a failed write removes
    the temporary file and is one BiodlError naming the folder (and, for a full disk, the
    space the checkpoint needs)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError("biodl's checkpoint writer takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        write_atomically(Path(path), buffer.getbuffer())


def write_atomically(target: Path, data: memoryview | bytes) -> None:
    """`target` holds `data` or, if anything fails, what it held before."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            _write(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_folder(target.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise write_error(target, error, len(data)) from None


def _write(handle, data) -> None:
    handle.write(data)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash right after it keeps the new name)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_error(target: Path, error: OSError, size: int) -> BiodlError:
    """One line: the folder, why, what is kept, and the way on (the folder is the run id)."""
    folder = target.parent
    kept = f"the previous {target.name} is kept; " if target.exists() else ""
    then = f"then `biodl fit --resume {folder.name}`"
    if error.errno not in (errno.ENOSPC, errno.EDQUOT):
        return BiodlError(f"cannot write checkpoint {target}: {error.strerror or error}; "
                          f"{kept}fix the folder or set callbacks.checkpoint.dir, {then}")
    return BiodlError(f"no space left in {folder} to write {target.name}: it needs "
                      f"{_mb(size)}, {_mb(_free_bytes(folder))} free; {kept}free space there "
                      f"or set callbacks.checkpoint.dir to a folder with room, {then}")


def _free_bytes(folder: Path) -> int:
    import shutil

    return shutil.disk_usage(folder).free


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def resume_candidates(folder: Path) -> list[Path]:
    """A run's checkpoints newest first: last.ckpt (each epoch), hpc_ckpt_N.ckpt (mid-epoch)
    and best.ckpt (the best epoch, an older place to continue from)."""
    found = [p for p in [folder / LAST, *folder.glob(BATCH_GLOB), folder / BEST] if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def unreadable_reason(path: Path) -> str | None:
    """None if `path` loads as a checkpoint, else why not (one line)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, pickle errors, ...
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        return "not a Lightning checkpoint (no state_dict)"
    return None


def first_readable(candidates: list[Path]) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The first checkpoint of `candidates` that loads, and the (path, reason) of those
    before it that do not."""
    skipped = []
    for path in candidates:
        reason = unreadable_reason(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped
