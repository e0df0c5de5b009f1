"""Motifs as probability matrices, the JASPAR CORE database offline, and Tomtom matching.

A motif is a `(4, w)` matrix of base probabilities in ACGT order (columns sum to 1), the
layout tangermeme and memelite use. JASPAR is read from the SQLite files pyjaspar ships (no
network); the latest version of every CORE matrix of a release. Matching is Tomtom
(memelite's, Euclidean distance, both strands); a query's q-values are Benjamini-Hochberg
over its comparisons with every database matrix.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from biodl.errors import BiodlError

ALPHABET = "ACGT"
DEFAULT_RELEASE = "JASPAR2026"
TAX_GROUPS = ("vertebrates", "plants", "insects", "fungi", "nematodes", "urochordates",
              "diatoms")


@dataclass
class Motif:
    name: str
    probs: np.ndarray  # (4, w) base probabilities, ACGT
    sites: int = 0  # aligned sites (filters) or seqlets (TF-MoDISco) it was built from
    family: str = ""  # JASPAR's TF family, for database motifs


class Match(NamedTuple):
    target: Motif  # the best database motif (smallest p-value)
    p: float
    q: float
    offset: int  # tomtom's alignment offset of the target against the query
    strand: str  # "+" or "-" (the target's reverse complement matched)


def probabilities(counts: np.ndarray, pseudocount: float = 0.0) -> np.ndarray:
    """(4, w) counts -> probabilities per column; an empty column becomes uniform."""
    counts = np.asarray(counts, dtype=np.float64) + pseudocount
    totals = counts.sum(axis=0, keepdims=True)
    return np.divide(counts, totals, out=np.full_like(counts, 0.25), where=totals > 0)


def information_content(probs: np.ndarray) -> np.ndarray:
    """(w,) bits per column against a uniform background: 2 + sum p log2 p."""
    p = np.clip(probs, 1e-12, 1.0)
    return 2.0 + (probs * np.log2(p)).sum(axis=0)


def trim(probs: np.ndarray, min_bits: float = 0.25) -> tuple[np.ndarray, int]:
    """The motif without its uninformative edge columns, and how many left columns went;
    a motif with no column above `min_bits` is kept whole."""
    keep = np.flatnonzero(information_content(probs) >= min_bits)
    if keep.size == 0:
        return probs, 0
    return probs[:, keep[0]:keep[-1] + 1], int(keep[0])


def consensus(probs: np.ndarray) -> str:
    """The most likely base per column, lowercase where it has under 0.5 probability."""
    best = probs.argmax(axis=0)
    return "".join(ALPHABET[b] if probs[b, i] >= 0.5 else ALPHABET[b].lower()
                   for i, b in enumerate(best))


def database_file(release: str = DEFAULT_RELEASE) -> Path:
    """The SQLite file of a JASPAR release, as pyjaspar installs it."""
    try:
        import pyjaspar
    except ImportError:
        raise BiodlError("JASPAR matching needs pyjaspar (it ships the databases); "
                         "pip install pyjaspar") from None
    path = Path(pyjaspar.__file__).parent / "data" / f"{release}.sqlite"
    if not path.is_file():
        shipped = sorted(p.stem for p in path.parent.glob("JASPAR*.sqlite"))
        raise BiodlError(f"JASPAR release {release!r} is not in pyjaspar; choose "
                         f"{', '.join(shipped)}")
    return path


_QUERY = """SELECT m.ID, m.BASE_ID || '.' || m.VERSION, m.NAME FROM MATRIX m
JOIN (SELECT BASE_ID, MAX(VERSION) AS V FROM MATRIX WHERE COLLECTION = 'CORE'
      GROUP BY BASE_ID) latest ON latest.BASE_ID = m.BASE_ID AND latest.V = m.VERSION
WHERE m.COLLECTION = 'CORE' ORDER BY m.BASE_ID"""


def jaspar_core(tax_groups: Sequence[str] = (), release: str = DEFAULT_RELEASE) -> list[Motif]:
    """The latest version of every JASPAR CORE matrix (of `tax_groups`, default all), as
    motifs named 'MA0142.1 Pou5f1::Sox2' with their TF family."""
    unknown = sorted(set(tax_groups) - set(TAX_GROUPS))
    if unknown:
        raise BiodlError(f"JASPAR tax group {unknown[0]!r} does not exist; choose from "
                         f"{', '.join(TAX_GROUPS)}")
    uri = f"file:{database_file(release)}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        rows = db.execute(_QUERY).fetchall()
        notes = _annotations(db, ("tax_group", "family"))
        counts = _counts(db)
    motifs = []
    for key, matrix_id, name in rows:
        if tax_groups and notes.get((key, "tax_group")) not in tax_groups:
            continue
        motifs.append(Motif(f"{matrix_id} {name}", probabilities(counts[key]),
                            int(counts[key][:, 0].sum()), notes.get((key, "family"), "")))
    return motifs


def _annotations(db: sqlite3.Connection, tags: tuple[str, ...]) -> dict[tuple[int, str], str]:
    marks = ",".join("?" * len(tags))
    found: dict[tuple[int, str], str] = {}
    for key, tag, value in db.execute(
            f"SELECT ID, TAG, VAL FROM MATRIX_ANNOTATION WHERE TAG IN ({marks})", tags):
        found[(key, tag)] = f"{found[(key, tag)]}; {value}" if (key, tag) in found else value
    return found


def _counts(db: sqlite3.Connection) -> dict[int, np.ndarray]:
    cells: dict[int, dict[tuple[str, int], float]] = {}
    for key, row, col, value in db.execute("SELECT ID, row, col, val FROM MATRIX_DATA"):
        cells.setdefault(key, {})[(row, col)] = value
    matrices = {}
    for key, table in cells.items():
        width = max(col for _, col in table)
        matrices[key] = np.array([[table.get((b, c), 0.0) for c in range(1, width + 1)]
                                  for b in ALPHABET])
    return matrices


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """q-values of a vector of p-values (step-up, monotone, capped at 1)."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(q)
    out[order] = q
    return out


def match(queries: Sequence[Motif], database: Sequence[Motif]) -> list[Match]:
    """The best database motif of every query, with Tomtom's p-value and the q-value."""
    if not queries:
        return []
    from memelite import tomtom

    p, _, offsets, _, strands = tomtom([np.asarray(q.probs, dtype=np.float64) for q in queries],
                                       [np.asarray(t.probs, dtype=np.float64) for t in database])
    found = []
    for row in range(len(queries)):
        best = int(np.argmin(p[row]))
        q = benjamini_hochberg(p[row])
        found.append(Match(database[best], float(p[row, best]), float(q[best]),
                           int(offsets[row, best]), "-" if strands[row, best] else "+"))
    return found


def write_meme(path: Path, motifs: Sequence[Motif]) -> None:
    """A MEME (version 4) motif file; names must hold no whitespace-only parts."""
    lines = ["MEME version 4", "", f"ALPHABET= {ALPHABET}", "", "strands: + -", "",
             "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for motif in motifs:
        width = motif.probs.shape[1]
        lines += [f"MOTIF {motif.name}",
                  f"letter-probability matrix: alength= 4 w= {width} nsites= "
                  f"{max(motif.sites, 1)} E= 0"]
        lines += [" ".join(f"{v:.6f}" for v in column) for column in motif.probs.T]
        lines.append("")
    Path(path).write_text("\n".join(lines))


def read_meme(path: Path) -> list[Motif]:
    """The motifs of a MEME file (memelite's reader), names as on their MOTIF lines."""
    from memelite.io import read_meme as read

    return [Motif(name, probs) for name, probs in read(str(path)).items()]
