"""Saturation mutagenesis that recomputes only what each substitution can reach.

A substitution at position p changes a convolution's outputs only inside its receptive field.
As in fastISM (Nair et al. 2022), the position-local front of a CNN is recomputed over that
window alone, from the reference sequence's activations around it, and the rest of the network
runs as usual on the reference's feature map with the window replaced.

A model offers its front by `local_split() -> (layers, head)`, with
`model(x) == head(layers[-1](...layers[0](x)))`. Layers this module can recompute:
`Conv1d` (zero padding, any stride, dilation or groups), `ConstantPad1d`, max or average
pooling with stride equal to the kernel and no padding (floor or ceil mode), `Residual`
(norm(conv(x)) + skip(x)), and the element-wise `BatchNorm1d` (eval mode), activations,
`Dropout` (eval mode) and `Identity`. `Negated(model)` and `BothStrands(model)` (the mean over
both strands, ISM of each strand mapped back) are seen through. Anything else returns None and
the caller scores every mutant whole; so does a split that does not reproduce `model(x)`.

Per block of consecutive positions, every mutant of a chunk of sequences (each absent base at
each position: 3 per ACGT position, 4 at an N) goes through the layers as the slice of each
layer's output the block can change. Values equal scoring every mutant whole up to float
rounding (tests: 1e-5).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from biodl.models.layers import Residual

ELEMENTWISE = (nn.BatchNorm1d, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid,
               nn.Dropout, nn.Identity)
ACTIVATION_BUDGET = 64 << 20  # floats of reference activations held per chunk of sequences
MAX_BLOCK = 32  # positions whose mutants share a pass: wider windows cost more than they save

Head = Callable[[Tensor], Tensor]


def mutagenesis(model: nn.Module, x: Tensor, target: int, batch_size: int) -> Optional[Tensor]:
    """(N, 4, L) out(mutant) - out(x) at every absent base, 0 at the observed ones; None when
    `model` has no front this module can recompute (see the module doc)."""
    negated = getattr(model, "negation_of", None)
    if isinstance(negated, nn.Module):
        effects = mutagenesis(negated, x, target, batch_size)
        return None if effects is None else -effects
    inner = getattr(model, "one_strand", None)
    if isinstance(inner, nn.Module):  # BothStrands: the mean of a sequence and its reverse
        forward = mutagenesis(inner, x, target, batch_size)
        if forward is None:
            return None
        reverse = mutagenesis(inner, x.flip(-2, -1), target, batch_size)
        return (forward + reverse.flip(-2, -1)) / 2  # base b at p is 3 - b at L - 1 - p there
    split = local_split(model)
    if split is None:
        return None
    layers, head = split
    device = next(model.parameters()).device
    x = x.to(device).float().contiguous()
    out = torch.zeros_like(x)
    per_chunk = _sequences_per_chunk(layers, x, batch_size)
    for first in range(0, len(x), per_chunk):
        part = slice(first, first + per_chunk)
        values = _chunk(model, layers, head, x[part], target, batch_size)
        if values is None:
            return None
        out[part] = values
    return out.cpu()


def local_split(model: nn.Module) -> Optional[tuple[list[nn.Module], Head]]:
    split = getattr(model, "local_split", None)
    if split is None:
        return None
    layers, head = split()
    layers = list(layers)
    if not layers or not all(_supported(layer) for layer in layers):
        return None
    return layers, head


def _supported(layer: nn.Module) -> bool:
    if isinstance(layer, ELEMENTWISE):
        return not layer.training or isinstance(layer, (nn.Identity, nn.ReLU, nn.LeakyReLU,
                                                        nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid))
    if isinstance(layer, nn.Conv1d):
        return layer.padding_mode == "zeros"
    if isinstance(layer, (nn.MaxPool1d, nn.AvgPool1d)):
        dilation = getattr(layer, "dilation", 1)
        return (_one(layer.kernel_size) == _one(layer.stride) and _one(layer.padding) == 0
                and _one(dilation) == 1 and not getattr(layer, "return_indices", False))
    if isinstance(layer, nn.ConstantPad1d):
        return True
    if isinstance(layer, Residual):
        return (_supported(layer.conv) and _one(layer.conv.stride) == 1
                and isinstance(layer.norm, ELEMENTWISE) and _supported(layer.norm)
                and (isinstance(layer.skip, nn.Identity)
                     or isinstance(layer.skip, nn.Conv1d) and _one(layer.skip.kernel_size) == 1))
    return False


def _one(value) -> int:
    return value[0] if isinstance(value, (tuple, list)) else value


def _sequences_per_chunk(layers: Sequence[nn.Module], x: Tensor, batch_size: int) -> int:
    """As many sequences as fill a batch with one position's mutants, within the memory
    budget of their reference activations."""
    with torch.inference_mode():
        h, floats = x[:1], 0
        for layer in layers:
            h = layer(h)
            floats += h.numel()
    by_memory = max(1, ACTIVATION_BUDGET // max(1, floats))
    return max(1, min(len(x), batch_size // 3, by_memory))


def _chunk(model, layers, head, x: Tensor, target: int, batch_size: int) -> Optional[Tensor]:
    n, _, length = x.shape
    with torch.inference_mode():
        refs = [x]
        for layer in layers:
            refs.append(layer(refs[-1]))  # the reference's input to every layer, and the last
        reference = head(refs[-1])[:, target]  # (n,)
        whole = model(x)[:, target]
        if not torch.allclose(reference, whole, rtol=1e-4, atol=1e-5):
            return None  # the split does not reproduce the model: score mutants whole
        out = torch.zeros_like(x)
        block = max(1, min(MAX_BLOCK, batch_size // (3 * n)))  # positions per pass
        for lo in range(0, length, block):
            hi = min(length, lo + block)
            seq, base, pos = (x[:, :, lo:hi] == 0).nonzero(as_tuple=True)
            rows = torch.arange(len(seq), device=x.device)
            values = x[:, :, lo:hi][seq]  # (M, 4, hi - lo), a copy
            values[rows, :, pos] = 0.0
            values[rows, base, pos] = 1.0
            scores = _mutant_scores(layers, head, refs, seq, values, lo, hi, target)
            if scores is not None:
                out[seq, base, pos + lo] = scores - reference[seq]
    return out


def _mutant_scores(layers, head: Head, refs: list[Tensor], seq: Tensor, values: Tensor,
                   lo: int, hi: int, target: int) -> Optional[Tensor]:
    """(M,) outputs of the mutants whose inputs differ from the reference on [lo, hi) by
    `values`; None when no output can change (e.g. positions a floor pool drops)."""
    for layer, ref_in, ref_out in zip(layers, refs, refs[1:]):
        step = _step(layer, ref_in, ref_out, seq, values, lo, hi)
        if step is None:
            return None
        values, lo, hi = step
    features = refs[-1][seq]  # (M, C, L_last), a copy
    features[:, :, lo:hi] = values
    return head(features)[:, target]


def _step(layer, ref_in: Tensor, ref_out: Tensor, seq: Tensor, values: Tensor, lo: int,
          hi: int) -> Optional[tuple[Tensor, int, int]]:
    """The changed slice [lo', hi') of `layer`'s output for input changes `values` on [lo, hi)."""
    if isinstance(layer, ELEMENTWISE):
        return layer(values), lo, hi
    if isinstance(layer, nn.ConstantPad1d):
        return values, lo + layer.padding[0], hi + layer.padding[0]
    if isinstance(layer, nn.Conv1d):
        return _conv(layer, ref_in, ref_out.shape[-1], seq, values, lo, hi)
    if isinstance(layer, Residual):
        step = _conv(layer.conv, ref_in, ref_out.shape[-1], seq, values, lo, hi)
        if step is None:
            return None
        conv, first, last = step
        skip = layer.skip(_window(ref_in, seq, first, last, values, lo, hi))
        return layer.norm(conv) + skip, first, last
    return _pool(layer, ref_in, ref_out.shape[-1], seq, values, lo, hi)


