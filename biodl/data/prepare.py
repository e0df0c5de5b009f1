"""The one input path: raw sequences -> the uint8 codes a model was trained on. No torch.

Training's setup, `biodl predict`, the pyfunc model, `scan` and every later inference command
call `sequence_codes` with the same `InputSpec` values, so a sequence is prepared identically
wherever it comes from. A length is never changed silently: a record whose length differs
from the model's window is refused unless the length policy says what to do with it:

- ``error`` (default): refuse, naming the record, its length, the window and the choices;
- ``crop``: centre-crop longer records (shorter ones are still refused);
- ``pad``: centre shorter records in padding (N, all zeros); longer ones are still refused;
- ``crop_pad``: both;
- ``scan`` (inference only): slide the window along longer records (`scan_windows`).

Variable-length models (RNNs with `lengths`) take any length: records are kept at their start
and padded at the end to the longest of the batch. With a maximum length set in training,
longer records are refused unless the policy crops (keeping their start).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from biodl.data import encoding
from biodl.errors import BiodlError

Where = Callable[[int], str]  # index of a record -> "file line N: record 'id'"


class Codes(NamedTuple):
    codes: np.ndarray  # (N, L) uint8 ASCII codes, byte 0 = padding
    lengths: Optional[np.ndarray]  # (N,) int64 true lengths for variable-length models


def sequence_codes(seqs: Sequence[bytes], length: Optional[int], policy: str, where: Where,
                   variable_length: bool = False, option: str = "--length-policy") -> Codes:
    """Codes of `seqs` for a model taking `length`-base windows (None: any, variable length).

    `option` names the setting the error message tells the user to change."""
    sizes = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if variable_length:
        return _variable(seqs, sizes, length, policy, where, option)
    if length is None:
        raise ValueError("a fixed-length model needs a length")
    _check_lengths(sizes, length, policy, where, option)
    return Codes(encoding.to_codes(list(seqs), length, "centre"), None)


def _variable(seqs, sizes, length, policy, where, option) -> Codes:
    if length is not None and policy not in ("crop", "crop_pad"):
        longer = np.flatnonzero(sizes > length)
        if len(longer):
            i = int(longer[0])
            raise BiodlError(f"{where(i)} is {sizes[i]} bp, longer than the model's maximum of "
                             f"{length} bp ({len(longer)} such record(s)); set {option} crop to "
                             f"keep the first {length} bp")
    if len(sizes) and sizes.min() == 0:
        raise BiodlError(f"{where(int(np.argmin(sizes)))}: empty sequence; remove it")
    width = int(min(sizes.max(), length) if length is not None else sizes.max()) if len(
        sizes) else 0
    return Codes(encoding.to_codes(list(seqs), width, "left"), np.minimum(sizes, width))


def _check_lengths(sizes: np.ndarray, length: int, policy: str, where: Where,
                   option: str) -> None:
    if policy not in ("error", "crop", "pad", "crop_pad"):
        raise BiodlError(f"{option}: {policy!r} is not a length policy; choose error, crop, "
                         "pad, crop_pad or (predict only) scan")
    refused = np.zeros(len(sizes), dtype=bool)
    if policy not in ("crop", "crop_pad"):
        refused |= sizes > length
    if policy not in ("pad", "crop_pad"):
        refused |= sizes < length
    if not refused.any():
        return
    i = int(np.flatnonzero(refused)[0])
    choices = ("crop (centre {0} bp)" if sizes[i] > length else "pad (centre it in N)").format(
        length)
    scan = " or scan (slide the window along it; predict only)" if sizes[i] > length else ""
    raise BiodlError(f"{where(i)} is {sizes[i]} bp but the model takes {length}-bp windows "
                     f"({int(refused.sum())} record(s) differ); set {option} {choices}{scan}, "
                     "or crop_pad for both")


def length_summary(sizes: np.ndarray, length: Optional[int], variable_length: bool) -> dict:
    """Raw lengths before any crop or pad, and how many records the window changes."""
    if not len(sizes):
        return {"min": 0, "median": 0, "max": 0, "cropped": 0, "padded": 0}
    cropped = int((sizes > length).sum()) if length else 0
    padded = 0 if variable_length or not length else int((sizes < length).sum())
    return {"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max()),
            "cropped": cropped, "padded": padded}


def scan_windows(size: int, window: int, stride: int) -> np.ndarray:
    """Starts of `window`-base windows every `stride` bases over a record of `size` bases; the
    last window ends at or before the record's end (nothing padded)."""
    if size < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, size - window + 1, stride, dtype=np.int64)
