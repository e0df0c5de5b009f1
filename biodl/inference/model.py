"""A trained model and its input spec, loaded from a biodl checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from biodl.data.spec import InputSpec, spec_of_checkpoint
from biodl.errors import BiodlError


class Trained(NamedTuple):
    task: "torch.nn.Module"  # a biodl Task (a LightningModule) in eval mode
    spec: InputSpec
    path: Path


def load(checkpoint: Path, map_location: str = "cpu") -> Trained:
    """The task and input spec of a checkpoint; refuses checkpoints without a spec."""
    from biodl.tasks import load_task

    path = Path(checkpoint)
    try:
        hparams = torch.load(path, map_location="cpu", weights_only=True)["hyper_parameters"]
    except (RuntimeError, KeyError, EOFError) as error:
        raise BiodlError(f"{path}: not a readable biodl checkpoint ({error}); give the .ckpt "
                         "that `biodl fit` wrote, or its run id") from None
    spec = spec_of_checkpoint(hparams, str(path))
    return Trained(load_task(path, map_location).eval(), spec, path)
