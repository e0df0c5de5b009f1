"""Torch datasets of labelled sequences, encoded a whole batch at a time.

`SequenceDataset.__getitems__` receives the batch's indices from the DataLoader and returns
the finished batch, so there is no per-sample Python work; `collate` passes it through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from biodl.config.schema import AugmentConfig
from biodl.data import encoding
from biodl.data.fasta import read_fasta
from biodl.errors import BiodlError


@dataclass
class LabelledSequences:
    """Sequences as (N, L) uint8 codes with integer labels and ids, before any split."""

    codes: np.ndarray
    labels: np.ndarray
    ids: list[str]


class SequenceDataset(Dataset):
    """Batches of {"x": (B, 4, L) float32 one-hot, "y": (B,) int64}."""

    def __init__(self, codes: np.ndarray, labels: np.ndarray, table: np.ndarray,
                 augment: AugmentConfig | None = None):
        self.codes = codes
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        self.table = table
        self.augment = augment

    def __len__(self) -> int:
        return len(self.codes)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(indices)
        codes = self.codes[index]
        if self.augment is not None:
            seed = int(torch.randint(2**62, ()).item())  # follows the seeded torch RNG
            codes = augment_codes(codes, self.augment, np.random.default_rng(seed))
        x = encoding.onehot(codes, self.table)
        return {"x": torch.from_numpy(x), "y": self.labels[torch.from_numpy(index)]}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        batch = self.__getitems__([index])
        return {key: value[0] for key, value in batch.items()}


def augment_codes(codes: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Random strand and shift per sequence (a new array; `codes` is not changed)."""
    if cfg.reverse_complement:
        flip = rng.random(len(codes)) < 0.5
        codes = codes.copy()
        codes[flip] = encoding.reverse_complement_codes(codes[flip])
    if cfg.shift:
        codes = encoding.shift_codes(codes, rng.integers(-cfg.shift, cfg.shift + 1, len(codes)))
    return codes


def collate(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The batch is already built by `__getitems__`."""
    return batch


def load_fasta_classes(files: dict[str, Path], length: int | None, unknown: str,
                       lowercase: str) -> LabelledSequences:
    """Read one FASTA per class; labels follow the order of `files`."""
    seqs, labels, ids = [], [], []
    for label, path in enumerate(files.values()):
        for record in read_fasta(path):
            bad = encoding.first_invalid(record.seq, unknown, lowercase)
            if bad >= 0:
                raise _policy_error(path, record.id, record.line, record.seq[bad:bad + 1],
                                    unknown, lowercase)
            seqs.append(record.seq)
            labels.append(label)
            ids.append(record.id)
    length = length or _common_length(seqs, ids, files)
    return LabelledSequences(encoding.to_codes(seqs, length), np.asarray(labels), ids)


def _common_length(seqs: list[bytes], ids: list[str], files: dict[str, Path]) -> int:
    lengths = {len(s) for s in seqs}
    if len(lengths) == 1:
        return lengths.pop()
    shortest = min(range(len(seqs)), key=lambda i: len(seqs[i]))
    longest = max(range(len(seqs)), key=lambda i: len(seqs[i]))
    raise BiodlError(f"data.classes ({', '.join(str(p) for p in files.values())}): sequences "
                     f"differ in length ({len(seqs[shortest])} bp for '{ids[shortest]}', "
                     f"{len(seqs[longest])} bp for '{ids[longest]}'); set data.length to pad "
                     "or crop them all to one length")


def _policy_error(path, rid, line, char, unknown, lowercase) -> BiodlError:
    shown = char.decode("ascii")
    if shown.islower() and lowercase == "error":
        fix = "set data.lowercase=upper (or n) to accept soft-masked bases"
    else:
        fix = "set data.unknown to zeros, uniform or iupac to accept N and IUPAC codes"
    return BiodlError(f"{path} line {line}: record '{rid}' has base {shown!r}, which "
                      f"data.unknown={unknown}/data.lowercase={lowercase} rejects; {fix}")
