"""A classifier's test figures and tables: ROC/PR curves, the confusion matrix, per-class
precision/recall/F1 and the most confident misclassified images (learning curves are in
`biodl.curves`). Everything is written into a folder that `tracking` uploads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.classification import (binary_auroc, binary_average_precision,
                                                    binary_precision_recall_curve, binary_roc,
                                                    multiclass_confusion_matrix)

from biodl.plotting import pyplot, save


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


def confusion_figsize(names: list[str]) -> tuple[float, float]:
    """Inches: two square panels, each growing with the class count, plus room for the tick
    labels (as long as the longest name) and the colour bars."""
    side = max(3.8, 0.45 * len(names) + 1.2)
    label = min(max(len(n) for n in names), 24) * 0.07
    return round(2 * (side + label + 1.1), 1), round(max(5.0, side + label + 0.8), 1)


def plot_confusion(path: Path, labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    """Counts beside the row-normalised matrix (each true class's share of predictions)."""
    plt = pyplot()
    matrix = confusion(labels, probs, len(names))
    support = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, support, out=np.full(matrix.shape, np.nan), where=support > 0)
    fig, (count_ax, share_ax) = plt.subplots(1, 2, figsize=confusion_figsize(names),
                                             layout="constrained")
    _draw_matrix(fig, count_ax, matrix.astype(float), names, "{:.0f}", matrix.max())
    _draw_matrix(fig, share_ax, shares, names, "{:.2f}", 1.0)
    count_ax.set_title(f"counts (n = {int(matrix.sum())})", fontsize=10)
    share_ax.set_title("row-normalised (share of each true class)", fontsize=10)
    fig.suptitle("test confusion matrix", fontsize=12)
    save(fig, path)


def _draw_matrix(fig, ax, shown: np.ndarray, names: list[str], fmt: str, vmax: float) -> None:
    """One matrix panel: cells coloured from 0 to `vmax`, each with its value ('-' for NaN)."""
    k = len(names)
    image = ax.imshow(np.nan_to_num(shown), cmap="Blues", vmin=0, vmax=max(vmax, 1e-12))
    fig.colorbar(image, cax=ax.inset_axes([1.04, 0, 0.05, 1]))  # as tall as the matrix
    size = max(5, min(12, 64 / k))
    for (i, j), value in np.ndenumerate(shown):
        text = "-" if np.isnan(value) else fmt.format(value)
        colour = "white" if not np.isnan(value) and value > vmax / 2 else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=size)
    ticks = [_short(n, 24) for n in names]
    rotate = max(len(n) for n in ticks) > 3 and k > 2  # long names side by side would collide
    ax.set_xticks(range(k), ticks, fontsize=9, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_yticks(range(k), ticks, fontsize=9)
    ax.set(xlabel="predicted", ylabel="true")


def curve_labels(labels: np.ndarray, probs: np.ndarray,
                 names: list[str]) -> tuple[list[str], list[str]]:
    """The ROC and PR legend entries of each class scored (one-vs-rest; binary: the positive):
    'name (AUC 0.917)' and 'name (AP 0.833; chance 0.400)', chance being the prevalence."""
    probs = _as_class_probs(probs)
    roc, pr = [], []
    for c in _scored_classes(names):
        score, truth = _one_vs_rest(labels, probs, c)
        auc = binary_auroc(score, truth).item()
        ap = binary_average_precision(score, truth).item()
        roc.append(f"{names[c]} (AUC {auc:.3f})")
        pr.append(f"{names[c]} (AP {ap:.3f}; chance {float((labels == c).mean()):.3f})")
    return roc, pr


def curves_figsize(names: list[str]) -> tuple[float, float]:
    """Inches: two square panels; taller where the legends go below (over 4 classes)."""
    entries = len(_scored_classes(names))
    rows = -(-(entries + 1) // 2)  # two legend columns, the chance entry included
    return (11.0, 5.6 if entries <= 4 else round(5.9 + 0.2 * rows, 1))


def plot_curves(path: Path, labels: np.ndarray, probs: np.ndarray, names: list[str]) -> None:
    """ROC and precision-recall curves, one-vs-rest for each class (the positive for binary),
    with AUC / average precision in the legends, the chance diagonal (ROC) and each class's
    prevalence, a random ranker's precision (PR)."""
    plt = pyplot()
    probs = _as_class_probs(probs)
    roc_labels, pr_labels = curve_labels(labels, probs, names)
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=curves_figsize(names), layout="constrained")
    colours = plt.cm.tab10.colors if len(roc_labels) <= 10 else plt.cm.tab20.colors
    for i, c in enumerate(_scored_classes(names)):
        score, truth = _one_vs_rest(labels, probs, c)
        colour = colours[i % len(colours)]
        fpr, tpr, _ = binary_roc(score, truth)
        precision, recall, _ = binary_precision_recall_curve(score, truth)
        roc_ax.plot(fpr.numpy(), tpr.numpy(), color=colour, linewidth=1.6, label=roc_labels[i])
        pr_ax.plot(recall.numpy(), precision.numpy(), color=colour, linewidth=1.6,
                   drawstyle="steps-post", label=pr_labels[i])
        pr_ax.axhline(float((labels == c).mean()), color=colour, linestyle="--", linewidth=0.9)
    roc_ax.plot([0, 1], [0, 1], "k:", linewidth=1, label="chance (AUC 0.500)")
    pr_ax.plot([], [], color="grey", linestyle="--", linewidth=0.9, label="chance = prevalence")
    scope = "" if len(names) == 2 else ", one-vs-rest"
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate",
               title=f"ROC (test{scope})")
    pr_ax.set(xlabel="recall", ylabel="precision", title=f"precision-recall (test{scope})")
    for ax, where in ((roc_ax, "lower right"), (pr_ax, "lower left")):
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal", anchor="N")
        ax.grid(alpha=0.3)
        _legend(ax, where, len(roc_labels))
    save(fig, path)


