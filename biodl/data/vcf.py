"""Reading a VCF as a stream, one record at a time, with errors that name the file and line.
No torch.

Plain text, gzip or bgzip (`open_bytes` decompresses either, whatever the name); only the
first five columns are read (CHROM POS ID REF ALT), so sites-only files and full genotype
files read the same, and memory does not grow with the file. Order does not matter: every
variant is scored on its own window, read through the genome's index, and rows follow the
VCF's order; records out of position order are counted (`VcfStream.unsorted`) and reported.

Alleles: REF and every sequence ALT must be A, C, G, T or N (any case). Symbolic alleles
(`<DEL>`, `<*>`), breakends (`A[chr2:10[`, `.A`) and the spanning-deletion `*` have no
sequence to score: they are yielded with kind `symbolic` for the caller to skip and count; a
missing ALT (`.`) has kind `missing`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Optional

from biodl.data.files import open_bytes
from biodl.errors import BiodlError

COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT")
BASES = re.compile(r"[ACGTN]+")
CHROM_MAPS = ("add-chr", "strip-chr")


class Variant(NamedTuple):
    chrom: str
    pos: int  # 1-based, as in the VCF
    id: str
    ref: str  # uppercase
    alts: tuple[str, ...]  # uppercase sequence alleles; symbolic ones as written
    line: int  # line number in the file, for messages


def allele_kind(ref: str, alt: str) -> str:
    """snv, mnv, insertion, deletion, complex, symbolic (incl. breakends and `*`) or missing."""
    if alt == ".":
        return "missing"
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*" or (
            len(alt) > 1 and (alt.startswith(".") or alt.endswith("."))):
        return "symbolic"
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if len(alt) > len(ref) and alt.startswith(ref):
        return "insertion"
    if len(alt) < len(ref) and ref.startswith(alt):
        return "deletion"
    return "complex"


class VcfStream:
    """Iterate a VCF's records; `unsorted` counts records before their predecessor's position
    on the same chromosome (or on a chromosome seen earlier), once the stream is consumed."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.unsorted = 0
        self._last: tuple[str, int] = ("", 0)
        self._seen: set[str] = set()

    def __iter__(self) -> Iterator[Variant]:
        with open_bytes(self.path) as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.startswith(b"#") or not raw.strip():
                    continue
                variant = parse_line(raw, number, self.path)
                self._order(variant)
                yield variant

    def _order(self, variant: Variant) -> None:
        chrom, pos = self._last
        if variant.chrom != chrom:
            if variant.chrom in self._seen:
                self.unsorted += 1
            self._seen.add(variant.chrom)
        elif variant.pos < pos:
            self.unsorted += 1
        self._last = (variant.chrom, variant.pos)


def parse_line(raw: bytes, number: int, path: Path) -> Variant:
    """One data line -> a Variant, or an error naming the line and the fix."""
    where = f"{path} line {number}"
    try:
        text = raw.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        raise BiodlError(f"{where}: not ASCII text; a VCF is tab-separated ASCII (is this a "
                         "BCF? convert it with `bcftools view -Oz`)") from None
    fields = text.split("\t", 5)
    if len(fields) < len(COLUMNS):
        spaced = len(text.split()) >= len(COLUMNS)
        fix = ("its columns are separated by spaces; VCF columns are separated by tabs" if spaced
               else "each record needs CHROM, POS, ID, REF and ALT")
        raise BiodlError(f"{where}: {len(fields)} column(s), a VCF record has at least 5 "
                         f"({', '.join(COLUMNS)}); {fix}")
    chrom, pos, vid, ref, alt = fields[:5]
    if not pos.isdigit() or int(pos) < 1:
        raise BiodlError(f"{where}: POS {pos!r} is not a position (a whole number from 1); "
                         "fix the second column")
    ref = ref.upper()
    if not BASES.fullmatch(ref):
        raise BiodlError(f"{where}: REF {fields[3]!r} has characters outside ACGTN; give the "
                         "reference bases (symbolic alleles go in ALT)")
    alts = tuple(_allele(a, ref, where) for a in alt.split(","))
    return Variant(chrom, int(pos), vid, ref, alts, number)


def _allele(alt: str, ref: str, where: str) -> str:
    if allele_kind(ref, alt) in ("symbolic", "missing"):
        return alt
    upper = alt.upper()
    if not BASES.fullmatch(upper):
        raise BiodlError(f"{where}: ALT {alt!r} has characters outside ACGTN; give bases, a "
                         "symbolic allele such as <DEL> (skipped), or '.' for none")
    return upper


def chrom_mapper(names: set[str], choice: Optional[str], vcf: Path) -> Callable[[str, int], str]:
    """VCF chromosome name -> the genome's, by --chrom-map: none, add-chr, strip-chr or a
    two-column (VCF name, genome name) tab-separated file. A name the genome lacks is an error
    that says which --chrom-map would find it."""
    table = _map_file(Path(choice)) if choice and choice not in CHROM_MAPS else {}
    cache: dict[str, str] = {}

    def mapped(chrom: str) -> str:
        if choice == "add-chr":
            return "chr" + chrom
        if choice == "strip-chr":
            return chrom[3:] if chrom.startswith("chr") else chrom
        return table.get(chrom, chrom)

    def lookup(chrom: str, line: int) -> str:
        if chrom not in cache:
            name = mapped(chrom)
            if name not in names:
                raise BiodlError(_missing(chrom, name, names, choice, f"{vcf} line {line}"))
            cache[chrom] = name
        return cache[chrom]
    return lookup


def _missing(chrom: str, name: str, names: set[str], choice: Optional[str], where: str) -> str:
    shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
    via = f" ({chrom!r} mapped to {name!r} by --chrom-map {choice})" if name != chrom else ""
    if choice and chrom in names:
        fix = f"the genome names it {chrom!r} too: drop --chrom-map {choice}"
    elif chrom.startswith("chr") and chrom[3:] in names and choice != "strip-chr":
        fix = "the genome names it without 'chr': pass --chrom-map strip-chr"
    elif "chr" + chrom in names and choice != "add-chr":
        fix = "the genome names it with 'chr': pass --chrom-map add-chr"
    else:
        fix = ("the VCF and genome must be the same assembly; map other names with "
               "--chrom-map FILE (two tab-separated columns: VCF name, genome name)")
    return f"{where}: the genome has no chromosome {chrom!r}{via} (it has {shown}); {fix}"


def _map_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise BiodlError(f"--chrom-map {path}: no such file; give add-chr, strip-chr or a "
                         "two-column TSV (VCF name, genome name)")
    table = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise BiodlError(f"{path} line {number}: {len(fields)} column(s); a chromosome map "
                             "has two tab-separated columns: VCF name, genome name")
        table[fields[0]] = fields[1].strip()
    return table
