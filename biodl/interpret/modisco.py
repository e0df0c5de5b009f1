"""TF-MoDISco (modisco-lite) on a model's attributions -> motifs with their seqlets.

Contract: `x` `(N, 4, L)` one-hot (ACGT) and `hypothetical` `(N, 4, L)` hypothetical
contributions (what each base would contribute at each position), from
`hypothetical_contributions`. Seqlets that raise the explained output form the positive
metacluster, those that lower it the negative one. A pattern's motif is the base frequencies
of its aligned seqlets, trimmed as modisco's report does: to the span whose contribution is at
least 0.3 x its largest. Positions are the 1-based starts of that core on the forward strand.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import torch
from torch import Tensor, nn

from biodl.errors import BiodlError
from biodl.interpret.jaspar import Motif
from biodl.interpret.motif_report import Found

MODISCO_METHODS = ("deeplift_shap", "ism")
TRIM = 0.3  # modisco report's trim threshold: a fraction of the largest column contribution


def hypothetical_contributions(model: nn.Module, x: Tensor, method: str, target: int,
                               references: Optional[Tensor] = None,
                               batch_size: int = 64) -> Tensor:
    """(N, 4, L) hypothetical contributions: DeepLIFT/SHAP's (tangermeme, `references`
    (N, R, 4, L)), or saturation mutagenesis centred on each position's mean over the 4 bases."""
    from biodl.interpret.attributions import attribute

    if method not in MODISCO_METHODS:
        raise BiodlError(f"--attribution {method!r}: TF-MoDISco needs hypothetical "
                         f"contributions; choose {', '.join(MODISCO_METHODS)}")
    if method == "ism":
        effects = attribute(model, x, "ism", target, batch_size=batch_size * x.shape[-1])
        return effects - effects.mean(dim=1, keepdim=True)
    return _deeplift_hypothetical(model, x, target, references, batch_size)


def _deeplift_hypothetical(model: nn.Module, x: Tensor, target: int, references: Tensor,
                           batch_size: int) -> Tensor:
    """tangermeme's DeepLIFT/SHAP as `biodl.interpret.attributions` runs it, unprojected."""
    from tangermeme.deep_lift_shap import _maxpool, deep_lift_shap

    from biodl.models.layers import GlobalMaxPool1d

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence: `biodl explain` measures it
        return deep_lift_shap(model.eval(), x.float(), target=target,
                              references=references.float(), batch_size=batch_size,
                              hypothetical=True,
                              additional_nonlinear_ops={GlobalMaxPool1d: _maxpool},
                              device=next(model.parameters()).device,
                              warning_threshold=float("inf"), only_warn=True).float()


def settings_for(length: int, window: Optional[int] = None) -> dict:
    """modisco-lite's settings for sequences of `length` bp: its defaults (a 21-bp window,
    10-bp flanks, patterns trimmed to 30 bp) from 150 bp on; below that (E. coli's 81-bp
    promoters) an 11-bp window, 5-bp flanks, 15-bp patterns and 50-seqlet metaclusters, with
    which whole seqlets still fit in a sequence. `window` overrides the window (flanks: half)."""
    short = length < 150
    window = window or (11 if short else 21)
    if length < 2 * window:
        raise BiodlError(f"TF-MoDISco slides a {window}-bp window with {window // 2}-bp "
                         f"flanks: {length}-bp sequences are too short; give a smaller "
                         "--seqlet-window or use --method filters")
    return {"sliding_window_size": window, "flank_size": window // 2,
            "trim_to_window_size": 15 if short else 30,
            "initial_flank_to_add": 3 if short else 10,
            "min_metacluster_size": 50 if short else 100}


def patterns(x: Tensor, hypothetical: Tensor, names: tuple[str, str], max_seqlets: int = 2000,
             leiden_runs: int = 10, window: Optional[int] = None) -> list[Found]:
    """Motifs of the positive metacluster (named `names[0]`) and of the negative one."""
    from modiscolite.tfmodisco import TFMoDISco

    settings = settings_for(x.shape[-1], window)
    one_hot = x.permute(0, 2, 1).numpy().astype(np.float32)  # (N, L, 4), modisco's layout
    hyp = hypothetical.permute(0, 2, 1).numpy().astype(np.float32)
    positive, negative = TFMoDISco(one_hot, hyp, max_seqlets_per_metacluster=max_seqlets,
                                   n_leiden_runs=leiden_runs, verbose=False, **settings)
    found = []
    for label, group in zip(names, (positive, negative)):
        for number, pattern in enumerate(group or []):
            found.append(found_pattern(f"{label}_pattern{number}", pattern, x.shape[-1],
                                       label))
    return found


def found_pattern(name: str, pattern, length: int, label: str) -> Found:
    """A Found of one modisco pattern: trimmed frequencies, seqlet count, core positions."""
    ppm = np.asarray(pattern.sequence, dtype=np.float64)  # (W, 4)
    score = np.abs(np.asarray(pattern.contrib_scores)).sum(axis=1)
    keep = np.flatnonzero(score >= TRIM * score.max())
    first, last = int(keep[0]), int(keep[-1]) + 1
    probs = ppm[first:last].T / ppm[first:last].T.sum(axis=0, keepdims=True)
    histogram = np.zeros(length, dtype=np.int64)
    for seqlet in pattern.seqlets:
        start = seqlet.end - last if seqlet.is_revcomp else seqlet.start + first
        if 0 <= start < length:
            histogram[start] += 1
    return Found(Motif(name, probs, len(pattern.seqlets)), "modisco", histogram, 0,
                 {}, label)


def negative_name(class_names: list[str], explained: str) -> str:
    """What the negative metacluster stands for: the other class of a binary model."""
    others = [c for c in class_names if c != explained]
    return others[0] if len(class_names) == 2 and len(others) == 1 else f"not_{explained}"



def modisco_motifs(model: nn.Module, x: Tensor, method: str, target: int,
                   names: tuple[str, str], references: int = 10, seed: int = 0,
                   batch_size: int = 64, max_seqlets: int = 2000,
                   window: Optional[int] = None) -> list[Found]:
    """TF-MoDISco motifs of `model`'s output `target` on `x` (see `patterns`)."""
    from biodl.interpret.attributions import make_references

    parts, chunk = [], 256  # references of a chunk at a time: (chunk, R, 4, L) in memory
    for first in range(0, len(x), chunk):
        part = x[first:first + chunk]
        refs = (make_references(part, references, seed, first) if method == "deeplift_shap"
                else None)
        parts.append(hypothetical_contributions(model, part, method, target, refs, batch_size))
    return patterns(x, torch.cat(parts), names, max_seqlets, window=window)
