"""Reading GenBank contigs (plain or gzip) and per-base labels from their features. No torch.

A base is labelled 1 when any feature of the chosen types (e.g. CDS) covers it, on either
strand; every part of a compound location (`join(...)`, `order(...)`) counts, and fuzzy ends
(`<1..>200`) are taken at their stated position. Pseudogene CDS features count as CDS.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from biodl.data import encoding
from biodl.data.files import open_bytes
from biodl.errors import BiodlError


class Contig(NamedTuple):
    id: str  # the record's accession.version (e.g. NZ_AHMY02000075.1)
    seq: bytes  # uppercase ASCII bases
    labels: np.ndarray  # (L,) uint8: 1 where a chosen feature covers the base


def is_genbank(path: Path) -> bool:
    """True when the first non-blank line starts with LOCUS (the GenBank record header)."""
    with open_bytes(path) as handle:
        head = handle.read(4096).lstrip()
    return head.startswith(b"LOCUS")


def read_contigs(path: Path, features: Sequence[str] = ("CDS",)) -> list[Contig]:
    """Every record of a GenBank file as a Contig, labelled by the `features` types.

    Raises BiodlError when the file has no GenBank records, Biopython cannot parse it, a
    record has no sequence (a CON record without ORIGIN), an id repeats, or a feature lies
    beyond its contig's end.
    """
    from Bio import SeqIO  # Biopython costs ~0.3 s: only when used

    path = Path(path)
    contigs: list[Contig] = []
    seen: set[str] = set()
    with open_bytes(path) as raw:
        text = io.TextIOWrapper(raw, encoding="ascii", errors="replace")
        try:
            for record in SeqIO.parse(text, "genbank"):
                contig = _contig(path, record, set(features))
                if contig.id in seen:
                    raise BiodlError(f"{path}: record '{contig.id}' occurs twice; each record "
                                     "must be a different contig")
                seen.add(contig.id)
                contigs.append(contig)
        except BiodlError:
            raise
        except ValueError as error:
            where = f" after record '{contigs[-1].id}'" if contigs else ""
            raise BiodlError(f"{path}: not valid GenBank{where}: {error}; check that the file "
                             "is a GenBank flat file (.gbk) and is not truncated") from None
    if not contigs:
        raise BiodlError(f"{path}: no GenBank records (no line starts with 'LOCUS'); is it "
                         "FASTA or another format? data.genbank needs a GenBank flat file")
    return contigs


def _contig(path: Path, record, types: set[str]) -> Contig:
    from Bio.Seq import UndefinedSequenceError

    try:
        seq = bytes(record.seq).upper()
    except UndefinedSequenceError:
        raise BiodlError(f"{path}: record '{record.id}' has no sequence (no ORIGIN section); "
                         "download the GenBank file with its sequence (e.g. 'GenBank (full)')"
                         ) from None
    return Contig(record.id, seq, feature_labels(path, record, len(seq), types))


def feature_labels(path: Path, record, length: int, types: set[str]) -> np.ndarray:
    """(length,) uint8: 1 where a feature whose type is in `types` covers the base."""
    labels = np.zeros(length, dtype=np.uint8)
    for feature in record.features:
        if feature.type not in types:
            continue
        if feature.location is None:
            raise BiodlError(f"{path}: record '{record.id}': a {feature.type} feature has a "
                             "location Biopython cannot read; fix or remove it")
        for part in feature.location.parts:
            start, end = int(part.start), int(part.end)
            if end > length or start < 0:
                raise BiodlError(f"{path}: record '{record.id}': {feature.type} at "
                                 f"{feature.location} ends beyond the contig ({length} bp); "
                                 "fix the feature's location or the sequence")
            labels[start:end] = 1
    return labels


def check_bases(path: Path, contigs: list[Contig], unknown: str) -> None:
    """Every base must be an IUPAC code, and ACGT alone under unknown="error"."""
    for contig in contigs:
        bad = encoding.first_invalid(contig.seq, unknown, "upper")
        if bad >= 0:
            char = chr(contig.seq[bad])
            fix = "set data.unknown: zeros to read IUPAC codes as N" if unknown == "error" else (
                "only IUPAC nucleotide codes are allowed")
            raise BiodlError(f"{path}: contig '{contig.id}' base {bad + 1}: '{char}' is not "
                             f"allowed; {fix}")
