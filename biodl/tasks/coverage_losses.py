"""Coverage losses on log expected coverage `r` (N, T, B) and observed coverage `y` (N, T, B).

Each returns the mean over windows and tracks of a per-(window, track) value:
- `poisson`: mean over bins of exp(r) - y r (the Poisson NLL without its constant log y!),
  Basenji/Enformer's loss on binned coverage;
- `multinomial_nll`: -log Multinomial(y | n = sum y, p = softmax(r)) with its lgamma terms,
  bpnet-lite's MNLLLoss, per track;
- `log_count_mse`: (log(1 + sum exp r) - log(1 + sum y))^2, BPNet's count loss; the
  predicted count is read from the same tensor (ChromBPNet's count head predicts it directly);
- `bpnet`: multinomial_nll + count_weight * log_count_mse;
- `poisson_multinomial`: (-(y . log softmax r) + w (R - Y log R)) / B with R = sum exp r and
  Y = sum y: gReLU's PoissonMultinomialLoss in log space (no eps needed).
"""

from __future__ import annotations

import torch


def poisson(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (r.exp() - y * r).mean()


def multinomial_nll(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    log_p = r.log_softmax(dim=-1)
    n = y.sum(dim=-1)
    log_likelihood = torch.lgamma(n + 1) - torch.lgamma(y + 1).sum(dim=-1) + (y * log_p).sum(-1)
    return -log_likelihood.mean()


def predicted_log_counts(r: torch.Tensor) -> torch.Tensor:
    """(N, T) log(1 + expected total): softplus(logsumexp r) is log(1 + sum exp r), stably."""
    return torch.nn.functional.softplus(r.logsumexp(dim=-1))


def log_count_mse(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (predicted_log_counts(r) - torch.log1p(y.sum(dim=-1))).square().mean()


def bpnet(r: torch.Tensor, y: torch.Tensor, count_weight: float) -> torch.Tensor:
    return multinomial_nll(r, y) + count_weight * log_count_mse(r, y)


def poisson_multinomial(r: torch.Tensor, y: torch.Tensor, total_weight: float) -> torch.Tensor:
    bins = r.shape[-1]
    log_total = r.logsumexp(dim=-1)  # (N, T) log R
    multinomial = -(y * r.log_softmax(dim=-1)).sum(dim=-1)
    total = log_total.exp() - y.sum(dim=-1) * log_total
    return ((multinomial + total_weight * total) / bins).mean()


def mse_log1p(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared error of log(1 + coverage) per bin (for real-valued signal tracks)."""
    return (torch.log1p(r.exp()) - torch.log1p(y)).square().mean()


# losses that read the observed values as counts (the multinomial needs whole numbers)
NEEDS_COUNTS = ("multinomial", "poisson_multinomial")

# task.loss -> (r, y, weight) -> loss; weight: the count (or total) weight
LOSSES = {
    "poisson": lambda r, y, w: poisson(r, y),
    "multinomial": bpnet,
    "poisson_multinomial": poisson_multinomial,
    "mse": lambda r, y, w: mse_log1p(r, y),
}
