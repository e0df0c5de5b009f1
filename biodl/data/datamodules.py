"""Labelled DNA sequences (formats fasta, table, fasta_labels): read once, check, split
reproducibly, prepared through `biodl.data.prepare`, served as one-hot batches."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from biodl.config.data import check_table_files
from biodl.config.schema import FastaClassesData, FastaLabelsData, SequenceData, TableData
from biodl.data import encoding, prepare, report
from biodl.data.folds import refuse_folds
from biodl.data.base import (SPLITS, BatchLoaders, DataFormat, check_classes_in_splits,
                              stratified_split)
from biodl.data.sequences import (Records, SequenceDataset, encode_batch, load_fasta_classes,
                                  load_fasta_labels, load_table)
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError
from biodl.vocab import class_order


class SequenceDataModule(BatchLoaders, DataFormat):
    """Labelled DNA sequences from any sequence format -> one-hot batches.

    `target` is "class" (binary or multiclass: `class_names`), "multilabel" or "regression"
    (`num_outputs` columns).
    """

    def __init__(self, cfg: SequenceData):
        super().__init__()
        self.cfg = cfg
        self.table = encoding.onehot_table(cfg.unknown, cfg.lowercase)
        self.target = Target(cfg.target) if isinstance(cfg, (TableData, FastaLabelsData)) \
            else Target.CLASS
        self.class_names: list[str] = []
        self.label_names: list[str] = []
        self.datasets: dict[str, SequenceDataset] = {}
        self.split_ids: dict[str, list[str]] = {}
        self.raw_lengths: dict[str, np.ndarray] = {}  # before any crop or pad (check-data)
        self.length: int | None = None  # the window every sequence is prepared to

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.target is Target.CLASS else 0

    @property
    def output_names(self) -> list[str]:
        """Class names, or one name per label column (multilabel and regression)."""
        return self.class_names if self.target is Target.CLASS else self.label_names

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
        if self.target is Target.CLASS:
            check_classes_in_splits(self.class_names, labels, "change data.split (larger val "
                                    "and test fractions) or the split files")
        variable = self.cfg.variable_length
        self.length = self.cfg.length or (_longest(splits) if variable else _common_length(splits))
        for name, records in splits.items():
            self.raw_lengths[name] = np.array([len(s) for s in records.seqs], dtype=np.int64)
            prepared = self.prepare(records)
            augment = self.cfg.augment if name == "train" else None
            self.datasets[name] = SequenceDataset(prepared.codes, labels[name], self.table,
                                                  augment, self.num_classes,
                                                  encode=self.cfg.num_workers == 0,
                                                  lengths=prepared.lengths)
            self.split_ids[name] = records.ids
        self._check_leakage()

    def prepare(self, records: Records) -> prepare.Codes:
        """Records -> codes through the one input path inference uses too."""
        files = ", ".join(str(p) for p in self.input_files)
        return prepare.sequence_codes(
            records.seqs, self.length, self.cfg.length_policy,
            lambda i: f"{files}: record '{records.ids[i]}'", self.cfg.variable_length,
            option="data.length_policy")

    def _read_splits(self) -> dict[str, Records]:
        cfg = self.cfg
        if isinstance(cfg, TableData):
            check_table_files(cfg)
        if isinstance(cfg, TableData) and cfg.val is not None:  # and test: the own split
            refuse_folds(cfg.split.folds, "data.val and data.test are the dataset's own split; "
                         "give only data.train to cross-validate")
            return {name: load_table(getattr(cfg, name), cfg) for name in SPLITS}
        if isinstance(cfg, FastaClassesData):
            if len(cfg.classes) < 2:
                raise BiodlError("data.classes: give at least two classes, each a FASTA file, "
                                 "e.g. {promoter: prom.fa, background: bg.fa}")
            records = load_fasta_classes(cfg.classes, cfg.unknown, cfg.lowercase,
                                         unique_ids=cfg.duplicate_ids == "error")
        elif isinstance(cfg, TableData):
            records = load_table(cfg.train, cfg)
        else:
            records = load_fasta_labels(cfg)
        return self._split(records)

    def _split(self, records: Records) -> dict[str, Records]:
        groups = np.asarray(records.labels) if self.target is Target.CLASS else np.zeros(
            len(records.ids))
        split = self.cfg.split
        indices = stratified_split(groups, split.val, split.test, split.seed,
                                   split.folds, split.fold)
        out = {}
        for name, index in indices.items():
            if len(index) == 0 and (name == "train" or getattr(split, name) > 0):
                raise BiodlError(f"data.split: the {name} split is empty; use more data or a "
                                 f"larger data.split.{name} fraction")
            out[name] = Records([records.seqs[i] for i in index],
                                [records.labels[i] for i in index],
                                [records.ids[i] for i in index], records.label_names)
        return out

    def _encode_labels(self, splits: dict[str, Records]) -> dict[str, np.ndarray]:
        if self.target is not Target.CLASS:
            arrays = {k: np.asarray(r.labels, dtype=np.float32) for k, r in splits.items()}
            self.label_names = list(splits["train"].label_names)
            return arrays
        if isinstance(self.cfg, FastaClassesData):
            self.class_names = list(self.cfg.classes)
        else:
            self.class_names = class_order({n for r in splits.values() for n in r.labels})
        if len(self.class_names) < 2:
            raise BiodlError(f"data: only one class ({self.class_names}) in the labels; "
                             "a classifier needs at least two")
        index = {name: i for i, name in enumerate(self.class_names)}
        return {k: np.asarray([index[n] for n in r.labels], dtype=np.int64)
                for k, r in splits.items()}

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        """With worker processes, batches arrive as uint8 codes and are one-hot encoded here,
        on the training device (16 times less to copy between processes)."""
        training = self.trainer is not None and self.trainer.training
        augment = self.cfg.augment if training else None
        return encode_batch(batch, self.table, augment, self.num_classes)

    def model_kwargs(self) -> dict:
        return {"in_channels": 4, "seq_len": self.datasets["train"].codes.shape[1]}

    def input_spec(self) -> InputSpec:
        cfg = self.cfg
        return InputSpec(
            format=cfg.format, kind=Kind.ONEHOT, target=self.target,
            output_names=tuple(self.output_names), length=int(self.length),
            length_policy=cfg.length_policy, variable_length=cfg.variable_length,
            unknown=cfg.unknown, lowercase=cfg.lowercase,
            strands="both" if cfg.augment.test_reverse_complement else "forward",
            trained_reverse_complement=cfg.augment.reverse_complement)

    def report(self) -> dict:
        raw = {n: prepare.length_summary(sizes, self.length, self.cfg.variable_length)
               for n, sizes in self.raw_lengths.items()}
        names = [] if self.target is Target.REGRESSION else self.output_names
        return report.sequence_report(self.datasets, names, raw)

    def class_counts(self) -> list[int]:
        labels = self.datasets["train"].labels.numpy()
        if self.target is not Target.CLASS:
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
