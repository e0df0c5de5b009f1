"""Labelled sequences: loading them from each input format, and the torch Dataset that serves them.

Loaders return `Records` (raw sequences, raw labels, ids) after checking every base against
the encoding policy; the data module fixes the length, encodes and splits. The Dataset's
`__getitems__` receives a batch's indices from the DataLoader and returns the finished batch,
so there is no per-sample Python work; `collate` passes it through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from biodl.config.schema import AugmentConfig, FastaLabelsData, TableData
from biodl.data import encoding
from biodl.data.fasta import VALID_BASES, read_fasta
from biodl.data.tables import read_table
from biodl.errors import BiodlError


@dataclass
class Records:
    seqs: list[bytes]
    labels: list  # class names (str) for class targets, else lists of floats
    ids: list[str]
    label_names: list[str] = field(default_factory=list)  # the label columns, if any


class SequenceDataset(Dataset):
    """Batches of {"x": (B, 4, L) float32 one-hot, "y": (B,) int64 or (B, K) float32}.

    With `encode=False` the batch holds {"codes": (B, L) uint8} instead of "x", 16 times
    smaller to pass from a worker process or to a GPU; `encode_batch` finishes it there.
    """

    def __init__(self, codes: np.ndarray, labels: np.ndarray, table: np.ndarray,
                 augment: AugmentConfig | None = None, num_classes: int = 0,
                 encode: bool = True, lengths: np.ndarray | None = None):
        self.codes = codes
        self.labels = torch.as_tensor(labels)
        self.table = table
        self.augment = augment
        self.num_classes = num_classes  # for mixup's soft labels of class targets
        self.encode = encode
        self.lengths = None if lengths is None else torch.as_tensor(lengths, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(indices)
        codes = self.codes[index]
        if self.augment is not None:
            codes = augment_codes(codes, self.augment, np.random.default_rng(batch_seed(indices)))
        y = self.labels[torch.from_numpy(index)]
        extra = {} if self.lengths is None else {"lengths": self.lengths[torch.from_numpy(index)]}
        if not self.encode:
            return {"codes": torch.from_numpy(np.ascontiguousarray(codes)), "y": y, **extra}
        x = torch.from_numpy(encoding.onehot(codes, self.table))
        if self.augment is not None and self.augment.mixup > 0:
            x, y = mixup(x, y, self.augment.mixup, self.num_classes)
        return {"x": x, "y": y, **extra}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        batch = self.__getitems__([index])
        return {key: value[0] for key, value in batch.items()}


def batch_seed(indices: list[int]) -> int | tuple[int, ...]:
    """The augmentation seed of a batch: the training sampler's (seed, epoch, batch number)
    (`biodl.data.buckets.SeededBatch`), the same in any process and after a resume; else a
    draw from the seeded torch RNG."""
    seed = getattr(indices, "seed", None)
    return seed if seed is not None else int(torch.randint(2**62, ()).item())


def encode_batch(batch: dict[str, torch.Tensor], table: np.ndarray,
                 augment: AugmentConfig | None = None, num_classes: int = 0) -> dict:
    """{"codes", "y"} -> {"x", "y"} on the batch's device: a (256, 4) table lookup (numpy's
    on the CPU, a gather on an accelerator), then mixup for training batches (`augment`)."""
    if "codes" not in batch:
        return batch
    codes = batch["codes"]
    if codes.device.type == "cpu":
        x = torch.from_numpy(encoding.onehot(codes.numpy(), table))
    else:
        lookup = torch.as_tensor(table, device=codes.device)
        x = lookup[codes.long()].transpose(1, 2).contiguous()  # (B, 4, L)
    y = batch["y"]
    if augment is not None and augment.mixup > 0:
        x, y = mixup(x, y, augment.mixup, num_classes)
    return {**{k: v for k, v in batch.items() if k != "codes"}, "x": x, "y": y}


def augment_codes(codes: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Random strand and shift per sequence (a new array; `codes` is not changed)."""
    if cfg.reverse_complement:
        flip = rng.random(len(codes)) < 0.5
        codes = codes.copy()
        codes[flip] = encoding.reverse_complement_codes(codes[flip])
    if cfg.shift:
        codes = encoding.shift_codes(codes, rng.integers(-cfg.shift, cfg.shift + 1, len(codes)))
    if cfg.substitution:
        codes = substitute(codes, cfg.substitution, rng)
    return codes


_ACGT_CODES = np.frombuffer(b"ACGT", dtype=np.uint8)


