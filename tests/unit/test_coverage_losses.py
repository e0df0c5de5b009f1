"""Each coverage loss and metric against a direct, loop-by-loop implementation of its formula."""

from __future__ import annotations

import math

import pytest
import torch

from biodl.config.schema import TaskConfig
from biodl.errors import BiodlError
from biodl.models import build_model
from biodl.tasks import coverage, coverage_losses as losses
from biodl.tasks.coverage_metrics import coverage_metrics, js_distance

# (N=2 windows, T=2 tracks, B=4 bins): log rates and observed counts
R = torch.tensor([[[0.1, -0.5, 1.2, 0.3], [2.0, 1.0, 0.0, -1.0]],
                  [[-0.2, 0.4, 0.4, 0.9], [0.5, 0.5, 0.5, 0.5]]], dtype=torch.float64)
Y = torch.tensor([[[1.0, 0.0, 4.0, 2.0], [6.0, 3.0, 1.0, 0.0]],
                  [[0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0]]], dtype=torch.float64)
ROWS = [(n, t) for n in range(2) for t in range(2)]


def rates(n, t):
    return [math.exp(v) for v in R[n, t].tolist()]


def observed(n, t):
    return Y[n, t].tolist()


def probabilities(n, t):
    total = sum(rates(n, t))
    return [v / total for v in rates(n, t)]


def direct_poisson():
    terms = [math.exp(r) - y * r for r, y in zip(R.flatten().tolist(), Y.flatten().tolist())]
    return sum(terms) / len(terms)


def direct_multinomial():
    values = []
    for n, t in ROWS:
        y, p = observed(n, t), probabilities(n, t)
        log_pmf = math.lgamma(sum(y) + 1) - sum(math.lgamma(v + 1) for v in y) + \
            sum(v * math.log(q) for v, q in zip(y, p))
        values.append(-log_pmf)
    return sum(values) / len(values)


def direct_count_mse():
    values = [(math.log(1 + sum(rates(n, t))) - math.log(1 + sum(observed(n, t)))) ** 2
              for n, t in ROWS]
    return sum(values) / len(values)


def direct_poisson_multinomial(weight):
    values = []
    for n, t in ROWS:
        y, p, total = observed(n, t), probabilities(n, t), sum(rates(n, t))
        multinomial = -sum(v * math.log(q) for v, q in zip(y, p))
        poisson_total = total - sum(y) * math.log(total)
        values.append((multinomial + weight * poisson_total) / 4)
    return sum(values) / len(values)


def test_poisson_matches_its_formula():
    assert losses.poisson(R, Y).item() == pytest.approx(direct_poisson(), abs=1e-6)


def test_multinomial_nll_matches_its_formula():
    assert losses.multinomial_nll(R, Y).item() == pytest.approx(direct_multinomial(), abs=1e-6)


def test_log_count_mse_and_bpnet_loss_match_their_formulas():
    assert losses.log_count_mse(R, Y).item() == pytest.approx(direct_count_mse(), abs=1e-6)
    expected = direct_multinomial() + 3.5 * direct_count_mse()
    assert losses.bpnet(R, Y, 3.5).item() == pytest.approx(expected, abs=1e-6)


def test_poisson_multinomial_matches_its_formula():
    assert losses.poisson_multinomial(R, Y, 0.2).item() == pytest.approx(
        direct_poisson_multinomial(0.2), abs=1e-6)


def test_jensen_shannon_distance_matches_its_formula():
    p, q = [0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]
    m = [(a + b) / 2 for a, b in zip(p, q)]
    kl = lambda a, b: sum(x * math.log(x / y) for x, y in zip(a, b) if x > 0)  # noqa: E731
    expected = math.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m))
    got = js_distance(torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64))
    assert got.item() == pytest.approx(expected, abs=1e-6)
    assert js_distance(torch.tensor(p), torch.tensor(p)).item() == pytest.approx(0, abs=1e-6)


def test_metrics_average_per_window_and_skip_empty_profiles():
    metrics = coverage_metrics(["profile_jsd", "flat_jsd", "profile_pearson", "count_pearson"],
                               "val/")
    metrics.update(R.float(), Y.float())
    values = {k: v.item() for k, v in metrics.compute().items()}
    rows = [(n, t) for n, t in ROWS if sum(observed(n, t)) > 0]  # window 2 track 2 is empty
    jsd = [js_distance(torch.tensor(probabilities(n, t)),
                       Y[n, t].float() / Y[n, t].sum()).item() for n, t in rows]
    assert values["val/profile_jsd"] == pytest.approx(sum(jsd) / 3, abs=1e-6)
    flat = [js_distance(torch.full((4,), 0.25), Y[n, t].float() / Y[n, t].sum()).item()
            for n, t in rows]
    assert values["val/flat_jsd"] == pytest.approx(sum(flat) / 3, abs=1e-6)
    assert -1 <= values["val/profile_pearson"] <= 1 and -1 <= values["val/count_pearson"] <= 1


def test_count_weight_from_the_data_and_counts_required():
    cfg = TaskConfig()
    model = build_model("bpnet", output_length=10, layers=1, filters=4)
    spec = {"strands": "forward", "strand_swap": [0]}
    task = coverage.build(cfg, model, {}, spec, {"median_total": 250.0, "integer": True})
    assert task.loss_name == "multinomial" and task.count_weight == 25.0
    low = coverage.build(cfg, model, {}, spec, {"median_total": 4.0, "integer": True})
    assert low.count_weight == 1.0  # ChromBPNet's floor for low depth
    with pytest.raises(BiodlError, match="needs counts.*task.loss=poisson"):
        coverage.build(cfg, model, {}, spec, {"median_total": 4.0, "integer": False,
                                              "where": "x.bw: window chr1:0-10"})
    cfg.loss = "poisson"
    assert coverage.build(cfg, model, {}, spec, {"median_total": 4.0, "integer": False,
                                                 "where": ""}).loss_name == "poisson"


def test_models_keep_the_coverage_contract():
    x = torch.zeros(3, 4, 120)
    bpnet = build_model("bpnet", num_tracks=2, output_length=40, bin_size=4, layers=2)
    assert bpnet(x).shape == (3, 2, 10)
    cnn = build_model("cnn_coverage", num_tracks=2, output_length=40, bin_size=4)
    assert cnn(x).shape == (3, 2, 10)
    with pytest.raises(BiodlError, match="shorter than the model's output_length"):
        bpnet(torch.zeros(1, 4, 30))
