"""How a data set without split files is split: fractions, seed, k-fold cross-validation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SplitConfig:
    val: float = 0.1  # fraction of each class held out for validation
    test: float = 0.1  # fraction of each class held out for the final test
    seed: int = 0  # the split's own seed, so changing the training seed keeps the split
    # k-fold cross-validation (`biodl cv`): with folds >= 2 the test split is fold `fold` of
    # `folds` stratified folds (`test` unused) and val is `val` of each class of the rest
    folds: int = 0
    fold: int = 0
