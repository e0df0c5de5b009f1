"""Naive forecasts of the sir pipelines' test outbreaks, scored with the pipelines' own metrics.

    .venv/bin/python benchmarks/sir_baseline.py [pipelines/sir_lstm] [--set data.noise=0]

- persistence: every forecast day repeats the last observed (noisy) infected value;
- mean curve: every test outbreak gets the mean future curve of the training outbreaks.

A model that learnt anything beats both. Units are those of the targets: percent of the
population (test/peak_mae 3 is 3 percentage points around the peak).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from biodl.config import load_config
from biodl.data.epidemic import simulate_outbreaks, split_outbreaks
from biodl.tasks.metrics import build_metrics


def forecasts(outbreaks, index: dict[str, np.ndarray], horizon: int,
              inputs: list[str]) -> dict[str, np.ndarray]:
    """name -> (test outbreaks, horizon) forecast."""
    test = index["test"]
    mean_curve = outbreaks.future[index["train"]].mean(axis=0)  # (horizon,)
    out = {"mean training curve": np.broadcast_to(mean_curve, (len(test), horizon))}
    if "infected" in inputs:
        last = outbreaks.observed[test, inputs.index("infected"), -1:]  # (N, 1)
        out["persistence (last observed value)"] = np.repeat(last, horizon, axis=1)
    return out


def score(prediction: np.ndarray, target: np.ndarray, names: list[str]) -> dict[str, float]:
    metrics = build_metrics(names, "regression", target.shape[1], "test/")
    metrics.update(torch.from_numpy(np.ascontiguousarray(prediction, dtype=np.float32)),
                   torch.from_numpy(target.astype(np.float32)))
    return {k: float(v) for k, v in metrics.compute().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default="pipelines/sir_lstm")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    cfg = load_config(args.pipeline, args.overrides)
    data = cfg.data
    outbreaks, index = simulate_outbreaks(data), split_outbreaks(data)
    target = outbreaks.future[index["test"]]
    names = cfg.task.metrics or ["mse", "mae", "peak_mae", "peak_day_error", "peak_height_error"]
    rows = {name: score(p, target, names) for name, p in
            forecasts(outbreaks, index, data.horizon, data.inputs).items()}
    columns = [f"test/{n}" for n in names]
    print(f"{len(target)} test outbreaks of {args.pipeline}\n")
    print("| forecast | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(f"{values[c]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
