"""Random augmentation of a whole image batch, on whatever device the batch is on.

Tensor contract: x is (B, C, H, W) float; y is (B,) int64 class indices or (B, K) float class
probabilities. Every random choice is drawn per sample, at once for the batch: there is no
Python loop over images. Pass a `torch.Generator` to make a call repeatable; without one the
global torch RNG (seeded by the training seed) is used.

Order: random resized crop, flips, 90-degree turns, brightness and contrast, erasing, then
mixup or cutmix (one of the two per batch when both are on). Mixup and cutmix return soft
labels y (B, K) that sum to 1; the other transforms leave y as it is. Values are not clamped.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from biodl.config.schema import ImageAugmentConfig

ERASE_AREA = (0.02, 0.33)  # random erasing: area fraction of the rectangle (as torchvision)
ERASE_RATIO = (0.3, 3.3)  # and its aspect ratio h / w
CROP_RATIO = (3 / 4, 4 / 3)  # random resized crop: aspect ratio range (as torchvision)


def is_active(cfg: ImageAugmentConfig) -> bool:
    """Whether `cfg` changes anything."""
    return bool(cfg.hflip or cfg.vflip or cfg.rot90 or cfg.crop_scale or cfg.brightness
                or cfg.contrast or cfg.erasing or cfg.mixup or cfg.cutmix)


def augment_batch(x: torch.Tensor, y: torch.Tensor, cfg: ImageAugmentConfig, num_classes: int,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, C, H, W), y (B,) or (B, K) -> augmented copies; y (B, K) float with mixup/cutmix."""
    if cfg.crop_scale:
        x = random_resized_crop(x, cfg.crop_scale, generator)
    if cfg.hflip:
        x = random_flip(x, -1, generator)
    if cfg.vflip:
        x = random_flip(x, -2, generator)
    if cfg.rot90:
        x = random_rot90(x, generator)
    if cfg.brightness or cfg.contrast:
        x = jitter(x, cfg.brightness, cfg.contrast, generator)
    if cfg.erasing:
        x = random_erasing(x, cfg.erasing, generator)
    if cfg.mixup or cfg.cutmix:
        use_cutmix = cfg.cutmix > 0 and (cfg.mixup <= 0 or uniform(1, x, generator).item() < 0.5)
        mix = cutmix if use_cutmix else mixup
        x, y = mix(x, soft_labels(y, num_classes), cfg.cutmix if use_cutmix else cfg.mixup,
                   generator)
    return x, y


