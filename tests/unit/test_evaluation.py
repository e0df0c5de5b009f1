"""The evaluation figures: exact PNG sizes, the step -> epoch mapping, best epochs, AUC / AP."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from biodl import curves, evaluation
from biodl.errors import BiodlError

NAMES3 = ["a", "b", "c"]
LABELS3 = np.array([0, 0, 1, 1, 2, 2])
PROBS3 = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.5, 0.3],
                   [0.1, 0.3, 0.6], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4]])  # 3 of 6 wrong


def size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


# ---- step -> epoch -------------------------------------------------------------------------

def test_each_record_takes_the_epoch_logged_with_it():
    epochs = [(47, 100, 0.0), (49, 150, 1.0), (95, 200, 1.0), (99, 250, 2.0), (143, 300, 2.0)]
    points = [(47, 100, 0.26), (95, 200, 0.23), (143, 300, 0.22)]
    assert curves.epoch_values(points, epochs) == [(0, 0.26), (1, 0.23), (2, 0.22)]


def test_a_resumed_run_keeps_the_last_value_logged_for_a_repeated_epoch():
    # epoch 1 validated at step 20, killed, resumed from epoch 0's checkpoint: epoch 1 again
    epochs = [(10, 1, 0.0), (20, 2, 1.0), (20, 3, 1.0), (30, 4, 2.0)]
    points = [(10, 1, 0.9), (20, 2, 0.7), (20, 3, 0.6), (30, 4, 0.5)]
    assert curves.epoch_values(points, epochs) == [(0, 0.9), (1, 0.6), (2, 0.5)]


def test_a_record_without_its_epoch_twin_takes_the_epoch_logged_at_or_before_its_step():
    epochs = [(10, 1, 0.0), (20, 2, 1.0)]
    points = [(5, 9, 0.1), (10, 7, 0.2), (25, 8, 0.3)]  # other timestamps; step 5 precedes all
    assert curves.epoch_values(points, epochs) == [(0, 0.2), (1, 0.3)]


def test_per_epoch_keeps_train_and_val_curves_only():
    epochs = [(9, 1, 0.0), (19, 2, 1.0), (20, 3, 2.0)]
    history = {"epoch": epochs, "train/loss": [(9, 1, 1.0), (19, 2, 0.5)],
               "val/acc": [(9, 1, 0.5), (19, 2, 0.75)], "test/acc": [(20, 3, 0.7)],
               "train/loss_step": [(5, 0, 1.2)], "train/examples": [(9, 1, 64.0)],
               "grad_norm/conv": [(9, 1, 0.1)]}
    assert curves.per_epoch(history) == {"train/loss": [(0, 1.0), (1, 0.5)],
                                             "val/acc": [(0, 0.5), (1, 0.75)]}


# ---- best epoch ------------------------------------------------------------------------------

def test_best_epoch_in_min_and_max_mode_takes_the_first_of_equal_bests():
    curve = [(0, 0.5), (1, 0.2), (2, 0.9), (3, 0.2), (4, 0.9)]
    assert curves.best_epoch(curve, "min") == (1, 0.2)
    assert curves.best_epoch(curve, "max") == (2, 0.9)


def test_best_epoch_skips_nan_and_is_none_without_a_number():
    assert curves.best_epoch([(0, float("nan")), (1, 0.4), (2, 0.3)], "min") == (2, 0.3)
    assert curves.best_epoch([(0, float("nan"))], "max") is None
    assert curves.best_epoch([], "min") is None


def test_best_epoch_names_a_bad_mode():
    with pytest.raises(BiodlError, match="callbacks.checkpoint.mode: 'lowest'"):
        curves.best_epoch([(0, 1.0)], "lowest")


# ---- learning curves -------------------------------------------------------------------------

def history(val_names=("val/acc",)) -> dict:
    stamps = range(3)
    out = {"epoch": [(9 + 10 * e, t, float(e)) for e, t in zip(range(3), stamps)],
           "train/loss": [(9 + 10 * e, t, 1.0 / (e + 1)) for e, t in zip(range(3), stamps)],
           "val/loss": [(9 + 10 * e, t, [0.9, 0.6, 0.7][e]) for e, t in zip(range(3), stamps)]}
    for name in val_names:
        out[name] = [(9 + 10 * e, t, 0.5 + 0.1 * e) for e, t in zip(range(3), stamps)]
    return out


def test_learning_curves_png_sizes(tmp_path):
    curves.plot_learning_curves(tmp_path / "two.png", history(), "val/loss", "min")
    assert size(tmp_path / "two.png") == (1080, 480)  # 2 panels: 7.2 x 3.2 in at 150 dpi
    five = history(("val/acc", "val/auroc", "val/f1", "val/mcc"))
    curves.plot_learning_curves(tmp_path / "five.png", five, "val/auroc", "max")
    assert size(tmp_path / "five.png") == (2160, 900)  # 4 columns, 2 rows: 14.4 x 6 in


def test_learning_curves_without_the_monitor_or_any_metric_still_draw(tmp_path):
    curves.plot_learning_curves(tmp_path / "missing.png", history(), "val/mcc", "max")
    curves.plot_learning_curves(tmp_path / "none.png", history(), None)
    curves.plot_learning_curves(tmp_path / "empty.png", {}, "val/loss")
    assert size(tmp_path / "missing.png") == size(tmp_path / "none.png") == (1080, 480)
    assert size(tmp_path / "empty.png") == (1080, 480)


def test_learning_curve_title_names_the_best_epoch(tmp_path, monkeypatch):
    figures = capture(monkeypatch)
    curves.plot_learning_curves(tmp_path / "lc.png", history(), "val/loss", "min")
    assert figures[0]._suptitle.get_text() == (
        "learning curves: best epoch 1 by val/loss (min 0.6)")
    assert [ax.get_xlabel() for ax in figures[0].axes] == ["epoch", "epoch"]
    assert [ax.get_ylabel() for ax in figures[0].axes] == ["loss", "val/acc"]


# ---- ROC / PR ------------------------------------------------------------------------------

def direct_auc(score: np.ndarray, truth: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting half."""
    pos, neg = score[truth == 1], score[truth == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def direct_ap(score: np.ndarray, truth: np.ndarray) -> float:
    """Mean over positives of the precision at that positive's rank (no tied scores here)."""
    order = np.argsort(-score)
    hits = np.cumsum(truth[order])
    ranks = np.arange(1, len(score) + 1)
    return float((hits / ranks)[truth[order] == 1].mean())


def test_binary_legend_reports_auc_ap_and_prevalence():
    labels, scores = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    roc, pr = evaluation.curve_labels(labels, scores, ["neg", "pos"])
    assert direct_auc(scores, labels) == 0.75 and direct_ap(scores, labels) == pytest.approx(5 / 6)
    assert roc == ["pos (AUC 0.750)"]
    assert pr == ["pos (AP 0.833; chance 0.500)"]


def test_multiclass_legend_is_one_vs_rest():
    roc, pr = evaluation.curve_labels(LABELS3, PROBS3, NAMES3)
    expected_roc, expected_pr = [], []
    for c, name in enumerate(NAMES3):
        truth = (LABELS3 == c).astype(int)
        expected_roc.append(f"{name} (AUC {direct_auc(PROBS3[:, c], truth):.3f})")
        expected_pr.append(f"{name} (AP {direct_ap(PROBS3[:, c], truth):.3f}; chance 0.333)")
    assert roc == expected_roc
    assert pr == expected_pr
    assert roc[0] == "a (AUC 0.875)"  # class a: 7 of 8 positive-negative pairs ordered


def test_curves_png_size_and_legends(tmp_path, monkeypatch):
    evaluation.plot_curves(tmp_path / "curves.png", LABELS3, PROBS3, NAMES3)
    assert size(tmp_path / "curves.png") == (1650, 840)  # 11 x 5.6 in
    figures = capture(monkeypatch)
    evaluation.plot_curves(tmp_path / "again.png", LABELS3, PROBS3, NAMES3)
    roc_ax, pr_ax = figures[0].axes
    roc, pr = evaluation.curve_labels(LABELS3, PROBS3, NAMES3)
    assert legend(roc_ax) == [*roc, "chance (AUC 0.500)"]
    assert legend(pr_ax) == [*pr, "chance = prevalence"]
    dashed = [line.get_ydata() for line in pr_ax.lines if line.get_linestyle() == "--"]
    assert [list(y) for y in dashed if len(y)] == [[1 / 3, 1 / 3]] * 3  # one baseline a class


def test_curves_with_many_classes_grow_for_the_legends_below(tmp_path):
    names = [f"class {i}" for i in range(8)]
    labels = np.arange(16) % 8
    probs = np.eye(8)[(labels + np.arange(16) // 8) % 8] * 0.5 + 0.5 / 8
    evaluation.plot_curves(tmp_path / "eight.png", labels, probs, names)
    assert size(tmp_path / "eight.png") == (1650, 1035)  # 11 x 6.9 in: 5 legend rows


# ---- confusion matrix ----------------------------------------------------------------------

def test_confusion_png_sizes(tmp_path):
    evaluation.plot_confusion(tmp_path / "three.png", LABELS3, PROBS3, NAMES3)
    assert size(tmp_path / "three.png") == (1485, 750)  # 9.9 x 5 in
    names = [f"cell type {i}" for i in range(12)]  # 12 classes, names up to 12 characters
    labels = np.arange(24) % 12
    evaluation.plot_confusion(tmp_path / "twelve.png", labels, np.eye(12)[labels], names)
    assert size(tmp_path / "twelve.png") == (2565, 1230)  # 17.1 x 8.2 in


def test_confusion_counts_and_row_shares_in_the_cells(tmp_path, monkeypatch):
    figures = capture(monkeypatch)
    evaluation.plot_confusion(tmp_path / "cm.png", LABELS3, PROBS3, NAMES3)
    count_ax, share_ax = figures[0].axes[:2]
    assert [t.get_text() for t in count_ax.texts] == ["1", "1", "0", "0", "1", "1", "1", "0", "1"]
    assert [t.get_text() for t in share_ax.texts][:3] == ["0.50", "0.50", "0.00"]
    assert figures[0]._suptitle.get_text() == "test confusion matrix"
    assert count_ax.get_title() == "counts (n = 6)"


def test_a_class_absent_from_the_test_set_shows_dashes(tmp_path, monkeypatch):
    figures = capture(monkeypatch)
    evaluation.plot_confusion(tmp_path / "cm.png", np.array([0, 1]),
                              np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]]), NAMES3)
    assert [t.get_text() for t in figures[0].axes[1].texts][6:] == ["-", "-", "-"]


