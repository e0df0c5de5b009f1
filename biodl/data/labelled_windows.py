"""Windows of whole contigs, split by contig: per-base tags from GenBank, and LM windows.

A contig is cut into windows of `window` bases every `stride` bases until a window reaches its
end, so the last window of a contig may be shorter. A batch is padded on the right to its
longest window: padding is byte 0 (one-hot zeros, token PAD) and label -100 (ignored by the
loss). Splits take whole contigs (`split_groups`), so no window spans two splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from biodl.config.data import GenbankTagsData, LanguageData, PairsData
from biodl.data import encoding
from biodl.data.fasta import read_fasta
from biodl.data.groups import split_groups
from biodl.data.genbank import Contig, check_bases, is_genbank, read_contigs
from biodl.data.buckets import LengthBuckets
from biodl.data.base import BatchLoaders, DataFormat, run_seed
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError
from biodl.vocab import DNA_TOKENS, DNA_VOCAB_SIZE, IGNORE_INDEX



def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Starts of the windows over a contig: every `stride` bases until one reaches the end."""
    if length <= 0:
        return np.zeros(0, dtype=np.int64)
    count = max(0, -(-(length - window) // stride)) + 1  # ceil((length - window) / stride) + 1
    return np.arange(count, dtype=np.int64) * stride


def gather(array: np.ndarray, starts: np.ndarray, lengths: np.ndarray, fill: int) -> np.ndarray:
    """(B, max length) slices array[start:start + length], right-padded with `fill`."""
    offsets = np.arange(int(lengths.max()))[None, :]  # (1, W)
    if len(array) == 0:
        return np.full((len(starts), offsets.shape[1]), fill, dtype=array.dtype)
    out = array[np.minimum(starts[:, None] + offsets, len(array) - 1)]  # (B, W)
    out[offsets >= lengths[:, None]] = fill
    return out


class Windows:
    """The windows of some contigs, held as one concatenated array of ASCII codes (and labels)."""

    def __init__(self, contigs: list[Contig], window: int, stride: int):
        seqs = [c.seq for c in contigs]
        self.codes = np.frombuffer(b"".join(seqs), dtype=np.uint8)  # (total,)
        self.labels = np.concatenate([c.labels for c in contigs]) if contigs else np.zeros(0)
        offsets = np.cumsum([0] + [len(s) for s in seqs])[:-1]
        starts, lengths = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for offset, seq in zip(offsets, seqs):
            local = window_starts(len(seq), window, stride)
            starts.append(offset + local)
            lengths.append(np.minimum(window, len(seq) - local))
        self.starts = np.concatenate(starts).astype(np.int64)  # (W,) into codes
        self.lengths = np.concatenate(lengths).astype(np.int64)  # (W,)

    def __len__(self) -> int:
        return len(self.starts)

    def codes_of(self, index: np.ndarray) -> np.ndarray:
        return gather(self.codes, self.starts[index], self.lengths[index], encoding.PAD)

    def text(self) -> list[bytes]:
        """Each window's bases, e.g. for a Markov baseline."""
        return [self.codes[s:s + n].tobytes() for s, n in zip(self.starts, self.lengths)]


class WindowDataset(Dataset):
    def __init__(self, windows: Windows):
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([index]).items()}


class TagDataset(WindowDataset):
    """Batches {"x": (B, 4, L) float32 one-hot or (B, L) int64 tokens, "y": (B, L) int64 with
    -100 at padding, "lengths": (B,) int64}; L is the batch's longest window."""

    def __init__(self, windows: Windows, input: str, table: np.ndarray):
        super().__init__(windows)
        self.input, self.table = input, table

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        w, index = self.windows, np.asarray(indices)
        codes = w.codes_of(index)  # (B, L) uint8
        lengths = w.lengths[index]
        labels = gather(w.labels, w.starts[index], lengths, 0).astype(np.int64)  # (B, L)
        labels[np.arange(labels.shape[1])[None, :] >= lengths[:, None]] = IGNORE_INDEX
        x = encoding.onehot(codes, self.table) if self.input == "onehot" else encoding.tokens(codes)
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(labels),
                "lengths": torch.from_numpy(lengths)}


class TokenDataset(WindowDataset):
    """Batches {"tokens": (B, L) int64}, PAD (0) after each window's end."""

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        codes = self.windows.codes_of(np.asarray(indices))  # (B, L) uint8
        return {"tokens": torch.from_numpy(encoding.tokens(codes))}


class SplitDataModule(BatchLoaders, DataFormat):
    """What the window and pairs data modules share: split bookkeeping and the loaders."""

    def __init__(self, cfg: GenbankTagsData | LanguageData | PairsData):
        super().__init__()
        self.cfg = cfg
        self.datasets: dict[str, Dataset] = {}
        self.split_ids: dict[str, list[str]] = {}  # group (contig) names in each split

    def bucketed_loader(self, lengths: np.ndarray) -> DataLoader:
        """Training batches of similar lengths on one process (most rows then need no
        packing); under DDP, Lightning's sharded shuffle."""
        if self._distributed():
            return super().train_dataloader()
        return self.resumable_loader(LengthBuckets(lengths, self.cfg.batch_size, run_seed()))



