"""The SIR-with-deaths simulator, its data module and the peak metrics, on tiny inputs."""

import dataclasses

import numpy as np
import pytest
import torch

from biodl.config import load_config, to_dict
from biodl.config.data import EpidemicData
from biodl.data.epidemic import (EpidemicDataModule, model_inputs, simulate,
                                 simulate_outbreaks, split_outbreaks)
from biodl.errors import BiodlError
from biodl.tasks.metrics import PeakError, build_metrics

from ..conftest import ROOT

LSTM, GRU = ROOT / "pipelines" / "sir_lstm", ROOT / "pipelines" / "sir_gru"
RATES = dict(beta=np.array([0.5, 0.3, 0.2]), mu=np.array([0.1, 0.1, 0.15]),
             nu=np.array([0.9, 0.95, 0.99]), infected0=np.array([1e-3, 1e-4, 1e-2]))


def small(**changes) -> EpidemicData:
    return dataclasses.replace(EpidemicData(outbreaks=20, observe=5, horizon=10), **changes)


def test_people_are_conserved_every_day():
    states = simulate(**RATES, population=1000.0, days=120)
    assert states.shape == (3, 4, 121)
    assert np.abs(states.sum(axis=1) - 1000.0).max() < 1e-9
    assert states[:, :, 0].tolist() == [[999.0, 1.0, 0.0, 0.0], [999.9, 0.1, 0.0, 0.0],
                                        [990.0, 10.0, 0.0, 0.0]]


def test_deaths_are_one_minus_nu_of_removals():
    states = simulate(**RATES, population=1000.0, days=120)
    removed, dead = states[:, 2, -1] + states[:, 3, -1], states[:, 3, -1]
    assert np.allclose(dead / removed, [0.1, 0.05, 0.01], rtol=0, atol=1e-12)
    assert removed.min() > 100  # every outbreak here took off (R0 of 5, 3 and 1.33)


def test_rk4_matches_the_known_final_size():
    """After the outbreak, S solves the SIR final-size relation s = s0 exp(-R0 (1 - s))."""
    states = simulate(**{k: v[:1] for k, v in RATES.items()}, population=1.0, days=400)
    s = states[0, 0, -1]  # R0 = 5, s0 = 0.999
    assert abs(s - 0.999 * np.exp(-5 * (1 - s))) < 1e-8
    assert 0.006 < s < 0.008


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = (simulate_outbreaks(small(seed=s)) for s in (0, 0, 1))
    assert np.array_equal(a.observed, b.observed) and np.array_equal(a.future, b.future)
    assert not np.array_equal(a.future, c.future)


def test_examples_are_the_first_days_then_the_next_days_in_percent():
    cfg = small(inputs=["infected", "deaths"], transform="linear")
    outbreaks = simulate_outbreaks(cfg)
    curve = simulate(**outbreaks.params, population=1.0, days=14) * 100  # (20, 4, 15)
    assert outbreaks.observed.shape == (20, 2, 5) and outbreaks.future.shape == (20, 10)
    assert np.allclose(outbreaks.observed[:, 0], curve[:, 1, :5], rtol=1e-12)
    assert np.allclose(outbreaks.observed[:, 1], curve[:, 3, :5], rtol=1e-12)
    assert np.allclose(outbreaks.future, curve[:, 1, 5:], rtol=1e-12)


def test_noise_changes_inputs_only_and_log_inputs_floor_at_one_person():
    clean, noisy = simulate_outbreaks(small()), simulate_outbreaks(small(noise=0.1))
    assert np.array_equal(clean.future, noisy.future)
    ratio = np.log(noisy.observed / clean.observed)
    assert 0.07 < ratio.std() < 0.13
    cfg = small(inputs=["deaths"], population=10_000)
    x = model_inputs(simulate_outbreaks(cfg).observed, cfg.transform, cfg.population)
    assert x.dtype == np.float32 and x[:, 0, 0].tolist() == [-2.0] * 20  # log10(100 / 10,000)


def test_split_by_outbreak_with_exact_sizes():
    cfg = small(outbreaks=50, split=dataclasses.replace(EpidemicData().split, val=0.1, test=0.2))
    index = split_outbreaks(cfg)
    assert [len(index[s]) for s in ("train", "val", "test")] == [35, 5, 10]
    assert sorted(np.concatenate(list(index.values())).tolist()) == list(range(50))
    dm = EpidemicDataModule(cfg)
    dm.setup("fit")
    assert dm.num_outputs == 10 and dm.target == "regression"
    assert dm.output_names[0] == "day_5" and dm.output_names[-1] == "day_14"
    assert dm.model_kwargs() == {"in_channels": 1, "input": "onehot", "seq_len": 5}
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == (35, 1, 5) and batch["y"].shape == (35, 10)
    assert batch["x"].dtype == batch["y"].dtype == torch.float32


