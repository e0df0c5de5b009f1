"""What `biodl check-data` reports about a loaded data module: counts per split and class,
lengths and N content (sequences) or shape and depth (images), duplicates across splits."""

from __future__ import annotations

import numpy as np

from biodl.data import encoding

_ACGT = np.frombuffer(b"ACGTacgt", dtype=np.uint8)


def split_summary(codes: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    valid = codes != encoding.PAD
    lengths = valid.sum(axis=1)
    other = valid & ~np.isin(codes, _ACGT)  # N and other IUPAC codes
    summary = {
        "records": int(len(codes)),
        "length_min": int(lengths.min()) if len(codes) else 0,
        "length_max": int(lengths.max()) if len(codes) else 0,
        "non_acgt_fraction": float(other.sum() / max(valid.sum(), 1)),
        "records_with_non_acgt": int(other.any(axis=1).sum()),
    }
    if names and labels.ndim == 1:
        counts = np.bincount(labels, minlength=len(names))
        summary["per_class"] = {name: int(n) for name, n in zip(names, counts)}
    elif labels.ndim == 2:
        summary["positives_per_label" if names else "outputs"] = labels.sum(axis=0).tolist()
    return summary


def shared_sequences(a: np.ndarray, b: np.ndarray) -> int:
    """How many rows of `b` also occur (identically) in `a`."""
    seen = {row.tobytes() for row in a}
    return sum(row.tobytes() in seen for row in b)


def image_summary(pixels: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    counts = np.bincount(labels, minlength=len(names))
    return {"records": int(len(pixels)), "shape": list(pixels.shape[1:]),
            "dtype": str(pixels.dtype), "per_class": {n: int(c) for n, c in zip(names, counts)}}


def sequence_report(sets: dict, names: list[str], raw: dict[str, dict]) -> dict:
    """Per split: counts, prepared lengths, N content, and `raw` (lengths before any crop or
    pad, from `prepare.length_summary`); identical sequences across splits."""
    arrays = {n: np.asarray(ds.codes) for n, ds in sets.items()}  # genome windows: read once
    report = {n: split_summary(arrays[n], ds.labels.numpy(), names) for n, ds in sets.items()}
    for n, summary in raw.items():
        report[n]["raw_length"] = summary
    return report | {"duplicates_across_splits": _duplicates(arrays)}


def image_report(sets: dict, names: list[str]) -> dict:
    report = {n: image_summary(ds.pixels, ds.labels.numpy(), names) for n, ds in sets.items()}
    return report | {"duplicates_across_splits": _duplicates({n: ds.pixels for n, ds in
                                                              sets.items()})}


def count_report(sets: dict) -> dict:
    """Windows of contigs, sequence pairs, series: examples per split (split by group)."""
    return {name: {"records": len(ds)} for name, ds in sets.items()} | {
        "duplicates_across_splits": {}}


QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)


def coverage_summary(totals: np.ndarray, names: list[str], peaks: int) -> dict:
    """Coverage windows of a split: (N, T) totals -> per output the total, quantiles of the
    per-window totals and the windows with no coverage at all."""
    per_track = {}
    for t, name in enumerate(names):
        column = totals[:, t] if len(totals) else np.zeros(1)
        per_track[name] = {"total": float(column.sum()),
                           "window_quantiles": [float(q) for q in np.quantile(column, QUANTILES)],
                           "zero_windows": int((column == 0).sum()) if len(totals) else 0}
    return {"records": int(len(totals)), "peak_windows": peaks,
            "background_windows": int(len(totals)) - peaks, "coverage": per_track}


def coverage_lines(name: str, s: dict) -> list[str]:
    lines = [f"{name:<5} {s['records']:>8} windows  ({s['peak_windows']} on peaks, "
             f"{s['background_windows']} background)"]
    for track, c in s["coverage"].items():
        q = "/".join(f"{v:g}" for v in c["window_quantiles"])
        lines.append(f"{'':<6}{track}: total {c['total']:g}  per window min/10%/median/90%/max "
                     f"{q}  zero windows {c['zero_windows']}")
    return lines


def _duplicates(arrays: dict[str, np.ndarray]) -> dict[str, int]:
    pairs = [("train", "val"), ("train", "test"), ("val", "test")]
    return {f"{a}/{b}": shared_sequences(arrays[a], arrays[b]) for a, b in pairs
            if a in arrays and b in arrays}


def format_report(report: dict) -> list[str]:
    lines = []
    for name in ("train", "val", "test"):
        if name not in report:
            continue
        s = report[name]
        if "coverage" in s:
            lines += coverage_lines(name, s)
            continue
        if len(s) == 1:
            lines.append(f"{name:<5} {s['records']:>8} records")
            continue
        if "shape" in s:
            classes = "  ".join(f"{k}: {v}" for k, v in s["per_class"].items())
            lines.append(f"{name:<5} {s['records']:>8} images  {'x'.join(map(str, s['shape']))}"
                         f" {s['dtype']}  {classes}")
            continue
        detail = ""
        if "per_class" in s:
            detail = "  " + "  ".join(f"{k}: {v}" for k, v in s["per_class"].items())
        lines.append(f"{name:<5} {s['records']:>8} records  length {s['length_min']}-"
                     f"{s['length_max']}  non-ACGT {100 * s['non_acgt_fraction']:.2f}% "
                     f"({s['records_with_non_acgt']} records){detail}")
        if "raw_length" in s:
            raw = s["raw_length"]
            lines.append(f"{'':<14} raw length {raw['min']}-{raw['max']} (median "
                         f"{raw['median']:g}): {raw['cropped']} cropped, {raw['padded']} padded")
    if report.get("dropped_peaks"):
        lines.append(f"peaks skipped (window off a chromosome, data.edge=drop): "
                     f"{report['dropped_peaks']}")
    dups = report["duplicates_across_splits"]
    if dups:
        lines.append("identical records across splits: " +
                     "  ".join(f"{k} {v}" for k, v in dups.items()))
    return lines