class ContigDataModule(SplitDataModule):
    """Reads contigs once, splits them by contig and serves windows; subclasses say how."""

    def __init__(self, cfg: GenbankTagsData | LanguageData):
        super().__init__(cfg)
        self.contigs: dict[str, list[Contig]] = {}

    def read(self) -> list[Contig]:
        raise NotImplementedError

    def make_dataset(self, windows: Windows) -> Dataset:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.cfg
        stride = cfg.stride or cfg.window
        if cfg.window < 1 or stride < 1:
            raise BiodlError(f"data.window ({cfg.window}) and data.stride ({cfg.stride}) must "
                             "be positive numbers of bases")
        contigs = {c.id: c for c in self.read()}
        self.split_ids = split_groups({k: len(c.seq) for k, c in contigs.items()}, cfg.split)
        for split, ids in self.split_ids.items():
            self.contigs[split] = [contigs[i] for i in ids]
            self.datasets[split] = self.make_dataset(Windows(self.contigs[split], cfg.window,
                                                             stride))


class GenbankTagsDataModule(ContigDataModule):
    """Per-base 0/1 labels of GenBank contigs (1 inside a feature of `data.features`)."""

    target = Target.TAGS

    @property
    def input_files(self) -> list[Path]:
        return [self.cfg.genbank] if self.cfg.genbank is not None else []

    @property
    def output_names(self) -> list[str]:
        return ["other", "+".join(self.cfg.features)]

    def input_spec(self) -> InputSpec:
        cfg = self.cfg
        return InputSpec(format=cfg.format, kind=Kind(cfg.input), target=self.target,
                         output_names=tuple(self.output_names), unknown=cfg.unknown,
                         window=cfg.window, stride=cfg.stride or cfg.window)

    def read(self) -> list[Contig]:
        cfg = self.cfg
        if cfg.genbank is None:
            raise BiodlError("data.genbank: format genbank_tags needs a GenBank file "
                             "(plain or .gz), e.g. data.genbank: genome.gbk.gz")
        if not cfg.features:
            raise BiodlError("data.features: name at least one feature type, e.g. [CDS]")
        contigs = read_contigs(cfg.genbank, cfg.features)
        check_bases(cfg.genbank, contigs, cfg.unknown)
        return contigs

    def make_dataset(self, windows: Windows) -> Dataset:
        return TagDataset(windows, self.cfg.input, encoding.onehot_table(self.cfg.unknown))

    def train_dataloader(self) -> DataLoader:
        return self.bucketed_loader(self.datasets["train"].windows.lengths)

    def model_kwargs(self) -> dict:
        return {"num_outputs": 2, "input": self.cfg.input}

    def class_counts(self) -> list[int]:
        """Bases labelled 0 and 1 in the training contigs."""
        self.setup()
        ones = sum(int(c.labels.sum()) for c in self.contigs["train"])
        return [sum(len(c.labels) for c in self.contigs["train"]) - ones, ones]


class LanguageDataModule(ContigDataModule):
    """Windows of a genome's tokens for next-base prediction; FASTA or GenBank by content."""

    target = Target.LM

    @property
    def input_files(self) -> list[Path]:
        return [self.cfg.genome] if self.cfg.genome is not None else []

    @property
    def output_names(self) -> list[str]:
        return list(DNA_TOKENS)  # the next-token distribution

    def model_kwargs(self) -> dict:
        return {"vocab_size": DNA_VOCAB_SIZE}

    def input_spec(self) -> InputSpec:
        cfg = self.cfg
        return InputSpec(format=cfg.format, kind=Kind.TOKENS, target=self.target,
                         output_names=tuple(self.output_names), window=cfg.window,
                         stride=cfg.stride or cfg.window)

    def read(self) -> list[Contig]:
        path = self.cfg.genome
        if path is None:
            raise BiodlError("data.genome: format lm needs a genome file (FASTA or GenBank, "
                             "plain or .gz), e.g. data.genome: genome.fa")
        if is_genbank(path):
            contigs = read_contigs(path, features=())
        else:
            contigs = [Contig(r.id, r.seq.upper(), np.zeros(len(r.seq), dtype=np.uint8))
                       for r in read_fasta(path)]
        check_bases(path, contigs, "zeros")
        return contigs

    def make_dataset(self, windows: Windows) -> Dataset:
        return TokenDataset(windows)

    def windows(self, split: str) -> list[bytes]:
        """The bases of each window of a split, e.g. for `markov_perplexity`."""
        self.setup()
        return self.datasets[split].windows.text()
