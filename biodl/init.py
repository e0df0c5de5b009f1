"""`biodl init`: a commented pipeline.yaml for your own data. No torch: `biodl init` stays fast.

Three inputs: one FASTA per class, one table (CSV/TSV) with a sequence and a label column, or a
folder with one sub-folder of images per class. Each is read just enough to choose the values
(lengths, columns, classes, image size); the YAML composes biodl's shipped `configs/` parts
with the `biodl:` form, so the folder may live anywhere, and says in a comment why each value
was chosen and which class is the positive one.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from biodl.config.binding import closest
from biodl.config.loader import PIPELINE_FILE
from biodl.data.fasta import VALID_BASES, open_bytes, read_fasta
from biodl.data.tables import delimiter_for, iter_rows
from biodl.errors import BiodlError

# as biodl.data.images.IMAGE_SUFFIXES (that module imports torch; a test keeps them equal)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
SEQUENCE_NAMES = ("sequence", "seq", "dna", "sequences")
LABEL_NAMES = ("label", "labels", "class", "target", "y", "category")
ID_NAMES = ("id", "name", "seq_id", "identifier")
SAMPLE_ROWS = 50  # rows read to pick the sequence column
MIN_SEQUENCE = 8  # median characters a column needs to count as DNA (not a label like 'A')
MAX_CLASSES = 20  # more distinct numeric labels than this: regression
COMMENT_AT = 36  # column where trailing comments start
WIDTH = 100  # longest line written


@dataclass
class Plan:
    """What `biodl init` writes: the defaults parts, the data section, and what it tells you."""

    source: str  # the input, as a comment line
    parts: list[tuple[str, str]]  # (biodl:configs/... entry, why)
    data: list[str]  # YAML lines of the data section, indented, with comments
    notes: list[str] = field(default_factory=list)  # printed after writing
    sections: list[str] = field(default_factory=list)  # YAML lines after data (task, ...)


def target_file(out: Path, force: bool) -> Path:
    """OUT/pipeline.yaml, refused when it exists (unless force) before any data is read."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BiodlError(f"{out}: is a file; give a folder to write {PIPELINE_FILE} into")
    target = out / PIPELINE_FILE
    if target.exists() and not force:
        raise BiodlError(f"{target}: already exists; pass --force to replace it, or give "
                         "another folder")
    return target


def write_pipeline(out: Path, plan: Plan, force: bool = False) -> Path:
    target = target_file(out, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{PIPELINE_FILE}.tmp")
    temporary.write_text(render(plan, _name(out), str(out)))
    os.replace(temporary, target)
    return target


def render(plan: Plan, name: str, folder: str) -> str:
    lines = [f"# A biodl pipeline written by `biodl init` from {plan.source}.",
             "# Every key and its default: biodl/config/schema.py and biodl/config/data.py.",
             "# Data paths are absolute, or relative to this file. Check the data, then train:",
             f"#   biodl check-data {folder}",
             f"#   biodl fit {folder}",
             "defaults:                          # biodl's shipped parts, wherever it is installed"]
    lines += [_commented(f"  - {entry}", why) for entry, why in plan.parts]
    lines += ["", f"name: {_scalar(name)}", "seed: 0", "", "data:", *plan.data, *plan.sections,
              "", "tracking:", _commented(f"  experiment: {_scalar(name)}",
                                          f"`biodl runs {name}` compares its runs"), ""]
    return "\n".join(lines)


# --- FASTA: one file per class --------------------------------------------------------------

def plan_fasta(entries: list[str], out: Path) -> Plan:
    classes = _class_files(entries)
    lengths, counts = {}, {}
    for name, path in classes.items():
        sizes = [len(record.seq) for record in read_fasta(path)]  # refuses an empty file
        lengths[name], counts[name] = sizes, len(sizes)
    names = list(classes)
    data = ["  format: fasta", *_positive_comment(names, "the order listed", "swap the two "
                                                   "lines to change it"), "  classes:"]
    data += [_commented(f"    {_scalar(n)}: {_scalar(_path_text(p, out))}",
                        f"{counts[n]:,} records") for n, p in classes.items()]
    length_lines, length_note = _length_lines(np.concatenate([lengths[n] for n in names]))
    data += length_lines + _split_lines() + _augment_lines() + ["  batch_size: 64"]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} records)" for n in names),
             _positive_note(names, "the second --fasta"), length_note]
    return Plan(f"{len(names)} FASTA files, one per class", _sequence_parts(len(names)), data,
                notes)


