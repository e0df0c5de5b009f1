"""Cell images: list them (a folder per class or a CSV manifest), decode each once, serve batches.

Tensor contract: one image is (C, H, W). A split is decoded once into one array (N, C, S, S)
kept in its source depth (uint8, uint16, or float32 for float images) and each batch is turned
into float32 in [0, 1] (divided by the depth's maximum: 255 or 65535) and normalised per channel.

Channels: Pillow images give 1 (grayscale), 2 (grayscale + alpha), 3 (RGB) or 4 (RGBA) channels.
A 3-D TIFF stack is CYX or YXC: the channel axis is the one matching the declared channel count
when exactly one does, else the smaller of the first and last axes (a tie reads as CYX).
"""

from __future__ import annotations

import csv
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from biodl.errors import BiodlError
from biodl.vocab import IMAGE_SUFFIXES

TIFF_SUFFIXES = (".tif", ".tiff")
SCALES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(np.float32): 1.0}
PILLOW_MODES = {"1": "L", "P": "RGB", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB",
                "HSV": "RGB", "RGBX": "RGB", "La": "LA", "RGBa": "RGBA"}
CHUNK = 512  # images decoded and resized together: bounds memory for large source images


@dataclass
class ImageList:
    """Images to load: file, class name, split ('' when the input names none) and id."""

    paths: list[Path] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # as written in the manifest, or under root

    def subset(self, index: np.ndarray) -> ImageList:
        pick = [int(i) for i in index]
        return ImageList([self.paths[i] for i in pick], [self.labels[i] for i in pick],
                         [self.splits[i] for i in pick], [self.ids[i] for i in pick])


def class_folders(root: Path) -> list[Path]:
    """The sub-folders of `root`, sorted by name: one per class."""
    if not Path(root).is_dir():
        raise BiodlError(f"data.root: folder '{root}' not found; give a folder holding one "
                         "sub-folder of images per class")
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise BiodlError(f"data.root: '{root}' has {len(folders)} class sub-folders; a "
                         "classifier needs at least two (one sub-folder of images per class)")
    return folders


def list_class_folders(root: Path) -> ImageList:
    """Every image under root/<class>/ (files sorted by name; other files are skipped)."""
    images = ImageList()
    for folder in class_folders(root):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise BiodlError(f"data.root: class folder '{folder}' holds no images "
                             f"({', '.join(IMAGE_SUFFIXES)}); add images or remove the folder")
        for path in files:
            images.paths.append(path)
            images.labels.append(folder.name)
            images.splits.append("")
            images.ids.append(f"{folder.name}/{path.name}")
    return images


