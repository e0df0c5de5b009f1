"""A biodl model as an MLflow pyfunc model, so `mlflow models serve` and the MLflow UI (with
its signature) can use it. Input: a DataFrame with `sequence` (and optional `id`) columns, or
`path` for images; output: the same columns `biodl predict` writes, prepared through the same
input path (`biodl.inference`)."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

SEQUENCE_EXAMPLE = pd.DataFrame({"id": ["seq1"], "sequence": ["ACGTACGTAC"]})
IMAGE_EXAMPLE = pd.DataFrame({"path": ["cells/cell1.png"]})
BATCH = 256


class BiodlModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from biodl.inference.model import load

        self.trained = load(Path(context.artifacts["checkpoint"]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from biodl.data.spec import Kind
        from biodl.inference import batches, predict

        task, spec, _ = self.trained
        if spec.kind is Kind.IMAGES:
            stream = batches.image_batches([Path(p) for p in model_input["path"]], spec, BATCH)
        else:
            ids = model_input["id"] if "id" in model_input else model_input.index.astype(str)
            records = ((str(i), s.encode(), f"row {i}")
                       for i, s in zip(ids, model_input["sequence"]))
            policy = (params or {}).get("length_policy", "error")
            stream = batches.sequence_batches(records, spec, BATCH, policy)
        header, rows = predict.table(task, spec, stream)
        return pd.DataFrame(list(rows), columns=header)
