"""What a finished fit records in its MLflow run: evaluation artefacts and the model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from biodl import curves, evaluation, tracking
from biodl.callbacks import GradientMonitor
from biodl.data.base import DataFormat
from biodl.data.spec import Kind, Target
from biodl.inference import output, predict, sequences
from biodl.inference.batches import Batch
from biodl.tasks import ClassificationTask, Task


def artifacts(task: Task, datamodule: DataFormat, logger, callbacks=(),
              monitor: str | None = None, mode: str = "min") -> None:
    """Learning curves for every run; the test predictions (the table `biodl predict` writes,
    with the true labels) for every task but sequence generation's own (see
    `sequence_predictions`); for classifiers also ROC and PR
    curves, the confusion matrix and per-class precision/recall/F1 (as `evaluation/`).
    Runs on rank 0 alone, with the best weights that `trainer.test` loaded; `monitor` and
    `mode` are the checkpoint's, to mark the best epoch on the learning curves."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        curves.plot_learning_curves(folder / "learning_curves.png",
                                        tracking.metric_history(logger), monitor, mode)
        for callback in callbacks:
            if isinstance(callback, GradientMonitor) and callback.history:
                curves.plot_gradient_norms(folder / "gradient_norms.png", callback.history)
        spec = datamodule.input_spec()
        if spec.target in (Target.CLASS, Target.MULTILABEL, Target.REGRESSION):
            ids, values = test_scores(task, datamodule)
            labels = datamodule.split_labels("test")
            write_test_predictions(folder / "test_predictions.csv", spec, ids, labels, values)
        elif spec.target in sequences.TABLES:
            sequence_predictions(folder / "test_predictions.csv", task, datamodule)
        elif spec.target is Target.COVERAGE:
            profile_figure(folder / "profiles.png", task, datamodule)
        if isinstance(task, ClassificationTask) and task.mode in ("binary", "multiclass"):
            names = datamodule.output_names
            evaluation.plot_curves(folder / "roc_pr_curves.png", labels, values, names)
            evaluation.plot_confusion(folder / "confusion_matrix.png", labels, values, names)
            if spec.kind is Kind.IMAGES:
                evaluation.plot_misclassified(folder / "misclassified.png",
                                              datamodule.datasets["test"].pixels, labels,
                                              values, names)
            table = evaluation.per_class_table(labels, values, names)
            (folder / "per_class.json").write_text(json.dumps(table, indent=2))
        tracking.log_artifacts(logger, folder, "evaluation")


def test_scores(task: Task, datamodule: DataFormat, split: str = "test"):
    """(ids, scores) of a split through the inference path (`biodl.inference.predict`)."""
    values = [v for _, v in predict.scores(task, split_batches(datamodule, split))]
    return list(datamodule.split_ids[split]), np.concatenate(values)


def split_batches(datamodule: DataFormat, split: str):
    """A split's batches as the data module serves them (e.g. codes -> one-hot), in order."""
    loader = {"test": datamodule.test_dataloader, "val": datamodule.val_dataloader}[split]()
    for batch in loader:
        batch = datamodule.on_after_batch_transfer(batch, 0)
        yield Batch([], batch["x"], batch.get("lengths"))


def write_test_predictions(path: Path, spec, ids: list[str], labels: np.ndarray,
                           values: np.ndarray) -> None:
    """`biodl predict`'s table with the true label(s) after the id."""
    header = predict.header(spec)
    if spec.target is Target.CLASS:
        truth, names = [[spec.output_names[i]] for i in labels.tolist()], ["label"]
    else:
        truth = labels.tolist()
        names = [f"true_{n}" for n in spec.output_names]
    table = (row[:1] + t + row[1:] for row, t in zip(predict.rows(spec, ids, values), truth))
    output.write_table(path, header[:1] + names + header[1:], table)


def sequence_predictions(path: Path, task: Task, datamodule: DataFormat,
                         split: str = "test") -> None:
    """Tags, proteins or LM scores of a split's raw records (contigs or CDS) through
    `biodl.inference.sequences`, as `biodl predict` computes them, with the true labels or
    proteins; batches of the evaluation batch size."""
    spec, cfg = datamodule.input_spec(), datamodule.cfg
    where = ", ".join(str(p) for p in datamodule.input_files)
    if spec.target is Target.SEQ2SEQ:
        pairs = datamodule.pairs[split]
        records = [(p.id, p.source, f"{where}: pair '{p.id}'") for p in pairs]
        truth = [p.target.decode() for p in pairs]
    else:
        contigs = datamodule.contigs[split]
        records = [(c.id, c.seq, f"{where}: contig '{c.id}'") for c in contigs]
        truth = [c.labels for c in contigs] if spec.target is Target.TAGS else None
    header, rows = sequences.table(task, spec, records, cfg.eval_batch_size or cfg.batch_size,
                                   truth=truth)
    output.write_table(path, header, rows)


def profile_figure(path: Path, task: Task, datamodule: DataFormat, count: int = 4) -> None:
    """Predicted vs observed profiles of the test windows with the most coverage, predicted
    through the inference path (`biodl.inference.predict.scores`)."""
    from biodl.profile_plots import plot_profiles

    totals = datamodule.split_labels("test").sum(axis=1)  # (N,) over tracks
    rows = sorted(np.argsort(-totals, kind="stable")[:count].tolist())
    if not rows:
        return
    batch = datamodule.datasets["test"].__getitems__(rows)
    (_, predicted), = predict.scores(task, [Batch([], batch["x"])])
    names = [datamodule.split_ids["test"][i] for i in rows]
    plot_profiles(path, batch["y"].numpy(), predicted, datamodule.output_names, names)


def model(task: Task, datamodule: DataFormat, logger, best: Path, register: str | None,
          echo) -> None:
    """The pyfunc model with its signature and input spec, for models `biodl predict` applies."""
    spec = datamodule.input_spec()
    if spec.target not in (Target.CLASS, Target.MULTILABEL, Target.REGRESSION):
        return  # per-base, seq2seq and LM outputs are no table of one row per input
    version = tracking.log_model(logger, best, spec.kind.value, predict.header(spec), register,
                                 spec.to_dict())
    if version:
        echo(f"registered as models:/{register}/{version}")
