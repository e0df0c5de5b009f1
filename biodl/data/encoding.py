"""The one place DNA conventions are decided: alphabet, one-hot, N/IUPAC and lowercase policy.

One-hot tensors are `(N, 4, L)`, channels in ACGT order, so the complement of a base is the
reverse of its channel vector and a reverse complement is a flip of both axes.

Sequences are stored as uint8 ASCII codes `(N, L)` and encoded a whole batch at a time by a
256-row lookup table; byte 0 is padding and always encodes to zeros.

Policy for bases other than ACGT (`unknown`):
- ``zeros``: N and every other IUPAC code encode as all zeros (no evidence for any base);
- ``uniform``: they encode as 0.25 in each channel;
- ``iupac``: each code spreads its weight over the bases it stands for (R = A/G -> 0.5, 0.5);
- ``error``: any of them is an error naming the file and record.
Policy for lowercase (soft-masked) bases (`lowercase`): ``upper`` reads them as uppercase;
``n`` reads them as N; ``error`` rejects them.

Integer tokens (for embeddings and RNNs), `(N, L)` int64, vocabulary of 6:
PAD=0, A=1, C=2, G=3, T=4 (U too), N=5 for N and every other IUPAC code; lowercase follows
the lowercase policy (``n`` makes every lowercase base 5). Bytes that are not IUPAC codes
(rejected earlier by `first_invalid`) also become 5.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from biodl.vocab import ALPHABET, DNA_TOKENS, DNA_VOCAB_SIZE, PAD, TOKEN_N  # noqa: F401 (re-exported)

IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "U": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
TOKENS = DNA_TOKENS  # token i stands for TOKENS[i]; '-' is padding
VOCAB_SIZE = DNA_VOCAB_SIZE
TOKEN_COMPLEMENT = np.array([0, 4, 3, 2, 1, 5], dtype=np.int64)  # token -> its complement
UNKNOWN_POLICIES = ("zeros", "uniform", "iupac", "error")
LOWERCASE_POLICIES = ("upper", "n", "error")
_COMPLEMENT = bytes.maketrans(b"ACGTRYSWKMBDHVNacgtryswkmbdhvn",
                              b"TGCAYRSWMKVHDBNtgcayrswmkvhdbn")


@lru_cache(maxsize=None)
def onehot_table(unknown: str = "zeros", lowercase: str = "upper") -> np.ndarray:
    """(256, 4) float32: the one-hot row of each ASCII code under a policy."""
    if unknown not in UNKNOWN_POLICIES or lowercase not in LOWERCASE_POLICIES:
        raise ValueError(f"unknown policy {unknown!r}/{lowercase!r}")
    table = np.zeros((256, 4), dtype=np.float32)
    for code, bases in IUPAC.items():
        row = table[ord(code)]
        if len(bases) == 1:
            row[ALPHABET.index(bases)] = 1.0
        elif unknown == "uniform":
            row[:] = 0.25
        elif unknown == "iupac":
            for base in bases:
                row[ALPHABET.index(base)] = 1.0 / len(bases)
        table[ord(code.lower())] = row
    if lowercase == "n":
        table[[ord(c.lower()) for c in IUPAC]] = table[ord("N")]
    table.setflags(write=False)
    return table


def first_invalid(seq: bytes, unknown: str, lowercase: str) -> int:
    """Index of the first base the policy rejects, or -1 if the policy accepts them all."""
    allowed = b""
    if unknown == "error":
        allowed += b"ACGTU"
    else:
        allowed += "".join(IUPAC).encode()
    if lowercase != "error":
        allowed += allowed.lower()
    rest = seq.translate(None, allowed)
    return seq.index(rest[:1]) if rest else -1


def fit_length(seq: bytes, length: int) -> bytes:
    """Centre-crop a longer sequence, or centre it in padding (byte 0) if shorter."""
    extra = len(seq) - length
    if extra >= 0:
        return seq[extra // 2: extra // 2 + length]
    left = -extra // 2
    return bytes(left) + seq + bytes(-extra - left)


def to_codes(seqs: list[bytes], length: int, align: str = "centre") -> np.ndarray:
    """(N, length) uint8 codes from sequences, each padded or cropped to `length`: centred,
    or with `align="left"` kept at the start and padded at the end (variable-length input)."""
    if align == "left":
        fitted = (s[:length] + bytes(max(0, length - len(s))) for s in seqs)
    else:
        fitted = (fit_length(s, length) for s in seqs)
    buffer = b"".join(fitted)
    return np.frombuffer(buffer, dtype=np.uint8).reshape(len(seqs), length).copy()


def onehot(codes: np.ndarray, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(N, L) uint8 codes -> (N, 4, L) float32 one-hot under `table` (from `onehot_table`).

    One `bytes.translate` maps each code to a category (its channel 0-3, 4 for no channel,
    5 + k for the k-th fractional row such as N under 'uniform'); one broadcast comparison
    then writes all four channels, and each fractional row present costs one masked copy.
    """
    n, length = codes.shape
    if out is None:
        out = np.empty((n, 4, length), dtype=np.float32)
    plan = _onehot_plan(table.tobytes())
    category = np.frombuffer(np.ascontiguousarray(codes, dtype=np.uint8).tobytes()
                             .translate(plan.translation), dtype=np.uint8)
    category = category.reshape(n, 1, length)
    np.equal(category, _CHANNELS, out=out, casting="unsafe")  # (N, 4, L)
    if len(plan.fractions):
        present = np.bincount(category.ravel(), minlength=_FRACTIONAL + len(plan.fractions))
        for k in np.flatnonzero(present[_FRACTIONAL:]):
            np.copyto(out, plan.fractions[k][None, :, None], where=category == _FRACTIONAL + k)
    return out


