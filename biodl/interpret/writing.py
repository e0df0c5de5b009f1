"""Writing attributions as they are computed, in memory bounded by one batch.

`AttributionWriter` appends each batch to `.npy` files whose header already holds the final
shape (attributions float32 and the one-hot input int8, both (N, 4, L)): plain writes, not a
memory map, so written pages never count in the process's memory; it writes the TSV summary
row by row and keeps only the top-K sequences' indices; `close()` zips the arrays (stored, not
compressed: the copy is streamed from disk) into `attributions.npz` with `ids`, `output` and
`prediction`, and draws the top-K sequence logos. Nothing is loaded whole: the zip copies
files in blocks.
"""

from __future__ import annotations

import csv
import heapq
import shutil
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np
from torch import Tensor

from biodl.interpret.explain import Explained

NPZ, TSV = "attributions.npz", "summary.tsv"


def display_scores(method: str, attributions: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """(..., 4, L) scores at the observed bases, for logos and top positions. ISM's deltas are
    centred over the four bases first (tangermeme's convention), so the observed base shows
    minus the mean effect of mutating it."""
    if method == "ism":
        attributions = attributions - attributions.mean(axis=-2, keepdims=True)
    return attributions * onehot


class AttributionWriter:
    def __init__(self, folder: Path, count: int, length: int, method: str, target: str,
                 top_k: int = 10):
        self.folder, self.count, self.length = Path(folder), count, length
        self.method, self.target, self.top_k = method, target, top_k
        self.parts = self.folder / ".parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.values = _npy(self.parts / "attributions.npy", np.float32, (count, 4, length))
        self.onehot = _npy(self.parts / "onehot.npy", np.int8, (count, 4, length))
        self.output = np.zeros(count, np.float32)
        self.prediction = np.zeros(count, np.float32)
        self.ids: list[str] = []
        self.best: list[tuple[float, int]] = []  # min-heap of (output, row) of the top K
        self.table = open(self.folder / TSV, "w", newline="")
        self.rows = csv.writer(self.table, delimiter="\t", lineterminator="\n")
        self.errors: list[float] = []
        self.deltas: list[float] = []

    def add(self, batch: Explained) -> None:
        first, n = len(self.ids), len(batch.ids)
        if first == 0:
            self.rows.writerow(header(self.target, batch.error is not None))
        values, onehot = _padded(batch.attributions, self.length), _padded(batch.onehot,
                                                                             self.length)
        self.values.write(np.ascontiguousarray(values, np.float32).tobytes())
        self.onehot.write(np.ascontiguousarray(onehot, np.int8).tobytes())
        self.output[first:first + n] = batch.output.numpy()
        self.prediction[first:first + n] = batch.prediction.numpy()
        self.ids.extend(batch.ids)
        shown = display_scores(self.method, values, onehot).sum(axis=1)  # (n, L)
        for i in range(n):
            self.rows.writerow(summary_row(batch, i, values[i], shown[i]))
            self._keep(float(batch.output[i]), first + i)
        if batch.error is not None:
            self.errors.extend(batch.error.tolist())
            self.deltas.extend(batch.delta.abs().tolist())

    def _keep(self, output: float, row: int) -> None:
        if len(self.best) < self.top_k:
            heapq.heappush(self.best, (output, row))
        elif self.top_k:
            heapq.heappushpop(self.best, (output, row))

    def relative_error(self) -> Optional[float]:
        if not self.errors:
            return None
        return float(np.mean(self.errors) / max(np.mean(self.deltas), 1e-12))

    def close(self) -> list[Path]:
        """Write the .npz and the logos; the paths of the logos."""
        self.table.close()
        self.values.close()
        self.onehot.close()
        if len(self.ids) != self.count:
            raise RuntimeError(f"{len(self.ids)} sequences explained, {self.count} expected")
        arrays = {"ids": np.array(self.ids), "output": self.output,
                  "prediction": self.prediction}
        with zipfile.ZipFile(self.folder / NPZ, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
            z.write(self.parts / "attributions.npy", "attributions.npy")
            z.write(self.parts / "onehot.npy", "onehot.npy")
            for name, array in arrays.items():
                with z.open(f"{name}.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, array)
        logos = self._logos()
        shutil.rmtree(self.parts)
        return logos

    def _logos(self) -> list[Path]:
        from biodl.interpret.logos import plot_logo

        values = np.load(self.parts / "attributions.npy", mmap_mode="r")  # K rows read
        onehot = np.load(self.parts / "onehot.npy", mmap_mode="r")
        paths = []
        for rank, (output, row) in enumerate(sorted(self.best, reverse=True), start=1):
            scores = display_scores(self.method, np.asarray(values[row]),
                                    np.asarray(onehot[row], np.float32))
            path = self.folder / f"logo_{rank:02d}.png"
            plot_logo(path, scores, f"#{rank} {self.ids[row]}: {self.method}, "
                                    f"{self.target} output {output:.3g}")
            paths.append(path)
        return paths


def header(target: str, exact: bool) -> list[str]:
    exact_columns = ["delta", "sum_error"] if exact else []
    return ["id", f"p_{target}", "output", "attribution_sum", *exact_columns, "top_position",
            "top_base", "top_score"]


def summary_row(batch: Explained, i: int, values: np.ndarray, shown: np.ndarray) -> list:
    """The TSV row of sequence i; the top position (1-based) has the largest |score|."""
    top = int(np.argmax(np.abs(shown)))
    column = batch.onehot[i, :, top]
    base = "ACGT"[int(column.argmax())] if bool(column.any()) else "N"
    row = [batch.ids[i], f"{float(batch.prediction[i]):.6g}", f"{float(batch.output[i]):.6g}",
           f"{float(values.sum()):.6g}"]
    if batch.error is not None:
        row += [f"{float(batch.delta[i]):.6g}", f"{float(batch.error[i]):.3g}"]
    return row + [top + 1, base, f"{float(shown[top]):.6g}"]


def _npy(path: Path, dtype, shape: tuple[int, ...]):
    """An open .npy file with the header of `shape`, ready for the rows in C order."""
    handle = open(path, "wb")
    np.lib.format.write_array_header_1_0(handle, {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
        "shape": shape})
    return handle


def _padded(x: Tensor, length: int) -> np.ndarray:
    """(n, 4, l) -> (n, 4, length), zeros after a shorter (variable-length) batch."""
    array = x.numpy()
    if array.shape[-1] == length:
        return array
    return np.pad(array, ((0, 0), (0, 0), (0, length - array.shape[-1])))
