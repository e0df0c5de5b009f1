"""Coverage metrics: updated with log expected coverage `r` and observed `y`, both (N, T, B).

- `count_pearson`, `count_spearman`: correlation over windows of log(1 + predicted total)
  and log(1 + observed total), per track, then averaged over tracks (ChromBPNet's count
  metrics);
- `profile_pearson`: Pearson correlation of the predicted profile softmax(r) and the observed
  coverage within one window and track, averaged over the windows and tracks where both vary;
- `profile_jsd`: Jensen-Shannon distance (natural log, sqrt of the divergence; 0 same, at most
  sqrt(ln 2) = 0.83) of predicted and observed profiles per window and track, averaged over
  those with any coverage; `flat_jsd` the same for a flat (uniform) prediction: the baseline
  a profile model must beat.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.functional import pearson_corrcoef, spearman_corrcoef
from torchmetrics.utilities import dim_zero_cat

from biodl.config.binding import closest
from biodl.errors import BiodlError
from biodl.tasks.coverage_losses import predicted_log_counts


def js_distance(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """(..., B) probability vectors -> (...) Jensen-Shannon distance, natural log."""
    m = (p + q) / 2
    divergence = 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m)).sum(-1) + \
        0.5 * (torch.xlogy(q, q) - torch.xlogy(q, m)).sum(-1)
    return divergence.clamp(min=0).sqrt()


def row_pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(..., B) x (..., B) -> (...) Pearson correlation per row; NaN where a row is constant."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    denominator = (a.square().sum(-1) * b.square().sum(-1)).sqrt()
    return torch.where(denominator > 0, (a * b).sum(-1) / denominator,
                       torch.full_like(denominator, float("nan")))


def profile_pearson(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return row_pearson(r.softmax(-1), y)


def profile_jsd(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    total = y.sum(-1, keepdim=True)
    observed = y / total.clamp(min=1e-12)
    return torch.where(total[..., 0] > 0, js_distance(r.softmax(-1), observed),
                       torch.full_like(total[..., 0], float("nan")))


def flat_jsd(r: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return profile_jsd(torch.zeros_like(r), y)


class ProfileMean(Metric):
    """The mean of a per-(window, track) value over the epoch, NaN rows left out."""

    full_state_update = False

    def __init__(self, name: str, value):
        super().__init__()
        self.value = value
        # state names per metric: MetricCollection merges metrics whose states match
        self.total_name, self.count_name = f"{name}_total", f"{name}_count"
        self.add_state(self.total_name, torch.tensor(0.0, dtype=torch.float64), "sum")
        self.add_state(self.count_name, torch.tensor(0), "sum")

    def update(self, r: torch.Tensor, y: torch.Tensor) -> None:
        values = self.value(r.double(), y.double()).flatten()
        values = values[~values.isnan()]
        setattr(self, self.total_name, getattr(self, self.total_name) + values.sum())
        setattr(self, self.count_name, getattr(self, self.count_name) + len(values))

    def compute(self) -> torch.Tensor:
        count = getattr(self, self.count_name)
        if count == 0:
            return torch.tensor(float("nan"))
        return (getattr(self, self.total_name) / count).float()


class CountCorrelation(Metric):
    """Correlation of log(1 + total) predicted vs observed over the epoch's windows."""

    full_state_update = False

    def __init__(self, name: str, correlation):
        super().__init__()
        self.correlation = correlation
        self.pred_name, self.target_name = f"{name}_pred", f"{name}_target"
        self.add_state(self.pred_name, [], "cat")
        self.add_state(self.target_name, [], "cat")

    def update(self, r: torch.Tensor, y: torch.Tensor) -> None:
        getattr(self, self.pred_name).append(predicted_log_counts(r.float()))  # (N, T)
        getattr(self, self.target_name).append(torch.log1p(y.float().sum(-1)))

    def compute(self) -> torch.Tensor:
        pred = dim_zero_cat(getattr(self, self.pred_name))
        target = dim_zero_cat(getattr(self, self.target_name))
        if len(pred) < 2:
            return torch.tensor(float("nan"))
        values = [self.correlation(pred[:, t], target[:, t]) for t in range(pred.shape[1])]
        return torch.stack(values).mean()


COVERAGE = {
    "count_pearson": lambda: CountCorrelation("count_pearson", pearson_corrcoef),
    "count_spearman": lambda: CountCorrelation("count_spearman", spearman_corrcoef),
    "profile_pearson": lambda: ProfileMean("profile_pearson", profile_pearson),
    "profile_jsd": lambda: ProfileMean("profile_jsd", profile_jsd),
    "flat_jsd": lambda: ProfileMean("flat_jsd", flat_jsd),
}


def coverage_metrics(names: list[str], prefix: str) -> MetricCollection:
    for name in names:
        if name not in COVERAGE:
            raise BiodlError(f"task.metrics: unknown coverage metric '{name}'"
                             f"{closest(name, COVERAGE, 'metrics')}")
    return MetricCollection({name: COVERAGE[name]() for name in names}, prefix=prefix)