def _conv(layer: nn.Conv1d, ref_in: Tensor, out_length: int, seq: Tensor, values: Tensor,
          lo: int, hi: int) -> Optional[tuple[Tensor, int, int]]:
    stride, span = _one(layer.stride), _one(layer.dilation) * (_one(layer.kernel_size) - 1)
    left = _left_padding(layer)
    # output j reads inputs j * stride - left .. j * stride - left + span
    first = max(0, -((span - lo - left) // stride))  # ceil((lo + left - span) / stride)
    last = min(out_length, (hi - 1 + left) // stride + 1)
    if first >= last:
        return None
    start = first * stride - left
    window = _window(ref_in, seq, start, (last - 1) * stride - left + span + 1, values, lo, hi)
    out = F.conv1d(window, layer.weight, layer.bias, stride=stride, dilation=layer.dilation,
                   groups=layer.groups)
    return out, first, last


def _left_padding(layer: nn.Conv1d) -> int:
    if layer.padding == "valid":
        return 0
    if layer.padding == "same":  # PyTorch puts the smaller half on the left
        return _one(layer.dilation) * (_one(layer.kernel_size) - 1) // 2
    return _one(layer.padding)


def _pool(layer, ref_in: Tensor, out_length: int, seq: Tensor, values: Tensor, lo: int,
          hi: int) -> Optional[tuple[Tensor, int, int]]:
    size = _one(layer.kernel_size)
    first, last = lo // size, min(out_length, (hi - 1) // size + 1)
    if first >= last:
        return None
    # whole windows, or up to the end for ceil mode's partial last window, as in the full map
    window = _window(ref_in, seq, first * size, min(ref_in.shape[-1], last * size), values, lo, hi)
    return layer(window), first, last


def _window(ref: Tensor, seq: Tensor, start: int, stop: int, values: Tensor, lo: int,
            hi: int) -> Tensor:
    """(M, C, stop - start): each mutant's input to a layer on [start, stop), zeros outside
    the map (a conv's zero padding), the changed slice [lo, hi) taken from `values`."""
    inside_lo, inside_hi = max(start, 0), min(stop, ref.shape[-1])
    window = ref[:, :, inside_lo:inside_hi][seq]
    if inside_lo > start or inside_hi < stop:
        window = F.pad(window, (inside_lo - start, stop - inside_hi))
    changed_lo, changed_hi = max(lo, start), min(hi, stop)
    if changed_lo < changed_hi:
        window[:, :, changed_lo - start:changed_hi - start] = \
            values[:, :, changed_lo - lo:changed_hi - lo]
    return window
