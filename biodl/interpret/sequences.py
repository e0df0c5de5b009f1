"""The one-hot sequences interpretation commands read: a split of the pipeline a checkpoint
was trained on (with its labels), or a user's FASTA / CSV through the inference input path."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
import torch

from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError

SPLITS = ("train", "val", "test")


class Sequences(NamedTuple):
    x: torch.Tensor  # (N, 4, L) float one-hot, ACGT
    labels: Optional[np.ndarray]  # (N,) class indices; None for files and non-class targets
    where: str  # what they are, for messages and the report


def check_spec(spec: InputSpec, where: str) -> None:
    if spec.kind is not Kind.ONEHOT or spec.variable_length:
        raise BiodlError(f"{where}: a {spec.kind.value} model"
                         f"{' of variable length' if spec.variable_length else ''}; motifs are "
                         "read from fixed-length one-hot DNA models (e.g. pipelines/"
                         "ecoli_promoters)")


def from_split(checkpoint: Path, spec: InputSpec, split: str) -> Sequences:
    """A split of the checkpoint's own pipeline (its recorded config), labels included."""
    from biodl.config import config_from_yaml
    from biodl.data.encoding import onehot
    from biodl.data.formats import build_datamodule

    if split not in SPLITS:
        raise BiodlError(f"--split {split!r}: choose {', '.join(SPLITS)}")
    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True).get("biodl_config")
    if recorded is None:
        raise BiodlError(f"{checkpoint}: holds no biodl config to find its data; give INPUTS "
                         "(a FASTA or CSV)")
    datamodule = build_datamodule(config_from_yaml(recorded, (), f"{checkpoint} config").data)
    datamodule.setup("fit")
    dataset = datamodule.datasets[split]
    x = torch.from_numpy(onehot(dataset.codes, dataset.table)).float()
    labels = dataset.labels.numpy() if spec.target is Target.CLASS else None
    return Sequences(x, labels, f"the {split} split ({len(x)} sequences)")


def from_file(path: Path, spec: InputSpec, policy: str, batch_size: int = 1024) -> Sequences:
    """A FASTA or CSV/TSV of sequences, checked and fitted to the model's length."""
    from biodl.inference.batches import sequence_batches
    from biodl.inference.inputs import sequence_records

    parts = [b.x for b in sequence_batches(sequence_records(path), spec, batch_size, policy)]
    if not parts:
        raise BiodlError(f"{path}: no sequences in it")
    x = torch.cat(parts).float()
    return Sequences(x, None, f"{path} ({len(x)} sequences)")


def subsample(sequences: Sequences, limit: Optional[int], seed: int = 0) -> Sequences:
    """At most `limit` sequences, a seeded random subset in input order."""
    if limit is None or len(sequences.x) <= limit:
        return sequences
    keep = np.sort(np.random.default_rng(seed).choice(len(sequences.x), limit, replace=False))
    labels = None if sequences.labels is None else sequences.labels[keep]
    return Sequences(sequences.x[torch.from_numpy(keep)], labels,
                     f"{limit} sequences drawn from {sequences.where}")
