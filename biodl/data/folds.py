"""k-fold assignments for cross-validation (`biodl cv`): stratified folds of examples and
size-balanced folds of whole groups. No torch.

A fold split is: test = fold `fold` of `folds`; val = a fraction of each class (or of the
groups' size) of the other folds; train = the rest. The assignment depends only on the labels
(or group sizes) and the split's seed, so the K fold runs of one `biodl cv` partition the data:
every example is tested exactly once.
"""

from __future__ import annotations

import numpy as np

from biodl.errors import BiodlError


def check_folds(folds: int, fold: int, key: str = "data.split") -> None:
    """folds: 0 (one split) or >= 2, and 0 <= fold < folds."""
    if folds == 0 and fold == 0:
        return
    if folds < 2 or not 0 <= fold < folds:
        raise BiodlError(f"{key}: folds={folds}, fold={fold}: give folds >= 2 and "
                         "0 <= fold < folds (folds: 0 is the one seeded split)")


def refuse_folds(folds: int, why: str) -> None:
    """For a format whose split is given, not drawn: folds would be silently unused."""
    if folds:
        raise BiodlError(f"data.split.folds={folds}: this data cannot be cross-validated: {why}")


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """(N,) fold of each example: each class shuffled by `seed` and dealt round-robin, the
    deal continuing from one class to the next so fold sizes differ by at most one."""
    values, counts = np.unique(labels, return_counts=True)
    if len(values) and counts.min() < folds:
        smallest = values[counts.argmin()]
        raise BiodlError(f"data.split.folds={folds}: class {str(smallest)!r} has only "
                         f"{counts.min()} example(s), so some fold would test none of it; use "
                         f"at most {counts.min()} folds or add examples of that class")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for value in values:
        members = rng.permutation(np.flatnonzero(labels == value))
        fold_of[members] = (offset + np.arange(len(members))) % folds
        offset += len(members)
    return fold_of


def fold_split(labels: np.ndarray, val: float, seed: int, folds: int,
               fold: int) -> dict[str, np.ndarray]:
    """Sorted train/val/test indices of fold `fold`; val is `val` of each class of the
    non-test folds, drawn with its own seed stream."""
    check_folds(folds, fold)
    if not 0 <= val < 1:
        raise BiodlError(f"data.split.val={val}: must be a fraction in [0, 1), e.g. 0.1")
    fold_of = stratified_folds(labels, folds, seed)
    rng = np.random.default_rng([seed, fold])
    test = np.flatnonzero(fold_of == fold)
    val_parts = []
    for value in np.unique(labels):
        rest = rng.permutation(np.flatnonzero((labels == value) & (fold_of != fold)))
        val_parts.append(rest[:round(val * len(rest))])
    val_index = np.sort(np.concatenate([np.zeros(0, dtype=np.int64), *val_parts]))
    train = np.setdiff1d(np.arange(len(labels)), np.concatenate([test, val_index]))
    return {"train": train, "val": val_index, "test": test}


def group_folds(sizes: dict[str, int], folds: int, seed: int) -> list[list[str]]:
    """Group names per fold: groups in a seeded random order, then largest first (ties keep
    that order), each to the fold with the least total size so far (then fewest groups,
    then lowest index). Every fold gets at least one group."""
    names = list(sizes)
    if len(names) < folds:
        raise BiodlError(f"data.split.folds={folds}: only {len(names)} group(s) "
                         f"({', '.join(names)}); a group never straddles folds, so use at "
                         f"most {len(names)} folds")
    order = np.random.default_rng(seed).permutation(len(names))
    shuffled = sorted((names[i] for i in order), key=lambda n: -sizes[n])
    members: list[list[str]] = [[] for _ in range(folds)]
    loads = [0] * folds
    for name in shuffled:
        k = min(range(folds), key=lambda i: (loads[i], len(members[i]), i))
        members[k].append(name)
        loads[k] += sizes[name]
    return members
