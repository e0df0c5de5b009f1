"""Raw inputs -> model-ready batches, prepared exactly as in training (one path per kind).

Sequences go through `biodl.data.prepare.sequence_codes` and the one-hot table of the spec,
images through the training `ImageDataset` (same scaling and normalisation arithmetic), series
through `biodl.data.epidemic.model_inputs`: the functions the data modules call.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Optional

import numpy as np
import torch

from biodl.data import encoding, prepare
from biodl.data.sequences import check_bases
from biodl.data.spec import InputSpec, Kind
from biodl.inference.inputs import Record


class Batch(NamedTuple):
    ids: list[str]
    x: torch.Tensor  # (B, 4, L) one-hot, (B, L) tokens, (B, C, S, S) images, (B, C, L) series
    lengths: Optional[torch.Tensor] = None  # (B,) for variable-length models


def chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def sequence_batches(records: Iterable[Record], spec: InputSpec, batch_size: int,
                     policy: str = "error") -> Iterator[Batch]:
    """Batches of checked, length-fitted, encoded sequences (`policy`: the length policy)."""
    for chunk in chunks(records, batch_size):
        for _, seq, where in chunk:
            check_bases(seq, where, spec.unknown, spec.lowercase, strict=True)
        wheres = [where for _, _, where in chunk]
        codes = prepare.sequence_codes([seq for _, seq, _ in chunk], spec.length, policy,
                                       wheres.__getitem__, spec.variable_length)
        yield Batch([rid for rid, _, _ in chunk], encode(codes.codes, spec),
                    None if codes.lengths is None else torch.from_numpy(codes.lengths))


def encode(codes: np.ndarray, spec: InputSpec) -> torch.Tensor:
    """(B, L) uint8 codes -> the model's input under the spec's encoding."""
    if spec.kind is Kind.TOKENS:
        return torch.from_numpy(encoding.tokens(codes, spec.lowercase))
    return torch.from_numpy(encoding.onehot(codes, encoding.onehot_table(spec.unknown,
                                                                          spec.lowercase)))


def image_batches(files: list[Path], spec: InputSpec, batch_size: int) -> Iterator[Batch]:
    """Batches of decoded, resized, normalised images, as the training dataset makes them."""
    from biodl.data.images import ImageDataset, ImageList, decode_images

    for chunk in chunks(files, batch_size):
        names = [str(f) for f in chunk]
        images = ImageList(list(chunk), [""] * len(chunk), [""] * len(chunk), names)
        pixels = decode_images(images, spec.size, spec.resize, None, len(spec.channels))
        dataset = ImageDataset(pixels, np.zeros(len(chunk), dtype=np.int64),
                               list(spec.mean) or None, list(spec.std) or None)
        yield Batch(names, dataset.__getitems__(list(range(len(chunk))))["x"])


def series_batches(rows: Iterable[tuple[str, np.ndarray]], spec: InputSpec,
                   batch_size: int) -> Iterator[Batch]:
    """Batches of (C, L) series in percent, transformed as in training."""
    from biodl.data.epidemic import model_inputs

    for chunk in chunks(rows, batch_size):
        observed = np.stack([values for _, values in chunk])  # (B, C, L)
        x = model_inputs(observed, spec.transform, spec.population)
        yield Batch([rid for rid, _ in chunk], torch.from_numpy(x))


def file_batches(path: Path, spec: InputSpec, batch_size: int,
                 policy: str = "error") -> Iterator[Batch]:
    """Batches of a user's input file, by what the model reads."""
    from biodl.inference import inputs

    if spec.kind is Kind.IMAGES:
        return image_batches(inputs.image_files(path), spec, batch_size)
    if spec.kind is Kind.SERIES:
        return series_batches(inputs.series_rows(path, spec), spec, batch_size)
    return sequence_batches(inputs.sequence_records(path), spec, batch_size, policy)
