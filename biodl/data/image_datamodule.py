"""ImageDataModule: cell images listed, split, decoded once per split, served as batches.

Batches are {"x": (B, C, S, S) float32, "y": (B,) int64}; x is scaled to [0, 1] by the image
depth and, with data.normalize, standardised by the per-channel mean and std of the training
split (`norm_stats`, plain lists, to be saved with the model). Training batches are augmented
on the training device in `on_after_batch_transfer` (mixup/cutmix make y (B, K) float).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from biodl.config.schema import ImageData
from biodl.data.folds import refuse_folds
from biodl.data.base import (SPLITS, DataFormat, check_classes_in_splits,
                              stratified_split)
from biodl.data.image_augment import augment_batch, is_active
from biodl.data.images import (ImageDataset, ImageList, channel_stats, class_folders,
                               decode_images, list_class_folders, read_manifest)
from biodl.data.sequences import collate
from biodl.data.spec import InputSpec, Kind, Target
from biodl.errors import BiodlError
from biodl.vocab import class_order


class ImageDataModule(DataFormat):
    """Images from a folder per class (`data.root`) or a CSV manifest (`data.manifest`)."""

    def __init__(self, cfg: ImageData):
        super().__init__()
        self.cfg = cfg
        self.target = Target.CLASS
        self.class_names: list[str] = []
        self.datasets: dict[str, ImageDataset] = {}
        self.split_ids: dict[str, list[str]] = {}
        self.norm_stats: dict[str, list] = {}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def output_names(self) -> list[str]:
        return self.class_names

    @property
    def input_files(self) -> list[Path]:
        return [Path(self.cfg.manifest or self.cfg.root)]

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        images = self._list_images()
        splits = self._split(images)
        pixels: dict[str, np.ndarray] = {}
        for name, part in splits.items():  # val and test must match train's channel count
            count = pixels["train"].shape[1] if pixels else None
            pixels[name] = decode_images(part, self.cfg.size, self.cfg.resize, self.cfg.channels,
                                         count)
        self.norm_stats = self._norm_stats(pixels["train"])
        stats = self.norm_stats if self.cfg.normalize else {}
        index = {name: i for i, name in enumerate(self.class_names)}
        labels = {name: np.asarray([index[label] for label in part.labels], dtype=np.int64)
                  for name, part in splits.items()}
        check_classes_in_splits(self.class_names, labels, "change data.split (larger val and "
                                "test fractions) or the manifest's split column")
        for name, part in splits.items():
            self.datasets[name] = ImageDataset(pixels[name], labels[name], stats.get("mean"),
                                               stats.get("std"))
            self.split_ids[name] = part.ids

    def _list_images(self) -> ImageList:
        cfg = self.cfg
        if cfg.manifest is None and cfg.root is None:
            raise BiodlError("data: format images needs data.root (a folder per class) or "
                             "data.manifest (a CSV path,label[,split])")
        if cfg.manifest is None:
            images = list_class_folders(cfg.root)
            self.class_names = sorted(set(images.labels))
            return images
        folders = [p.name for p in class_folders(cfg.root)] if cfg.root is not None else None
        images = read_manifest(cfg.manifest, folders)
        self.class_names = folders or class_order(set(images.labels))
        if len(self.class_names) < 2:
            raise BiodlError(f"data.manifest: only one class ({self.class_names[0]}) in "
                             f"'{cfg.manifest}'; a classifier needs at least two")
        return images

    def _split(self, images: ImageList) -> dict[str, ImageList]:
        given = all(images.splits)
        if any(images.splits) and not given:
            blank = images.ids[images.splits.index("")]
            raise BiodlError(f"data.manifest: the split of '{blank}' is empty but other rows "
                             "have one; give every row train, val or test, or none of them")
        if given:
            refuse_folds(self.cfg.split.folds, "the manifest's split column is the split; "
                         "leave it empty to cross-validate")
            index = {name: np.flatnonzero(np.asarray(images.splits) == name) for name in SPLITS}
        else:
            split = self.cfg.split
            labels = np.asarray(images.labels)
            index = stratified_split(labels, split.val, split.test, split.seed,
                                     split.folds, split.fold)
        for name in SPLITS:
            if len(index[name]) == 0:
                fix = ("add rows with that split value, or leave the split column empty to "
                       "split by data.split" if given else
                       f"use more images or a larger data.split.{name} fraction")
                raise BiodlError(f"data: the {name} split is empty; {fix}")
        return {name: images.subset(index[name]) for name in SPLITS}

    def _norm_stats(self, train: np.ndarray) -> dict[str, list]:
        mean, std = channel_stats(train)
        names = self.cfg.channels or [f"channel{i}" for i in range(train.shape[1])]
        return {"mean": mean, "std": std, "channels": list(names)}

    def model_kwargs(self) -> dict:
        return {"in_channels": int(self.datasets["train"].pixels.shape[1])}

    def input_spec(self) -> InputSpec:
        cfg, stats = self.cfg, self.norm_stats
        return InputSpec(format=cfg.format, kind=Kind.IMAGES, target=self.target,
                         output_names=tuple(self.class_names), channels=tuple(stats["channels"]),
                         size=cfg.size, resize=cfg.resize,
                         mean=tuple(stats["mean"]) if cfg.normalize else (),
                         std=tuple(stats["std"]) if cfg.normalize else ())

    def report(self) -> dict:
        from biodl.data.report import image_report

        return image_report(self.datasets, self.class_names)

    def class_counts(self) -> list[int]:
        labels = self.datasets["train"].labels.numpy()
        return np.bincount(labels, minlength=self.num_classes).tolist()

    def train_dataloader(self) -> DataLoader:
        sampler = self._balanced_sampler() if self.cfg.sampler == "weighted" else None
        return self._loader("train", self.cfg.batch_size, shuffle=sampler is None, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.cfg.eval_batch_size or self.cfg.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", self.cfg.eval_batch_size or self.cfg.batch_size)

    def _balanced_sampler(self) -> WeightedRandomSampler:
        """Each class drawn equally often: an image's weight is 1 / its class's count."""
        labels = self.datasets["train"].labels
        counts = torch.bincount(labels, minlength=self.num_classes).double()
        weights = 1.0 / counts[labels]  # (N,)
        return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True)

    def _loader(self, split: str, batch_size: int, shuffle: bool = False,
                sampler: WeightedRandomSampler | None = None) -> DataLoader:
        workers = self.cfg.num_workers
        return DataLoader(self.datasets[split], batch_size=batch_size, shuffle=shuffle,
                          sampler=sampler, collate_fn=collate, num_workers=workers,
                          persistent_workers=workers > 0)

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        """Augments training batches where they are now (the GPU when training on one)."""
        trainer = getattr(self, "trainer", None)
        if trainer is None or not trainer.training or not is_active(self.cfg.augment):
            return batch
        mean, std = self._stats_on(batch["x"])
        x, y = augment_batch(batch["x"] * std + mean, batch["y"], self.cfg.augment,
                             self.num_classes)  # augmented as [0, 1] values, then normalised
        return {**batch, "x": (x - mean) / std, "y": y}

    def _stats_on(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, C, 1, 1) mean and std on x's device: the identity without data.normalize."""
        channels = x.shape[1]
        stats = self.norm_stats if self.cfg.normalize else {}
        mean = torch.tensor(stats.get("mean", [0.0] * channels), dtype=x.dtype, device=x.device)
        std = torch.tensor(stats.get("std", [1.0] * channels), dtype=x.dtype, device=x.device)
        return mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
