"""The data-format contract: what every format provides to training and inference.

A format is a `DataFormat` subclass (a LightningDataModule) registered by name in
`biodl.data.formats.FORMATS`. Consumers (train.py, check-data, inference) use only what is
declared here, never `getattr`. After `setup()` a format has:

- `target`: a `Target`, which picks the task that trains on it;
- `output_names` / `num_outputs`: class names (label order) or output names;
- `datasets` / `split_ids`: train, val and test Datasets whose `__getitems__` builds whole
  batches, and the id of each example in each split;
- `input_files`: what was read (hashed into the run's record);
- `model_kwargs()`: constructor arguments the data decides (channels, window length, ...);
- `input_spec()`: the `InputSpec` saved with the model, from which inputs are prepared again;
- `class_counts()`: training examples per class (or positives per label), for class weights;
- `count_summary()`: coverage targets' training totals, for the count loss weight.

## Adding a format (e.g. BigWig coverage)
1. A config dataclass in `biodl/config/data.py` with `format: Literal["name"]`, added to
   `DATA_FORMATS` and `DataConfig` there.
2. A reader (no torch) in `biodl/data/`, with errors naming the file, line and fix.
3. A data module subclassing `DataFormat` (here), in its own file, filling the contract.
4. One line in `biodl.data.formats.FORMATS`.
5. A unit test of the reader and data module on a tiny file, and a 2-batch fit.
6. A pipeline under `pipelines/` whose YAML says why each value was chosen.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from biodl.data.buckets import EpochBatches, ResumableLoader, ShuffledBatches
from biodl.data.folds import fold_split
from biodl.data.sequences import collate
from biodl.data.spec import InputSpec, Target
from biodl.errors import BiodlError

SPLITS = ("train", "val", "test")


class DataFormat(pl.LightningDataModule, ABC):
    """The contract of a data format (see the module docstring)."""

    target: Target
    datasets: dict[str, Dataset]
    split_ids: Mapping[str, list[str]]

    @property
    @abstractmethod
    def output_names(self) -> list[str]:
        """Class names in label order, or one name per regression output."""

    @property
    def num_outputs(self) -> int:
        return len(self.output_names)

    @property
    @abstractmethod
    def input_files(self) -> list[Path]:
        """Every file the format reads."""

    @abstractmethod
    def model_kwargs(self) -> dict:
        """Constructor arguments the data decides, given to models that take them."""

    @abstractmethod
    def input_spec(self) -> InputSpec:
        """How new inputs must be prepared for a model trained on this data."""

    def class_counts(self) -> list[int]:
        """Training examples per class, or positives per label; empty when there are none."""
        return []

    def count_summary(self) -> dict:
        """Coverage targets: {"median_total": median total per training window and output,
        "integer": whether every training value is a whole number, "where": a window that is
        not}, for the loss's count weight and checks; empty for other targets."""
        return {}

    def report(self) -> dict:
        """What `biodl check-data` prints: per split counts (formats add lengths, classes...)."""
        from biodl.data.report import count_report

        return count_report(self.datasets)

    def split_labels(self, split: str) -> np.ndarray:
        """The targets of a split: (N,) class indices or (N, K) values."""
        return self.datasets[split].labels.numpy()


class BatchLoaders:
    """train/val/test loaders over `self.datasets`, whose `__getitems__` builds whole batches;
    batch sizes and workers from `self.cfg`. On one process the training order is a function
    of (the run's seed, epoch) and resumes at a batch (`biodl.data.buckets`); under DDP it is
    Lightning's sharded shuffle."""

    def train_dataloader(self) -> DataLoader:
        if self._distributed():
            return self._loader("train", self.cfg.batch_size, shuffle=True)
        batches = ShuffledBatches(len(self.datasets["train"]), self.cfg.batch_size, run_seed())
        return self.resumable_loader(batches)

    def resumable_loader(self, batches: EpochBatches) -> ResumableLoader:
        workers = self.cfg.num_workers
        return ResumableLoader(self.datasets["train"], batches, collate_fn=collate,
                               num_workers=workers, persistent_workers=workers > 0)

    def _distributed(self) -> bool:
        trainer = getattr(self, "trainer", None)
        return trainer is not None and trainer.world_size > 1

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.cfg.eval_batch_size or self.cfg.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", self.cfg.eval_batch_size or self.cfg.batch_size)

    def _loader(self, split: str, batch_size: int, shuffle: bool = False) -> DataLoader:
        workers = self.cfg.num_workers
        # its own generator: creating its iterator draws no worker seed from the global torch
        # RNG (persistent workers draw once per process, so a resumed fit would draw again)
        return DataLoader(self.datasets[split], batch_size=batch_size, shuffle=shuffle,
                          collate_fn=collate, num_workers=workers,
                          persistent_workers=workers > 0,
                          generator=torch.Generator().manual_seed(run_seed()))


def run_seed() -> int:
    """The run's seed: `fit` seeds torch with the config's `seed` before building the data."""
    return torch.initial_seed()


def stratified_split(labels: np.ndarray, val: float, test: float, seed: int, folds: int = 0,
                     fold: int = 0) -> dict[str, np.ndarray]:
    """Indices of train/val/test, the same fractions within each class, fixed by `seed`.
    With `folds` >= 2, test is stratified fold `fold` and val is `val` of each class of the
    rest (`biodl.data.folds`; `test` unused).

    For multi-output labels (N, K) pass any (N,) grouping, e.g. zeros, for a plain random split.
    """
    if folds or fold:
        return fold_split(labels, val, seed, folds, fold)
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise BiodlError(f"data.split: val={val} and test={test} must be fractions summing "
                         "below 1, e.g. val: 0.1, test: 0.1")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val, n_test = round(val * len(members)), round(test * len(members))
        parts["val"].append(members[:n_val])
        parts["test"].append(members[n_val:n_val + n_test])
        parts["train"].append(members[n_val + n_test:])
    empty = np.zeros(0, dtype=np.int64)
    return {name: np.sort(np.concatenate([empty, *chunks])) for name, chunks in parts.items()}


def check_classes_in_splits(names: list[str], labels: dict[str, np.ndarray], fix: str) -> None:
    """Every class must reach train, val and test, or its metrics would be silently wrong
    (a class never tested scores as perfect or as 0). `labels`: split -> (N,) class indices;
    `fix`: how to change the split, in the format's words."""
    counts = {split: np.bincount(y, minlength=len(names)) for split, y in labels.items()
              if len(y)}  # a split left empty on purpose (fraction 0) has nothing to score
    for i, name in enumerate(names):
        per_split = {split: int(c[i]) for split, c in counts.items()}
        if min(per_split.values()) == 0:
            shown = ", ".join(f"{split} {n}" for split, n in per_split.items())
            raise BiodlError(f"data: class '{name}' has {sum(per_split.values())} example(s), "
                             f"{shown}: every class must reach train, val and test; add "
                             f"examples of it, remove it, or {fix}")
