"""Attributions of one output of a sequence model to every base of its one-hot input.

Contract: `model(x[, lengths]) -> (N, K)` raw outputs (logits for classifiers: what is explained
is the logit of `target`, not the probability), `x` `(N, 4, L)` float one-hot in ACGT order
(an all-zero column is an N); every method returns `(N, 4, L)` float32:

- ``saliency``: gradient x input, the gradient of the output at the observed base;
- ``integrated_gradients``: Sundararajan et al. 2017, from each reference to `x` along a
  straight path, `steps` midpoint-rule points, averaged over the references;
- ``deeplift_shap``: DeepLIFT's rescale rule averaged over the references (DeepSHAP), computed
  by tangermeme's `deep_lift_shap` (the field's reference; captum's DeepLIFT is wrong on
  max-pool networks, captum issue #1276);
- ``ism``: in-silico saturation mutagenesis, `out(x with base b at position p) - out(x)` at
  every (b, p); 0 at the observed bases. CNNs recompute only the window of their conv layers
  that a substitution reaches (`regional_ism`, fastISM's idea); other models run every mutant
  of a chunk of sequences in batched forward passes, under `torch.inference_mode`.

Integrated gradients and DeepLIFT/SHAP are projected onto the observed bases as tangermeme
does (hypothetical contributions times the input), which keeps their sum exact: over a
sequence they add up to `out(x) - mean_r out(reference_r)`; `sum_to_delta` measures how far
they are from it. References are dinucleotide shuffles (`make_references`), one seed per
sequence, so a sequence gets the same references whatever batch it is in.

DeepLIFT's rules hold for conv / ReLU-like / max-pool / linear networks; a recurrent layer's
gates multiply activations, so `check_method` refuses DeepLIFT/SHAP on models with one (unless
forced, when the measured error tells how wrong it is).
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional

import torch
from torch import Tensor, nn

from biodl.errors import BiodlError
from biodl.interpret import regional_ism
from biodl.models.layers import GlobalMaxPool1d

METHODS = ("saliency", "integrated_gradients", "deeplift_shap", "ism")
EXACT_SUM = ("integrated_gradients", "deeplift_shap")  # methods that add up to out(x) - out(ref)
DEFAULT_STEPS = 50
DEFAULT_REFERENCES = 10


def attribute(model: nn.Module, x: Tensor, method: str, target: int = 0, *,
              references: Optional[Tensor] = None, steps: int = DEFAULT_STEPS,
              lengths: Optional[Tensor] = None, batch_size: int = 128, seed: int = 0,
              force: bool = False) -> Tensor:
    """(N, 4, L) attributions of output `target` of `model` by `method` (see the module doc).

    `references` (N, R, 4, L): for integrated gradients and DeepLIFT/SHAP; default
    `make_references(x, DEFAULT_REFERENCES, seed)`. `lengths` (N,): for variable-length models.
    `force`: run DeepLIFT/SHAP on a recurrent model anyway. The model runs in eval mode and
    gets its mode back afterwards.
    """
    if method not in METHODS:
        raise BiodlError(f"method {method!r} is not an attribution method; choose "
                         f"{', '.join(METHODS)}")
    check_method(model, method, force)
    check_target(model, x[:1], target, lengths)
    if method in EXACT_SUM and references is None:
        references = make_references(x, DEFAULT_REFERENCES, seed)
    training = model.training
    model.eval()
    try:
        return _RUNNERS[method](model, x.float(), target, references, steps, lengths,
                                batch_size).float()
    finally:
        model.train(training)


def is_recurrent(model: nn.Module) -> bool:
    return any(isinstance(m, nn.RNNBase) for m in model.modules())


def check_method(model: nn.Module, method: str, force: bool = False) -> None:
    """Refuse DeepLIFT/SHAP on a recurrent model (its rules do not hold there) unless forced."""
    if method == "deeplift_shap" and is_recurrent(model) and not force:
        raise BiodlError(f"deeplift-shap: {type(model).__name__} has recurrent layers, where "
                         "DeepLIFT's rules do not hold (sum-to-delta fails); use --method "
                         "integrated-gradients or --method ism, or --force to run it and see "
                         "the measured error")


def check_target(model: nn.Module, x: Tensor, target: int, lengths: Optional[Tensor]) -> None:
    with torch.inference_mode():
        outputs = model_outputs(model.eval(), x.float(), None if lengths is None else lengths[:1])
    if outputs.ndim != 2:
        raise BiodlError(f"{type(model).__name__} returns outputs of shape "
                         f"{tuple(outputs.shape)}; attributions need one value per output and "
                         "sequence, (N, K)")
    if not 0 <= target < outputs.shape[1]:
        raise BiodlError(f"target {target}: the model has outputs 0 to {outputs.shape[1] - 1}")


def make_references(x: Tensor, n: int, seed: int = 0, first_index: int = 0) -> Tensor:
    """(N, n, 4, L) dinucleotide shuffles of `x` (N kept as N); sequence i (counted from
    `first_index`, e.g. its row in the whole input) is shuffled with seed `seed + i`."""
    from tangermeme.ersatz import dinucleotide_shuffle

    if n < 1:
        raise BiodlError(f"--references {n}: give at least 1 reference per sequence")
    seeds = [seed + first_index + i for i in range(len(x))]
    return dinucleotide_shuffle(x.float().cpu(), n=n, random_state=seeds, allow_N=True)


def sum_to_delta(model: nn.Module, x: Tensor, attributions: Tensor, references: Tensor,
                 target: int = 0, lengths: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
    """(error, delta), each (N,): delta = out(x) - mean_r out(reference_r) and error =
    |sum of attributions - delta|, the completeness (IG) or sum-to-delta (DeepLIFT) error."""
    refs = references.flatten(0, 1).float()  # (N R, 4, L)
    repeats = references.shape[1]
    with torch.inference_mode():
        model.eval()
        out = model_outputs(model, x.float(), lengths)[:, target]
        ref_lengths = None if lengths is None else lengths.repeat_interleave(repeats)
        ref_out = model_outputs(model, refs, ref_lengths)[:, target].view(len(x), repeats)
    delta = out - ref_out.mean(dim=1)
    return (attributions.sum(dim=(1, 2)) - delta).abs(), delta


def relative_error(error: Tensor, delta: Tensor) -> float:
    """mean |error| / mean |delta|: how large the errors are next to the explained change."""
    return float(error.mean() / delta.abs().mean().clamp_min(1e-12))


def model_outputs(model: nn.Module, x: Tensor, lengths: Optional[Tensor]) -> Tensor:
    device = _device(model)
    if lengths is None:
        return model(x.to(device))
    return model(x.to(device), lengths.to(device))


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _gradients(model: nn.Module, x: Tensor, target: int, lengths: Optional[Tensor]) -> Tensor:
    """d out[:, target] / d x, (B, 4, L), each row's gradient of its own output."""
    x = x.to(_device(model)).detach().requires_grad_()
    with torch.enable_grad():
        out = model_outputs(model, x, lengths)[:, target]
        (grad,) = torch.autograd.grad(out.sum(), x)
    return grad