def read_manifest(manifest: Path, classes: list[str] | None = None) -> ImageList:
    """A CSV `path,label[,split]`; paths are relative to the manifest's folder.

    `classes`, when given (the class folders of data.root), is the set of allowed labels.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise BiodlError(f"data.manifest: file '{manifest}' not found")
    images = ImageList()
    with open(manifest, newline="") as handle:
        reader = csv.DictReader(handle)
        _check_columns(manifest, reader.fieldnames or [])
        for row in reader:
            where = f"{manifest} line {reader.line_num}"
            path, label = (row["path"] or "").strip(), (row["label"] or "").strip()
            split = (row.get("split") or "").strip().lower()
            _check_row(where, manifest.parent / path, path, label, split, classes)
            images.paths.append(manifest.parent / path)
            images.labels.append(label)
            images.splits.append(split)
            images.ids.append(path)
    if not images.paths:
        raise BiodlError(f"data.manifest: '{manifest}' lists no images; add rows path,label")
    return images


def _check_columns(manifest: Path, columns: list[str]) -> None:
    if "path" not in columns or "label" not in columns:
        raise BiodlError(f"data.manifest: '{manifest}' needs a header with columns "
                         f"path,label[,split]; found {','.join(columns) or 'no header'}")


def _check_row(where: str, file: Path, path: str, label: str, split: str,
               classes: list[str] | None) -> None:
    if not path or not label:
        raise BiodlError(f"{where}: empty path or label; fill it in or remove the line")
    if not file.is_file():
        raise BiodlError(f"{where}: image '{path}' not found (looked for {file}); fix the path "
                         "(relative to the manifest's folder) or remove the line")
    if split not in ("", "train", "val", "test"):
        raise BiodlError(f"{where}: split '{split}' is not train, val or test; fix it")
    if classes is not None and label not in classes:
        raise BiodlError(f"{where}: label '{label}' is not a class folder of data.root "
                         f"({', '.join(classes)}); fix the label or add the folder")


def read_image(path: Path, channels: int | None = None) -> np.ndarray:
    """One image as (C, H, W) uint8, uint16 or float32; any decoding failure names the file."""
    try:
        if Path(path).suffix.lower() in TIFF_SUFFIXES:
            array = _read_tiff(path, channels)
        else:
            array = _read_pillow(path)
    except BiodlError:
        raise
    except Exception as error:  # Pillow and tifffile raise many types for a damaged file
        raise BiodlError(f"{path}: cannot read the image ({type(error).__name__}: {error}); "
                         "replace the file or remove it from the data") from None
    return _storage_dtype(array, path)


def _read_pillow(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        mode = PILLOW_MODES.get(image.mode, image.mode)
        if image.mode == "P" and "transparency" in image.info:
            mode = "RGBA"
        array = np.asarray(image if mode == image.mode else image.convert(mode))
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)  # (C, H, W)


def _read_tiff(path: Path, channels: int | None) -> np.ndarray:
    import tifffile  # only needed for TIFF inputs

    array = tifffile.imread(path)
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        return array[None]
    if array.ndim != 3:
        raise BiodlError(f"{path}: TIFF of shape {array.shape} has more than 3 axes (a z-stack "
                         "or time series?); save one CYX or YXC image per file")
    first, last = array.shape[0] == channels, array.shape[-1] == channels
    channels_last = last if first != last else array.shape[-1] < array.shape[0]
    return np.moveaxis(array, -1, 0) if channels_last else array  # (C, H, W)


def _storage_dtype(array: np.ndarray, path: Path) -> np.ndarray:
    """uint8 and uint16 stay; floats become float32; other integers must fit in uint16."""
    if array.dtype in (np.uint8, np.uint16):
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype.kind not in "ui" or array.size and (array.min() < 0 or array.max() > 65535):
        raise BiodlError(f"{path}: {array.dtype} pixels (outside 0..65535) are not supported; "
                         "save the image as 8- or 16-bit unsigned integers, or as float")
    return array.astype(np.uint16)


def decode_images(images: ImageList, size: int, resize: str, channels: list[str] | None = None,
                  expected: int | None = None) -> np.ndarray:
    """Every image decoded once and resized: (N, C, size, size) in a shared source depth.

    Every image must have len(channels) channels if named, else `expected`, else as the first.
    """
    expected = len(channels) if channels else expected
    chunks: list[np.ndarray] = []
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(images.paths), CHUNK):
            paths = images.paths[start:start + CHUNK]
            arrays = list(pool.map(read_image, paths, [expected] * len(paths)))
            expected = _check_channels(paths, arrays, expected, channels)
            chunks.append(_fit_chunk(arrays, size, resize))
    return np.concatenate(_to_depth(chunks))


def _check_channels(paths: list[Path], arrays: list[np.ndarray], expected: int | None,
                    names: list[str] | None) -> int:
    expected = expected or len(arrays[0])
    for path, array in zip(paths, arrays):
        if len(array) == expected:
            continue
        if names:
            raise BiodlError(f"{path}: {len(array)} channels, but data.channels declares "
                             f"{expected} ({', '.join(names)}); fix data.channels or the image")
        raise BiodlError(f"{path}: {len(array)} channels, but earlier images have {expected}; "
                         "convert the images to one channel count, or declare data.channels")
    return expected


def _fit_chunk(arrays: list[np.ndarray], size: int, resize: str) -> np.ndarray:
    """Images of a chunk grouped by shape and depth, each group resized as one batch."""
    groups: dict[tuple, list[int]] = {}
    for i, array in enumerate(arrays):
        groups.setdefault((array.shape, array.dtype), []).append(i)
    depth = common_depth([dtype for _, dtype in groups])
    out = np.empty((len(arrays), len(arrays[0]), size, size), depth)  # (B, C, S, S)
    for (shape, dtype), members in groups.items():
        stack = np.stack([arrays[i] for i in members])  # (b, C, H, W)
        if shape[1:] == (size, size) and dtype == depth:
            out[members] = stack  # already the right size: keep the exact pixels
            continue
        unit = torch.from_numpy(stack.astype(np.float32) / SCALES[dtype])  # [0, 1]
        fitted = fit_size(unit, size, resize).numpy() * SCALES[depth]
        out[members] = fitted if depth.kind == "f" else np.clip(np.rint(fitted), 0, SCALES[depth])
    return out


def fit_size(images: torch.Tensor, size: int, resize: str = "resize") -> torch.Tensor:
    """(B, C, H, W) float -> (B, C, size, size); center_crop first cuts the largest square."""
    height, width = images.shape[-2:]
    if resize == "center_crop":
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        images = images[..., top:top + side, left:left + side]
    if tuple(images.shape[-2:]) == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)


def common_depth(dtypes: list[np.dtype]) -> np.dtype:
    """uint8 alone stays uint8; uint8 with uint16 -> uint16; any float -> float32."""
    kinds = set(dtypes)
    if len(kinds) == 1:
        return np.dtype(dtypes[0])
    return np.dtype(np.float32 if np.dtype(np.float32) in kinds else np.uint16)


def _to_depth(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Chunks in one depth, values rescaled: 255 -> 65535 (x 257), or to [0, 1] for float."""
    depth = common_depth([a.dtype for a in arrays])
    if depth.kind == "f":
        return [a.astype(np.float32) / SCALES[a.dtype] for a in arrays]
    return [a.astype(depth) * (257 if a.dtype != depth else 1) for a in arrays]


