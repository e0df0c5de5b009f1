"""The pipeline `biodl init` writes: the plan, the YAML with a comment per value, and the
shared comment and line helpers."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from biodl.config.loader import PIPELINE_FILE
from biodl.errors import BiodlError

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
    lines += [commented(f"  - {entry}", why) for entry, why in plan.parts]
    lines += ["", f"name: {scalar(name)}", "seed: 0", "", "data:", *plan.data, *plan.sections,
              "", "tracking:", commented(f"  experiment: {scalar(name)}",
                                          f"`biodl runs {name}` compares its runs"), ""]
    return "\n".join(lines)


def sequence_parts(classes: int) -> list[tuple[str, str]]:
    parts = [("biodl:configs/model/cnn1d.yaml", "1D CNN, global max pool: any length")]
    if classes == 2:
        parts.append(("biodl:configs/task/binary.yaml", "two classes: one logit, BCE, AdamW"))
    elif classes > 2:
        parts.append(("biodl:configs/task/multiclass.yaml",
                      f"{classes} classes: cross-entropy, AdamW"))
    parts.append(("biodl:configs/trainer/cpu.yaml", "CPU, up to 30 epochs, early stop"))
    return parts


def positive_comment(names: list[str], order: str, change: str) -> list[str]:
    listed = f"classes in {order}: {', '.join(names)} (labels 0-{len(names) - 1})"
    if len(names) != 2:
        return _comment_block(f"{listed}; {len(names)} classes: multiclass, no positive class.")
    return _comment_block(f"{listed}. The positive class is the second, '{names[1]}': sn, f1 "
                          f"and auprc are computed for it ({change}).")


def positive_note(names: list[str], which: str) -> str:
    if len(names) != 2:
        return f"{len(names)} classes: multiclass, no positive class"
    return f"positive class: {names[1]} ({which}); negative: {names[0]}"


def length_section(lengths: np.ndarray) -> tuple[list[str], str]:
    """The window the model reads, and what happens to records of another length."""
    low, high, median = int(lengths.min()), int(lengths.max()), int(np.median(lengths))
    if low == high:
        why = f"every record is {high} bp"
        return [commented(f"  length: {high}", why)], f"length: {why}"
    if high <= 2 * median:
        short = int((lengths < high).sum())
        why = (f"records are {low}-{high} bp (median {median}): the model reads {high} bp; "
               f"the {short:,} shorter ones are centred in N, none is cut")
        return [commented(f"  length: {high}", f"records are {low}-{high} bp (median {median})"),
                commented("  length_policy: pad", f"{short:,} shorter records centred in N; "
                           "none is cut")], f"length {high}, pad: {why}"
    longer, shorter = int((lengths > median).sum()), int((lengths < median).sum())
    why = (f"records are {low}-{high} bp (median {median}): the model reads {median} bp; "
           f"{longer:,} longer ones are centre-cropped, {shorter:,} shorter ones centred in N")
    return [commented(f"  length: {median}", f"records are {low}-{high} bp: the median"),
            commented("  length_policy: crop_pad", f"{longer:,} centre-cropped, {shorter:,} "
                       "padded with N"),
            "  # (an RNN over whole records instead: variable_length: true, model rnn_classifier)"
            ], f"length {median}, crop_pad: {why}"


def split_lines(stratified: bool = True) -> list[str]:
    how = "seeded, stratified 80/10/10 per class" if stratified else "seeded 80/10/10"
    return [commented("  split: {val: 0.1, test: 0.1, seed: 0}", f"no split given: {how}")]


def augment_lines() -> list[str]:
    return ["  # augment: {reverse_complement: true}   # for strand-symmetric signals (TF "
            "binding),", "  #                                        not strand-specific ones "
            "(promoters)"]


def path_text(path: Path, out: Path) -> str:
    """Relative to the pipeline's folder when the file is inside it, else absolute."""
    path, out = Path(path).resolve(), Path(out).resolve()
    return path.relative_to(out).as_posix() if path.is_relative_to(out) else str(path)


def _name(out: Path) -> str:
    return Path(out).resolve().name or "pipeline"


def scalar(value: object) -> str:
    """A YAML scalar, quoted only when it must be (a class named 'yes' or '1' stays a string)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10_000).strip()
    return text[1:-1]


def commented(line: str, comment: str) -> str:
    """`line  # comment`, or the comment wrapped above the line when that is too wide."""
    inline = f"{line.ljust(COMMENT_AT - 1)} # {comment}"
    if len(inline) <= WIDTH:
        return inline
    indent = line[:len(line) - len(line.lstrip())]
    return "\n".join([*_comment_block(comment, indent), line])


def _comment_block(text: str, indent: str = "  ") -> list[str]:
    return [f"{indent}# {part}" for part in textwrap.wrap(text, WIDTH - len(indent) - 2)]
