"""Batch augmentation: one exact property per transform."""

from __future__ import annotations

import torch

from biodl.config.schema import ImageAugmentConfig
from biodl.data.image_augment import augment_batch


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 8, channels: int = 2, side: int = 6) -> torch.Tensor:
    return torch.rand(n, channels, side, side, generator=seeded(99))  # (N, C, S, S)


def constant_images(n: int) -> torch.Tensor:
    """Image i is filled with the value i + 1."""
    return (torch.arange(n, dtype=torch.float32) + 1).view(-1, 1, 1, 1).expand(n, 2, 8, 8)


def test_flips_twice_are_the_identity():
    x, y = images(), torch.arange(8)
    cfg = ImageAugmentConfig(hflip=True, vflip=True)
    once, same_y = augment_batch(x, y, cfg, 8, seeded(3))
    twice, _ = augment_batch(once, y, cfg, 8, seeded(3))
    assert not torch.equal(once, x) and torch.equal(twice, x) and same_y is y


def test_rot90_four_times_is_the_identity():
    x, y = images(), torch.arange(8)
    cfg = ImageAugmentConfig(rot90=True)
    out = x
    for _ in range(4):
        out, _ = augment_batch(out, y, cfg, 8, seeded(5))
        assert out.shape == x.shape
    assert torch.equal(out, x)
    wide = torch.rand(4, 1, 2, 3)
    assert augment_batch(wide, y[:4], cfg, 8, seeded(1))[0].shape == (4, 1, 2, 3)


def test_mixup_labels_sum_to_one_and_mix_the_right_pair():
    x, y = constant_images(8), torch.arange(8)
    out, soft = augment_batch(x, y, ImageAugmentConfig(mixup=0.4), 8, seeded(7))
    assert soft.shape == (8, 8) and soft.dtype == torch.float32
    assert torch.allclose(soft.sum(dim=1), torch.ones(8))
    assert ((soft > 0).sum(dim=1) <= 2).all()
    value = (soft * (torch.arange(8) + 1)).sum(dim=1)  # the label-weighted image value
    assert torch.allclose(out[:, 0, 0, 0], value, atol=1e-5)
    assert torch.allclose(out, out[:, :1, :1, :1].expand_as(out))


def test_cutmix_label_weight_is_the_pasted_area():
    x, y = constant_images(16), torch.arange(16)
    out, soft = augment_batch(x, y, ImageAugmentConfig(cutmix=1.0), 16, seeded(11))
    assert torch.allclose(soft.sum(dim=1), torch.ones(16))
    pasted = (out != x).float().mean(dim=(1, 2, 3))  # (B,) area fraction from the partner
    assert torch.allclose(pasted, 1 - soft[torch.arange(16), y], atol=1e-6)
    assert 0 < pasted.max() < 1


def test_erasing_zeroes_one_rectangle():
    x = torch.ones(6, 3, 10, 10)
    out, _ = augment_batch(x, torch.zeros(6, dtype=torch.long), ImageAugmentConfig(erasing=1.0),
                           2, seeded(2))
    for image in out:
        zero = image[0] == 0  # (H, W); every channel is erased alike
        rows, cols = zero.any(dim=1).nonzero(), zero.any(dim=0).nonzero()
        box = image[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert zero.any() and (box == 0).all() and (image == 0).sum() == box.numel()


def test_random_resized_crop_keeps_shape_and_range():
    x = images(8, 3, 12)
    out, _ = augment_batch(x, torch.arange(8), ImageAugmentConfig(crop_scale=(0.3, 0.6)), 8,
                           seeded(4))
    assert out.shape == x.shape and not torch.allclose(out, x)
    assert out.min() >= x.min() and out.max() <= x.max()
    flat = torch.full((2, 1, 5, 5), 0.25)
    assert torch.allclose(augment_batch(flat, torch.arange(2), ImageAugmentConfig(
        crop_scale=(0.1, 0.2)), 2, seeded(0))[0], flat)


def test_brightness_scales_and_contrast_keeps_the_mean():
    x = images()
    bright, _ = augment_batch(x, torch.arange(8), ImageAugmentConfig(brightness=0.3), 8, seeded(0))
    ratio = bright / x  # (B, C, H, W): one factor per image within 1 +- 0.3
    assert torch.allclose(ratio, ratio[:, :1, :1, :1].expand_as(ratio), atol=1e-5)
    assert ((ratio - 1).abs() <= 0.3 + 1e-6).all()
    flat, _ = augment_batch(x, torch.arange(8), ImageAugmentConfig(contrast=0.5), 8, seeded(0))
    assert torch.allclose(flat.mean(dim=(2, 3)), x.mean(dim=(2, 3)), atol=1e-6)


def test_global_rng_repeats_with_the_seed():
    x, y = images(), torch.arange(8)
    cfg = ImageAugmentConfig(hflip=True, rot90=True, crop_scale=(0.5, 1.0), brightness=0.2,
                             contrast=0.2, erasing=0.5, mixup=0.2, cutmix=1.0)
    torch.manual_seed(1)
    first = augment_batch(x, y, cfg, 8)
    torch.manual_seed(1)
    second = augment_batch(x, y, cfg, 8)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert first[0].shape == x.shape and first[1].shape == (8, 8)
