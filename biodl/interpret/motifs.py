"""First-layer convolution filters as motifs (the DeepBind / Basset method).

Contract: `model` is a sequence model whose first convolution reads the `(N, 4, L)` one-hot
input (ACGT; an all-zero column is an N); `x` is that input. A filter's activation at a
position is its convolution (weights and bias) over the window there, through the batch norm
that follows the convolution when there is one (as Basset reads activations: a filter whose
norm scale is negative fires where its raw score is low); only windows wholly inside the
sequence count (no padding), so every site is a real `span`-bp subsequence.
A site is a (sequence, position) whose activation exceeds `threshold` x the filter's largest
activation over all of `x` (and 0), or with `top`, one of the filter's `top` largest
activations. The PWM of a filter is the base counts of its aligned sites.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from biodl.errors import BiodlError


class FilterSites(NamedTuple):
    counts: np.ndarray  # (F, 4, span) base counts of the aligned sites
    sites: np.ndarray  # (F,) sites per filter
    positions: np.ndarray  # (F, P) sites per window start (0-based) in the input
    fired: np.ndarray  # (F, N) bool: the filter has a site in the sequence
    max_activation: np.ndarray  # (F,)


def first_conv(model: nn.Module, where: str = "the model") -> nn.Conv1d:
    """The first `Conv1d` of the model, which must read the 4 one-hot channels."""
    for name, layer in model.named_modules():
        if isinstance(layer, nn.Conv1d):
            if layer.in_channels != 4 or layer.groups != 1:
                raise BiodlError(f"{where}: its first convolution '{name}' reads "
                                 f"{layer.in_channels} channels, not the 4 of one-hot DNA, so "
                                 "its filters are no PWMs; use `biodl motifs --method modisco` "
                                 "(attributions) for this model")
            return layer
    raise BiodlError(f"{where} ({type(model).__name__}) has no first convolution over the DNA "
                     "to read motifs from; use `biodl motifs --method modisco` (attributions), "
                     "or train a convolutional model (cnn1d, deepbind, basset, deepsea, danq)")


def first_layer(model: nn.Module) -> nn.Module:
    """The first convolution, with the BatchNorm1d that the model registers right after it."""
    conv = first_conv(model)
    modules = [m for m in model.modules() if not list(m.children())]
    after = modules[modules.index(conv) + 1] if modules.index(conv) + 1 < len(modules) else None
    if isinstance(after, nn.BatchNorm1d) and after.num_features == conv.out_channels:
        return nn.Sequential(conv, after).eval()
    return nn.Sequential(conv)


def span(conv: nn.Conv1d) -> int:
    """Bases one filter sees: dilation x (kernel - 1) + 1."""
    return conv.dilation[0] * (conv.kernel_size[0] - 1) + 1


@torch.inference_mode()
def activations(layer: nn.Sequential, x: Tensor) -> Tensor:
    """(N, F, P) activations at every window wholly inside the sequence; P = windows."""
    conv = layer[0]
    x = x.to(conv.weight.device, conv.weight.dtype)
    y = F.conv1d(x, conv.weight, conv.bias, conv.stride, 0, conv.dilation)
    return layer[1](y) if len(layer) > 1 else y


def windows(layer: nn.Sequential, x: Tensor) -> Tensor:
    """(N, 4, P, span) the one-hot window under every activation of `activations`."""
    return x.float().unfold(2, span(layer[0]), layer[0].stride[0])


def filter_sites(model: nn.Module, x: Tensor, threshold: float = 0.5, top: Optional[int] = None,
                 batch_size: int = 256) -> FilterSites:
    """Sites, PWM counts, position histograms and firing of every first-layer filter."""
    if not 0.0 < threshold < 1.0:
        raise BiodlError(f"threshold {threshold}: give a fraction of the largest activation "
                         "between 0 and 1 (the method's 0.5 is the default)")
    conv = first_layer(model)
    if x.shape[-1] < span(conv[0]):
        raise BiodlError(f"sequences of {x.shape[-1]} bp are shorter than the "
                         f"{span(conv[0])}-bp filters; give longer sequences")
    batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
    maxima = torch.stack([activations(conv, b).amax(dim=(0, 2)) for b in batches]).amax(0)
    if top is not None:
        return _top_sites(conv, batches, top, maxima)
    cut = (threshold * maxima).clamp(min=0)[None, :, None]  # (1, F, 1)
    parts = [_count(conv, b, activations(conv, b) > cut) for b in batches]
    return _combine(parts, maxima)


def _count(conv: nn.Sequential, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Counts (F, 4, span), positions (F, P) and firing (F, B) of one batch's sites."""
    site = mask.float()  # (B, F, P)
    counts = torch.einsum("bfp,bcps->fcs", site, windows(conv, x))
    return counts, site.sum(0), mask.any(dim=2).T


