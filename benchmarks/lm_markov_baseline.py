"""Held-out perplexity of order-k Markov chains on a language-model pipeline's own split.

The baseline `pipelines/leptospira_lm` must beat: chains fitted on the pipeline's training
windows and scored on its test windows (the same contigs, windows and scoring as the LSTM's
test/perplexity; 4.0 is a uniform guess).

    .venv/bin/python benchmarks/lm_markov_baseline.py [pipelines/leptospira_lm] [--orders 1 2 4 6 8 10]
"""

from __future__ import annotations

import argparse
import time

from biodl.config import load_config
from biodl.data.formats import build_datamodule
from biodl.data.markov import markov_perplexity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default="pipelines/leptospira_lm")
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 8, 10])
    parser.add_argument("--split", default="test", choices=["val", "test"])
    args = parser.parse_args()
    datamodule = build_datamodule(load_config(args.pipeline).data)
    train, held_out = datamodule.windows("train"), datamodule.windows(args.split)
    print(f"{len(train)} training windows, {len(held_out)} {args.split} windows")
    print(f"| order k | {args.split} perplexity | seconds |")
    print("|---|---|---|")
    for k in args.orders:
        start = time.perf_counter()
        perplexity = markov_perplexity(train, held_out, k)
        print(f"| {k} | {perplexity:.4f} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main()
