"""`biodl init --table`: the delimiter, sequence, label and id columns and the target, read
from the header and a few rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biodl.config.binding import closest
from biodl.data.fasta import VALID_BASES
from biodl.data.files import open_bytes
from biodl.data.tables import delimiter_for, iter_rows
from biodl.errors import BiodlError
from biodl.vocab import class_order
from biodl.init.pipeline import (Plan, augment_lines, commented, length_section, path_text,
                                  positive_comment, positive_note, scalar, sequence_parts,
                                  split_lines)

SEQUENCE_NAMES = ("sequence", "seq", "dna", "sequences")
LABEL_NAMES = ("label", "labels", "class", "target", "y", "category")
ID_NAMES = ("id", "name", "seq_id", "identifier")
SAMPLE_ROWS = 50  # rows read to pick the sequence column
MIN_SEQUENCE = 8  # median characters a column needs to count as DNA (not a label like 'A')
MAX_CLASSES = 20  # more distinct numeric labels than this: regression


def plan_table(path: Path, out: Path, sequence_column: str | None = None,
               label_column: str | None = None, delimiter: str = "auto") -> Plan:
    path = Path(path).expanduser()
    if not path.is_file():
        raise BiodlError(f"--table {path}: file not found; check the path")
    delimiter, why_delimiter = _table_delimiter(path, delimiter)
    header, rows = _sample_rows(path, delimiter)
    seq_col, why_seq = _sequence_column(path, header, rows, sequence_column)
    label_col, why_label = _label_column(path, header, seq_col, label_column)
    id_col = next((c for c in header if c.lower() in ID_NAMES and c not in (seq_col, label_col)),
                  None)
    labels, lengths = _read_columns(path, delimiter, seq_col, label_col)
    data = ["  format: table",
            commented(f"  train: {scalar(path_text(path, out))}",
                       f"one file ({len(labels):,} rows), split below"),
            commented(f"  delimiter: {scalar(_delimiter_name(delimiter))}", why_delimiter),
            commented(f"  sequence_column: {scalar(seq_col)}", why_seq),
            commented(f"  label_columns: [{scalar(label_col)}]", why_label)]
    if id_col:
        data.append(commented(f"  id_column: {scalar(id_col)}", "names rows in predictions"))
    target_lines, classes, notes = _target_lines(labels, label_col)
    length_lines, length_note = length_section(np.asarray(lengths))
    data += target_lines + length_lines + split_lines(bool(classes)) + augment_lines() + [
        "  batch_size: 64"]
    notes = [f"columns: sequence '{seq_col}' ({why_seq}), label '{label_col}' ({why_label})"
             + (f", id '{id_col}'" if id_col else ""), *notes, length_note]
    parts = sequence_parts(len(classes))
    sections = [] if classes else ["", "task:", commented(
        "  loss: mse", "numeric labels: regression on the mean squared error")]
    return Plan(f"the table {path}", parts, data, notes, sections)


def _table_delimiter(path: Path, delimiter: str) -> tuple[str, str]:
    if delimiter in ("\\t", "tab"):
        return "\t", "as given"
    if delimiter != "auto":
        if delimiter not in (",", ";", "\t"):
            raise BiodlError(f"--delimiter {delimiter!r}: choose auto, ',', ';' or tab")
        return delimiter, "as given"
    chosen = delimiter_for(path)
    first = _first_line(path)
    if chosen not in first:
        for other in ("\t", ";", ","):
            if other in first:
                return other, f"found in the header, not the {path.suffix or 'file'} default"
    return chosen, f"from the {path.suffix or 'missing'} suffix"


def _first_line(path: Path) -> str:
    with open_bytes(path) as raw:
        return raw.readline().decode("utf-8", errors="replace")


def _sample_rows(path: Path, delimiter: str) -> tuple[list[str], list[dict[str, str]]]:
    rows = []
    try:
        for _, row in iter_rows(path, delimiter):
            rows.append(row)
            if len(rows) == SAMPLE_ROWS:
                break
    except BiodlError as error:  # a ragged row: name this command's option
        raise BiodlError(str(error).replace("data.delimiter", "--delimiter")) from None
    if not rows:
        raise BiodlError(f"--table {path}: a header but no rows; give a table with one row per "
                         "sequence")
    return list(rows[0]), rows


def _sequence_column(path: Path, header: list[str], rows: list[dict[str, str]],
                     given: str | None) -> tuple[str, str]:
    dna = [c for c in header if _is_dna([r[c] for r in rows])]
    if given:
        _check_column(path, header, given, "--sequence-column")
        if given not in dna:
            raise BiodlError(f"--table {path}: column '{given}' does not hold DNA (first row: "
                             f"{rows[0][given]!r}); give the column of A/C/G/T sequences")
        return given, "as given"
    if not dna:
        raise BiodlError(f"--table {path}: no column of DNA sequences in the first {len(rows)} "
                         f"rows (columns: {', '.join(header)}); give --sequence-column, or "
                         "check the delimiter (--delimiter)")
    named = [c for c in dna if c.lower() in SEQUENCE_NAMES]
    if named:
        return named[0], "its name"
    if len(dna) == 1:
        return dna[0], "the only DNA column"
    longest = max(dna, key=lambda c: np.median([len(r[c]) for r in rows]))
    others = ", ".join(c for c in dna if c != longest)
    return longest, f"the longest DNA column; also DNA: {others}"


def _is_dna(values: list[str]) -> bool:
    chars = "".join(values).encode("ascii", errors="replace")
    return bool(chars) and not chars.translate(None, VALID_BASES) and \
        float(np.median([len(v) for v in values])) >= MIN_SEQUENCE


def _label_column(path: Path, header: list[str], seq_col: str,
                  given: str | None) -> tuple[str, str]:
    if given:
        _check_column(path, header, given, "--label-column")
        return given, "as given"
    named = [c for c in header if c.lower() in LABEL_NAMES and c != seq_col]
    if named:
        return named[0], "its name"
    rest = [c for c in header if c != seq_col and c.lower() not in ID_NAMES]
    if len(rest) == 1:
        return rest[0], "the only other column"
    raise BiodlError(f"--table {path}: cannot tell the label column among "
                     f"{', '.join(rest) or 'no other columns'}; give --label-column NAME")


def _check_column(path: Path, header: list[str], name: str, option: str) -> None:
    if name not in header:
        raise BiodlError(f"{option} {name}: no such column in {path}{closest(name, header)}; "
                         f"columns: {', '.join(header)}")


def _read_columns(path: Path, delimiter: str, seq_col: str,
                  label_col: str) -> tuple[list[str], list[int]]:
    labels, lengths = [], []
    for _, row in iter_rows(path, delimiter):
        labels.append(row[label_col])
        lengths.append(len(row[seq_col]))
    return labels, lengths


def _target_lines(labels: list[str], column: str) -> tuple[list[str], list[str], list[str]]:
    """Class labels (with their order and the positive class), or regression for numbers."""
    distinct = set(labels)
    numbers = _numbers(distinct)
    if numbers is not None and (any(v != int(v) for v in numbers) or len(distinct) > MAX_CLASSES):
        why = f"{len(distinct):,} distinct numeric values"
        return ([commented("  target: regression", why)], [],
                [f"target: regression on '{column}' ({why}); set data.target: class if they "
                 "are class codes"])
    names = class_order(distinct)
    if len(names) < 2:
        raise BiodlError(f"--table: column '{column}' holds one class only ({names[0]!r}); a "
                         "classifier needs two or more, or give --label-column")
    counts = {n: labels.count(n) for n in names}
    lines = [commented("  target: class", f"{len(names)} classes: " + ", ".join(
        f"{n} ({counts[n]:,})" for n in names)),
        *positive_comment(names, "label order (numeric when all integers, else alphabetical)",
                           "rename the labels to change it")]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} rows)" for n in names),
             positive_note(names, "the second in label order")]
    return lines, names, notes


def _numbers(values: set[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter
