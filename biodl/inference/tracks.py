"""Genome tracks from scanned windows: bedGraph, BigWig (pyBigWig) or TSV. No torch.

Each writer consumes `Scored(chrom, starts, ends, values)` pieces in genome order and writes
through a temporary file beside the output, renamed at the end (`output.atomic_path`).

- TSV: one row per window, `chrom, start, end` being the window the model read (windows
  overlap when the stride is shorter than the window), then one column per output
  (`p_<class>` for classifiers, the output name for regression).
- bedGraph and BigWig hold one track and need intervals that do not overlap, so each
  window's value is written on its central bin: with `width = min(stride, window)`,
  `bin = [start + (window - width) // 2, that + width)`. At stride <= window the bins tile the
  scanned part of a record without gaps or overlaps; the first `(window - stride) // 2` bases
  of a record and the bases after the last bin carry no value. At stride > window the bin is the
  window itself and `stride - window` bases between windows carry none. Values are float32.
  bedGraph: a `track type=bedGraph name=... description=...` line, then `chrom start end value`.
  BigWig: a header of every record's length in FASTA order (records without a window included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from biodl.errors import BiodlError
from biodl.inference.output import FLOAT_FORMAT, atomic_path

FORMATS = {".bedgraph": "bedgraph", ".bw": "bigwig", ".bigwig": "bigwig", ".tsv": "tsv"}


def track_format(path: Path) -> str:
    """bedgraph, bigwig or tsv, from the output's suffix (any case)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BiodlError(f"{path}: --scan writes {', '.join(FORMATS)} (bedGraph, BigWig or a "
                         f"table of every output), not '{suffix or 'no suffix'}'; rename the "
                         "output")
    return FORMATS[suffix]


def select_columns(path: Path, names: Sequence[str], labels: Sequence[str],
                   output_name: Optional[str]) -> list[int]:
    """Which value columns to write: `output_name` (an output name or its column label), all of
    them for TSV, the only one for one-output models; bedGraph/BigWig hold one track."""
    if output_name is not None:
        if output_name in names:
            return [list(names).index(output_name)]
        if output_name in labels:
            return [list(labels).index(output_name)]
        raise BiodlError(f"--output-name {output_name}: the model's outputs are "
                         f"{', '.join(names)}; choose one of them")
    if track_format(path) == "tsv" or len(names) == 1:
        return list(range(len(names)))
    raise BiodlError(f"{path}: the model has {len(names)} outputs ({', '.join(names)}) and a "
                     f"{track_format(path)} file holds one track; choose one with --output-name "
                     "NAME, or write a .tsv to get them all")


def central_bins(starts: np.ndarray, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(bin starts, bin ends) on which bedGraph/BigWig place each window's value."""
    width = min(stride, window)
    begin = starts + (window - width) // 2
    return begin, begin + width


def write_track(path: Path, pieces: Iterable, columns: list[int], labels: Sequence[str],
                sizes: Sequence[tuple[str, int]], window: int, stride: int,
                description: str = "", force: bool = False) -> int:
    """Write the pieces' values to `path` in its format; the number of windows written."""
    kind = track_format(path)
    with atomic_path(path, force) as temporary:
        try:
            if kind == "tsv":
                return _tsv(temporary, pieces, columns, [labels[c] for c in columns])
            if kind == "bedgraph":
                return _bedgraph(temporary, pieces, columns[0], window, stride,
                                 labels[columns[0]], description)
            return _bigwig(temporary, pieces, columns[0], sizes, window, stride, path)
        except OSError as error:  # name the real output, not the temporary file
            raise BiodlError(f"{path}: could not write ({error.strerror or error}); check the "
                             "free space and permissions of its folder") from None


def _tsv(path: Path, pieces: Iterable, columns: list[int], labels: list[str]) -> int:
    count = 0
    with open(path, "w") as out:
        out.write("\t".join(["chrom", "start", "end", *labels]) + "\n")
        for chrom, starts, ends, values in pieces:
            rows = values[:, columns].tolist()
            out.write("".join(f"{chrom}\t{s}\t{e}\t" + "\t".join(map(FLOAT_FORMAT.format, row))
                              + "\n" for s, e, row in zip(starts.tolist(), ends.tolist(), rows)))
            count += len(starts)
    return count


def _bedgraph(path: Path, pieces: Iterable, column: int, window: int, stride: int,
              name: str, description: str) -> int:
    count = 0
    with open(path, "w") as out:
        out.write(f'track type=bedGraph name="{_quoted(name)}" '
                  f'description="{_quoted(description or name)}"\n')
        for chrom, starts, _, values in pieces:
            begin, end = central_bins(starts, window, stride)
            out.write("".join(f"{chrom}\t{b}\t{e}\t{FLOAT_FORMAT.format(v)}\n" for b, e, v in
                              zip(begin.tolist(), end.tolist(), values[:, column].tolist())))
            count += len(starts)
    return count


def _bigwig(path: Path, pieces: Iterable, column: int, sizes: Sequence[tuple[str, int]],
            window: int, stride: int, where: Path) -> int:
    import pyBigWig

    def failed(error: RuntimeError) -> BiodlError:
        return BiodlError(f"{where}: pyBigWig could not write the track ({error}); check the "
                          "free space of its folder")

    count = 0
    try:
        track = pyBigWig.open(str(path), "w")
        track.addHeader([(name, int(size)) for name, size in sizes])
    except RuntimeError as error:
        raise failed(error) from None
    try:
        for chrom, starts, _, values in pieces:
            begin, end = central_bins(starts, window, stride)
            try:
                track.addEntries([chrom] * len(starts), begin, ends=end,
                                 values=np.ascontiguousarray(values[:, column], np.float32))
            except RuntimeError as error:
                raise failed(error) from None
            count += len(starts)
    finally:
        track.close()
    return count


def _quoted(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def write_coverage(path: Path, pieces: Iterable, column: int, sizes: Sequence[tuple[str, int]],
                   spec, force: bool = False) -> int:
    """A coverage model's predicted coverage of output `column` as a BigWig: each window's
    central `spec.output_length` bases, bin by bin, in the units of the training track (a
    summed bin's value spread over its bases). The number of bins written."""
    if track_format(path) != "bigwig":
        raise BiodlError(f"{path}: a coverage model's scan writes a BigWig (.bw), to load beside "
                         "the observed track; rename the output")
    tracks, bins = len(spec.output_names), spec.output_length // spec.bin_size
    offset = (spec.length - spec.output_length) // 2
    scale = 1 / spec.bin_size if spec.bin_reduce == "sum" else 1.0
    with atomic_path(path, force) as temporary:
        return _bigwig(temporary, _bins(pieces, column, tracks, bins, offset, spec.bin_size,
                                        scale), 0, sizes, spec.bin_size, spec.bin_size, path)


def _bins(pieces: Iterable, column: int, tracks: int, bins: int, offset: int, size: int,
          scale: float):
    """Scored windows -> one piece per window bin (start, start + size, value), as the
    BigWig writer's central bins of a `size`-base window at stride `size`."""
    for chrom, starts, _, values in pieces:
        values = values.reshape(len(starts), tracks, bins)[:, column] * scale  # (n, bins)
        begin = (starts[:, None] + offset + np.arange(bins)[None, :] * size).ravel()
        yield chrom, begin, begin + size, values.reshape(-1, 1).astype(np.float32)
