"""What `biodl check-data` reports about a loaded data module: counts, lengths, N content,
duplicates across splits."""

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


def data_report(datamodule) -> dict:
    sets = datamodule.datasets
    report = {name: split_summary(ds.codes, ds.labels.numpy(), datamodule.class_names)
              for name, ds in sets.items()}
    pairs = [("train", "val"), ("train", "test"), ("val", "test")]
    report["duplicates_across_splits"] = {
        f"{a}/{b}": shared_sequences(sets[a].codes, sets[b].codes)
        for a, b in pairs if a in sets and b in sets}
    return report


def format_report(report: dict) -> list[str]:
    lines = []
    for name in ("train", "val", "test"):
        if name not in report:
            continue
        s = report[name]
        detail = ""
        if "per_class" in s:
            detail = "  " + "  ".join(f"{k}: {v}" for k, v in s["per_class"].items())
        lines.append(f"{name:<5} {s['records']:>8} records  length {s['length_min']}-"
                     f"{s['length_max']}  non-ACGT {100 * s['non_acgt_fraction']:.2f}% "
                     f"({s['records_with_non_acgt']} records){detail}")
    dups = report["duplicates_across_splits"]
    lines.append("identical sequences across splits: " +
                 "  ".join(f"{k} {v}" for k, v in dups.items()))
    return lines
