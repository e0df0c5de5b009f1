"""An order-k Markov chain over DNA: the baseline a DNA language model must beat. No torch.

P(base | the k bases before it) from counts on the training windows with add-one smoothing
over A, C, G, T. Scored like the language model: every base of a window but the first is
predicted; near the start of a window (or after an N) the chain uses the longest context of
ACGT bases available, down to order 1. Bases other than ACGT are neither counted nor scored.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from biodl.errors import BiodlError

MAX_ORDER = 10  # counts take 4 ** (k + 1) integers per order: 4M at k = 10
_BASE_INDEX = np.full(256, 4, dtype=np.int64)  # ASCII -> 0..3 for ACGT (either case), 4 else
for _i, _b in enumerate(b"ACGT"):
    _BASE_INDEX[_b] = _BASE_INDEX[_b + 32] = _i


def _bases(windows: Sequence[bytes | str]) -> np.ndarray:
    """(n,) base indices of all windows joined, with a 4 (not a base) between windows."""
    raw = [w.encode("ascii") if isinstance(w, str) else bytes(w) for w in windows]
    return _BASE_INDEX[np.frombuffer(b"\x00".join(raw), dtype=np.uint8)]


def _orders(bases: np.ndarray, k: int) -> np.ndarray:
    """(n,) the order used at each position: its run of ACGT bases just before, at most k;
    0 where the position is not scored (not a base, or no base before it)."""
    valid = bases < 4
    position = np.arange(len(bases))
    last_invalid = np.maximum.accumulate(np.where(valid, -1, position))  # (n,)
    run = np.concatenate([[0], position[:-1] - last_invalid[:-1]])  # valid bases just before
    return np.where(valid, np.minimum(run, k), 0)


def _extend(context: np.ndarray, bases: np.ndarray, j: int) -> np.ndarray:
    """Order j - 1 contexts -> order j: add base[t - j] as the most significant digit."""
    earlier = np.concatenate([np.zeros(j, dtype=np.int64), np.minimum(bases[:-j], 3)])
    return context + earlier * 4 ** (j - 1)


def markov_perplexity(train_windows: Sequence[bytes | str], test_windows: Sequence[bytes | str],
                      k: int) -> float:
    """Held-out perplexity per base of an order-k chain fitted on `train_windows`."""
    if not 1 <= k <= MAX_ORDER:
        raise BiodlError(f"Markov order k={k}: choose 1 to {MAX_ORDER}")
    train, test = _bases(train_windows), _bases(test_windows)
    train_order, test_order = _orders(train, k), _orders(test, k)
    train_ctx, test_ctx = np.zeros_like(train), np.zeros_like(test)
    nll, scored = 0.0, 0
    for j in range(1, k + 1):
        train_ctx, test_ctx = _extend(train_ctx, train, j), _extend(test_ctx, test, j)
        fit = train_order >= j  # every position with j bases before it counts at order j
        counts = np.bincount(train_ctx[fit] * 4 + train[fit],
                             minlength=4 ** (j + 1)).reshape(-1, 4)  # (4 ** j, 4)
        use = test_order == j
        ctx, base = test_ctx[use], test[use]
        probs = (counts[ctx, base] + 1) / (counts[ctx].sum(axis=1) + 4)
        nll -= float(np.log(probs).sum())
        scored += int(use.sum())
    if scored == 0:
        raise BiodlError("markov_perplexity: the test windows have no base to score (each "
                         "needs at least two ACGT bases)")
    return float(np.exp(nll / scored))
