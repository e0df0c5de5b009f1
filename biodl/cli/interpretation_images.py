"""`biodl explain` on an image run: Grad-CAM and saliency overlays of correct and misclassified
test images, and the first-layer filter grid, written to a folder and into the run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from biodl.errors import BiodlError

IMAGE_METHODS = ("deeplift-shap", "grad-cam", "saliency")  # deeplift-shap: the default, ignored


def explain_images(source: str, trained, inputs: Optional[Path], method: str,
                   top_k: Optional[int], samples: int, output: Optional[Path],
                   force: bool) -> None:
    from biodl.cli.explain_outputs import destinations, log_run
    from biodl.interpret import images

    if top_k is not None:
        raise BiodlError("--top-k: sequence logos are for DNA models; this is an image model "
                         "(it gets Grad-CAM and saliency overlays); drop --top-k")
    if method not in IMAGE_METHODS or inputs is not None:
        raise BiodlError("explain on an image run: Grad-CAM and saliency of its test split; "
                         "give no INPUTS and no --method other than grad-cam or saliency")
    task, spec, checkpoint = trained
    run_id, folder, destination = destinations(source, "gradcam", output, force)
    pixels, labels = test_images(checkpoint)
    model = task.model.eval()
    x = torch_tensor(pixels)
    probs, single = _probabilities(model, x)  # single: one logit (binary)
    predicted = probs.argmax(axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(spec.output_names)
    for kind, rows in (("correct", np.flatnonzero(predicted == labels)),
                       ("misclassified", np.flatnonzero(predicted != labels))):
        rows = rows[:samples]
        if not len(rows):
            continue
        chosen = torch_tensor(pixels[rows])
        classes = torch_tensor(predicted[rows] if single is False else 0 * predicted[rows]).long()
        cams = images.grad_cam(model, chosen, classes).numpy()
        sal = images.saliency_map(model, chosen, classes).numpy()
        titles = [f"{names[labels[i]]} -> {names[predicted[i]]} ({probs[i].max():.2f})"
                  for i in rows]
        images.plot_overlays(folder / f"{kind}.png", pixels[rows], cams, sal, titles,
                             f"{kind} test images: true -> predicted; maps of the predicted "
                             "class's logit")
    images.plot_filter_grid(folder / "first_layer_filters.png", images.first_filters(model))
    typer.echo(f"Grad-CAM and saliency of {len(labels)} test images "
               f"({int((predicted != labels).sum())} misclassified) and the first-layer "
               f"filters: {folder}")
    log_run(run_id, folder, destination)


def torch_tensor(array: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(array))


def _probabilities(model, x) -> tuple[np.ndarray, bool]:
    import torch

    with torch.inference_mode():
        logits = torch.cat([model(x[i:i + 64]) for i in range(0, len(x), 64)])
    if logits.shape[1] == 1:  # binary: the positive-class logit
        p = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p, p], dim=1).numpy(), True
    return logits.softmax(dim=1).numpy(), False


def test_images(checkpoint: Path) -> tuple[np.ndarray, np.ndarray]:
    """The normalised test images (as the model sees them) and their labels."""
    import torch

    from biodl.config import config_from_yaml
    from biodl.data.formats import build_datamodule

    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True).get("biodl_config")
    if recorded is None:
        raise BiodlError(f"{checkpoint}: holds no pipeline config, so no test split")
    datamodule = build_datamodule(config_from_yaml(recorded, [], f"{checkpoint} config").data)
    datamodule.setup("fit")
    dataset = datamodule.datasets["test"]
    batch = dataset.__getitems__(list(range(len(dataset))))
    return batch["x"].numpy(), np.asarray(datamodule.split_labels("test"))