def saliency(model, x, target, references, steps, lengths, batch_size) -> Tensor:
    parts = []
    for first in range(0, len(x), batch_size):
        part = slice(first, first + batch_size)
        rows = None if lengths is None else lengths[part]
        parts.append((_gradients(model, x[part], target, rows).cpu() * x[part]))
    return torch.cat(parts)


def integrated_gradients(model, x, target, references, steps, lengths, batch_size) -> Tensor:
    """Midpoint-rule IG from every reference, projected onto the observed bases.

    A convergence check per sequence: while |sum - delta| > IG_TOLERANCE x |delta| (and above
    float32 noise, IG_FLOOR), the steps are tripled (the old midpoints are among the new ones,
    so only the new points are computed), at most IG_REFINEMENTS times.
    """
    if steps < 1:
        raise BiodlError(f"--steps {steps}: integrated gradients needs at least 1 step")
    out = torch.zeros_like(x)
    for i in range(len(x)):
        rows = None if lengths is None else lengths[i:i + 1]
        out[i] = _ig_converged(model, x[i], references[i].float(), target, steps, rows,
                               batch_size)
    return out


IG_TOLERANCE, IG_FLOOR, IG_REFINEMENTS = 0.01, 1e-6, 3


def _ig_converged(model, x: Tensor, refs: Tensor, target: int, steps: int,
                  lengths: Optional[Tensor], batch_size: int) -> Tensor:
    """(4, L) IG of one sequence x (4, L) from references (R, 4, L), refined until converged."""
    with torch.inference_mode():
        outs = _scores(model, torch.cat([x[None], refs]), target,
                       None if lengths is None else lengths.expand(len(refs) + 1), batch_size)
    delta = float(outs[0] - outs[1:].mean())
    points = (torch.arange(steps) + 0.5) / steps
    total = _path_gradients(model, x, refs, points, target, lengths, batch_size)
    for refinement in range(IG_REFINEMENTS + 1):
        attribution = (_project(total / steps, refs).mean(dim=0) * x)
        error = abs(float(attribution.sum()) - delta)
        if error <= max(IG_TOLERANCE * abs(delta), IG_FLOOR) or refinement == IG_REFINEMENTS:
            return attribution
        grid = torch.arange(3 * steps)
        new = grid[grid % 3 != 1]  # the points 3k + 1 are the old midpoints
        steps *= 3
        total += _path_gradients(model, x, refs, (new + 0.5) / steps, target, lengths,
                                 batch_size)


