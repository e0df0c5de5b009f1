"""k-fold cross-validation: one parent MLflow run, each fold a nested `fit`.

Fold k trains with `data.split.folds=K, data.split.fold=k` (`biodl.data.folds`), so the K test
splits partition the data. The parent records the mean (`test/auroc`) and sample standard
deviation (`test/auroc_sd`) over folds of every test metric, the pooled out-of-fold
predictions (`evaluation/oof_predictions.csv`: each fold's `test_predictions.csv` with a
`fold` column) and the fold runs as its ensemble (tag `biodl.ensemble`), which `biodl predict`
and `biodl test` accept by the parent's run id.
"""

from __future__ import annotations

import copy
import csv
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from biodl import tracking
from biodl.config import Config, dump_yaml
from biodl.errors import BiodlError

OOF = "oof_predictions.csv"


@dataclass
class CVResult:
    run_id: str
    fold_runs: list[str]
    fold_metrics: list[dict[str, float]]
    summary: dict[str, float]  # metric -> mean, metric_sd -> sd over folds
    oof_rows: int


def fold_config(cfg: Config, folds: int, fold: int) -> Config:
    """A copy of `cfg` that trains fold `fold` of `folds`, named after it."""
    out = copy.deepcopy(cfg)
    out.data.split.folds, out.data.split.fold = folds, fold
    out.tracking.run_name = f"{cfg.tracking.run_name or cfg.name} fold {fold}"
    return out


def check_cv(cfg: Config, folds: int) -> None:
    """Every refusal before a run is opened: fold numbers, formats whose split is given, more
    folds than the smallest class (or than groups) has members; reads fold 0's data."""
    from biodl.data.formats import build_datamodule

    if folds < 2:
        raise BiodlError(f"--folds {folds}: cross-validation needs at least 2 folds, e.g. 5")
    datamodule = build_datamodule(fold_config(cfg, folds, 0).data)
    datamodule.setup("fit")


def cross_validate(cfg: Config, folds: int, echo=print) -> CVResult:
    """Fit every fold nested under one parent run; the summary and pooled predictions on it."""
    from biodl.train import fit

    check_cv(cfg, folds)
    name = f"{cfg.tracking.run_name or cfg.name} cv{folds}"
    parent = tracking.open_parent(cfg.tracking, name, "cv")
    with tracking.parent_outcome(parent):
        parent.log(params={"cv.folds": folds, "data.split.seed": cfg.data.split.seed})
        parent.log_text(dump_yaml(cfg), "config.yaml")
        runs, metrics = [], []
        for fold in range(folds):
            echo(f"fold {fold + 1}/{folds}")
            result = fit(fold_config(cfg, folds, fold), echo=echo, parent=parent.run_id)
            runs.append(result.run_id)
            metrics.append(result.test_metrics)
        summary = summarize(metrics)
        parent.log(metrics=summary, tags={tracking.ENSEMBLE_TAG: ",".join(runs)})
        rows = log_pooled_predictions(parent, runs)
    return CVResult(parent.run_id, runs, metrics, summary, rows)


def summarize(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """`name`: the mean over folds, `name_sd`: the sample sd (n - 1), for every metric that
    every fold has; NaN folds (a metric undefined there) make the mean NaN, as they should."""
    names = sorted(set.intersection(*(set(m) for m in per_fold))) if per_fold else []
    out: dict[str, float] = {}
    for name in names:
        values = [m[name] for m in per_fold]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
        out[name], out[f"{name}_sd"] = mean, math.sqrt(var)
    return out


def log_pooled_predictions(parent, runs: list[str]) -> int:
    """Concatenate the folds' evaluation/test_predictions.csv with a `fold` column; rows
    (0 when the task records no such table)."""
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            tables = [tracking.download(parent.uri, run, "evaluation/test_predictions.csv",
                                        folder / str(k)) for k, run in enumerate(runs)]
        except (MlflowException, OSError):
            return 0
        count = pool_tables(tables, folder / OOF)
        parent.log_file(folder / OOF, "evaluation")
    return count


def pool_tables(tables: list[Path], out: Path) -> int:
    """Rows of every table under one header, with the table's position as `fold`."""
    header, count = None, 0
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        for fold, path in enumerate(tables):
            with open(path, newline="") as table:
                reader = csv.reader(table)
                own = next(reader)
                if header is None:
                    header = own
                    writer.writerow(["fold", *header])
                elif own != header:
                    raise BiodlError(f"fold {fold}: its test_predictions.csv has columns {own}, "
                                     f"fold 0's {header}; the folds are not one model")
                for row in reader:
                    writer.writerow([fold, *row])
                    count += 1
    return count
