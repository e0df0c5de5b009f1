"""A 2-batch fit on windows of a generated genome, read lazily from disk."""

from biodl.config import load_config
from biodl.tasks import load_task
from biodl.train import fit

from ..conftest import DATA
from ..unit.test_genome_windows import fasta, random_seqs


def quiet(*_):
    pass


def test_fit_on_genome_windows_around_bed_peaks(workdir, write):
    genome = write("genome.fa", fasta(random_seqs({f"chr{i}": 4000 for i in range(1, 5)})))
    bed = write("peaks.bed", "".join(f"chr{c}\t{s}\t{s + 20}\n" for c in range(1, 5)
                                     for s in range(100, 3900, 400)))
    cfg = load_config(DATA / "tiny_pipeline.yaml", [
        "data.format=genome", f"data.genome={genome}", f"data.intervals={{peak: {bed}}}",
        "data.window=100", "data.val_chroms=[chr3]", "data.test_chroms=[chr4]",
        "data.batch_size=8", "data.num_workers=1", "data.augment.reverse_complement=true"])
    result = fit(cfg, echo=quiet)
    assert {"test/loss", "test/auroc", "test/mcc"} <= set(result.test_metrics)
    task = load_task(result.best_checkpoint)
    assert task.mode == "binary" and task.hparams.input_spec["length"] == 100
    assert task.hparams.input_spec["output_names"] == ["background", "peak"]
