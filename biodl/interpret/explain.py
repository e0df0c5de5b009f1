"""Explaining a trained biodl sequence model: which output, on what input, batch by batch.

`target_of(spec, name)` picks the output (a class, label or output name; the positive class of a
binary model by default); `explained_model(task, spec, target)` is the `nn.Module` whose output
column `target.index` is explained, taking one-hot `(N, 4, L)`:

- classifiers are explained on their logit (binary: the positive class's log-odds; the
  negative class of a binary model is explained as minus that logit), not the probability;
  regressors on their output;
- a model that averages both strands at test (`spec.strands == "both"`) is explained through
  that average (the reverse complement is linear in the one-hot input, so DeepLIFT stays exact);
- a token model (`spec.kind` tokens, e.g. rnn_classifier) is given a one-hot front end equal
  to its embedding on one-hot input (A, C, G, T, and an all-zero column as N).

`explain(task, spec, batches, ...)` then yields one `Explained` per batch.
"""

from __future__ import annotations

import copy
from typing import Iterable, Iterator, NamedTuple, Optional

import torch
from torch import Tensor, nn

from biodl.data.spec import InputSpec, Kind, Target as Predicts
from biodl.errors import BiodlError
from biodl.interpret import attributions as attr
from biodl.vocab import TOKEN_N

EXPLAINABLE = (Predicts.CLASS, Predicts.MULTILABEL, Predicts.REGRESSION)


class Target(NamedTuple):
    index: int  # the output column explained
    name: str
    negate: bool = False  # the negative class of a binary model: minus the logit


class Explained(NamedTuple):
    ids: list[str]
    onehot: Tensor  # (B, 4, L) the input explained
    attributions: Tensor  # (B, 4, L)
    prediction: Tensor  # (B,) the task's prediction for the target (probability or value)
    output: Tensor  # (B,) the explained output (logit or value)
    error: Optional[Tensor]  # (B,) |sum - delta| for IG and DeepLIFT/SHAP, else None
    delta: Optional[Tensor]  # (B,) out(x) - mean out(references)


def target_of(spec: InputSpec, name: Optional[str]) -> Target:
    """The output to explain: `name` (a class or output name) or the default."""
    names = list(spec.output_names)
    binary = spec.target is Predicts.CLASS and len(names) == 2
    if name is None:
        return Target(0, names[1], False) if binary else Target(0, names[0], False)
    if name not in names:
        raise BiodlError(f"--target {name!r}: not an output of this model; choose one of "
                         f"{', '.join(names)}")
    if binary:
        return Target(0, name, negate=name == names[0])
    return Target(names.index(name), name)


def explained_model(task, spec: InputSpec, target: Target) -> nn.Module:
    """The model as explained (see the module docstring), in eval mode."""
    if spec.target not in EXPLAINABLE or spec.kind not in (Kind.ONEHOT, Kind.TOKENS):
        raise BiodlError(f"explain: this model reads {spec.kind.value} and predicts "
                         f"{spec.target.value} (data format {spec.format}); sequence "
                         "attributions need a DNA model that predicts one class, label set or "
                         "value per sequence")
    model = task.model
    if spec.kind is Kind.TOKENS:
        model = one_hot_front_end(model)
    if spec.strands == "both" and not spec.variable_length:
        model = BothStrands(model)
    if target.negate:
        model = Negated(model)
    return model.eval()


class BothStrands(nn.Module):
    """The mean of the outputs of a sequence and of its reverse complement (ACGT order)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @property
    def one_strand(self) -> nn.Module:
        """The model averaged over both strands (regional ISM runs it on each)."""
        return self.model

    def forward(self, x: Tensor) -> Tensor:
        return (self.model(x) + self.model(x.flip(-2, -1))) / 2


class Negated(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @property
    def negation_of(self) -> nn.Module:
        """The model whose outputs this negates (regional ISM negates its effects)."""
        return self.model

    def forward(self, x: Tensor, *args) -> Tensor:
        return -self.model(x, *args)


class OneHotEmbedding(nn.Module):
    """(N, 4, L) one-hot -> (N, L, D): the token embedding of A, C, G, T; N for all-zero."""

    def __init__(self, embed: nn.Embedding):
        super().__init__()
        self.embed = embed

    def forward(self, x: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
        weight = self.embed.weight  # (V, D), tokens PAD, A, C, G, T, N
        bases = x.transpose(1, 2)  # (N, L, 4)
        out = bases @ weight[1:5] + (1 - bases.sum(-1, keepdim=True)) * weight[TOKEN_N]
        if lengths is not None:
            positions = torch.arange(x.shape[-1], device=x.device)
            out = out * (positions[None, :] < lengths[:, None]).unsqueeze(-1).to(out.dtype)
        return out


def one_hot_front_end(model: nn.Module) -> nn.Module:
    """A copy of a token model that reads one-hot, equal to it on one-hot inputs."""
    embed = getattr(getattr(model, "input", None), "embed", None)
    if not isinstance(embed, nn.Embedding):
        raise BiodlError(f"explain: {type(model).__name__} reads tokens through no embedding "
                         "biodl can turn into a one-hot front end; explain a one-hot model")
    clone = copy.deepcopy(model)
    clone.input = OneHotEmbedding(clone.input.embed)
    return clone


def as_onehot(x: Tensor, spec: InputSpec) -> Tensor:
    """The one-hot (N, 4, L) of a model's native batch: tokens 1-4 are A, C, G, T."""
    if spec.kind is Kind.TOKENS:
        return torch.nn.functional.one_hot(x.long(), 6)[..., 1:5].transpose(1, 2).float()
    return x.float()


def predictions(task, batch_x: Tensor, lengths: Optional[Tensor], target: Target) -> Tensor:
    """(B,) the task's own prediction for the target: probability (classes) or value."""
    with torch.inference_mode():
        device = next(task.parameters()).device
        values = task.predictions(task.test_outputs(
            batch_x.to(device), None if lengths is None else lengths.to(device))).float().cpu()
    values = values.reshape(len(batch_x), -1)
    if target.negate:
        return 1 - values[:, 0]
    return values[:, target.index]


def explain(task, spec: InputSpec, batches: Iterable, method: str, target: Target,
            references: int = attr.DEFAULT_REFERENCES, steps: int = attr.DEFAULT_STEPS,
            seed: int = 0, force: bool = False, batch_size: int = 128) -> Iterator[Explained]:
    """One `Explained` per batch (`biodl.inference.batches.Batch`) of the model's inputs."""
    model = explained_model(task, spec, target)
    attr.check_method(model, method, force)
    seen = 0
    for batch in batches:
        x = as_onehot(batch.x, spec)
        refs = (attr.make_references(x, references, seed, seen) if method in attr.EXACT_SUM
                else None)
        values = attr.attribute(model, x, method, target.index, references=refs, steps=steps,
                                lengths=batch.lengths, batch_size=batch_size, force=force)
        with torch.inference_mode():
            output = attr.model_outputs(model, x, batch.lengths)[:, target.index].float().cpu()
        error = delta = None
        if refs is not None:
            error, delta = attr.sum_to_delta(model, x, values, refs, target.index, batch.lengths)
        ids = batch.ids or [str(seen + i) for i in range(len(x))]
        yield Explained(ids, x, values, predictions(task, batch.x, batch.lengths, target),
                        output, error, delta)
        seen += len(x)
