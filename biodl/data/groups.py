"""Splits by group (contig, chromosome, gene family): no group straddles two splits. No torch."""

from __future__ import annotations

import numpy as np

from biodl.config.binding import closest
from biodl.config.data import GroupSplitConfig
from biodl.data.base import SPLITS
from biodl.data.folds import check_folds, group_folds
from biodl.errors import BiodlError


def split_groups(groups: dict[str, int], cfg: GroupSplitConfig) -> dict[str, list[str]]:
    """Group names per split (in `groups`' order); `groups`: name -> size in bases.

    A split named in `val_groups`/`test_groups` is exactly those groups; any other draws groups
    in a seeded random order, taking each that brings its size closer to `fraction * total`,
    at least one if its fraction is above 0. Training keeps the rest and must not be empty.
    With `folds` >= 2, test is fold `fold` of size-balanced group folds (`biodl.data.folds`)."""
    if cfg.folds or cfg.fold:
        return _fold_groups(groups, cfg)
    if not (0 <= cfg.val < 1 and 0 <= cfg.test < 1 and cfg.val + cfg.test < 1):
        raise BiodlError(f"data.split: val={cfg.val} and test={cfg.test} must be fractions "
                         "summing below 1, e.g. val: 0.1, test: 0.1")
    names = list(groups)
    chosen = {"val": _explicit(cfg.val_groups, names, "val_groups"),
              "test": _explicit(cfg.test_groups, names, "test_groups")}
    both = set(chosen["val"] or ()) & set(chosen["test"] or ())
    if both:
        raise BiodlError(f"data.split: {sorted(both)} are in both val_groups and test_groups; "
                         "put each group in one split")
    taken = set(chosen["val"] or ()) | set(chosen["test"] or ())
    order = np.random.default_rng(cfg.seed).permutation(len(names))
    free = [names[i] for i in order if names[i] not in taken]
    total = sum(groups.values())
    for split in ("val", "test"):
        if chosen[split] is None:
            reserve = 1 + int(split == "val" and chosen["test"] is None and cfg.test > 0)
            chosen[split] = _draw(free, groups, getattr(cfg, split), total, reserve, split)
            drawn = set(chosen[split])
            free = [n for n in free if n not in drawn]
    if not free:
        raise BiodlError(f"data.split: no group is left for training (groups: "
                         f"{', '.join(names)}); name fewer groups in val_groups/test_groups")
    chosen["train"] = free
    rank = {name: i for i, name in enumerate(names)}
    return {split: sorted(chosen[split], key=rank.__getitem__) for split in SPLITS}


def _fold_groups(groups: dict[str, int], cfg: GroupSplitConfig) -> dict[str, list[str]]:
    """Test: fold `cfg.fold`; val: groups of the other folds (seeded order) nearest to `cfg.val`
    of their size; train: the rest."""
    check_folds(cfg.folds, cfg.fold)
    if cfg.val_groups or cfg.test_groups:
        raise BiodlError("data.split: folds and val_groups/test_groups exclude each other; "
                         "cross-validation draws every split from the folds")
    if not 0 <= cfg.val < 1:
        raise BiodlError(f"data.split.val={cfg.val}: must be a fraction in [0, 1), e.g. 0.1")
    names = list(groups)
    test = set(group_folds(groups, cfg.folds, cfg.seed)[cfg.fold])
    order = np.random.default_rng([cfg.seed, cfg.fold]).permutation(len(names))
    free = [names[i] for i in order if names[i] not in test]
    rest_size = sum(groups[n] for n in free)
    val = set(_draw(free, groups, cfg.val, rest_size, 1, "val"))
    chosen = {"train": [n for n in names if n not in test and n not in val],
              "val": [n for n in names if n in val], "test": [n for n in names if n in test]}
    return chosen


def _explicit(listed: list[str], names: list[str], key: str) -> list[str] | None:
    for name in listed:
        if name not in names:
            raise BiodlError(f"data.split.{key}: no group '{name}'{closest(name, names, 'groups')}")
    return list(listed) if listed else None


def _draw(free: list[str], sizes: dict[str, int], fraction: float, total: int, reserve: int,
          split: str) -> list[str]:
    """Groups for one split from `free` (in random order), leaving `reserve` groups behind."""
    if fraction == 0:
        return []
    if len(free) < 1 + reserve:
        raise BiodlError(f"data.split: {len(free)} group(s) left cannot give a non-empty {split} "
                         f"split and {reserve} other split(s); use more contigs, set data.split."
                         f"{split}: 0, or name groups in data.split.val_groups/test_groups")
    target, size, picked = fraction * total, 0, []
    for name in free:
        if len(free) - len(picked) <= reserve:
            break
        if abs(size + sizes[name] - target) < abs(size - target):
            picked.append(name)
            size += sizes[name]
    if not picked:  # every group overshoots: the one closest to the target
        picked = [min(free, key=lambda n: abs(sizes[n] - target))]
    return picked
