"""Learning curves per epoch (the checkpoint monitor's best epoch marked) and per-layer
gradient norms, drawn from a run's MLflow metric history; nothing here talks to MLflow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from biodl.errors import BiodlError
from biodl.plotting import pyplot, save

Point = tuple[int, int, float]  # (step, timestamp in ms, value): one MLflow metric record
Curve = list[tuple[int, float]]  # (epoch, value), one value an epoch
SPLIT_COLOURS = {"train": "C0", "val": "C1"}  # the same colour for a split on every panel


def epoch_values(points: list[Point], epochs: list[Point]) -> Curve:
    """One metric's records as (epoch, value), one an epoch, in epoch order.

    Lightning logs `epoch` in the same MLflow batch as every metric, with the same step and
    timestamp: that pair names a record's epoch exactly. A record without its twin takes the
    epoch last logged at or before its step. Where an epoch has several records (a resumed
    run repeats the epoch it was interrupted in), the last logged wins.
    """
    exact = {(step, stamp): int(epoch) for step, stamp, epoch in epochs}
    ordered = sorted((step, stamp, int(epoch)) for step, stamp, epoch in epochs)
    values: dict[int, float] = {}
    for step, stamp, value in sorted(points, key=lambda p: (p[1], p[0])):  # logging order
        epoch = exact.get((step, stamp))
        if epoch is None:
            before = [e for s, _, e in ordered if s <= step]
            if not before:
                continue  # logged before any epoch: no epoch to put it at
            epoch = before[-1]
        values[epoch] = value
    return sorted(values.items())


def per_epoch(history: dict[str, list[Point]]) -> dict[str, Curve]:
    """The epoch-level training and validation curves of a run's metric history."""
    epochs = history.get("epoch", [])
    return {name: epoch_values(points, epochs) for name, points in history.items()
            if _is_epoch_curve(name) and points}


def _is_epoch_curve(name: str) -> bool:
    return not (name == "epoch" or name.startswith(("test/", "grad_norm/"))
                or name.endswith("_step") or name == "train/examples")


def best_epoch(curve: Curve, mode: str) -> tuple[int, float] | None:
    """The epoch and value a checkpoint monitor in `mode` picks: the first of equal bests,
    as `ModelCheckpoint` only replaces its best on a strict improvement; NaN never wins.
    None where the curve has no number."""
    if mode not in ("min", "max"):
        raise BiodlError(f"callbacks.checkpoint.mode: '{mode}' is neither 'min' nor 'max'")
    finite = [(e, v) for e, v in curve if not math.isnan(v)]
    if not finite:
        return None
    value = (min if mode == "min" else max)(v for _, v in finite)
    return next((e, v) for e, v in finite if v == value)


def plot_learning_curves(path: Path, history: dict[str, list[Point]],
                         monitor: str | None = None, mode: str = "min") -> None:
    """Per-epoch curves: train and val loss on one panel, each other metric on its own
    (beside its train twin if there is one), the monitor's best epoch marked on all."""
    plt = pyplot()
    curves = per_epoch(history)
    panels = _panels(curves)
    columns = max(1, min(4, len(panels)))
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(max(3.6 * columns, 7.2), 2.8 * rows + 0.4),
                             squeeze=False, layout="constrained")
    best = best_epoch(curves.get(monitor, []), mode)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (key, names) in zip(axes.flat, panels.items()):
        _draw_panel(ax, key, {n: curves[n] for n in names}, monitor, best)
    if not panels:
        axes.flat[0].text(0.5, 0.5, "no per-epoch metrics logged", ha="center", va="center")
    fig.suptitle(_learning_title(monitor, mode, best), fontsize=11)
    save(fig, path)


def _panels(curves: dict[str, Curve]) -> dict[str, list[str]]:
    """Metric key (the part after 'train/', 'val/') -> its curves; loss first."""
    panels: dict[str, list[str]] = {}
    for name in sorted(curves, key=lambda n: (n.split("/")[-1] != "loss", n.split("/")[-1], n)):
        panels.setdefault(name.split("/")[-1], []).append(name)
    return panels


def _draw_panel(ax, key: str, curves: dict[str, Curve], monitor: str | None,
                best: tuple[int, float] | None) -> None:
    from matplotlib.ticker import MaxNLocator

    for name, curve in curves.items():
        epochs, values = zip(*curve)
        ax.plot(epochs, values, marker="o", markersize=3, linewidth=1.5, label=name,
                color=SPLIT_COLOURS.get(name.split("/")[0], "C2"))
        if name == monitor and best:
            ax.plot(*best, marker="*", markersize=13, color="crimson", linestyle="none",
                    zorder=3, label=f"best: {best[1]:.4g}")
    if best:
        ax.axvline(best[0], color="crimson", linestyle="--", linewidth=0.8, alpha=0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel=key if len(curves) > 1 else next(iter(curves)))
    ax.grid(alpha=0.3)
    if len(curves) > 1 or monitor in curves:
        ax.legend(fontsize=7)


def _learning_title(monitor: str | None, mode: str, best: tuple[int, float] | None) -> str:
    if best:
        return f"learning curves: best epoch {best[0]} by {monitor} ({mode} {best[1]:.4g})"
    if monitor:
        return f"learning curves (no value of {monitor} logged: best epoch not marked)"
    return "learning curves"


def plot_gradient_norms(path: Path, history: dict[str, list[tuple[int, float]]]) -> None:
    """Each layer's gradient norm over training on a log scale, input layers dark, output
    layers light, so vanishing (falling towards the input) or exploding norms stand out."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(history), 1)))
    for colour, (name, points) in zip(colours, history.items()):
        steps, values = zip(*points)
        ax.plot(steps, values, color=colour, label=name, linewidth=1)
    ax.set(xlabel="step", ylabel="gradient L2 norm", yscale="log", title="gradient norm per layer")
    ax.legend(fontsize=6, ncol=2)
    save(fig, path)