def _path_gradients(model, x: Tensor, refs: Tensor, alphas: Tensor, target: int,
                    lengths: Optional[Tensor], batch_size: int) -> Tensor:
    """Sum over `alphas` of the gradient at ref + alpha (x - ref), per reference: (R, 4, L)."""
    path = refs[:, None] + alphas[None, :, None, None] * (x - refs)[:, None]  # (R, S, 4, L)
    path = path.flatten(0, 1)
    rows = None if lengths is None else lengths.expand(len(path))
    grads = torch.cat([_gradients(model, path[j:j + batch_size], target,
                                  None if rows is None else rows[j:j + batch_size]).cpu()
                       for j in range(0, len(path), batch_size)])
    return grads.view(len(refs), len(alphas), *x.shape).sum(dim=1)


def _project(multipliers: Tensor, refs: Tensor) -> Tensor:
    """Hypothetical contributions (R, 4, L): base b at p contributes m[b, p] - ref[:, p] . m."""
    return multipliers - (refs * multipliers).sum(dim=1, keepdim=True)


def deeplift_shap(model, x, target, references, steps, lengths, batch_size) -> Tensor:
    """tangermeme's DeepLIFT/SHAP, with its max-pool rule for biodl's global max pool too."""
    from tangermeme.deep_lift_shap import _maxpool, deep_lift_shap as tangermeme_dls

    args = None
    if lengths is not None:
        model, args = _LengthsAsFloat(model), (lengths.float(),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: sum_to_delta measures them
        return tangermeme_dls(model, x.float(), args=args, target=target,
                              references=references.float(), batch_size=batch_size,
                              additional_nonlinear_ops={GlobalMaxPool1d: _maxpool},
                              device=_device(model), warning_threshold=float("inf"),
                              only_warn=True)


class _LengthsAsFloat(nn.Module):
    """tangermeme casts every extra argument to the input's dtype: cast lengths back."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.model(x, lengths.round().long())


def ism(model, x, target, references, steps, lengths, batch_size) -> Tensor:
    """out(mutant) - out(x) for every single-base substitution. A model with a position-local
    front (CNNs) recomputes only what each substitution reaches (`regional_ism`); others run
    the mutants of as many whole sequences as `batch_size` mutants hold (at least one), in
    forward passes of up to `batch_size` mutants."""
    if lengths is None:
        with torch.inference_mode():
            values = regional_ism.mutagenesis(model, x, target, batch_size)
        if values is not None:
            return values
    per_chunk = max(1, batch_size // (3 * x.shape[-1]))
    out = torch.zeros_like(x)
    with torch.inference_mode():
        for first in range(0, len(x), per_chunk):
            part = slice(first, first + per_chunk)
            out[part] = _ism_chunk(model, x[part], target,
                                   None if lengths is None else lengths[part], batch_size)
    return out


def _ism_chunk(model, x: Tensor, target: int, lengths: Optional[Tensor],
               batch_size: int) -> Tensor:
    x = x.contiguous()  # a transposed one-hot makes every conv slower
    seq, base, pos = (x == 0).nonzero(as_tuple=True)  # every absent base is a mutant
    mutants = x[seq].contiguous()  # (M, 4, L), a copy
    rows = torch.arange(len(seq))
    mutants[rows, :, pos] = 0.0
    mutants[rows, base, pos] = 1.0
    originals = _scores(model, x, target, lengths, batch_size)  # (n,)
    mutant_lengths = None if lengths is None else lengths[seq]
    scores = _scores(model, mutants, target, mutant_lengths, batch_size)  # (M,)
    out = torch.zeros_like(x)
    out[seq, base, pos] = scores - originals[seq]
    return out


def _scores(model, x: Tensor, target: int, lengths: Optional[Tensor], batch_size: int) -> Tensor:
    parts = []
    for first in range(0, len(x), batch_size):
        rows = None if lengths is None else lengths[first:first + batch_size]
        outputs = model_outputs(model, x[first:first + batch_size], rows)  # (B, K)
        parts.append(outputs[:, target].float().cpu())
    return torch.cat(parts)


_RUNNERS: dict[str, Callable[..., Tensor]] = {
    "saliency": saliency,
    "integrated_gradients": integrated_gradients,
    "deeplift_shap": deeplift_shap,
    "ism": ism,
}
