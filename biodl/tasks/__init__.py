"""LightningModules: a task takes a model, knows its loss, metrics and optimiser, and no files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.models import build_model
from biodl.tasks.base import Task
from biodl.tasks.classify import ClassificationTask
from biodl.tasks.coverage import CoverageTask
from biodl.tasks.lm import LanguageModelTask
from biodl.tasks.regress import RegressionTask
from biodl.tasks.seq2seq import Seq2SeqTask
from biodl.tasks.tagging import TaggingTask
from biodl.tasks.weights import class_weights

TASKS: dict[str, type[Task]] = {"classification": ClassificationTask,
                                "regression": RegressionTask, "tagging": TaggingTask,
                                "seq2seq": Seq2SeqTask, "lm": LanguageModelTask,
                                "coverage": CoverageTask}


def task_mode(loss: str, target: str, num_outputs: int) -> str:
    """binary | multiclass | multilabel | regression, from the loss and the data's target."""
    if target == "regression":
        if loss not in ("auto", "mse", "poisson"):
            raise BiodlError(f"task.loss: {loss} does not fit regression; use mse or poisson")
        return "regression"
    if loss in ("mse", "poisson"):
        raise BiodlError(f"task.loss: {loss} is for regression; data.target is {target}")
    if target == "multilabel":
        if loss == "cross_entropy":
            raise BiodlError("task.loss: multilabel targets take bce (or auto)")
        return "multilabel"
    if loss == "hinge":
        return "multiclass"  # one margin per class, two classes included
    if loss == "bce" and num_outputs > 2:
        raise BiodlError(f"task.loss: bce takes two classes, the data has {num_outputs}; "
                         "use cross_entropy (or auto)")
    return "binary" if num_outputs == 2 and loss != "cross_entropy" else "multiclass"


def model_outputs(mode: str, num_outputs: int) -> int:
    """The model's output width: one logit for binary, else one per class or label."""
    return 1 if mode == "binary" else num_outputs


def build_task(cfg: TaskConfig, model: torch.nn.Module, mode: str, names: list[str],
               counts: list[int], model_spec: dict, num_examples: int = 0,
               input_spec: dict | None = None, test_reverse_complement: bool = False) -> Task:
    """`names`: class (or output) names; `counts`: training examples per class, or positives
    per label for multilabel out of `num_examples`."""
    common = dict(metrics=cfg.metrics, l1=cfg.l1, model_spec=model_spec, input_spec=input_spec,
                  test_reverse_complement=test_reverse_complement,
                  optimizer=dataclasses.asdict(cfg.optimizer),
                  scheduler=dataclasses.asdict(cfg.scheduler))
    if mode == "regression":
        loss = "mse" if cfg.loss == "auto" else cfg.loss
        return RegressionTask(model, len(names), loss=loss, output_names=names, **common)
    if mode == "multilabel" and cfg.class_weights == "balanced":
        # BCE's pos_weight: negatives per positive, for each label
        weights = [(num_examples - c) / max(c, 1) for c in counts]
    else:
        weights = class_weights(cfg.class_weights, counts)
    return ClassificationTask(model, num_classes=len(names), class_names=names, mode=mode,
                              class_weights=weights, loss=cfg.loss, **common)


def load_task(path: str | Path, map_location: str = "cpu") -> Task:
    """Rebuild a task and its model from a biodl checkpoint."""
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    spec = checkpoint["hyper_parameters"]["model_spec"]
    model = build_model(spec["name"], **spec["kwargs"])
    cls = TASKS[checkpoint.get("biodl_task", "classification")]
    return cls.load_from_checkpoint(path, map_location=map_location, model=model)


__all__ = ["ClassificationTask", "RegressionTask", "Task", "build_task", "class_weights",
           "load_task", "model_outputs", "task_mode"]
