"""Every FASTA, table and image pipeline, as written, fitted for 2 batches on a tiny slice.

The pipeline's own model, task, augmentation and callbacks run; only the data paths point at
the slices in tests/data (or at generated images) and the run is cut to 2 batches. The
sequence-task and epidemic pipelines have their own tests (test_fit_sequence_tasks.py,
test_fit_sir.py).
"""

import numpy as np
import pytest
from PIL import Image

from biodl.config import load_config
from biodl.tasks import load_task
from biodl.train import fit

from ..conftest import DATA, ROOT, SMOKE

QUICK = SMOKE
GUE = DATA / "gue_tf0"


def pipelines_of(*formats: str) -> list[str]:
    names = []
    for folder in sorted((ROOT / "pipelines").iterdir()):
        text = (folder / "pipeline.yaml").read_text()
        if any(f"format: {fmt}\n" in text for fmt in formats):
            names.append(folder.name)
    return names


def first_in_make_test(names: list[str], keep: tuple[str, ...]) -> list:
    """`make test` fits the pipelines in `keep`; the rest of the family (the same configs on
    other data) are marked slow, so CI fits every pipeline."""
    return [name if name in keep else pytest.param(name, marks=pytest.mark.slow)
            for name in names]


def fasta_slices(pipeline: str) -> list[str]:
    """The pipeline's two classes, in its order, read from the E. coli slices."""
    classes = list(load_config(ROOT / "pipelines" / pipeline).data.classes)
    assert len(classes) == 2, classes
    files = (DATA / "ecoli_nonprom_60.fa", DATA / "ecoli_prom_30.fa")
    return [f"data.classes.{name}={path}" for name, path in zip(classes, files)]


@pytest.mark.parametrize("pipeline", first_in_make_test(
    pipelines_of("fasta"), ("ecoli_promoters", "oct4_mafk", "promoters_arabidopsis_tata")))
def test_fasta_pipeline_fits_two_batches(workdir, pipeline):
    cfg = load_config(ROOT / "pipelines" / pipeline,
                      [*QUICK, *fasta_slices(pipeline), "data.length=81", "data.batch_size=16"])
    result = fit(cfg, echo=lambda *_: None)
    assert {"test/auroc", "test/mcc", "test/sn", "test/sp"} <= set(result.test_metrics)
    assert load_task(result.best_checkpoint).mode == "binary"


@pytest.mark.parametrize("pipeline", first_in_make_test(
    pipelines_of("table"), ("gue_tf0", "gue_prom_core_tata")))
def test_table_pipeline_fits_two_batches(workdir, pipeline):
    cfg = load_config(ROOT / "pipelines" / pipeline, [
        *QUICK, f"data.train={GUE / 'train.csv'}", f"data.val={GUE / 'dev.csv'}",
        f"data.test={GUE / 'test.csv'}", "data.batch_size=16"])
    result = fit(cfg, echo=lambda *_: None)
    assert {"test/auroc", "test/mcc"} <= set(result.test_metrics)


@pytest.mark.parametrize("pipeline", pipelines_of("images"))
def test_image_pipeline_fits_two_batches(workdir, pipeline):
    rng = np.random.default_rng(0)
    rows = ["path,label,split"]
    for i in range(36):
        label = ("neutrophil", "platelet", "lymphocyte")[i % 3]
        image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(image).save(workdir / f"{i}.jpg")
        rows.append(f"{i}.jpg,{label},{('train', 'train', 'val', 'test')[i % 4]}")
    (workdir / "manifest.csv").write_text("\n".join(rows) + "\n")
    cfg = load_config(ROOT / "pipelines" / pipeline,
                      [*QUICK, f"data.manifest={workdir / 'manifest.csv'}", "data.batch_size=8"])
    result = fit(cfg, echo=lambda *_: None)
    assert {"test/acc", "test/mcc"} <= set(result.test_metrics)
    task = load_task(result.best_checkpoint)
    assert task.model.fc.out_features == 3 and task.hparams.input_spec["size"] == cfg.data.size


def test_every_pipeline_is_covered_by_a_tiny_fit():
    here = set(pipelines_of("fasta", "table", "images"))
    elsewhere = {"leptospira_coding", "leptospira_protein", "leptospira_lm", "sir_lstm",
                 "sir_gru", "coverage_synthetic"}  # test_fit_sequence_tasks.py,
    # test_fit_sir.py, test_fit_coverage.py
    assert here | elsewhere == {p.name for p in (ROOT / "pipelines").iterdir() if p.is_dir()}
    assert not here & elsewhere