def test_default_outbreaks_peak_inside_the_forecast():
    outbreaks = simulate_outbreaks(EpidemicData())
    curve = np.concatenate([outbreaks.observed[:, 0], outbreaks.future], axis=1)  # (4000, 90)
    peak = curve.argmax(axis=1)
    assert (peak < 30).sum() == 1  # one peaks on the last observed day
    assert (peak == 89).sum() == 233  # 5.8 % still rise on the last forecast day


def test_peak_metrics_on_a_hand_made_forecast():
    target = torch.tensor([[0.0, 1, 4, 1, 0, 0], [0, 0, 0, 0, 1, 3]])  # true peaks: days 2, 5
    preds = torch.tensor([[0.0, 2, 2, 2, 0, 5], [0, 0, 0, 0, 1, 1]])
    # window 1: row 1 days 1-3 |1|+|2|+|1| / 3, row 2 days 4-5 (|0| + |2|) / 2
    expected = {"mae": (4 / 3 + 1) / 2, "day": (3 + 1) / 2, "height": (1 + 2) / 2}
    for kind, value in expected.items():
        metric = PeakError(kind, window=1)
        metric.update(preds[:1], target[:1])
        metric.update(preds[1:], target[1:])
        assert metric.compute().item() == pytest.approx(value, rel=1e-6)


def test_peak_metrics_by_name_in_one_collection():
    target = torch.tensor([[0.0, 1, 4, 1, 0, 0], [0, 0, 0, 0, 1, 3]])
    preds = torch.cat([torch.zeros(2, 1), target[:, :-1]], dim=1)  # one day late
    metrics = build_metrics(["peak_mae", "peak_day_error", "peak_height_error", "mse"],
                            "regression", 6, "test/")
    metrics.update(preds, target)
    values = {k: round(v.item(), 6) for k, v in metrics.compute().items()}
    # window 7 covers all 6 days: |errors| 0+1+3+3+1+0 and 0+0+0+0+1+2, each over 6 days
    assert values == {"test/peak_mae": round(11 / 12, 6), "test/peak_day_error": 0.5,
                      "test/peak_height_error": 1.0, "test/mse": round(25 / 12, 6)}


@pytest.mark.parametrize("override, message", [
    ("data.beta=[0.5, 0.2]", r"data.beta: low 0.5 is above high 0.2; give \[low, high\], "
                             r"e.g. data.beta=\[0.2, 0.45\]"),
    ("data.horizon=0", r"data.horizon: 0 must be at least 1, e.g. data.horizon=60"),
    ("data.nu=[0.9, 1.2]", r"data.nu: \[0.9, 1.2\] is out of bounds \(0 <= low, high <= 1\)"),
    ("data.mu=[0, 0.1]", r"data.mu: \[0.0, 0.1\] is out of bounds \(0 < low, high <= 2 per day"),
    ("data.noise=-0.1", r"data.noise: -0.1 is negative"),
    ("data.inputs=[infected, infected]", r"data.inputs: \['infected', 'infected'\]: list each"),
    ("data.inputs=[cases]", r"data.inputs\[0\]: 'cases' \(str\) is not one of 'infected', "
                            r"'deaths'"),
    ("data.outbreaks=3", r"data.outbreaks: 3 outbreaks leave the val split empty; simulate "
                         r"more, e.g. data.outbreaks=1000"),
])
def test_bad_values_name_the_key_and_a_fix(override, message):
    with pytest.raises(BiodlError, match=message):
        EpidemicDataModule(load_config(LSTM, [override]).data).setup("fit")


def test_the_two_pipelines_differ_only_in_the_cell():
    lstm, gru = to_dict(load_config(LSTM)), to_dict(load_config(GRU))
    assert lstm["data"] == gru["data"] and lstm["task"] == gru["task"]
    assert lstm["trainer"] == gru["trainer"] and lstm["callbacks"] == gru["callbacks"]
    assert {k: v for k, v in lstm["model"].items() if v != gru["model"][k]} == {"cell": "lstm"}
    assert gru["tracking"]["experiment"] == lstm["tracking"]["experiment"] == "sir_forecast"


def test_pipeline_models_forecast_every_day_and_their_sizes():
    from biodl.models import count_parameters
    from biodl.train import build_task_for

    sizes = {}
    for path in (LSTM, GRU):
        cfg = load_config(path, ["data.outbreaks=20"])
        dm = EpidemicDataModule(cfg.data)
        dm.setup("fit")
        task = build_task_for(cfg, dm)
        assert task(next(iter(dm.val_dataloader()))["x"]).shape == (2, 60)
        sizes[cfg.model.kwargs["cell"]] = count_parameters(task.model)
    # LSTM 4 gates x (64 x 2 inputs + 64 x 64 + 2 x 64 biases), GRU 3 gates; head 64 x 60 + 60
    assert sizes == {"lstm": 4 * 4352 + 3900, "gru": 3 * 4352 + 3900}
