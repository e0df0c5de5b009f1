"""What every biodl figure shares: matplotlib's Agg backend (no display), a fixed DPI and
sizes that depend only on the inputs, so each PNG's pixel size is known in advance."""

from __future__ import annotations

from pathlib import Path

DPI = 150


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    fig.savefig(path, dpi=DPI)  # fixed size: no bbox_inches="tight", so pixels = inches * DPI
    pyplot().close(fig)
