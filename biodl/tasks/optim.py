"""Optimisers and learning-rate schedulers from their config sections."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on weight matrices and kernels only; never on biases or norm scales."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    groups = parameter_groups(model, cfg["weight_decay"])
    name, lr, eps = cfg["name"], cfg["lr"], cfg["eps"]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=cfg["momentum"], nesterov=cfg["nesterov"])
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=tuple(cfg["betas"]), eps=eps)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(cfg["betas"]), eps=eps)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, momentum=cfg["momentum"], eps=eps)
    if name == "adagrad":
        return torch.optim.Adagrad(groups, lr=lr, eps=eps)
    raise ValueError(f"unknown optimizer {name!r}")


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: dict[str, Any], lr: float,
                    max_epochs: int, total_steps: int) -> dict[str, Any] | None:
    """A Lightning `lr_scheduler` dict, or None for a constant learning rate."""
    sched = torch.optim.lr_scheduler
    name = cfg["name"]
    if name == "none":
        return None
    if name == "step":
        return {"scheduler": sched.StepLR(optimizer, cfg["step_size"], cfg["gamma"])}
    if name == "cosine":
        return {"scheduler": sched.CosineAnnealingLR(optimizer, max(1, max_epochs),
                                                     eta_min=cfg["min_lr"])}
    if name == "plateau":
        mode = "max" if cfg["monitor"].endswith(("auroc", "auprc", "acc", "mcc", "f1")) else "min"
        plateau = sched.ReduceLROnPlateau(optimizer, mode=mode, factor=cfg["factor"],
                                          patience=cfg["patience"], min_lr=cfg["min_lr"])
        return {"scheduler": plateau, "monitor": cfg["monitor"]}
    if name == "onecycle":
        cycle = sched.OneCycleLR(optimizer, max_lr=cfg["max_lr"] or 10 * lr,
                                 total_steps=total_steps, pct_start=cfg["pct_start"])
        return {"scheduler": cycle, "interval": "step"}
    raise ValueError(f"unknown scheduler {name!r}")
