"""LightningModules: a task takes a model, knows its loss, metrics and optimiser, and no files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.models import build_model
from biodl.tasks.classify import ClassificationTask


def class_weights(spec: str | list[float], counts: list[int]) -> list[float] | None:
    """`balanced` gives n / (k * n_c) per class, as scikit-learn does; a list is used as is."""
    if spec == "none":
        return None
    if spec == "balanced":
        total, k = sum(counts), len(counts)
        return [total / (k * max(c, 1)) for c in counts]
    if len(spec) != len(counts):
        raise BiodlError(f"task.class_weights: {len(spec)} weights for {len(counts)} classes; "
                         "give one weight per class, in the order of data.classes")
    return list(spec)


def build_task(cfg: TaskConfig, model: torch.nn.Module, class_names: list[str],
               class_counts: list[int], model_spec: dict) -> ClassificationTask:
    return ClassificationTask(
        model,
        num_classes=len(class_names),
        class_names=class_names,
        loss=cfg.loss,
        metrics=list(cfg.metrics),
        class_weights=class_weights(cfg.class_weights, class_counts),
        l1=cfg.l1,
        optimizer=dataclasses.asdict(cfg.optimizer),
        scheduler=dataclasses.asdict(cfg.scheduler),
        model_spec=model_spec,
    )


def load_task(path: str | Path, map_location: str = "cpu") -> ClassificationTask:
    """Rebuild a task and its model from a biodl checkpoint."""
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    spec = checkpoint["hyper_parameters"]["model_spec"]
    model = build_model(spec["name"], **spec["kwargs"])
    return ClassificationTask.load_from_checkpoint(path, map_location=map_location, model=model)


__all__ = ["ClassificationTask", "build_task", "class_weights", "load_task"]