def uniform(n: int, x: torch.Tensor, generator: torch.Generator | None,
            low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """(n,) draws from U(low, high) on x's device, from `generator` wherever it lives."""
    device = generator.device if generator is not None else x.device
    draws = torch.rand(n, generator=generator, device=device).to(x.device)
    return low + (high - low) * draws


def soft_labels(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(B,) int64 -> (B, K) float one-hot; (B, K) probabilities pass through."""
    if y.ndim == 2:
        return y.float()
    return F.one_hot(y, num_classes).float()


def random_flip(x: torch.Tensor, dim: int, generator: torch.Generator | None = None,
                p: float = 0.5) -> torch.Tensor:
    """Each image flipped along `dim` (-1: left-right, -2: up-down) with probability p."""
    flip = uniform(len(x), x, generator) < p  # (B,)
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(dim), x)


def random_rot90(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image turned by k x 90 degrees, k uniform in 0..3 (0 or 2 when not square)."""
    turns = (uniform(len(x), x, generator) * 4).long().clamp(max=3)  # (B,)
    square = x.shape[-1] == x.shape[-2]
    if not square:
        turns = turns - turns % 2
    out = x.clone()
    for k in (1, 2, 3) if square else (2,):  # batched turns, not a loop over images
        chosen = turns == k
        out[chosen] = torch.rot90(x[chosen], k, dims=(-2, -1))
    return out


def random_resized_crop(x: torch.Tensor, scale: tuple[float, float],
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """Per image a box of area fraction U(scale) and aspect ratio in 3/4..4/3, resampled
    bilinearly back to (H, W) with one affine grid for the batch."""
    n = len(x)
    area = uniform(n, x, generator, *scale)
    log_ratio = uniform(n, x, generator, math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1]))
    width = torch.sqrt(area * log_ratio.exp()).clamp(max=1.0)  # fractions of the image side
    height = torch.sqrt(area / log_ratio.exp()).clamp(max=1.0)
    centre_x = (1 - width) * uniform(n, x, generator, -1.0, 1.0)  # in [-1, 1] grid units
    centre_y = (1 - height) * uniform(n, x, generator, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2] = width, centre_x
    theta[:, 1, 1], theta[:, 1, 2] = height, centre_y
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def jitter(x: torch.Tensor, brightness: float, contrast: float,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Brightness: x * (1 + U(-b, b)); contrast: each channel scaled around its own mean by
    1 + U(-c, c). One factor of each kind per image."""
    n = len(x)
    if brightness:
        x = x * (1 + uniform(n, x, generator, -brightness, brightness)).view(-1, 1, 1, 1)
    if contrast:
        factor = (1 + uniform(n, x, generator, -contrast, contrast)).view(-1, 1, 1, 1)
        mean = x.mean(dim=(-2, -1), keepdim=True)  # (B, C, 1, 1)
        x = mean + factor * (x - mean)
    return x


def box_masks(height: int, width: int, box_h: torch.Tensor, box_w: torch.Tensor,
              top: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) bool, true inside each image's box (integer pixel bounds, (B,) each)."""
    rows = torch.arange(height, device=box_h.device).view(1, -1, 1)
    cols = torch.arange(width, device=box_h.device).view(1, 1, -1)
    inside_rows = (rows >= top.view(-1, 1, 1)) & (rows < (top + box_h).view(-1, 1, 1))
    inside_cols = (cols >= left.view(-1, 1, 1)) & (cols < (left + box_w).view(-1, 1, 1))
    return (inside_rows & inside_cols).unsqueeze(1)


def random_erasing(x: torch.Tensor, p: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """With probability p per image, a rectangle (2-33 % of the area) set to zero."""
    n, height, width = len(x), x.shape[-2], x.shape[-1]
    area = uniform(n, x, generator, *ERASE_AREA) * height * width
    ratio = uniform(n, x, generator, math.log(ERASE_RATIO[0]), math.log(ERASE_RATIO[1])).exp()
    box_h = torch.sqrt(area * ratio).round().long().clamp(1, height)
    box_w = torch.sqrt(area / ratio).round().long().clamp(1, width)
    top = (uniform(n, x, generator) * (height - box_h + 1)).long()
    left = (uniform(n, x, generator) * (width - box_w + 1)).long()
    erase = box_masks(height, width, box_h, box_w, top, left)
    erase &= (uniform(n, x, generator) < p).view(-1, 1, 1, 1)
    return x.masked_fill(erase, 0.0)


def beta(n: int, alpha: float, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """(n,) draws from Beta(alpha, alpha), seeded from `generator` or torch's global RNG."""
    device = generator.device if generator is not None else "cpu"
    seed = int(torch.randint(2**62, (), generator=generator, device=device))
    draws = np.random.default_rng(seed).beta(alpha, alpha, size=n)
    return torch.as_tensor(draws, dtype=x.dtype, device=x.device)


def pairing(n: int, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """(n,) a random partner for each image (a permutation of the batch)."""
    device = generator.device if generator is not None else "cpu"
    return torch.randperm(n, generator=generator, device=device).to(x.device)


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float,
          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, C, H, W), y (B, K) -> lam * own + (1 - lam) * partner, lam ~ Beta(alpha, alpha)."""
    partner = pairing(len(x), x, generator)
    lam = beta(len(x), alpha, x, generator)  # (B,)
    mixed = lam.view(-1, 1, 1, 1) * x + (1 - lam.view(-1, 1, 1, 1)) * x[partner]
    return mixed, lam.view(-1, 1) * y + (1 - lam.view(-1, 1)) * y[partner]


def cutmix(x: torch.Tensor, y: torch.Tensor, alpha: float,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A box of the partner pasted into each image; the partner's label weight is the box's
    area fraction (after clipping at the border), so labels match the pixels exactly."""
    n, height, width = len(x), x.shape[-2], x.shape[-1]
    partner = pairing(n, x, generator)
    side = torch.sqrt(1 - beta(n, alpha, x, generator))  # box side as a fraction of the image
    box_h, box_w = (side * height).round().long(), (side * width).round().long()
    centre_y = (uniform(n, x, generator) * height).long()
    centre_x = (uniform(n, x, generator) * width).long()
    top, left = (centre_y - box_h // 2).clamp(min=0), (centre_x - box_w // 2).clamp(min=0)
    bottom = (centre_y - box_h // 2 + box_h).clamp(max=height)
    right = (centre_x - box_w // 2 + box_w).clamp(max=width)
    paste = box_masks(height, width, bottom - top, right - left, top, left)  # (B, 1, H, W)
    pasted = paste.flatten(1).float().mean(dim=1).to(x.dtype).view(-1, 1)  # (B, 1) fraction
    return torch.where(paste, x[partner], x), (1 - pasted) * y + pasted * y[partner]