def _class_files(entries: list[str]) -> dict[str, Path]:
    classes: dict[str, Path] = {}
    for entry in entries:
        name, sep, file = entry.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise BiodlError(f"--fasta '{entry}': expected CLASS=FILE, e.g. --fasta "
                             "promoter=promoters.fa")
        name, path = name.strip(), Path(file.strip()).expanduser()
        if name in classes:
            raise BiodlError(f"--fasta {entry}: class '{name}' is given twice; one file per class")
        if not path.is_file():
            raise BiodlError(f"--fasta {entry}: file '{path}' not found; check the path")
        if path.resolve() in [p.resolve() for p in classes.values()]:
            raise BiodlError(f"--fasta {entry}: '{path}' is already another class's file; "
                             "give one file per class")
        classes[name] = path
    if len(classes) < 2:
        raise BiodlError(f"--fasta: {len(classes)} class given; give two or more --fasta "
                         "CLASS=FILE, one FASTA per class (the second is the positive class), "
                         "e.g. --fasta background=bg.fa --fasta promoter=prom.fa")
    return classes


# --- a table: a sequence column and a label column ------------------------------------------

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
            _commented(f"  train: {_scalar(_path_text(path, out))}",
                       f"one file ({len(labels):,} rows), split below"),
            _commented(f"  delimiter: {_scalar(_delimiter_name(delimiter))}", why_delimiter),
            _commented(f"  sequence_column: {_scalar(seq_col)}", why_seq),
            _commented(f"  label_columns: [{_scalar(label_col)}]", why_label)]
    if id_col:
        data.append(_commented(f"  id_column: {_scalar(id_col)}", "names rows in predictions"))
    target_lines, classes, notes = _target_lines(labels, label_col)
    length_lines, length_note = _length_lines(np.asarray(lengths))
    data += target_lines + length_lines + _split_lines(bool(classes)) + _augment_lines() + [
        "  batch_size: 64"]
    notes = [f"columns: sequence '{seq_col}' ({why_seq}), label '{label_col}' ({why_label})"
             + (f", id '{id_col}'" if id_col else ""), *notes, length_note]
    parts = _sequence_parts(len(classes))
    sections = [] if classes else ["", "task:", _commented(
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
        return ([_commented("  target: regression", why)], [],
                [f"target: regression on '{column}' ({why}); set data.target: class if they "
                 "are class codes"])
    names = class_order(distinct)
    if len(names) < 2:
        raise BiodlError(f"--table: column '{column}' holds one class only ({names[0]!r}); a "
                         "classifier needs two or more, or give --label-column")
    counts = {n: labels.count(n) for n in names}
    lines = [_commented("  target: class", f"{len(names)} classes: " + ", ".join(
        f"{n} ({counts[n]:,})" for n in names)),
        *_positive_comment(names, "label order (numeric when all integers, else alphabetical)",
                           "rename the labels to change it")]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} rows)" for n in names),
             _positive_note(names, "the second in label order")]
    return lines, names, notes


