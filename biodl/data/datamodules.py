"""LightningDataModules: read once, split reproducibly, serve batches."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from biodl.config.schema import DataConfig
from biodl.data import encoding
from biodl.data.sequences import LabelledSequences, SequenceDataset, collate, load_fasta_classes
from biodl.errors import BiodlError

SPLITS = ("train", "val", "test")


def stratified_split(labels: np.ndarray, val: float, test: float, seed: int) -> dict[str, np.ndarray]:
    """Indices of train/val/test, the same fractions within each class, fixed by `seed`."""
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
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


class FastaClassesDataModule(pl.LightningDataModule):
    """One FASTA file per class -> one-hot batches, with a seeded stratified split."""

    def __init__(self, cfg: DataConfig):
        super().__init__()
        if len(cfg.classes) < 2:
            raise BiodlError("data.classes: give at least two classes, each a FASTA file, e.g. "
                             "{promoter: prom.fa, background: bg.fa}")
        self.cfg = cfg
        self.class_names = list(cfg.classes)
        self.table = encoding.onehot_table(cfg.unknown, cfg.lowercase)
        self.datasets: dict[str, SequenceDataset] = {}
        self.split_ids: dict[str, list[str]] = {}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_files(self) -> list[Path]:
        return list(self.cfg.classes.values())

    @property
    def length(self) -> int:
        return self.datasets["train"].codes.shape[1]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        data = load_fasta_classes(self.cfg.classes, self.cfg.length, self.cfg.unknown,
                                  self.cfg.lowercase)
        split = self.cfg.split
        indices = stratified_split(data.labels, split.val, split.test, split.seed)
        for name, index in indices.items():
            if len(index) == 0 and not (name != "train" and getattr(split, name) == 0):
                raise BiodlError(f"data.split: the {name} split is empty; use more data or a "
                                 f"larger data.split.{name} fraction")
            augment = self.cfg.augment if name == "train" else None
            self.datasets[name] = SequenceDataset(data.codes[index], data.labels[index],
                                                  self.table, augment)
            self.split_ids[name] = [data.ids[i] for i in index]
        self._warn_leakage(data, indices)

    def class_counts(self) -> list[int]:
        labels = self.datasets["train"].labels.numpy()
        return np.bincount(labels, minlength=self.num_classes).tolist()

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.cfg.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.cfg.eval_batch_size or self.cfg.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", self.cfg.eval_batch_size or self.cfg.batch_size)

    def _loader(self, split: str, batch_size: int, shuffle: bool = False) -> DataLoader:
        workers = self.cfg.num_workers
        return DataLoader(self.datasets[split], batch_size=batch_size, shuffle=shuffle,
                          collate_fn=collate, num_workers=workers,
                          persistent_workers=workers > 0)

    @staticmethod
    def _warn_leakage(data: LabelledSequences, indices: dict[str, np.ndarray]) -> None:
        train = {data.codes[i].tobytes() for i in indices["train"]}
        shared = sum(data.codes[i].tobytes() in train for i in indices["test"])
        if shared:
            warnings.warn(f"{shared} test sequences also occur in the training split "
                          "(identical sequences); test metrics may be optimistic",
                          stacklevel=2)


def build_datamodule(cfg: DataConfig) -> FastaClassesDataModule:
    return FastaClassesDataModule(cfg)