# ---- misclassified images ------------------------------------------------------------------

def test_misclassified_png_sizes_and_titles(tmp_path, monkeypatch):
    pixels = np.random.default_rng(0).random((6, 3, 8, 8)).astype(np.float32)
    assert evaluation.plot_misclassified(tmp_path / "m.png", pixels, LABELS3, PROBS3,
                                         NAMES3) == 3
    assert size(tmp_path / "m.png") == (1170, 480)  # 3 columns: 7.8 x 3.2 in
    figures = capture(monkeypatch)
    evaluation.plot_misclassified(tmp_path / "again.png", pixels, LABELS3, PROBS3, NAMES3)
    titles = [ax.get_title() for ax in figures[0].axes if ax.get_title()]
    assert titles == ["a -> b (0.60)", "b -> c (0.60)", "c -> a (0.50)"]  # most confident first
    assert figures[0]._suptitle.get_text().startswith("most confident test errors (3 of 3)")


def test_misclassified_grid_wraps_at_four_columns_and_skips_when_nothing_is_wrong(tmp_path):
    labels = np.array([0, 1, 2, 0, 1, 2])
    probs = np.eye(3)[(labels + 1) % 3] * 0.8 + 0.2 / 3
    pixels = np.zeros((6, 1, 8, 8), dtype=np.float32)
    assert evaluation.plot_misclassified(tmp_path / "six.png", pixels, labels, probs,
                                         NAMES3) == 6
    assert size(tmp_path / "six.png") == (1560, 885)  # 4 columns, 2 rows: 10.4 x 5.9 in
    assert evaluation.plot_misclassified(tmp_path / "none.png", pixels, labels,
                                         np.eye(3)[labels], NAMES3) == 0
    assert not (tmp_path / "none.png").exists()


def legend(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def capture(monkeypatch) -> list:
    """Keep each figure `save` is given (before it is closed) to inspect its text."""
    figures: list = []
    save = evaluation.save
    for module in (evaluation, curves):
        monkeypatch.setattr(module, "save", lambda fig, path: (figures.append(fig),
                                                               save(fig, path)))
    return figures
