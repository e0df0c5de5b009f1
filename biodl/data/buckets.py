"""Training batch samplers whose order is a function of (seed, epoch), and a DataLoader that
can resume at a batch of an epoch, so a resumed fit sees exactly the batches an uninterrupted
one would.

Each batch is a `SeededBatch`: its indices and a seed (seed, epoch, batch number) from which
the dataset draws the batch's augmentation. Nothing then depends on the torch RNG of a worker
process (new workers after a resume, persistent workers across epochs) or on how many batches
a worker prefetched. Lightning calls `set_epoch` at the start of every epoch; it saves the
loader's `state_dict()` in every checkpoint and, resuming mid-epoch, loads it before iterating.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class SeededBatch(list):
    """A batch's indices, with the seed of its augmentation (travels to worker processes)."""

    def __init__(self, indices: list[int], seed: tuple[int, ...]):
        super().__init__(indices)
        self.seed = seed


class EpochBatches(Sampler[list[int]]):
    """Batches in an order fixed by (seed, epoch); subclasses say how an epoch is cut."""

    def __init__(self, size: int, batch_size: int, seed: int = 0):
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.epoch = 0
        self.skip = 0  # batches of `epoch` already trained on (a mid-epoch resume)

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    @property
    def sampler(self) -> EpochBatches:
        """Lightning calls `set_epoch` on a batch sampler's `.sampler`, not on the batch
        sampler itself."""
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume_at(self, epoch: int, batch: int) -> None:
        """The next iteration yields epoch `epoch` from its batch number `batch` on."""
        self.epoch, self.skip = epoch, batch

    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        raise NotImplementedError

    def __iter__(self):
        epoch, skip = self.epoch, self.skip
        self.epoch, self.skip = epoch + 1, 0  # without set_epoch, a new order each time
        batches = self.batches(np.random.default_rng((self.seed, epoch)))
        for number in range(skip, len(batches)):
            yield SeededBatch(batches[number].tolist(), (self.seed, epoch, number))


class ShuffledBatches(EpochBatches):
    """A new random order of all examples each epoch, cut into batches (the last smaller)."""

    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(self.size)
        return [order[i:i + self.batch_size] for i in range(0, self.size, self.batch_size)]


class LengthBuckets(EpochBatches):
    """Batches of similar source length, in a new random order each epoch.

    Each epoch shuffles the examples, sorts every run of `pool` batches' worth by length, cuts
    it into batches and shuffles the batches: little padding (an RNN pays for every padded
    step), still random. Deterministic in (seed, epoch).
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int = 0, pool: int = 50):
        super().__init__(len(lengths), batch_size, seed)
        self.lengths, self.pool = lengths, pool

    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(len(self.lengths))
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]


class ResumableLoader(DataLoader):
    """A training DataLoader over an `EpochBatches` whose place in the epoch (batches handed
    to the training loop, not those workers prefetched) is saved in checkpoints."""

    def __init__(self, dataset: Dataset, batch_sampler: EpochBatches, **kwargs):
        # the loader's own generator: worker seeds without a draw from the global torch RNG,
        # whose state (dropout, mixup) a checkpoint restores exactly
        generator = torch.Generator().manual_seed(batch_sampler.seed)
        super().__init__(dataset, batch_sampler=batch_sampler, generator=generator, **kwargs)
        self.served = 0
        self.serving_epoch = 0

    def __iter__(self):
        # a generator: nothing is drawn until the first batch, after Lightning's set_epoch
        sampler = self.batch_sampler
        self.serving_epoch, self.served = sampler.epoch, sampler.skip
        for batch in super().__iter__():
            self.served += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.serving_epoch, "served": self.served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.batch_sampler.resume_at(state["epoch"], state["served"])
