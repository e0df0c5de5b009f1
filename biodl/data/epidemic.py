"""Simulated epidemics: forecast the infected curve of an SIR model with deaths.

Each outbreak, in people, keeps N = S + I + R + D constant:

    dS/dt = -beta S I / N            dR/dt = nu mu I
    dI/dt =  beta S I / N - mu I     dD/dt = (1 - nu) mu I

integrated with classic Runge-Kutta (`SUBSTEPS` steps a day), vectorised over outbreaks, in
numpy alone. beta, mu and nu are drawn uniformly from their ranges, the initial infected
fraction log-uniformly; S starts at N - I and R = D = 0. So D / (R + D) = 1 - nu at all times.

Series are in percent of the population, deaths cumulative. An example is the first `observe`
days (days 0 .. observe - 1) of the `inputs` series, with optional multiplicative log-normal
noise, as model inputs (C, observe) float32 (`transform: log`: log10(percent + one person's
percent), so early exponential growth is a straight line); its targets are the true infected
percent on the next `horizon` days (horizon,) float32. Outbreaks are split at random, by
`data.split`, into train/val/test.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from biodl.config.data import EpidemicData
from biodl.data.base import BatchLoaders, DataFormat, stratified_split
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError

SUBSTEPS = 4  # RK4 steps a day: daily rates up to MAX_RATE stay accurate and stable
MAX_RATE = 2.0
PERCENT = 100.0
SERIES = {"infected": 1, "deaths": 3}  # input name -> compartment (S, I, R, D)
RANGES = {  # key -> (its bounds, the check, an example)
    "beta": ("0 < low, high <= 2 per day", lambda low, high: 0 < low and high <= MAX_RATE,
             "[0.2, 0.45]"),
    "mu": ("0 < low, high <= 2 per day", lambda low, high: 0 < low and high <= MAX_RATE,
           "[0.07, 0.12]"),
    "nu": ("0 <= low, high <= 1", lambda low, high: 0 <= low and high <= 1, "[0.9, 0.99]"),
    "infected0": ("0 < low, high < 1", lambda low, high: 0 < low and high < 1,
                  "[1.0e-5, 1.0e-4]"),
}


def derivative(y: np.ndarray, beta: np.ndarray, mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """(M, 4) compartments S, I, R, D in fractions of N -> their (M, 4) daily rates of change."""
    infection = beta * y[:, 0] * y[:, 1]
    removal = mu * y[:, 1]
    return np.stack([-infection, infection - removal, nu * removal, (1 - nu) * removal], axis=1)


def rk4_step(y: np.ndarray, h: float, *rates: np.ndarray) -> np.ndarray:
    k1 = derivative(y, *rates)
    k2 = derivative(y + h / 2 * k1, *rates)
    k3 = derivative(y + h / 2 * k2, *rates)
    k4 = derivative(y + h * k3, *rates)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def simulate(beta: np.ndarray, mu: np.ndarray, nu: np.ndarray, infected0: np.ndarray,
             population: float, days: int) -> np.ndarray:
    """(M,) rates and initial infected fractions -> (M, 4, days + 1) S, I, R, D in people on
    days 0 .. days."""
    zeros = np.zeros_like(infected0)
    y = np.stack([1 - infected0, infected0, zeros, zeros], axis=1)  # (M, 4) fractions
    out = [y]
    for _ in range(days):
        for _ in range(SUBSTEPS):
            y = rk4_step(y, 1.0 / SUBSTEPS, beta, mu, nu)
        out.append(y)
    return np.stack(out, axis=2) * population  # (M, 4, days + 1)


class Outbreaks(NamedTuple):
    params: dict[str, np.ndarray]  # beta, mu, nu, infected0: (M,) each
    observed: np.ndarray  # (M, C, observe) percent of the population, noise included
    future: np.ndarray  # (M, horizon) infected, percent of the population, no noise


def simulate_outbreaks(cfg: EpidemicData) -> Outbreaks:
    """The config's outbreaks, the same for the same `data.seed`."""
    check_config(cfg)
    rng = np.random.default_rng(cfg.seed)
    params = {name: rng.uniform(*getattr(cfg, name), size=cfg.outbreaks)
              for name in ("beta", "mu", "nu")}
    low, high = np.log(cfg.infected0)
    params["infected0"] = np.exp(rng.uniform(low, high, size=cfg.outbreaks))
    days = cfg.observe + cfg.horizon - 1
    states = simulate(**params, population=1.0, days=days) * PERCENT  # (M, 4, days + 1)
    channels = [SERIES[name] for name in cfg.inputs]
    observed = states[:, channels, :cfg.observe]  # (M, C, observe)
    # drawn even when noise is 0, so the noise level leaves the outbreaks themselves unchanged
    observed = observed * np.exp(cfg.noise * rng.standard_normal(observed.shape))
    return Outbreaks(params, observed, states[:, SERIES["infected"], cfg.observe:])