def _combine(parts: list[tuple[Tensor, Tensor, Tensor]], maxima: Tensor) -> FilterSites:
    counts = torch.stack([p[0] for p in parts]).sum(0)
    positions = torch.stack([p[1] for p in parts]).sum(0)
    fired = torch.cat([p[2] for p in parts], dim=1)
    return FilterSites(counts.numpy().round().astype(np.int64),
                       positions.sum(1).numpy().round().astype(np.int64),
                       positions.numpy().round().astype(np.int64), fired.numpy(),
                       maxima.numpy())


def _top_sites(conv: nn.Sequential, batches: list[Tensor], top: int, maxima: Tensor) -> FilterSites:
    """The `top` largest activations of each filter over all batches (ties: the earliest)."""
    if top < 1:
        raise BiodlError(f"--top {top}: give a positive number of sites per filter")
    best_values, best_index, start = None, None, 0
    for b in batches:
        act = activations(conv, b)  # (B, F, P)
        values = act.permute(1, 0, 2).flatten(1)  # (F, B * P)
        index = torch.arange(start, start + values.shape[1]).expand_as(values)
        if best_values is not None:
            values, index = torch.cat([best_values, values], 1), torch.cat([best_index, index], 1)
        k = min(top, values.shape[1])
        best_values, chosen = values.topk(k, dim=1, sorted=True)
        best_index = index.gather(1, chosen)
        start += act.shape[0] * act.shape[2]
    positions = activations(conv, batches[0][:1]).shape[2]
    parts, start = [], 0
    for b in batches:
        flat = torch.zeros(best_index.shape[0], len(b) * positions, dtype=torch.bool)
        local = best_index - start
        inside = (local >= 0) & (local < flat.shape[1])
        rows = torch.arange(flat.shape[0])[:, None].expand_as(local)
        flat[rows[inside], local[inside]] = True
        parts.append(_count(conv, b, flat.view(-1, len(b), positions).permute(1, 0, 2)))
        start += flat.shape[1]
    return _combine(parts, maxima)


def fired_per_class(fired: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(F, C) fraction of each class's sequences in which each filter has a site."""
    out = np.zeros((fired.shape[0], num_classes))
    for c in range(num_classes):
        members = labels == c
        if members.any():
            out[:, c] = fired[:, members].mean(axis=1)
    return out



def filter_motifs(model: nn.Module, x: Tensor, labels: Optional[np.ndarray],
                  classes: list[str], threshold: float = 0.5, top: Optional[int] = None):
    """One `Found` per first-layer filter (`filter<i>`, i its output channel), with how often
    it fires per class when `labels` (N,) class indices are given."""
    from biodl.interpret.motif_report import found_motif

    sites = filter_sites(model, x, threshold, top)
    rates = None if labels is None else fired_per_class(sites.fired, labels, len(classes))
    return [found_motif(f"filter{i}", sites.counts[i], "filter", sites.positions[i],
                        None if rates is None else dict(zip(classes, rates[i].tolist())))
            for i in range(len(sites.counts))]