def substitute(codes: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Replace each base (not padding) by a uniformly drawn A/C/G/T with probability `rate`."""
    hit = (rng.random(codes.shape) < rate) & (codes != encoding.PAD)
    out = codes.copy()
    out[hit] = _ACGT_CODES[rng.integers(0, 4, int(hit.sum()))]
    return out


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, num_classes: int):
    """Mix each one-hot sequence with another of the batch, weight ~ Beta(alpha, alpha);
    labels mix the same way (class labels become (B, C) probabilities)."""
    lam = torch.distributions.Beta(alpha, alpha).sample((len(x),)).to(x.device)  # (B,)
    partner = torch.randperm(len(x), device=x.device)
    soft = torch.nn.functional.one_hot(y, num_classes).float() if num_classes else y.float()
    shape = (-1,) + (1,) * (soft.ndim - 1)
    mixed_y = lam.view(shape) * soft + (1 - lam.view(shape)) * soft[partner]
    return lam.view(-1, 1, 1) * x + (1 - lam.view(-1, 1, 1)) * x[partner], mixed_y

def collate(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The batch is already built by `__getitems__`."""
    return batch


def load_fasta_classes(files: dict[str, Path], unknown: str, lowercase: str,
                       unique_ids: bool = True) -> Records:
    """One FASTA per class; the label of each record is its class name."""
    records = Records([], [], [])
    for name, path in files.items():
        for record in read_fasta(path, unique_ids):
            check_bases(record.seq, f"{path} line {record.line}: record '{record.id}'",
                        unknown, lowercase)
            records.seqs.append(record.seq)
            records.labels.append(name)
            records.ids.append(record.id)
    return records


def load_table(path: Path, cfg: TableData) -> Records:
    table = read_table(path, cfg.delimiter)
    seqs = table.column(cfg.sequence_column, "data.sequence_column")
    ids = table.column(cfg.id_column, "data.id_column") if cfg.id_column else [
        str(i) for i in range(len(seqs))]
    columns = [table.column(c, "data.label_columns") for c in cfg.label_columns]
    records = Records([], [], list(ids), list(cfg.label_columns))
    for row, (seq, line) in enumerate(zip(seqs, table.lines)):
        where = f"{path} line {line}"
        raw = seq.encode("ascii", errors="replace")
        check_bases(raw, where, cfg.unknown, cfg.lowercase, strict=True)
        records.seqs.append(raw)
        records.labels.append(parse_label([c[row] for c in columns], cfg.target, where))
    return records


def load_fasta_labels(cfg: FastaLabelsData) -> Records:
    if cfg.fasta is None or cfg.labels is None:
        raise BiodlError("data: format fasta_labels needs data.fasta and data.labels files")
    table = read_table(cfg.labels)
    ids = table.column(cfg.id_column, "data.id_column")
    names = cfg.label_columns or [c for c in table.columns if c != cfg.id_column]
    columns = [table.column(c, "data.label_columns") for c in names]
    by_id = {rid: row for row, rid in enumerate(ids)}
    records = Records([], [], [], list(names))
    for record in read_fasta(cfg.fasta):
        where = f"{cfg.fasta} line {record.line}: record '{record.id}'"
        if record.id not in by_id:
            raise BiodlError(f"{where} has no row in {cfg.labels} (column "
                             f"'{cfg.id_column}'); add its labels or remove the record")
        check_bases(record.seq, where, cfg.unknown, cfg.lowercase)
        row = by_id[record.id]
        records.seqs.append(record.seq)
        records.labels.append(parse_label([c[row] for c in columns], cfg.target,
                                          f"{cfg.labels} line {table.lines[row]}"))
        records.ids.append(record.id)
    return records


def parse_label(values: list[str], target: str, where: str):
    if any(not v.strip() for v in values):
        raise BiodlError(f"{where}: empty label; fill it in or remove the row (an empty value "
                         "is never taken as a class or a number)")
    if target == "class":
        if len(values) != 1:
            raise BiodlError(f"{where}: a class target takes one label column, got "
                             f"{len(values)}; set data.target=multilabel for several")
        return values[0]
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise BiodlError(f"{where}: labels {values} are not all numbers, as data.target="
                         f"{target} needs") from None
    if target == "multilabel" and any(v not in (0.0, 1.0) for v in numbers):
        raise BiodlError(f"{where}: multilabel labels must be 0 or 1, got {values}; "
                         "use data.target=regression for real values")
    return numbers


def check_bases(seq: bytes, where: str, unknown: str, lowercase: str,
                strict: bool = False) -> None:
    """Reject an empty sequence or a base the policy refuses (FASTA already checked IUPAC)."""
    if not seq:
        raise BiodlError(f"{where}: empty sequence; remove the row or fill in its sequence")
    valid = strict and seq.translate(None, VALID_BASES)
    if valid:
        raise BiodlError(f"{where}: character {chr(valid[0])!r} is not a DNA base or IUPAC "
                         "code; fix the sequence or remove the row")
    bad = encoding.first_invalid(seq, unknown, lowercase)
    if bad >= 0:
        char = chr(seq[bad])
        fix = ("set data.lowercase=upper (or n) to accept soft-masked bases"
               if char.islower() and lowercase == "error" else
               "set data.unknown to zeros, uniform or iupac to accept N and IUPAC codes")
        raise BiodlError(f"{where} has base {char!r}, which data.unknown={unknown}/"
                         f"data.lowercase={lowercase} rejects; {fix}")
