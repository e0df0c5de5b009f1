"""Dinucleotide-shuffled copies of a FASTA: backgrounds with each sequence's own composition.

A model trained to tell sequences from their own shuffles cannot lean on base or dinucleotide
composition, only on order: motifs, and where they sit (shuffled backgrounds, as in DeepBind's
training and MEME's motif discovery). The shuffle is tangermeme's `dinucleotide_shuffle` (an
Euler path over the sequence's dinucleotide graph: every dinucleotide count kept, first and
last base kept; a run of N moves as one block). Record i's copies are drawn with seed `seed + i`, so a record
gets the same copies wherever it is in the file. Bases are written in upper case, one line per
record; ids get `_shuffle<k>`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from biodl.data.fasta import read_fasta
from biodl.errors import BiodlError

ALPHABET = b"ACGT"


def shuffle_fasta(source: Path, target: Path, copies: int = 1, seed: int = 0,
                  force: bool = False) -> int:
    """Write `copies` shuffles of every record of `source` to `target`; the number written.
    The file appears whole or not at all (written beside it, then renamed)."""
    if copies < 1:
        raise BiodlError(f"--copies {copies}: give at least 1")
    target = Path(target)
    if target.exists() and not force:
        raise BiodlError(f"{target} exists; give another --output or --force to replace it")
    partial = target.with_name(f".{target.name}.partial")
    written = 0
    try:
        with open(partial, "w") as out:
            for index, record in enumerate(read_fasta(source)):
                for k, bases in enumerate(shuffles(record.seq, copies, seed + index,
                                                   f"{source}: line {record.line}")):
                    out.write(f">{record.id}_shuffle{k}\n{bases}\n")
                    written += 1
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return written


def shuffles(seq: bytes, copies: int, seed: int, where: str) -> list[str]:
    """`copies` dinucleotide shuffles of one sequence (A, C, G, T and N, any case)."""
    import torch
    from tangermeme.ersatz import dinucleotide_shuffle

    upper = seq.upper()
    codes = np.frombuffer(upper, dtype=np.uint8)
    onehot = (codes[None, :] == np.frombuffer(ALPHABET, dtype=np.uint8)[:, None])  # (4, L)
    bad = np.flatnonzero(~onehot.any(axis=0) & (codes != ord("N")))
    if len(bad):
        raise BiodlError(f"{where}: '{chr(codes[bad[0]])}' at base {bad[0] + 1}; shuffles "
                         "keep A, C, G, T and N only: replace other IUPAC codes by N")
    try:
        drawn = dinucleotide_shuffle(torch.from_numpy(onehot[None].astype(np.float32)),
                                     n=copies, random_state=seed, allow_N=True)[0]
    except ValueError as error:  # tangermeme: every shuffle would equal the sequence
        raise BiodlError(f"{where}: {len(seq)} bases with too few distinct dinucleotides to "
                         f"shuffle ({error}); leave the record out") from None
    letters = np.frombuffer(ALPHABET + b"N", dtype=np.uint8)
    out = []
    for one in drawn.numpy():  # (4, L)
        index = np.where(one.any(axis=0), one.argmax(axis=0), 4)
        out.append(letters[index].tobytes().decode())
    return out
