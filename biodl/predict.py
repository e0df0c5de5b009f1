"""`predict(source, inputs, output)`: apply a trained model to new sequences or images.

Inputs stream through in chunks, so files larger than memory work. The checkpoint carries
how its training data was prepared (`data_spec`: length and N policy for sequences; size and
normalisation for images), and new inputs are prepared the same way.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from biodl.data import encoding
from biodl.data.fasta import open_bytes, read_fasta
from biodl.data.sequences import check_bases
from biodl.data.tables import iter_rows
from biodl.errors import BiodlError
from biodl.tasks import Task, load_task

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
Batch = tuple[list[str], torch.Tensor]


def predict(checkpoint: Path, inputs: Path, output: Path, batch_size: int = 512,
            force: bool = False) -> int:
    """Write `output` (CSV: id, one column per class/output, predicted label); rows written."""
    if output.exists() and not force:
        raise BiodlError(f"{output}: already exists; choose another --output or pass --force")
    task = load_task(checkpoint).eval()
    spec = task.hparams.get("data_spec") or {}
    batches = (image_batches(inputs, spec, batch_size) if spec.get("kind") == "images"
               else sequence_batches(inputs, spec, batch_size))
    header, rows = scored_rows(task, spec, batches)
    handle, temporary = tempfile.mkstemp(dir=output.parent or ".", suffix=".partial")
    count = 0
    try:
        with os.fdopen(handle, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        os.replace(temporary, output)  # a crash never leaves a half-written output
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return count


def scored_rows(task: Task, spec: dict, batches: Iterator[Batch]):
    """The output header and a lazy stream of rows (id, probabilities..., predicted)."""
    header, to_rows = output_columns(task, spec)

    def rows():
        with torch.inference_mode():
            for ids, x in batches:
                yield from to_rows(ids, task.predictions(task.test_outputs(x)).float().numpy())
    return header, rows()


def output_columns(task: Task, spec: dict):
    names = list(spec.get("class_names") or task.hparams.get("class_names") or [])
    mode = getattr(task, "mode", "regression")
    if mode == "regression":
        names = list(task.hparams.get("output_names") or [f"output{i}" for i in
                                                           range(task.hparams.num_outputs)])
        return ["id", *names], lambda ids, p: ([i, *np.atleast_1d(r)] for i, r in
                                               zip(ids, p.reshape(len(ids), -1)))
    if mode == "multilabel":
        return ["id", *[f"p_{n}" for n in names]], lambda ids, p: (
            [i, *r] for i, r in zip(ids, p.round(6)))
    if mode == "binary":
        def binary(ids, p):
            return ([i, round(1 - q, 6), round(q, 6), names[int(q >= 0.5)]]
                    for i, q in zip(ids, p.tolist()))
        return ["id", *[f"p_{n}" for n in names], "predicted"], binary
    return ["id", *[f"p_{n}" for n in names], "predicted"], lambda ids, p: (
        [i, *r, names[int(r.argmax())]] for i, r in zip(ids, p.round(6)))


def sequence_batches(path: Path, spec: dict, batch_size: int) -> Iterator[Batch]:
    """One-hot batches from a FASTA or a CSV/TSV with a `sequence` (and optional `id`) column."""
    return encoded_batches(_sequence_records(path), spec, batch_size)


def encoded_batches(records, spec: dict, batch_size: int) -> Iterator[Batch]:
    """(id, sequence bytes, where) records -> one-hot batches prepared as in training."""
    length, unknown, lowercase = spec["length"], spec["unknown"], spec["lowercase"]
    table = encoding.onehot_table(unknown, lowercase)
    ids: list[str] = []
    seqs: list[bytes] = []
    for rid, seq, where in records:
        check_bases(seq, where, unknown, lowercase)
        ids.append(rid)
        seqs.append(seq)
        if len(ids) == batch_size:
            yield ids, torch.from_numpy(encoding.onehot(encoding.to_codes(seqs, length), table))
            ids, seqs = [], []
    if ids:
        yield ids, torch.from_numpy(encoding.onehot(encoding.to_codes(seqs, length), table))


def _sequence_records(path: Path) -> Iterator[tuple[str, bytes, str]]:
    if _is_fasta(path):
        for record in read_fasta(path):
            yield record.id, record.seq, f"{path} line {record.line}: record '{record.id}'"
        return
    for number, (line, row) in enumerate(iter_rows(path)):
        if "sequence" not in row:
            raise BiodlError(f"{path}: no 'sequence' column; give a FASTA file or a CSV/TSV "
                             "with columns id (optional) and sequence")
        yield row.get("id", str(number)), row["sequence"].encode(), f"{path} line {line}"


def _is_fasta(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(FASTA_SUFFIXES):
        return True
    with open_bytes(path) as handle:
        return handle.read(1) == b">"


def image_batches(path: Path, spec: dict, batch_size: int) -> Iterator[Batch]:
    """Normalised image batches from a folder (searched recursively) or a CSV with `path`."""
    from biodl.data.images import IMAGE_SUFFIXES

    return image_list_batches(_image_files(path, IMAGE_SUFFIXES), spec, batch_size)


def image_list_batches(files: list[Path], spec: dict, batch_size: int) -> Iterator[Batch]:
    """Normalised batches of the given image files, prepared as in training."""
    from biodl.data.images import SCALES, ImageList, decode_images

    stats = spec.get("norm_stats") if spec.get("normalize") else None
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        images = ImageList(chunk, [""] * len(chunk), [""] * len(chunk),
                           [str(f) for f in chunk])
        pixels = decode_images(images, spec["size"], spec["resize"], None,
                               len(stats["mean"]) if stats else None)
        x = torch.from_numpy(pixels.astype(np.float32) / SCALES[pixels.dtype])
        if stats:
            x = (x - torch.tensor(stats["mean"]).view(1, -1, 1, 1)) / torch.tensor(
                stats["std"]).view(1, -1, 1, 1)
        yield [str(f) for f in chunk], x


def _image_files(path: Path, suffixes) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes)
        if not files:
            raise BiodlError(f"{path}: no images ({', '.join(suffixes)}) in this folder")
        return files
    return [path.parent / row["path"] for _, row in iter_rows(path)]
