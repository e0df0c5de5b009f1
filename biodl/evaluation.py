"""Evaluation artifacts written after the test: predictions, curves, confusion matrix, plots.

Everything is written into a folder that `tracking` uploads; nothing here talks to MLflow.
Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.classification import (binary_precision_recall_curve, binary_roc,
                                                    multiclass_confusion_matrix)


def write_predictions(path: Path, ids: list[str], labels: np.ndarray, probs: np.ndarray,
                      names: list[str]) -> None:
    """CSV: id, true label, one probability column per class, predicted label."""
    probs = _as_class_probs(probs)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", *[f"p_{n}" for n in names], "predicted"])
        for rid, label, row in zip(ids, labels.tolist(), probs.round(6)):
            writer.writerow([rid, names[label], *row.tolist(), names[int(row.argmax())]])


def per_class_table(labels: np.ndarray, probs: np.ndarray, names: list[str]) -> list[dict]:
    """Precision, recall, F1 and support of each class at the argmax decision."""
    matrix = confusion(labels, probs, len(names))
    rows = []
    for i, name in enumerate(names):
        tp = matrix[i, i]
        precision = tp / max(matrix[:, i].sum(), 1)
        recall = tp / max(matrix[i].sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        rows.append({"class": name, "precision": float(precision), "recall": float(recall),
                     "f1": float(f1), "support": int(matrix[i].sum())})
    return rows


def confusion(labels: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    preds = torch.from_numpy(_as_class_probs(probs).argmax(axis=1))
    return multiclass_confusion_matrix(preds, torch.from_numpy(labels), k).numpy()


def plot_confusion(path: Path, labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    plt = _pyplot()
    matrix = confusion(labels, probs, len(names))
    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(names), 1 + 0.6 * len(names)))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=8)
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted",
           ylabel="true", title="test confusion matrix")
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_yticklabels(names)
    _save(fig, path)


def plot_curves(path: Path, labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    """ROC and precision-recall curves, one-vs-rest for each class (the positive for binary)."""
    plt = _pyplot()
    probs = _as_class_probs(probs)
    classes = [1] if len(names) == 2 else range(len(names))
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4.5))
    for c in classes:
        score, truth = torch.from_numpy(probs[:, c]), torch.from_numpy((labels == c).astype(int))
        fpr, tpr, _ = binary_roc(score, truth)
        precision, recall, _ = binary_precision_recall_curve(score, truth)
        roc_ax.plot(fpr.numpy(), tpr.numpy(), label=names[c])
        pr_ax.plot(recall.numpy(), precision.numpy(), label=names[c])
    roc_ax.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall (test)")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=7)
    _save(fig, path)


def plot_learning_curves(path: Path, history: dict[str, list[tuple[int, float]]]) -> None:
    """Each metric's value per logged step, losses on one panel and the rest on another."""
    plt = _pyplot()
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for name, points in sorted(history.items()):
        if (not points or name.startswith(("test/", "grad_norm/")) or name.endswith("_step")
                or name == "train/examples"):
            continue
        steps, values = zip(*points)
        (loss_ax if name.endswith("loss") else metric_ax).plot(steps, values, marker=".",
                                                               label=name)
    loss_ax.set(xlabel="step", title="loss")
    metric_ax.set(xlabel="step", title="validation metrics")
    for ax in (loss_ax, metric_ax):
        if ax.lines:
            ax.legend(fontsize=7)
    _save(fig, path)


def plot_misclassified(path: Path, pixels: np.ndarray, labels: np.ndarray, probs: np.ndarray,
                       names: list[str], limit: int = 16) -> int:
    """A grid of the most confidently misclassified test images, titled true -> predicted
    (probability); returns how many are shown. Shows the first three channels as RGB (one
    channel as grey), each image scaled to its own range."""
    probs = _as_class_probs(probs)
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:limit]
    if not len(wrong):
        return 0
    plt = _pyplot()
    columns = min(4, len(wrong))
    rows = -(-len(wrong) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(_displayable(pixels[i]), cmap="gray")
        ax.set_title(f"{names[labels[i]]} -> {names[predicted[i]]}\n"
                     f"({probs[i, predicted[i]]:.2f})", fontsize=7)
    _save(fig, path)
    return len(wrong)


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) any depth -> (H, W, 3) or (H, W) floats in [0, 1]."""
    image = image[:3].astype(np.float32)
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else image * 0
    return image[0] if len(image) < 3 else image.transpose(1, 2, 0)


def plot_gradient_norms(path: Path, history: dict[str, list[tuple[int, float]]]) -> None:
    """Each layer's gradient norm over training on a log scale, input layers dark, output
    layers light, so vanishing (falling towards the input) or exploding norms stand out."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(history), 1)))
    for colour, (name, points) in zip(colours, history.items()):
        steps, values = zip(*points)
        ax.plot(steps, values, color=colour, label=name, linewidth=1)
    ax.set(xlabel="step", ylabel="gradient L2 norm", yscale="log", title="gradient norm per layer")
    ax.legend(fontsize=6, ncol=2)
    _save(fig, path)


def _as_class_probs(probs: np.ndarray) -> np.ndarray:
    """(N,) positive-class probabilities -> (N, 2); (N, C) unchanged."""
    return np.stack([1 - probs, probs], axis=1) if probs.ndim == 1 else probs


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