def model_inputs(observed: np.ndarray, transform: str, population: int) -> np.ndarray:
    """(M, C, observe) percent -> float32 model inputs, as `data.transform` says (training and
    `biodl predict` both call this)."""
    if transform == "log":
        observed = np.log10(observed + PERCENT / population)  # one person: no log of 0
    return observed.astype(np.float32)


def split_outbreaks(cfg: EpidemicData) -> dict[str, np.ndarray]:
    """Outbreak indices of train/val/test: round(fraction * outbreaks) for val and test."""
    split = cfg.split
    indices = stratified_split(np.zeros(cfg.outbreaks), split.val, split.test, split.seed,
                               split.folds, split.fold)
    for name, index in indices.items():
        if len(index) == 0 and (name == "train" or getattr(split, name) > 0):
            raise BiodlError(f"data.outbreaks: {cfg.outbreaks} outbreaks leave the {name} "
                             f"split empty; simulate more, e.g. data.outbreaks=1000")
    return indices


def check_config(cfg: EpidemicData) -> None:
    """A BiodlError naming the first bad value of `cfg` and a good one."""
    for key in ("outbreaks", "population", "observe", "horizon"):
        if getattr(cfg, key) < 1:
            raise BiodlError(f"data.{key}: {getattr(cfg, key)} must be at least 1, e.g. "
                             f"data.{key}={getattr(EpidemicData, key)}")
    for key, (bounds, valid, example) in RANGES.items():
        low, high = getattr(cfg, key)
        if low > high:
            raise BiodlError(f"data.{key}: low {low} is above high {high}; give [low, high], "
                             f"e.g. data.{key}={example}")
        if not valid(low, high):
            raise BiodlError(f"data.{key}: [{low}, {high}] is out of bounds ({bounds}), e.g. "
                             f"data.{key}={example}")
    if cfg.noise < 0:
        raise BiodlError(f"data.noise: {cfg.noise} is negative; give a standard deviation "
                         "(0 for none), e.g. data.noise=0.05")
    if not cfg.inputs or len(set(cfg.inputs)) < len(cfg.inputs):
        raise BiodlError(f"data.inputs: {cfg.inputs}: list each series once, e.g. "
                         "data.inputs=[infected, deaths]")


class SeriesDataset(Dataset):
    """Batches {"x": (B, C, observe) float32, "y": (B, horizon) float32}."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.y)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(indices)
        return {"x": self.x[index], "y": self.y[index]}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([index]).items()}


class EpidemicDataModule(BatchLoaders, DataFormat):
    """Simulated outbreaks -> a regression with one output per forecast day."""

    target = Target.REGRESSION

    def __init__(self, cfg: EpidemicData):
        super().__init__()
        self.cfg = cfg
        self.datasets: dict[str, SeriesDataset] = {}
        self.split_ids: dict[str, list[str]] = {}  # "outbreak_<i>" in each split

    @property
    def input_files(self) -> list[Path]:
        return []

    @property
    def output_names(self) -> list[str]:
        """One per forecast day."""
        return [f"day_{self.cfg.observe + i}" for i in range(self.cfg.horizon)]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        check_config(self.cfg)
        indices = split_outbreaks(self.cfg)
        outbreaks = simulate_outbreaks(self.cfg)
        x = model_inputs(outbreaks.observed, self.cfg.transform, self.cfg.population)
        for name, index in indices.items():
            self.datasets[name] = SeriesDataset(x[index], outbreaks.future[index])
            self.split_ids[name] = [f"outbreak_{i}" for i in index]

    def model_kwargs(self) -> dict:
        """Float series (N, C, L): the recurrent models call such input `onehot`."""
        return {"in_channels": len(self.cfg.inputs), "input": "onehot",
                "seq_len": self.cfg.observe}

    def split_labels(self, split: str) -> np.ndarray:
        return self.datasets[split].y.numpy()

    def input_spec(self) -> InputSpec:
        cfg = self.cfg
        return InputSpec(format=cfg.format, kind=Kind.SERIES, target=self.target,
                         output_names=tuple(self.output_names), length=cfg.observe,
                         channels=tuple(cfg.inputs), transform=cfg.transform,
                         population=cfg.population)
