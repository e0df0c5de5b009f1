"""Image inputs: folders, manifests, 16-bit TIFF stacks, normalisation, errors, the sampler."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from biodl.config.schema import ImageAugmentConfig, ImageData, SplitConfig
from biodl.data.image_datamodule import ImageDataModule
from biodl.errors import BiodlError

HALVES = SplitConfig(val=0.25, test=0.25, seed=0)  # 4 images per class -> 2 / 1 / 1


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt)
    return buffer.getvalue()


def rgb_folders(write, per_class: dict[str, int], side: int = 8) -> Path:
    """root/<class>/<i>.png: random RGB side x side images."""
    rng = np.random.default_rng(0)
    for name, count in per_class.items():
        for i in range(count):
            image = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
            path = write(f"root/{name}/{i}.png", png_bytes(image))
    return path.parent.parent


def loaded(**kwargs) -> ImageDataModule:
    datamodule = ImageDataModule(ImageData(**kwargs))
    datamodule.setup("fit")
    return datamodule


def test_folder_per_class_rgb_resized(write):
    root = rgb_folders(write, {"b": 4, "a": 4, "c": 4})
    dm = loaded(root=root, size=4, split=HALVES, batch_size=4)
    batch = next(iter(dm.val_dataloader()))
    assert batch["x"].shape == (3, 3, 4, 4) and batch["x"].dtype == torch.float32
    assert batch["y"].tolist() == [0, 1, 2] and batch["y"].dtype == torch.int64
    assert dm.class_names == ["a", "b", "c"] and dm.num_outputs == dm.num_classes == 3
    assert dm.class_counts() == [2, 2, 2] and dm.input_files == [root]
    ids = [i for name in ("train", "val", "test") for i in dm.split_ids[name]]
    assert sorted(ids) == sorted(f"{c}/{i}.png" for c in "abc" for i in range(4))
    train = dm.datasets["train"].__getitems__(list(range(6)))["x"]  # (6, 3, 4, 4)
    assert torch.allclose(train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(train.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-5)
    assert dm.norm_stats["channels"] == ["channel0", "channel1", "channel2"]
    dm.setup("test")  # idempotent
    assert len(dm.datasets["train"]) == 6


def test_manifest_split_column_grayscale(write):
    rows = ["path,label,split"]
    for i, (label, split) in enumerate([("x", "train"), ("y", "train"), ("x", "val"),
                                        ("y", "test"), ("x", "train"), ("y", "val"),
                                        ("x", "test")]):
        write(f"imgs/{i}.png", png_bytes(np.full((6, 6), 10 * i, np.uint8)))
        rows.append(f"imgs/{i}.png,{label},{split}")
    manifest = write("manifest.csv", "\n".join(rows) + "\n")
    dm = loaded(manifest=manifest, size=6, normalize=False)
    assert dm.split_ids == {"train": ["imgs/0.png", "imgs/1.png", "imgs/4.png"],
                            "val": ["imgs/2.png", "imgs/5.png"],
                            "test": ["imgs/3.png", "imgs/6.png"]}
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == (3, 1, 6, 6) and dm.input_files == [manifest]
    assert sorted(batch["x"][:, 0, 0, 0].tolist()) == pytest.approx([0, 10 / 255, 40 / 255])


def write_tiffs(write) -> tuple[Path, dict[str, np.ndarray]]:
    """Eight 5-channel 16-bit 8x8 stacks, half CYX and half YXC, in a manifest with splits
    (both classes in every split)."""
    import tifffile

    rng = np.random.default_rng(1)
    rows, arrays = ["path,label,split"], {}
    for i, split in enumerate(["train", "train", "train", "train", "val", "test", "test",
                               "val"]):
        stack = rng.integers(0, 65536, (5, 8, 8), dtype=np.uint16)  # (C, H, W)
        stack[:, 0, 0] = 65535
        tifffile.imwrite(write(f"t/{i}.tif", b""), stack if i % 2 else stack.transpose(1, 2, 0))
        arrays[f"t/{i}.tif"] = stack
        rows.append(f"t/{i}.tif,{'ab'[i % 2]},{split}")
    return write("tiffs.csv", "\n".join(rows) + "\n"), arrays


def test_tiff_16bit_five_channels_and_stats(write):
    manifest, arrays = write_tiffs(write)
    names = ["dna", "actin", "tubulin", "er", "mito"]
    raw = loaded(manifest=manifest, size=8, channels=names, normalize=False)
    x = raw.datasets["train"].__getitems__([0, 1, 2, 3])["x"]  # (4, 5, 8, 8)
    expected = np.stack([arrays[f"t/{i}.tif"] for i in range(4)]) / 65535.0
    assert x.shape == (4, 5, 8, 8) and torch.allclose(x[:, :, 0, 0], torch.ones(4, 5))
    assert np.allclose(x.numpy(), expected, atol=1e-7)
    dm = loaded(manifest=manifest, size=8, channels=names, normalize=True)
    assert dm.norm_stats["channels"] == names
    assert np.allclose(dm.norm_stats["mean"], expected.mean(axis=(0, 2, 3)), atol=1e-10)
    assert np.allclose(dm.norm_stats["std"], expected.std(axis=(0, 2, 3)), atol=1e-10)
    test = dm.datasets["test"].__getitems__([0])["x"].numpy()  # train stats on every split
    mean, std = (np.asarray(dm.norm_stats[k]).reshape(1, 5, 1, 1) for k in ("mean", "std"))
    assert np.allclose(test, (arrays["t/5.tif"][None] / 65535.0 - mean) / std, atol=1e-5)


def test_corrupt_jpeg_names_the_file(write):
    root = rgb_folders(write, {"a": 4, "b": 4})
    good = png_bytes(np.zeros((8, 8, 3), np.uint8), "JPEG")
    write("root/b/broken.jpg", good[: len(good) // 2])
    with pytest.raises(BiodlError, match=r"broken\.jpg: cannot read the image"):
        loaded(root=root, size=4, split=HALVES)


def test_declared_channels_must_match(write):
    root = rgb_folders(write, {"a": 4, "b": 4})
    with pytest.raises(BiodlError, match=r"\.png: 3 channels, but data.channels declares 2"):
        loaded(root=root, size=4, split=HALVES, channels=["dna", "actin"])


def test_mixed_channel_counts_without_declaration(write):
    root = rgb_folders(write, {"a": 4, "b": 4})
    write("root/b/gray.png", png_bytes(np.zeros((8, 8), np.uint8)))
    with pytest.raises(BiodlError, match=r"gray\.png: 1 channels, but earlier images have 3"):
        loaded(root=root, size=4, split=SplitConfig(val=0.2, test=0.2))


def test_missing_file_names_the_manifest_line(write):
    write("a.png", png_bytes(np.zeros((4, 4), np.uint8)))
    manifest = write("m.csv", "path,label\na.png,x\nnope.png,y\n")
    with pytest.raises(BiodlError, match=r"m\.csv line 3: image 'nope\.png' not found"):
        loaded(manifest=manifest)


def test_unknown_label_when_folders_declare_classes(write):
    root = rgb_folders(write, {"a": 1, "b": 1})
    manifest = write("m.csv", "path,label\nroot/a/0.png,a\nroot/b/0.png,zebra\n")
    with pytest.raises(BiodlError, match=r"line 3: label 'zebra' is not a class folder"):
        loaded(root=root, manifest=manifest)


def test_empty_class_folder_and_empty_split(write, tmp_path):
    root = rgb_folders(write, {"a": 2, "b": 2})
    (root / "c").mkdir()
    with pytest.raises(BiodlError, match=r"class folder '.*c' holds no images"):
        loaded(root=root)
    manifest = write("m.csv", "path,label,split\nroot/a/0.png,a,train\nroot/b/0.png,b,val\n")
    with pytest.raises(BiodlError, match="the test split is empty"):
        loaded(manifest=manifest)
    partial = write("p.csv", "path,label,split\nroot/a/0.png,a,train\nroot/b/0.png,b,\n")
    with pytest.raises(BiodlError, match="the split of 'root/b/0.png' is empty"):
        loaded(manifest=partial)


def test_weighted_sampler_balances_classes(write):
    root = rgb_folders(write, {"common": 18, "rare": 4}, side=2)
    dm = loaded(root=root, size=2, split=SplitConfig(val=0.25, test=0.25), sampler="weighted")
    labels = dm.datasets["train"].labels
    assert labels.tolist().count(1) == 2
    torch.manual_seed(0)
    sampler = dm.train_dataloader().sampler
    drawn = torch.cat([labels[list(sampler)] for _ in range(100)])  # 2,000 draws
    assert abs(drawn.float().mean().item() - 0.5) < 0.05


def test_augmentation_only_while_training(write):
    root = rgb_folders(write, {"a": 4, "b": 4})
    dm = loaded(root=root, size=4, split=HALVES, augment=ImageAugmentConfig(mixup=0.4))
    batch = next(iter(dm.train_dataloader()))
    dm.trainer = SimpleNamespace(training=False)
    assert dm.on_after_batch_transfer(batch, 0) is batch
    dm.trainer = SimpleNamespace(training=True)
    mixed = dm.on_after_batch_transfer(batch, 0)
    assert mixed["x"].shape == batch["x"].shape and mixed["y"].shape == (4, 2)
    assert torch.allclose(mixed["y"].sum(dim=1), torch.ones(4))


def test_pillow_modes_and_depths(write):
    from biodl.data.images import read_image

    rgba = read_image(write("rgba.png", png_bytes(np.zeros((3, 5, 4), np.uint8))))
    deep = read_image(write("deep.png", png_bytes(np.full((3, 5), 4000, np.uint16))))
    buffer = io.BytesIO()
    Image.new("P", (5, 3)).save(buffer, "PNG")
    palette = read_image(write("p.png", buffer.getvalue()))
    assert rgba.shape == (4, 3, 5) and rgba.dtype == np.uint8
    assert deep.shape == (1, 3, 5) and deep.dtype == np.uint16 and deep.max() == 4000
    assert palette.shape == (3, 3, 5) and palette.dtype == np.uint8


def test_center_crop_keeps_the_middle_square():
    from biodl.data.images import fit_size

    tall = torch.arange(48.0).view(1, 1, 8, 6)  # (B, C, H, W)
    assert torch.equal(fit_size(tall, 6, "center_crop"), tall[..., 1:7, :])
    assert fit_size(tall, 3, "resize").shape == (1, 1, 3, 3)


def test_fit_augments_training_batches_only(write):
    import pytorch_lightning as pl

    class Recorder(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3 * 4 * 4, 2)
            self.seen: dict[str, list] = {"train": [], "val": []}

        def step(self, batch: dict, split: str) -> torch.Tensor:
            self.seen[split].append((batch["y"].dtype, tuple(batch["y"].shape)))
            return self.layer(batch["x"].flatten(1)).sum()

        def training_step(self, batch, batch_idx):
            return self.step(batch, "train")

        def validation_step(self, batch, batch_idx):
            self.step(batch, "val")

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    root = rgb_folders(write, {"a": 4, "b": 4})
    dm = ImageDataModule(ImageData(root=root, size=4, split=HALVES, batch_size=2,
                                   augment=ImageAugmentConfig(hflip=True, cutmix=1.0)))
    model = Recorder()
    pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=False,
               enable_checkpointing=False, enable_progress_bar=False,
               enable_model_summary=False, num_sanity_val_steps=0).fit(model, datamodule=dm)
    assert model.seen["train"] == [(torch.float32, (2, 2))] * 2
    assert model.seen["val"] == [(torch.int64, (2,))]