def class_order(names: set[str]) -> list[str]:
    """The data module's order of class labels (biodl.data.base.sorted_names, which imports
    torch; a test keeps them equal): numeric when all integers, else alphabetical."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def _numbers(values: set[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter


# --- images: a folder per class -------------------------------------------------------------

def plan_images(folder: Path, out: Path) -> Plan:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BiodlError(f"--images {folder}: folder not found; give a folder holding one "
                         "sub-folder of images per class")
    counts = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        counts[sub.name] = sum(p.suffix.lower() in IMAGE_SUFFIXES for p in sub.iterdir())
        if not counts[sub.name]:
            raise BiodlError(f"--images {folder}: class folder '{sub}' holds no images "
                             f"({', '.join(IMAGE_SUFFIXES)}); add images or remove the folder")
    if len(counts) < 2:
        raise BiodlError(f"--images {folder}: {len(counts)} class sub-folder(s) "
                         f"({', '.join(counts) or 'none'}); give a folder with one sub-folder of "
                         "images per class, two or more")
    names = list(counts)
    size, why_size = _image_size(folder / names[0])
    data = ["  format: images",
            _commented(f"  root: {_scalar(_path_text(folder, out))}", f"{len(names)} class "
                       f"folders, {sum(counts.values()):,} images"),
            *_positive_comment(names, "folder-name order", "rename the folders to change it"),
            _commented(f"  size: {size}", why_size),
            _commented("  normalize: true", "per-channel mean/std of the training split"),
            *_split_lines(),
            "  # augment: {hflip: true, vflip: true, rot90: true}   # when orientation means "
            "nothing (cells)",
            "  batch_size: 64"]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} images)" for n in names),
             _positive_note(names, "the second folder by name"), f"size {size}: {why_size}"]
    task = ("biodl:configs/task/binary.yaml", "two classes: one logit, BCE, AdamW") \
        if len(names) == 2 else ("biodl:configs/task/multiclass.yaml",
                                 f"{len(names)} classes: cross-entropy, AdamW, cosine")
    parts = [("biodl:configs/model/resnet18_small.yaml", "ResNet-18, small-image stem"), task,
             ("biodl:configs/trainer/cpu.yaml", "CPU, up to 30 epochs, early stop")]
    return Plan(f"the image folder {folder}", parts, data, notes)


def _image_size(folder: Path) -> tuple[int, str]:
    """The side the images are resized to: their own up to 64 px (the small-image stem)."""
    first = next(p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES)
    try:
        from PIL import Image

        with Image.open(first) as image:
            width, height = image.size
    except Exception:  # a TIFF Pillow cannot read: tifffile reads it in training
        return 64, f"the default ({first.name}: size not read here)"
    side = min(width, height, 64)
    return side, (f"images are {width}x{height} ({first.name}), at most 64 kept: the "
                  "small-image stem suits 28-64 px (for more, raise size and set "
                  "model.small_input: false)")


# --- shared pieces --------------------------------------------------------------------------

def _sequence_parts(classes: int) -> list[tuple[str, str]]:
    parts = [("biodl:configs/model/cnn1d.yaml", "1D CNN, global max pool: any length")]
    if classes == 2:
        parts.append(("biodl:configs/task/binary.yaml", "two classes: one logit, BCE, AdamW"))
    elif classes > 2:
        parts.append(("biodl:configs/task/multiclass.yaml",
                      f"{classes} classes: cross-entropy, AdamW"))
    parts.append(("biodl:configs/trainer/cpu.yaml", "CPU, up to 30 epochs, early stop"))
    return parts


def _positive_comment(names: list[str], order: str, change: str) -> list[str]:
    listed = f"classes in {order}: {', '.join(names)} (labels 0-{len(names) - 1})"
    if len(names) != 2:
        return _comment_block(f"{listed}; {len(names)} classes: multiclass, no positive class.")
    return _comment_block(f"{listed}. The positive class is the second, '{names[1]}': sn, f1 "
                          f"and auprc are computed for it ({change}).")


def _positive_note(names: list[str], which: str) -> str:
    if len(names) != 2:
        return f"{len(names)} classes: multiclass, no positive class"
    return f"positive class: {names[1]} ({which}); negative: {names[0]}"


def _length_lines(lengths: np.ndarray) -> tuple[list[str], str]:
    """The window the model reads, and what happens to records of another length."""
    low, high, median = int(lengths.min()), int(lengths.max()), int(np.median(lengths))
    if low == high:
        why = f"every record is {high} bp"
        return [_commented(f"  length: {high}", why)], f"length: {why}"
    if high <= 2 * median:
        short = int((lengths < high).sum())
        why = (f"records are {low}-{high} bp (median {median}): the model reads {high} bp; "
               f"the {short:,} shorter ones are centred in N, none is cut")
        return [_commented(f"  length: {high}", f"records are {low}-{high} bp (median {median})"),
                _commented("  length_policy: pad", f"{short:,} shorter records centred in N; "
                           "none is cut")], f"length {high}, pad: {why}"
    longer, shorter = int((lengths > median).sum()), int((lengths < median).sum())
    why = (f"records are {low}-{high} bp (median {median}): the model reads {median} bp; "
           f"{longer:,} longer ones are centre-cropped, {shorter:,} shorter ones centred in N")
    return [_commented(f"  length: {median}", f"records are {low}-{high} bp: the median"),
            _commented("  length_policy: crop_pad", f"{longer:,} centre-cropped, {shorter:,} "
                       "padded with N"),
            "  # (an RNN over whole records instead: variable_length: true, model rnn_classifier)"
            ], f"length {median}, crop_pad: {why}"


def _split_lines(stratified: bool = True) -> list[str]:
    how = "seeded, stratified 80/10/10 per class" if stratified else "seeded 80/10/10"
    return [_commented("  split: {val: 0.1, test: 0.1, seed: 0}", f"no split given: {how}")]


def _augment_lines() -> list[str]:
    return ["  # augment: {reverse_complement: true}   # for strand-symmetric signals (TF "
            "binding),", "  #                                        not strand-specific ones "
            "(promoters)"]


def _path_text(path: Path, out: Path) -> str:
    """Relative to the pipeline's folder when the file is inside it, else absolute."""
    path, out = Path(path).resolve(), Path(out).resolve()
    return path.relative_to(out).as_posix() if path.is_relative_to(out) else str(path)


def _name(out: Path) -> str:
    return Path(out).resolve().name or "pipeline"


def _scalar(value: object) -> str:
    """A YAML scalar, quoted only when it must be (a class named 'yes' or '1' stays a string)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10_000).strip()
    return text[1:-1]


def _commented(line: str, comment: str) -> str:
    """`line  # comment`, or the comment wrapped above the line when that is too wide."""
    inline = f"{line.ljust(COMMENT_AT - 1)} # {comment}"
    if len(inline) <= WIDTH:
        return inline
    indent = line[:len(line) - len(line.lstrip())]
    return "\n".join([*_comment_block(comment, indent), line])


def _comment_block(text: str, indent: str = "  ") -> list[str]:
    return [f"{indent}# {part}" for part in textwrap.wrap(text, WIDTH - len(indent) - 2)]


__all__ = ["Plan", "plan_fasta", "plan_table", "plan_images", "write_pipeline", "target_file",
           "class_order", "render"]
