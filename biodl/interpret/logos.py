"""Sequence logos of attributions (logomaker), one PNG per sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

WINDOW = 100  # longer sequences: the 100 bp around the largest score


def plot_logo(path: Path, scores: np.ndarray, title: str) -> None:
    """(4, L) scores in ACGT order -> a logo (letters up for positive, down for negative)."""
    import matplotlib

    matplotlib.use("Agg")
    import logomaker
    import matplotlib.pyplot as plt
    import pandas as pd

    start = 0
    if scores.shape[1] > WINDOW:
        top = int(np.abs(scores).sum(axis=0).argmax())
        start = min(max(top - WINDOW // 2, 0), scores.shape[1] - WINDOW)
        scores = scores[:, start:start + WINDOW]
    frame = pd.DataFrame(scores.T, columns=list("ACGT"),
                         index=np.arange(start + 1, start + 1 + scores.shape[1]))
    figure, axes = plt.subplots(figsize=(max(6.0, scores.shape[1] * 0.12), 2.2))
    logomaker.Logo(frame, ax=axes, color_scheme="classic")
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_xlabel("position (1-based)")
    axes.set_ylabel("attribution")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
