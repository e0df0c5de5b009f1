"""A biodl model as an MLflow pyfunc model, so `mlflow models serve` and the MLflow UI (with
its signature) can use it. Input: a DataFrame with `sequence` (and optional `id`) columns, or
`path` for images; output: the same columns `biodl predict` writes."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

SEQUENCE_EXAMPLE = pd.DataFrame({"id": ["seq1"], "sequence": ["ACGTACGTAC"]})
IMAGE_EXAMPLE = pd.DataFrame({"path": ["cells/cell1.png"]})


class BiodlModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from biodl.tasks import load_task

        self.task = load_task(context.artifacts["checkpoint"]).eval()
        self.spec = self.task.hparams.get("data_spec") or {}

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from biodl import predict

        if self.spec.get("kind") == "images":
            batches = predict.image_list_batches([Path(p) for p in model_input["path"]],
                                                 self.spec, 256)
        else:
            ids = model_input["id"] if "id" in model_input else model_input.index.astype(str)
            records = ((str(i), s.encode(), f"row {i}")
                       for i, s in zip(ids, model_input["sequence"]))
            batches = predict.encoded_batches(records, self.spec, 256)
        header, rows = predict.scored_rows(self.task, self.spec, batches)
        return pd.DataFrame(list(rows), columns=header)
