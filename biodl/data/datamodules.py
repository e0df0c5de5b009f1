"""LightningDataModules: read once, check, split reproducibly, serve batches."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader

from biodl.config.schema import (FastaClassesData, FastaLabelsData, ImageData, SequenceData,
                                 TableData)
from biodl.data import encoding
from biodl.data.sequences import (Records, SequenceDataset, collate, encode_batch,
                                  load_fasta_classes, load_fasta_labels, load_table)
from biodl.errors import BiodlError

SPLITS = ("train", "val", "test")


def stratified_split(labels: np.ndarray, val: float, test: float, seed: int) -> dict[str, np.ndarray]:
    """Indices of train/val/test, the same fractions within each class, fixed by `seed`.

    For multi-output labels (N, K) pass any (N,) grouping, e.g. zeros, for a plain random split.
    """
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


class BatchLoaders:
    """train/val/test loaders over `self.datasets`, whose `__getitems__` builds whole batches;
    batch sizes and workers from `self.cfg`."""

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


class SequenceDataModule(BatchLoaders, pl.LightningDataModule):
    """Labelled DNA sequences from any sequence format -> one-hot batches.

    `target` is "class" (binary or multiclass: `class_names`), "multilabel" or "regression"
    (`num_outputs` columns).
    """

    def __init__(self, cfg: SequenceData):
        super().__init__()
        self.cfg = cfg
        self.table = encoding.onehot_table(cfg.unknown, cfg.lowercase)
        self.target = getattr(cfg, "target", "class")
        self.class_names: list[str] = []
        self.num_outputs = 0
        self.datasets: dict[str, SequenceDataset] = {}
        self.split_ids: dict[str, list[str]] = {}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_files(self) -> list[Path]:
        cfg = self.cfg
        if isinstance(cfg, FastaClassesData):
            return list(cfg.classes.values())
        if isinstance(cfg, TableData):
            return [p for p in (cfg.train, cfg.val, cfg.test) if p is not None]
        return [p for p in (cfg.fasta, cfg.labels) if p is not None]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        splits = self._read_splits()
        labels = self._encode_labels(splits)
        variable = self.cfg.variable_length
        length = self.cfg.length or (_longest(splits) if variable else _common_length(splits))
        for name, records in splits.items():
            augment = self.cfg.augment if name == "train" else None
            codes = encoding.to_codes(records.seqs, length, "left" if variable else "centre")
            classes = len(self.class_names) if self.target == "class" else 0
            lengths = np.minimum([len(s) for s in records.seqs], length) if variable else None
            self.datasets[name] = SequenceDataset(codes, labels[name], self.table, augment,
                                                  classes, encode=self.cfg.num_workers == 0,
                                                  lengths=lengths)
            self.split_ids[name] = records.ids
        self._check_leakage()

    def _read_splits(self) -> dict[str, Records]:
        cfg = self.cfg
        if isinstance(cfg, TableData) and cfg.val is not None and cfg.test is not None:
            if cfg.train is None:
                raise BiodlError("data.train: format table needs a train file")
            return {name: load_table(getattr(cfg, name), cfg) for name in SPLITS}
        if isinstance(cfg, FastaClassesData):
            if len(cfg.classes) < 2:
                raise BiodlError("data.classes: give at least two classes, each a FASTA file, "
                                 "e.g. {promoter: prom.fa, background: bg.fa}")
            records = load_fasta_classes(cfg.classes, cfg.unknown, cfg.lowercase,
                                         unique_ids=cfg.duplicate_ids == "error")
        elif isinstance(cfg, TableData):
            if cfg.train is None:
                raise BiodlError("data.train: format table needs a train file (and val and "
                                 "test files, or data.split fractions)")
            records = load_table(cfg.train, cfg)
        else:
            records = load_fasta_labels(cfg)
        return self._split(records)

    def _split(self, records: Records) -> dict[str, Records]:
        groups = np.asarray(records.labels) if self.target == "class" else np.zeros(
            len(records.ids))
        split = self.cfg.split
        indices = stratified_split(groups, split.val, split.test, split.seed)
        out = {}
        for name, index in indices.items():
            if len(index) == 0 and (name == "train" or getattr(split, name) > 0):
                raise BiodlError(f"data.split: the {name} split is empty; use more data or a "
                                 f"larger data.split.{name} fraction")
            out[name] = Records([records.seqs[i] for i in index],
                                [records.labels[i] for i in index],
                                [records.ids[i] for i in index])
        return out

    def _encode_labels(self, splits: dict[str, Records]) -> dict[str, np.ndarray]:
        if self.target != "class":
            arrays = {k: np.asarray(r.labels, dtype=np.float32) for k, r in splits.items()}
            self.num_outputs = arrays["train"].shape[1]
            return arrays
        if isinstance(self.cfg, FastaClassesData):
            self.class_names = list(self.cfg.classes)
        else:
            self.class_names = _sorted_names({n for r in splits.values() for n in r.labels})
        if len(self.class_names) < 2:
            raise BiodlError(f"data: only one class ({self.class_names}) in the labels; "
                             "a classifier needs at least two")
        index = {name: i for i, name in enumerate(self.class_names)}
        self.num_outputs = len(self.class_names)
        return {k: np.asarray([index[n] for n in r.labels], dtype=np.int64)
                for k, r in splits.items()}

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        """With worker processes, batches arrive as uint8 codes and are one-hot encoded here,
        on the training device (16 times less to copy between processes)."""
        training = self.trainer is not None and self.trainer.training
        augment = self.cfg.augment if training else None
        return encode_batch(batch, self.table, augment,
                            len(self.class_names) if self.target == "class" else 0)

    def model_kwargs(self) -> dict:
        """Constructor arguments the data decides, given to models that take them."""
        return {"in_channels": 4, "seq_len": self.datasets["train"].codes.shape[1]}

    def data_spec(self) -> dict:
        """How new inputs must be prepared for a model trained on this data (plain values)."""
        cfg = self.cfg
        return {"kind": "sequences", "length": int(self.datasets["train"].codes.shape[1]),
                "unknown": cfg.unknown, "lowercase": cfg.lowercase, "target": self.target,
                "class_names": list(self.class_names)}

    def class_counts(self) -> list[int]:
        labels = self.datasets["train"].labels.numpy()
        if self.target != "class":
            return labels.sum(axis=0).astype(int).tolist()
        return np.bincount(labels, minlength=self.num_classes).tolist()

    def _check_leakage(self) -> None:
        if self.cfg.leakage == "ignore":
            return
        train = {row.tobytes() for row in self.datasets["train"].codes}
        shared = sum(row.tobytes() in train for row in self.datasets["test"].codes)
        if not shared:
            return
        message = (f"{shared} of {len(self.datasets['test'])} test sequences also occur in the "
                   "training split (identical sequences); test metrics may be optimistic")
        if self.cfg.leakage == "error":
            raise BiodlError(f"data: {message}; deduplicate the data or set data.leakage=warn")
        warnings.warn(message, stacklevel=2)


def _longest(splits: dict[str, Records]) -> int:
    return max(len(s) for r in splits.values() for s in r.seqs)


def _common_length(splits: dict[str, Records]) -> int:
    pairs = [(len(s), i) for r in splits.values() for s, i in zip(r.seqs, r.ids)]
    shortest, longest = min(pairs), max(pairs)
    if shortest[0] == longest[0]:
        return shortest[0]
    raise BiodlError(f"data: sequences differ in length ({shortest[0]} bp for '{shortest[1]}', "
                     f"{longest[0]} bp for '{longest[1]}'); set data.length to pad or crop "
                     "them all to one length, or data.variable_length=true for RNNs")


def _sorted_names(names: set[str]) -> list[str]:
    """Class names in numeric order when they are all integers ('0', '1', '10'), else text."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def build_datamodule(cfg) -> pl.LightningDataModule:
    """The data module for a data config, by its format."""
    if isinstance(cfg, (FastaClassesData, TableData, FastaLabelsData)):
        return SequenceDataModule(cfg)
    if isinstance(cfg, ImageData):
        from biodl.data.image_datamodule import ImageDataModule

        return ImageDataModule(cfg)
    if cfg.format == "genome":
        from biodl.data.genome_windows import GenomeDataModule

        return GenomeDataModule(cfg)
    if cfg.format == "sir":
        from biodl.data.epidemic import EpidemicDataModule

        return EpidemicDataModule(cfg)
    from biodl.data.labelled_windows import GenbankTagsDataModule, LanguageDataModule
    from biodl.data.pairs import PairsDataModule

    modules = {"genbank_tags": GenbankTagsDataModule, "lm": LanguageDataModule,
               "pairs": PairsDataModule}
    return modules[cfg.format](cfg)
