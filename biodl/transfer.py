"""Transfer learning: start a model from saved weights with a new head, optionally frozen.

ResNets go through `biodl.models.resnet.load_backbone` (torchvision files, conv1 adapted to
the channel count); every other model loads the tensors whose names and shapes match and
keeps the rest (a head for another number of outputs) as initialised.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from biodl.errors import BiodlError
from biodl.models.resnet import LoadReport, ResNet, load_backbone, plain_state_dict

HEAD_PREFIXES = ("head.", "fc.", "out.")  # the output layers of biodl's models


def init_from(model: nn.Module, path: Path) -> LoadReport:
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BiodlError(f"finetune.init_from: {path} not found") from None
    except Exception as error:  # not a torch file
        raise BiodlError(f"finetune.init_from: {path} is not a checkpoint or state_dict "
                         f"({type(error).__name__}); give a biodl .ckpt or a .pt/.pth file") from None
    if isinstance(model, ResNet):
        return load_backbone(model, saved)
    return load_matching(model, plain_state_dict(saved), path)


def load_matching(model: nn.Module, state: dict, path: Path) -> LoadReport:
    own = model.state_dict()
    report = LoadReport()
    take = {}
    for key, value in state.items():
        if key in own and own[key].shape == value.shape:
            take[key] = value
            report.loaded.append(key)
        else:
            report.skipped.append(key)
    body = [k for k in own if not k.startswith(HEAD_PREFIXES)]
    if not any(k in take for k in body):
        raise BiodlError(f"finetune.init_from: no layer of {path} fits this model (another "
                         "architecture?); check model.name and its arguments")
    report.missing = [k for k in own if k not in take]
    model.load_state_dict({**own, **take})
    return report


def freeze_backbone(model: nn.Module) -> int:
    """Leave only the output layers trainable; returns how many tensors were frozen."""
    frozen = 0
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(HEAD_PREFIXES)
        frozen += not parameter.requires_grad
    return frozen
