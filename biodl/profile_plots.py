"""Predicted against observed coverage profiles, one panel per window (tracks overlaid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biodl.plotting import pyplot, save


def plot_profiles(path: Path, observed: np.ndarray, predicted: np.ndarray, tracks: list[str],
                  windows: list[str]) -> None:
    """`observed`, `predicted`: (K, T, B) coverage per bin of K windows named `windows`."""
    plt = pyplot()
    count = len(windows)
    fig, axes = plt.subplots(count, 1, figsize=(8, 2.2 * count), squeeze=False)
    positions = np.arange(observed.shape[-1])
    for k, ax in enumerate(axes[:, 0]):
        for t, name in enumerate(tracks):
            colour = f"C{t}"
            ax.fill_between(positions, observed[k, t], step="mid", alpha=0.35, color=colour,
                            label=f"{name} observed")
            ax.plot(positions, predicted[k, t], color=colour, lw=1.2,
                    label=f"{name} predicted")
        ax.set_title(f"{windows[k]}: observed total {observed[k].sum():g}, predicted "
                     f"{predicted[k].sum():.1f}", fontsize=8)
        ax.set_ylabel("coverage / bin", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("bin along the output window", fontsize=8)
    fig.tight_layout()
    save(fig, path)
