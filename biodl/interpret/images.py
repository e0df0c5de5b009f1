"""Explaining image classifiers: Grad-CAM, saliency maps and the first-layer filters.

Contract: `model(x) -> (N, K)` logits for `x` `(N, C, H, W)`; maps are `(N, H, W)` in [0, 1].
- `grad_cam` (Selvaraju et al. 2017): the ReLU of the last conv block's feature maps weighted by
  the spatial mean of the target logit's gradient, upsampled (bilinear) to the input size;
- `saliency_map`: the largest |gradient| of the target logit over the channels, per pixel;
- `first_filters`: the first conv's weights `(F, C, k, k)`, for the filter grid.
Each map is scaled to its own maximum (a blank map stays 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from biodl.errors import BiodlError


def last_conv_block(model: nn.Module) -> nn.Module:
    """The module whose output Grad-CAM weighs: ResNet's layer4, else the last Conv2d."""
    if hasattr(model, "layer4"):
        return model.layer4
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise BiodlError(f"explain: {type(model).__name__} has no 2-D convolution for Grad-CAM")
    return convs[-1]


def _scaled(maps: Tensor) -> Tensor:
    top = maps.flatten(1).amax(dim=1).clamp_min(1e-12)
    return maps / top[:, None, None]


def grad_cam(model: nn.Module, x: Tensor, targets: Tensor) -> Tensor:
    """(N, H, W) Grad-CAM maps of logit `targets[i]` of image i."""
    layer, captured = last_conv_block(model), {}

    def keep(module, inputs, output):
        output.retain_grad()
        captured["maps"] = output

    handle = layer.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            logits = model(x.detach().requires_grad_())
            logits.gather(1, targets[:, None]).sum().backward()
    finally:
        handle.remove()
    maps = captured["maps"]  # (N, F, h, w)
    weights = maps.grad.mean(dim=(2, 3), keepdim=True)  # (N, F, 1, 1)
    cam = torch.relu((weights * maps).sum(dim=1, keepdim=True)).detach()  # (N, 1, h, w)
    cam = nn.functional.interpolate(cam, size=x.shape[-2:], mode="bilinear",
                                    align_corners=False)[:, 0]
    return _scaled(cam)


def saliency_map(model: nn.Module, x: Tensor, targets: Tensor) -> Tensor:
    """(N, H, W) max over channels of |d logit[target] / d pixel|."""
    x = x.detach().requires_grad_()
    with torch.enable_grad():
        model(x).gather(1, targets[:, None]).sum().backward()
    return _scaled(x.grad.abs().amax(dim=1))


def first_filters(model: nn.Module) -> np.ndarray:
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise BiodlError(f"explain: {type(model).__name__} has no 2-D convolution")
    return convs[0].weight.detach().cpu().numpy()  # (F, C, k, k)


def displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, 3) or (H, W) in [0, 1]: the first three channels, own range."""
    image = image[:3].astype(np.float32)
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else image * 0
    return image[0] if len(image) < 3 else image.transpose(1, 2, 0)


def plot_overlays(path: Path, images: np.ndarray, cams: np.ndarray, saliency: np.ndarray,
                  titles: list[str], heading: str) -> None:
    """One row per image: the image, Grad-CAM over it, saliency over it."""
    from biodl.plotting import pyplot, save

    plt = pyplot()
    figure, axes = plt.subplots(len(images), 3, figsize=(6.6, 2.2 * len(images)), squeeze=False,
                                layout="constrained")
    for row, (image, cam, sal, title) in enumerate(zip(images, cams, saliency, titles)):
        shown = displayable(image)
        for column, (overlay, name) in enumerate(((None, title), (cam, "Grad-CAM"),
                                                  (sal, "saliency"))):
            ax = axes[row, column]
            ax.imshow(shown, cmap="gray")
            if overlay is not None:
                ax.imshow(overlay, cmap="jet", alpha=0.45, vmin=0, vmax=1)
            ax.set_title(name, fontsize=8)
            ax.axis("off")
    figure.suptitle(heading, fontsize=10)
    save(figure, path)


def plot_filter_grid(path: Path, filters: np.ndarray) -> None:
    """The first conv's filters, one tile each (first three input channels as RGB)."""
    from biodl.plotting import pyplot, save

    plt = pyplot()
    columns = 8
    rows = -(-len(filters) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, weight in zip(axes.flat, filters):
        tile = weight[:3] if weight.shape[0] >= 3 else weight[:1].repeat(3, axis=0)
        tile = (tile - tile.min()) / max(float(tile.max() - tile.min()), 1e-12)
        ax.imshow(np.transpose(tile, (1, 2, 0)), interpolation="nearest")
    figure.suptitle(f"first-layer filters ({filters.shape[0]} of {filters.shape[1]} channels x "
                    f"{filters.shape[2]}x{filters.shape[3]})", fontsize=10)
    save(figure, path)
