"""`biodl init --fasta` (one FASTA per class) and `--images` (a folder per class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biodl.data.fasta import read_fasta
from biodl.errors import BiodlError
from biodl.vocab import IMAGE_SUFFIXES
from biodl.init.pipeline import (Plan, augment_lines, commented, length_section, path_text,
                                  positive_comment, positive_note, scalar, sequence_parts,
                                  split_lines)


def plan_fasta(entries: list[str], out: Path) -> Plan:
    classes = _class_files(entries)
    lengths, counts = {}, {}
    for name, path in classes.items():
        sizes = [len(record.seq) for record in read_fasta(path)]  # refuses an empty file
        lengths[name], counts[name] = sizes, len(sizes)
    names = list(classes)
    data = ["  format: fasta", *positive_comment(names, "the order listed", "swap the two "
                                                   "lines to change it"), "  classes:"]
    data += [commented(f"    {scalar(n)}: {scalar(path_text(p, out))}",
                        f"{counts[n]:,} records") for n, p in classes.items()]
    length_lines, length_note = length_section(np.concatenate([lengths[n] for n in names]))
    data += length_lines + split_lines() + augment_lines() + ["  batch_size: 64"]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} records)" for n in names),
             positive_note(names, "the second --fasta"), length_note]
    return Plan(f"{len(names)} FASTA files, one per class", sequence_parts(len(names)), data,
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
            commented(f"  root: {scalar(path_text(folder, out))}", f"{len(names)} class "
                       f"folders, {sum(counts.values()):,} images"),
            *positive_comment(names, "folder-name order", "rename the folders to change it"),
            commented(f"  size: {size}", why_size),
            commented("  normalize: true", "per-channel mean/std of the training split"),
            *split_lines(),
            "  # augment: {hflip: true, vflip: true, rot90: true}   # when orientation means "
            "nothing (cells)",
            "  batch_size: 64"]
    notes = [f"{len(names)} classes: " + ", ".join(f"{n} ({counts[n]:,} images)" for n in names),
             positive_note(names, "the second folder by name"), f"size {size}: {why_size}"]
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