def channel_stats(pixels: np.ndarray, chunk: int = 1024) -> tuple[list[float], list[float]]:
    """Per-channel mean and (population) std of (N, C, H, W) pixels scaled to [0, 1].

    A constant channel gets std 1, so normalising it cannot divide by zero.
    """
    total = np.zeros(pixels.shape[1])
    squares = np.zeros(pixels.shape[1])
    for start in range(0, len(pixels), chunk):
        values = pixels[start:start + chunk].astype(np.float64) / SCALES[pixels.dtype]
        total += values.sum(axis=(0, 2, 3))
        squares += np.square(values).sum(axis=(0, 2, 3))
    count = pixels.shape[0] * pixels.shape[2] * pixels.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    std[std < 1e-8] = 1.0
    return mean.tolist(), std.tolist()


class ImageDataset(Dataset):
    """Batches of {"x": (B, C, S, S) float32, "y": (B,) int64} indexed out of one array."""

    def __init__(self, pixels: np.ndarray, labels: np.ndarray,
                 mean: list[float] | None = None, std: list[float] | None = None):
        self.pixels = pixels  # (N, C, S, S) uint8, uint16 or float32
        self.labels = torch.as_tensor(labels, dtype=torch.int64)
        channels = pixels.shape[1]
        mean_t = torch.tensor(mean or [0.0] * channels).view(1, -1, 1, 1)
        std_t = torch.tensor(std or [1.0] * channels).view(1, -1, 1, 1)
        self.gain = 1.0 / (SCALES[pixels.dtype] * std_t)  # x / scale, then (x - mean) / std
        self.offset = -mean_t / std_t

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(indices)
        x = torch.from_numpy(self.pixels[index].astype(np.float32))  # (B, C, S, S)
        return {"x": x.mul_(self.gain).add_(self.offset), "y": self.labels[torch.from_numpy(index)]}

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        batch = self.__getitems__([index])
        return {key: value[0] for key, value in batch.items()}
