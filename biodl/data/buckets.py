"""A batch sampler that groups examples of similar length, for RNNs over padded batches."""

from __future__ import annotations

import numpy as np
from torch.utils.data import Sampler


class LengthBuckets(Sampler[list[int]]):
    """Batches of similar source length, in a new random order each epoch.

    Each epoch shuffles the examples, sorts every run of `pool` batches' worth by length, cuts
    it into batches and shuffles the batches: little padding (an RNN pays for every padded
    step), still random. Deterministic in (seed, epoch).
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int = 0, pool: int = 50):
        self.lengths, self.batch_size, self.seed, self.pool = lengths, batch_size, seed, pool
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        self.epoch += 1
        order = rng.permutation(len(self.lengths))
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i].tolist()
