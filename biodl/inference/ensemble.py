"""Ensembles: the mean of several trained models' probabilities (or outputs).

Members must share an input spec (the same inputs, prepared the same way, and the same
classes or outputs in the same order); any difference is refused, named. An `Ensemble` stands
in for a task wherever `biodl.inference.predict.scores` takes one: its `test_outputs` are the
members' mean predictions and its `predictions` leave them as they are.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from biodl.data.spec import Target
from biodl.errors import BiodlError
from biodl.inference.model import Trained, load

AVERAGED = (Target.CLASS, Target.MULTILABEL, Target.REGRESSION)


class Ensemble(nn.Module):
    """Members' predictions averaged, each with its own test-time strand handling."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def test_reverse_complement(self) -> bool:
        return all(m.test_reverse_complement for m in self.members)

    @test_reverse_complement.setter
    def test_reverse_complement(self, value: bool) -> None:
        for member in self.members:
            member.test_reverse_complement = value

    def test_outputs(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        each = [m.predictions(m.test_outputs(x, lengths)).float() for m in self.members]
        return torch.stack(each).mean(dim=0)  # (B,) or (B, K)

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs


def check_members(trained: list[Trained]) -> None:
    """One input spec for all, a target that averages; else an error naming the difference."""
    first = trained[0]
    if first.spec.target not in AVERAGED:
        raise BiodlError(f"{first.path}: a {first.spec.target.value} model; ensembles average "
                         "class probabilities or regression outputs only, give one model")
    for other in trained[1:]:
        differences = first.spec.differences(other.spec)
        if differences:
            raise BiodlError(f"{other.path}: takes other inputs or predicts other outputs than "
                             f"{first.path} ({'; '.join(differences)}); an ensemble needs "
                             "models trained on the same kind of data with the same classes")


def load_models(checkpoints: list[Path]) -> Trained:
    """One model as it is, or several as an `Ensemble` (spec and path of the first)."""
    if not checkpoints:
        raise BiodlError("no model given; give a .ckpt, a run id or models:/NAME/VERSION")
    if len(checkpoints) == 1:
        return load(checkpoints[0])
    trained = [load(path) for path in checkpoints]
    check_members(trained)
    members = [t.task for t in trained]
    return Trained(Ensemble(members).eval(), trained[0].spec, trained[0].path)
