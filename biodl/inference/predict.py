"""Predictions as plain functions: a task, its input spec and batches in; rows out.

`scores(task, batches)` runs the model exactly as evaluation does (`task.test_outputs`, so
test-time strand averaging included, then `task.predictions`); `rows(spec, ids, scores)` turns
them into the table `biodl predict` writes and the fit records as
`evaluation/test_predictions.csv`: id, one probability (or output) column per class (or
output), and the predicted class for classifiers. The positive class of a binary model is the
second of `spec.output_names`; a class is predicted where its probability is the largest
(ties to the first), the rule the metrics use.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from biodl.data.spec import InputSpec, Target
from biodl.errors import BiodlError
from biodl.inference.batches import Batch


@torch.inference_mode()
def scores(task, batches: Iterable[Batch]) -> Iterator[tuple[list[str], np.ndarray]]:
    """(ids, (B,) or (B, K) float scores) per batch, on the task's device."""
    task.eval()
    device = next(task.parameters()).device
    for batch in batches:
        lengths = None if batch.lengths is None else batch.lengths.to(device)
        outputs = task.test_outputs(batch.x.to(device), lengths)
        yield batch.ids, task.predictions(outputs).float().cpu().numpy()


def header(spec: InputSpec) -> list[str]:
    names = list(spec.output_names)
    if spec.target is Target.REGRESSION:
        return ["id", *names]
    if spec.target is Target.MULTILABEL:
        return ["id", *[f"p_{n}" for n in names]]
    return ["id", *[f"p_{n}" for n in names], "predicted"]


def rows(spec: InputSpec, ids: list[str], values: np.ndarray) -> Iterator[list[str]]:
    """Rows of the prediction table for one batch of scores."""
    if spec.target is Target.CLASS and values.ndim == 1:  # binary: P(positive class)
        values = np.stack([1 - values, values], axis=1)
    values = values.reshape(len(ids), -1)
    if spec.target is not Target.CLASS:
        return ([rid, *row] for rid, row in zip(ids, values.tolist()))
    names = spec.output_names
    best = values.argmax(axis=1).tolist()
    return ([rid, *row, names[b]] for rid, row, b in zip(ids, values.tolist(), best))


def table(task, spec: InputSpec, batches: Iterable[Batch]) -> tuple[list[str], Iterator[list]]:
    """The header and a lazy stream of rows."""
    if spec.target is Target.COVERAGE:
        raise BiodlError("predict: a coverage model predicts coverage along a genome, not one "
                         "row per sequence; run `biodl predict MODEL genome.fa --scan -o "
                         "predicted.bw`")
    def stream():
        for ids, values in scores(task, batches):
            yield from rows(spec, ids, values)
    return header(spec), stream()
