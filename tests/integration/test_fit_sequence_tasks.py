"""2-batch fits of the tagging, seq2seq and language-model pipelines on a Leptospira slice."""

import pytest

from biodl.config import load_config
from biodl.tasks import load_task
from biodl.train import fit

from ..conftest import DATA, ROOT, SMOKE

SLICE = DATA / "leptospira_slice"
QUICK = [*SMOKE, "data.split.val_groups=[NZ_AHMY02000073.1]", "data.split.test_groups=[NZ_AHMY02000072.1]"]


def run(pipeline: str, *overrides: str):
    cfg = load_config(ROOT / "pipelines" / pipeline, [*QUICK, *overrides])
    return fit(cfg, echo=lambda *_: None)


def test_coding_tagger(workdir):
    result = run("leptospira_coding", f"data.genbank={SLICE / 'contigs.gbk'}",
                 "data.window=300", "model.hidden_size=8", "model.conv_channels=[8]")
    assert {"test/f1", "test/mcc", "test/acc", "test/auroc"} <= set(result.test_metrics)
    assert load_task(result.best_checkpoint).kind == "tagging"


def test_protein_seq2seq(workdir):
    result = run("leptospira_protein", f"data.table={SLICE / 'cds_protein.tsv'}",
                 "data.max_source_length=600", "model.hidden_size=16", "data.batch_size=4")
    assert {"test/token_acc", "test/exact_match", "test/identity"} <= set(result.test_metrics)
    assert 0 <= result.test_metrics["test/identity"] <= 1


@pytest.mark.parametrize("tbptt", [None, 50])
def test_language_model(workdir, tbptt):
    result = run("leptospira_lm", f"data.genome={SLICE / 'contigs.gbk'}", "data.window=200",
                 "model.hidden_size=16", "model.num_layers=1", f"task.tbptt_steps={tbptt or 'null'}")
    assert result.test_metrics["test/perplexity"] > 1.0
