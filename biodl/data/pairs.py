"""Paired sequences for seq2seq, e.g. a CDS and its protein, from a CSV/TSV table.

Sources are DNA tokens (PAD=0, A=1, C=2, G=3, T=4, N=5 for N and other IUPAC codes); targets
are protein tokens (`PROTEIN_TOKENS`: PAD, BOS, EOS, then the residues). One trailing '*' of a
target is dropped, so proteins written with or without their stop symbol both end in EOS alone
(EOS stands for the stop codon); a '*' inside a protein stays a token. Rows are split by
`group_column` (e.g. contig) with `split_groups`, sizes counted in source bases.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from biodl.config.data import PairsData
from biodl.data import encoding
from biodl.data.groups import split_groups
from biodl.data.labelled_windows import SplitDataModule, gather
from biodl.data.spec import InputSpec, Kind, Target
from biodl.data.tables import read_table
from biodl.errors import BiodlError
from biodl.vocab import BOS, DNA_VOCAB_SIZE, EOS, PAD, PROTEIN_TOKENS, PROTEIN_VOCAB_SIZE

INVALID = 255
PROTEIN_TABLE = bytes(PROTEIN_TOKENS.index(chr(c)) if chr(c) in PROTEIN_TOKENS[3:] else INVALID
                      for c in range(256))  # ASCII code -> protein token


class Pair(NamedTuple):
    group: str
    source: bytes  # uppercase DNA
    target: bytes  # uppercase residues, without a trailing '*'
    id: str = ""  # `data.id_column`, else the row number: names it in recorded predictions


class Packed(NamedTuple):
    """Variable-length rows held as one flat array, each row at starts[i]:starts[i]+lengths[i]."""

    flat: np.ndarray  # (total,) int64 tokens
    starts: np.ndarray  # (N,) int64
    lengths: np.ndarray  # (N,) int64

    @classmethod
    def of(cls, rows: list[bytes], flat: np.ndarray) -> "Packed":
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        return cls(flat, np.cumsum(lengths) - lengths, lengths)

    def batch(self, index: np.ndarray) -> np.ndarray:
        return gather(self.flat, self.starts[index], self.lengths[index], PAD)  # (B, max)


def pack_sources(seqs: list[bytes]) -> Packed:
    codes = np.frombuffer(b"".join(seqs), dtype=np.uint8)[None, :]  # (1, total)
    return Packed.of(seqs, encoding.tokens(codes)[0])


def pack_targets(proteins: list[bytes]) -> Packed:
    flat = np.frombuffer(b"".join(proteins).translate(PROTEIN_TABLE), dtype=np.uint8)
    return Packed.of(proteins, flat.astype(np.int64))


class PairsDataset(Dataset):
    """Batches {"src": (B, S) int64, "src_lengths": (B,) int64, "tgt_in": (B, T) int64 = BOS
    then the residues, "tgt_out": (B, T) int64 = the residues then EOS}; PAD after each row's
    end, S and T the batch's longest (T = longest protein + 1)."""

    def __init__(self, pairs: list[Pair]):
        self.src = pack_sources([p.source for p in pairs])
        self.tgt = pack_targets([p.target for p in pairs])

    def __len__(self) -> int:
        return len(self.src.starts)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(indices)
        body = self.tgt.batch(index)  # (B, T - 1)
        bos = np.full((len(index), 1), BOS, dtype=np.int64)
        pad = np.full((len(index), 1), PAD, dtype=np.int64)
        tgt_in = np.concatenate([bos, body], axis=1)  # (B, T)
        tgt_out = np.concatenate([body, pad], axis=1)  # (B, T)
        tgt_out[np.arange(len(index)), self.tgt.lengths[index]] = EOS
        return {"src": torch.from_numpy(self.src.batch(index)),
                "src_lengths": torch.from_numpy(self.src.lengths[index]),
                "tgt_in": torch.from_numpy(tgt_in), "tgt_out": torch.from_numpy(tgt_out)}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([index]).items()}


