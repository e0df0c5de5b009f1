"""Class weights for imbalanced data."""

from __future__ import annotations

from biodl.errors import BiodlError


def class_weights(spec: str | list[float], counts: list[int]) -> list[float] | None:
    """`balanced` gives n / (k * n_c) per class, as scikit-learn does; a list is used as is;
    `none` gives no weights."""
    if spec == "none":
        return None
    if spec == "balanced":
        total, k = sum(counts), len(counts)
        return [total / (k * max(c, 1)) for c in counts]
    if len(spec) != len(counts):
        raise BiodlError(f"task.class_weights: {len(spec)} weights for {len(counts)} classes; "
                         "give one weight per class, in the order of data.classes")
    return list(spec)
