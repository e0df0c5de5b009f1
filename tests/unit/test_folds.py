"""k-fold splits: exact fold membership on tiny labels and groups."""

from __future__ import annotations

import numpy as np
import pytest

from biodl.config.data import GroupSplitConfig
from biodl.data.base import stratified_split
from biodl.data.folds import group_folds, stratified_folds
from biodl.data.groups import split_groups
from biodl.errors import BiodlError

LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])


def test_stratified_folds_deal_each_class_evenly():
    fold_of = stratified_folds(LABELS, 2, seed=0)
    for fold in (0, 1):
        members = np.flatnonzero(fold_of == fold)
        assert np.bincount(LABELS[members]).tolist() == [3, 2]
    assert fold_of.tolist() == stratified_folds(LABELS, 2, seed=0).tolist()  # seeded
    assert fold_of.tolist() != stratified_folds(LABELS, 2, seed=1).tolist()


def test_stratified_folds_continue_the_deal_across_classes():
    # 4 + 3 examples in 3 folds: class 0 goes to folds 0, 1, 2, 0; class 1 continues at 1, 2, 0
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    fold_of = stratified_folds(labels, 3, seed=0)
    assert sorted(fold_of[:4].tolist()) == [0, 0, 1, 2]
    assert sorted(fold_of[4:].tolist()) == [0, 1, 2]
    assert np.bincount(fold_of).tolist() == [3, 2, 2]


def test_every_example_is_tested_exactly_once_and_splits_are_disjoint():
    tested = []
    for fold in range(3):
        parts = stratified_split(LABELS, 0.25, 0.1, seed=4, folds=3, fold=fold)
        every = np.concatenate([parts["train"], parts["val"], parts["test"]])
        assert sorted(every.tolist()) == list(range(10))  # a partition of all examples
        tested += parts["test"].tolist()
    assert sorted(tested) == list(range(10))


def test_fold_split_exact_membership():
    parts = stratified_split(LABELS, 0.5, 0.0, seed=0, folds=2, fold=0)
    fold_of = stratified_folds(LABELS, 2, seed=0)
    assert parts["test"].tolist() == np.flatnonzero(fold_of == 0).tolist()
    # val: half of each class of the other fold (3 -> round(1.5) = 2 class 0, 2 -> 1 class 1)
    assert np.bincount(LABELS[parts["val"]], minlength=2).tolist() == [2, 1]
    assert len(parts["train"]) == 2


def test_more_folds_than_the_smallest_class_is_refused():
    with pytest.raises(BiodlError, match=r"folds=5: class '1' has only 4 example\(s\).*at most "
                                         r"4 folds"):
        stratified_split(LABELS, 0.1, 0.1, seed=0, folds=5, fold=0)


@pytest.mark.parametrize("folds, fold", [(1, 0), (3, 3), (3, -1), (0, 2)])
def test_bad_fold_numbers_are_refused(folds, fold):
    with pytest.raises(BiodlError, match="folds >= 2 and 0 <= fold < folds"):
        stratified_split(LABELS, 0.1, 0.1, seed=0, folds=folds, fold=fold)


SIZES = {"c1": 50, "c2": 40, "c3": 30, "c4": 20, "c5": 10, "c6": 10}


def test_group_folds_balance_sizes_largest_first():
    # largest first to the lightest fold: c1 -> 0, c2 -> 1, c3 -> 1 (40 < 50), c4 -> 0,
    # then c5 and c6 (ties in seeded order) to whichever is lighter: 70 / 70 -> 80 / 80
    members = group_folds(SIZES, 2, seed=0)
    assert members[0][:2] == ["c1", "c4"] and members[1][:2] == ["c2", "c3"]
    assert [sum(SIZES[n] for n in m) for m in members] == [80, 80]
    assert sorted(n for m in members for n in m) == sorted(SIZES)


def test_grouped_fold_split_keeps_groups_whole():
    tested = []
    for fold in range(3):
        cfg = GroupSplitConfig(val=0.25, folds=3, fold=fold, seed=2)
        parts = split_groups(SIZES, cfg)
        assert sorted(parts["train"] + parts["val"] + parts["test"]) == sorted(SIZES)
        assert parts["val"] and parts["train"] and parts["test"]
        tested += parts["test"]
    assert sorted(tested) == sorted(SIZES)  # each group tested once, never split


def test_group_fold_refusals():
    with pytest.raises(BiodlError, match="only 6 group"):
        split_groups(SIZES, GroupSplitConfig(folds=7))
    with pytest.raises(BiodlError, match="folds and val_groups/test_groups exclude each other"):
        split_groups(SIZES, GroupSplitConfig(folds=2, test_groups=["c1"]))
