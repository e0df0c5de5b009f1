"""DataLoader samples/s: biodl's batch-level `__getitems__` against a naive per-sample Dataset.

    .venv/bin/python benchmarks/dataloader_throughput.py --samples 200000 --repeat 3

Side by side, in one process, interleaved, best of `--repeat`, batches of 256, shuffled
(random access), `num_workers` 0 and 1; the clock starts at the first batch, so worker start-up
is left out (it is printed apart). Two sources of 200-bp sequences:
  in memory: (N, 200) uint8 codes; biodl `SequenceDataset` one-hot encodes a whole batch at once,
             the naive Dataset one sequence per `__getitem__` (numpy) and default collate stacks;
  genome:    windows of a generated genome on disk (`--mbp`) around BED peaks; biodl
             `GenomeDataModule`'s training set (a pread per window, batch one-hot) against a
             naive Dataset reading and encoding one window per `__getitem__`.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genome_fit_memory import chromosome_lengths, write_genome, write_peaks  # noqa: E402

from biodl.config.data import GenomeData  # noqa: E402
from biodl.data import encoding  # noqa: E402
from biodl.data.genome_windows import GenomeDataModule  # noqa: E402
from biodl.data.sequences import SequenceDataset, collate, encode_batch  # noqa: E402

LENGTH, BATCH = 200, 256
_INDEX = np.full(256, 4, dtype=np.int64)  # code -> channel; 4: no channel (N)
_INDEX[list(b"ACGT")] = np.arange(4)
_EYE = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)])


def naive_onehot(seq: np.ndarray) -> torch.Tensor:
    """(L,) codes -> (4, L), one sequence at a time, as most hand-written Datasets do."""
    return torch.from_numpy(np.ascontiguousarray(_EYE[_INDEX[seq]].T))


class NaiveCodes(Dataset):
    def __init__(self, codes: np.ndarray, labels: np.ndarray):
        self.codes, self.labels = codes, labels

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int) -> dict:
        return {"x": naive_onehot(self.codes[i]), "y": int(self.labels[i])}


class NaiveWindows(Dataset):
    """Per-sample genome reads over the same windows as a `WindowCodes`."""

    def __init__(self, windows, labels: np.ndarray):
        self.windows, self.labels = windows, labels

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        return {"x": naive_onehot(self.windows.read(np.array([i]))[0]), "y": int(self.labels[i])}


def loader(dataset: Dataset, workers: int, biodl: bool, samples: int) -> DataLoader:
    """Shuffled, `samples` + one batch long (several epochs in one loader if need be)."""
    sampler = RandomSampler(dataset, num_samples=samples + BATCH)
    extra = {"collate_fn": collate} if biodl else {}
    return DataLoader(dataset, batch_size=BATCH, sampler=sampler, num_workers=workers, **extra)


def timed(dataset: Dataset, workers: int, biodl: bool, samples: int,
          finish=None) -> tuple[float, float]:
    """(samples/s after the first batch, seconds to the first batch); `finish` runs on each
    batch in this process (one-hot encoding codes that came from a worker)."""
    started, seen = time.perf_counter(), 0
    batches = iter(loader(dataset, workers, biodl, samples))
    next(batches)
    clock = time.perf_counter()
    for batch in batches:
        if finish is not None:
            batch = finish(batch)
        seen += len(batch["y"])
    return seen / (time.perf_counter() - clock), clock - started


def genome_sets(folder: Path, mbp: float, peaks: int) -> tuple[SequenceDataset, NaiveWindows]:
    lengths = chromosome_lengths(mbp)
    write_genome(folder / "genome.fa", lengths)
    write_peaks(folder / "peaks.bed", lengths, peaks)
    cfg = GenomeData(genome=folder / "genome.fa", intervals={"peak": folder / "peaks.bed"},
                     window=LENGTH, val_chroms=["chr4"], test_chroms=["chr5"], leakage="ignore")
    dm = GenomeDataModule(cfg)
    dm.setup()
    train = dm.datasets["train"]
    return train, NaiveWindows(train.codes, train.labels.numpy())


def run(candidates: dict, samples: int, repeat: int) -> None:
    best = {name: (0.0, 0.0) for name in candidates}
    for _ in range(repeat):
        for name, (dataset, workers, biodl, *finish) in candidates.items():
            rate, first = timed(dataset, workers, biodl, samples, *finish)
            best[name] = max(best[name], (rate, first))
    print("| source | Dataset | workers | samples/s | x naive | first batch s |")
    print("|---|---|---|---|---|---|")
    for name, (rate, first) in best.items():
        source, kind, workers = name
        naive = best[(source, "naive per-sample", workers)][0]
        print(f"| {source} | {kind} | {workers} | {rate:,.0f} | {rate / naive:.1f} | "
              f"{first:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mbp", type=float, default=100)
    parser.add_argument("--peaks", type=int, default=50_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    codes = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, (100_000, LENGTH))]
    labels = rng.integers(0, 2, len(codes))
    memory = SequenceDataset(codes, labels, encoding.onehot_table())
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="biodl_loader_") as tmp:
        genome, naive_genome = genome_sets(Path(tmp), args.mbp, args.peaks)
        candidates = {}
        for workers in (0, 1):
            candidates[("in memory", "biodl __getitems__", workers)] = (memory, workers, True)
            candidates[("in memory", "naive per-sample", workers)] = (
                NaiveCodes(codes, labels), workers, False)
            candidates[("genome", "biodl __getitems__", workers)] = (genome, workers, True)
            candidates[("genome", "naive per-sample", workers)] = (naive_genome, workers, False)
        # what SequenceDataModule does with workers: uint8 codes cross the process boundary,
        # one-hot encoding happens after the transfer (on the GPU when training on one)
        table = encoding.onehot_table()
        finish = lambda batch: encode_batch(batch, table)  # noqa: E731
        codes_only = SequenceDataset(codes, labels, encoding.onehot_table(), encode=False)
        candidates[("in memory", "biodl codes, one-hot after transfer", 1)] = (
            codes_only, 1, True, finish)
        genome_codes = copy.copy(genome)
        genome_codes.encode = False
        candidates[("genome", "biodl codes, one-hot after transfer", 1)] = (
            genome_codes, 1, True, finish)
        run(candidates, args.samples, args.repeat)


if __name__ == "__main__":
    main()