def read_pairs(cfg: PairsData) -> tuple[list[Pair], int]:
    """The table's pairs within the length limits, and how many rows were skipped."""
    if cfg.table is None:
        raise BiodlError("data.table: format pairs needs a CSV/TSV table with "
                         f"'{cfg.source_column}' and '{cfg.target_column}' columns")
    table = read_table(cfg.table)
    sources = table.column(cfg.source_column, "data.source_column")
    targets = table.column(cfg.target_column, "data.target_column")
    groups = (table.column(cfg.group_column, "data.group_column") if cfg.group_column
              else [f"line {n}" for n in table.lines])
    ids = (table.column(cfg.id_column, "data.id_column") if cfg.id_column
           else [str(i) for i in range(len(sources))])
    pairs, skipped = [], 0
    for source, target, group, line, rid in zip(sources, targets, groups, table.lines, ids):
        pair = checked_pair(f"{cfg.table} line {line}", source, target, group, cfg, rid)
        too_long = ((cfg.max_source_length and len(pair.source) > cfg.max_source_length)
                    or (cfg.max_target_length and len(pair.target) > cfg.max_target_length))
        if too_long:
            skipped += 1
        else:
            pairs.append(pair)
    if not pairs:
        raise BiodlError(f"{cfg.table}: all {skipped} pairs are longer than "
                         "data.max_source_length or data.max_target_length; raise the limits")
    return pairs, skipped


def checked_pair(where: str, source: str, target: str, group: str, cfg: PairsData,
                 rid: str = "") -> Pair:
    dna = source.upper().encode("ascii", errors="replace")
    if not dna:
        raise BiodlError(f"{where}: empty '{cfg.source_column}'; remove the row")
    bad = encoding.first_invalid(dna, "zeros", "upper")
    if bad >= 0:
        raise BiodlError(f"{where}: column '{cfg.source_column}' character {bad + 1} "
                         f"('{chr(dna[bad])}') is not an IUPAC nucleotide code")
    protein = target.upper().encode("ascii", errors="replace")
    protein = protein[:-1] if protein.endswith(b"*") else protein
    residues = protein.translate(PROTEIN_TABLE)
    if INVALID in residues:
        bad = residues.index(INVALID)
        raise BiodlError(f"{where}: column '{cfg.target_column}' character {bad + 1} "
                         f"('{chr(protein[bad])}') is not one of {''.join(PROTEIN_TOKENS[3:])}; "
                         "write unknown or rare residues (U, O, B, Z, J) as X")
    return Pair(group, dna, protein, rid)


class PairsDataModule(SplitDataModule):
    """(DNA, protein) pairs -> padded seq2seq batches, split by `data.group_column`."""

    target = Target.SEQ2SEQ

    def __init__(self, cfg: PairsData):
        super().__init__(cfg)
        self.skipped = 0  # rows beyond data.max_source_length / max_target_length
        self.pairs: dict[str, list[Pair]] = {}  # each split's pairs, in table order

    @property
    def input_files(self) -> list[Path]:
        return [self.cfg.table] if self.cfg.table is not None else []

    @property
    def output_names(self) -> list[str]:
        return list(PROTEIN_TOKENS)

    def model_kwargs(self) -> dict:
        return {"src_vocab_size": DNA_VOCAB_SIZE, "tgt_vocab_size": PROTEIN_VOCAB_SIZE}

    def input_spec(self) -> InputSpec:
        return InputSpec(format=self.cfg.format, kind=Kind.TOKENS, target=self.target,
                         output_names=tuple(self.output_names),
                         length=self.cfg.max_source_length, variable_length=True)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        pairs, self.skipped = read_pairs(self.cfg)
        sizes: dict[str, int] = {}
        for pair in pairs:
            sizes[pair.group] = sizes.get(pair.group, 0) + len(pair.source)
        self.split_ids = split_groups(sizes, self.cfg.split)
        for split, names in self.split_ids.items():
            members = set(names)
            self.pairs[split] = [p for p in pairs if p.group in members]
            self.datasets[split] = PairsDataset(self.pairs[split])

    def train_dataloader(self) -> DataLoader:
        return self.bucketed_loader(self.datasets["train"].src.lengths)