_CHANNELS = np.arange(4, dtype=np.uint8).reshape(1, 4, 1)
_FRACTIONAL = 5  # categories from here on are rows other than one-hot or zeros


class _OnehotPlan(NamedTuple):
    translation: bytes  # ASCII code -> category
    fractions: np.ndarray  # (K, 4): the row of category 5 + k


@lru_cache(maxsize=32)
def _onehot_plan(table_bytes: bytes) -> _OnehotPlan:
    table = np.frombuffer(table_bytes, dtype=np.float32).reshape(256, 4)
    zeros = (table == 0.0).sum(axis=1)
    category = np.where(zeros == 4, 4, table.argmax(axis=1))
    fractional = (zeros < 3) | ((zeros == 3) & (table.max(axis=1) != 1.0))
    fractions, inverse = np.unique(table[fractional], axis=0, return_inverse=True)
    category[fractional] = _FRACTIONAL + inverse.ravel()
    return _OnehotPlan(bytes(category.astype(np.uint8)), fractions)


@lru_cache(maxsize=None)
def token_table(lowercase: str = "upper") -> bytes:
    """256-byte translation: ASCII code -> token (see TOKENS) under a lowercase policy."""
    if lowercase not in LOWERCASE_POLICIES:
        raise ValueError(f"unknown lowercase policy {lowercase!r}; choose from {LOWERCASE_POLICIES}")
    table = bytearray([TOKEN_N] * 256)
    table[PAD] = 0
    for code, bases in IUPAC.items():
        token = TOKENS.index(bases) if len(bases) == 1 else TOKEN_N
        table[ord(code)] = token
        table[ord(code.lower())] = TOKEN_N if lowercase == "n" else token
    return bytes(table)


def tokens(codes: np.ndarray, lowercase: str = "upper") -> np.ndarray:
    """(N, L) uint8 codes -> (N, L) int64 tokens (PAD=0, A=1, C=2, G=3, T=4, N=5)."""
    mapped = np.ascontiguousarray(codes, dtype=np.uint8).tobytes().translate(token_table(lowercase))
    return np.frombuffer(mapped, dtype=np.uint8).reshape(codes.shape).astype(np.int64)


def reverse_complement_tokens(tokens: np.ndarray) -> np.ndarray:
    """(N, L) tokens -> their reverse complements (padding stays padding, mirrored)."""
    return TOKEN_COMPLEMENT[tokens[..., ::-1]]


def decode_tokens(tokens: np.ndarray) -> str:
    """One row of tokens back to text (padding dropped)."""
    return "".join(TOKENS[t] for t in tokens.tolist() if t)


def reverse_complement(seq: bytes) -> bytes:
    return seq.translate(_COMPLEMENT)[::-1]


COMPLEMENT_CODES = np.frombuffer(_COMPLEMENT, dtype=np.uint8)  # code -> complement code


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    """(N, L) codes -> their reverse complements (padding stays padding, mirrored)."""
    return COMPLEMENT_CODES[codes[:, ::-1]]


def shift_codes(codes: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Shift each row by its own offset (positive: right), filling with padding."""
    n, length = codes.shape
    source = np.arange(length)[None, :] - shifts[:, None]  # (N, L) position read from
    valid = (source >= 0) & (source < length)
    out = np.take_along_axis(codes, np.clip(source, 0, length - 1), axis=1)
    out[~valid] = PAD
    return out


def decode(codes: np.ndarray) -> str:
    """One row of codes back to text (padding dropped)."""
    return bytes(codes[codes != PAD]).decode("ascii")