def _legend(ax, where: str, entries: int) -> None:
    if entries <= 4:
        ax.legend(loc=where, fontsize=8)
    else:  # below the axes, where it covers no curve
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2, fontsize=7.5)


def _scored_classes(names: list[str]) -> list[int]:
    return [1] if len(names) == 2 else list(range(len(names)))


def _one_vs_rest(labels: np.ndarray, probs: np.ndarray, c: int) -> tuple[torch.Tensor, ...]:
    return torch.from_numpy(probs[:, c]).float(), torch.from_numpy((labels == c).astype(np.int64))


def misclassified_figsize(shown: int, columns: int = 4) -> tuple[float, float]:
    columns = min(columns, shown)
    return 2.6 * columns, 2.7 * -(-shown // columns) + 0.5


def plot_misclassified(path: Path, pixels: np.ndarray, labels: np.ndarray, probs: np.ndarray,
                       names: list[str], limit: int = 16) -> int:
    """A grid of the most confidently misclassified test images, titled 'true -> predicted
    (probability)'; returns how many are shown. Shows the first three channels as RGB (one
    channel as grey), each image scaled to its own range."""
    probs = _as_class_probs(probs)
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")][:limit]
    if not len(wrong):
        return 0
    plt = pyplot()
    columns = min(4, len(wrong))
    fig, axes = plt.subplots(-(-len(wrong) // columns), columns,
                             figsize=misclassified_figsize(len(wrong)), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(_displayable(pixels[i]), cmap="gray")
        ax.set_title(f"{_short(names[labels[i]])} -> {_short(names[predicted[i]])} "
                     f"({probs[i, predicted[i]]:.2f})", fontsize=8)
    fig.suptitle(f"most confident test errors ({len(wrong)} of {int((predicted != labels).sum())}):"
                 " true -> predicted (probability)", fontsize=10)
    save(fig, path)
    return len(wrong)


def _short(name: str, width: int = 14) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) any depth -> (H, W, 3) or (H, W) floats in [0, 1]."""
    image = image[:3].astype(np.float32)
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else image * 0
    return image[0] if len(image) < 3 else image.transpose(1, 2, 0)


def _as_class_probs(probs: np.ndarray) -> np.ndarray:
    """(N,) positive-class probabilities -> (N, 2); (N, C) unchanged."""
    return np.stack([1 - probs, probs], axis=1) if probs.ndim == 1 else probs
