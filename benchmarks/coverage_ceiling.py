"""What a perfect model would score on `pipelines/coverage_synthetic`'s test split: the
generator's own expected coverage (before Poisson noise) scored with the task's metrics, so the
trained model's profile JSD can be read against the noise floor as well as the flat baseline.

    .venv/bin/python benchmarks/coverage_ceiling.py [--set data.background=0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import coverage_synthetic as synthetic  # noqa: E402

from biodl.config import load_config  # noqa: E402
from biodl.data.formats import build_datamodule  # noqa: E402
from biodl.tasks.coverage_metrics import coverage_metrics  # noqa: E402

PIPELINE = ROOT / "pipelines" / "coverage_synthetic" / "pipeline.yaml"


def expected_rates(chroms: int = synthetic.CHROMS, length: int = synthetic.LENGTH,
                   spacing: int = synthetic.SPACING, seed: int = 0) -> dict:
    """Replays `coverage_synthetic.generate` (same seed, same draws) up to the noise."""
    rng = np.random.default_rng(seed)
    rates = {}
    for i in range(1, chroms + 1):
        seq = synthetic.genome(rng, length)
        synthetic.plant(rng, seq, spacing)
        centres, mismatches = synthetic.matches(seq)
        sites = list(zip(centres.tolist(), (0.55 ** mismatches).tolist()))
        rates[f"chr{i}"] = synthetic.expected(length, sites, 12.0, 0.02)
        rng.poisson(rates[f"chr{i}"])  # the draw generate() makes, to stay in step
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--length", type=int, default=synthetic.LENGTH,
                        help="the generator's --length (and --spacing) the data was written with")
    parser.add_argument("--spacing", type=int, default=synthetic.SPACING)
    args = parser.parse_args()
    datamodule = build_datamodule(load_config(PIPELINE, args.overrides).data)
    datamodule.setup("fit")
    test, layout = datamodule.datasets["test"], datamodule.layout
    rates = expected_rates(length=args.length, spacing=args.spacing)
    names = [test.chroms[c] for c in test.chrom_index.tolist()]
    begin = test.starts + layout.offset
    truth = np.stack([rates[n][b:b + layout.output_length] for n, b in zip(names, begin)])
    observed = np.concatenate(list(test.chunks()))  # (N, 1, L)
    metrics = coverage_metrics(["count_pearson", "count_spearman", "profile_pearson",
                                "profile_jsd", "flat_jsd"], "oracle/")
    metrics.update(torch.from_numpy(np.log(truth[:, None])).float(),
                   torch.from_numpy(observed).float())
    for name, value in metrics.compute().items():
        print(f"{name} {value.item():.4f}")


if __name__ == "__main__":
    main()
