"""Metrics of an ensemble on a split: the members' mean predictions scored by the first
member's own metrics (the loss is a member's, undefined for a mean, and left out)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from biodl.config import Config, to_dict
from biodl.errors import BiodlError


def check_unseen(cfg: Config, member_cfgs: list[Config]) -> None:
    """Fold models of one cross-validation trained, together, on every example of their
    data: scoring them there would be a silent leak. Refuse unless the data differs."""
    crossed = [m for m in member_cfgs if m.data.split.folds]
    if not crossed:
        return
    same = [m for m in crossed if _data_files(m) == _data_files(cfg)]
    if same:
        raise BiodlError("these are fold models of a cross-validation: together they trained "
                         "on every example of this data; test them on other data with --set "
                         "(e.g. --set data.classes=... or data.train=...), or read the parent "
                         "run's out-of-fold metrics")


def _data_files(cfg: Config) -> object:
    """The files the data reads (resolved); for data that reads none (simulated), all of
    its settings but the split."""
    values = [getattr(cfg.data, f.name) for f in dataclasses.fields(cfg.data)]
    files = {str(Path(p).resolve()) for v in values
             for p in (v.values() if isinstance(v, dict) else [v]) if isinstance(p, Path)}
    if files:
        return files
    data = to_dict(cfg)["data"]
    data.pop("split", None)
    return data


def evaluate_ensemble(cfg: Config, checkpoints: list[Path],
                      split: str = "test") -> dict[str, float]:
    """Metrics of the members' mean predictions on `split` of `cfg`'s data."""
    from biodl import hardware, record
    from biodl.data.formats import build_datamodule
    from biodl.inference.ensemble import load_models
    from biodl.inference.predict import scores

    hardware.set_threads(cfg.threads)
    cfg.data.split.folds = cfg.data.split.fold = 0  # the data's own split, not a fold
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    ensemble, spec, _ = load_models(checkpoints)
    mismatch = spec.differences(datamodule.input_spec())
    if any(d.split(":")[0] in ("output_names", "kind", "target") for d in mismatch):
        raise BiodlError(f"the models do not fit this data: {'; '.join(mismatch)}")
    ensemble.test_reverse_complement = datamodule.input_spec().strands == "both"
    values = np.concatenate([v for _, v in scores(ensemble, record.split_batches(datamodule,
                                                                                  split))])
    first = ensemble.members[0]
    metrics = first.make_metrics(f"{split}/")
    metrics.update(torch.as_tensor(values), first.targets(torch.as_tensor(
        datamodule.split_labels(split))))
    return {k: float(v) for k, v in metrics.compute().items()}
