import math

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from biodl.config.data import GenbankTagsData, GroupSplitConfig, LanguageData, PairsData
from biodl.config.schema import SchedulerConfig, TaskConfig
from biodl.data.labelled_windows import GenbankTagsDataModule, LanguageDataModule
from biodl.data.pairs import PairsDataModule
from biodl.errors import BiodlError
from biodl.models.lm import DNALM
from biodl.models.rnn import RNNTagger
from biodl.models.seq2seq import Seq2Seq
from biodl.vocab import EOS, PAD
from biodl.tasks import lm, seq2seq, tagging
from biodl.tasks.lm import LanguageModelTask, Perplexity, next_token_nll
from biodl.tasks.seq2seq import (Seq2SeqTask, decoded_scores, identity, target_rows,
                                 token_hits)
from biodl.tasks.tagging import TaggingTask
from tests.unit.test_genbank import genbank_record

SPLIT = GroupSplitConfig(val_groups=["c2"], test_groups=["c3"])


def test_tagging_loss_ignores_padding():
    task = TaggingTask(RNNTagger(num_outputs=2, hidden_size=4))
    logits = torch.randn(2, 5, 2)
    y = torch.tensor([[0, 1, 1, -100, -100], [1, 0, 0, 0, -100]])
    loss = task.loss(logits, y)
    changed = logits.clone()
    changed[y == -100] = torch.tensor([50.0, -50.0])
    assert task.loss(changed, y) == loss
    valid = y != -100
    assert torch.isclose(loss, F.cross_entropy(logits[valid], y[valid]))


def test_token_accuracy_exact_match_and_identity_by_hand():
    tgt_out = torch.tensor([[5, 6, 7, EOS], [8, EOS, PAD, PAD]])
    guesses = torch.tensor([[5, 6, 9, EOS], [8, 3, 4, 4]])  # 3 of 4, then 1 of 2 (PAD skipped)
    assert token_hits(F.one_hot(guesses, 10).float(), tgt_out) == (4, 6)
    assert target_rows(tgt_out) == [[5, 6, 7], [8]]
    assert identity([5, 6, 7], [5, 6, 7]) == 1.0
    assert identity([5, 6], [5, 6, 7]) == pytest.approx(2 / 3)  # over the longer
    assert identity([5, 9, 7, 7], [5, 6, 7]) == pytest.approx(2 / 4)
    assert identity([], []) == 1.0 and identity([4], []) == 0.0
    scores = decoded_scores([[5, 6, 7], [8, 8]], [[5, 6, 7], [8]])
    assert scores == {"exact_match": [1.0, 0.0], "identity": [1.0, 0.5]}


def test_decode_limit_counts_validation_sequences_per_epoch():
    task = Seq2SeqTask(Seq2Seq(hidden_size=4), decode_limit=4)
    assert [task._to_decode("val", 3) for _ in range(3)] == [3, 1, 0]
    assert task._to_decode("test", 3) == 3
    task.on_validation_epoch_start()
    assert task._to_decode("val", 3) == 3


def test_perplexity_of_uniform_logits_over_the_four_bases_is_four():
    tokens = torch.tensor([[1, 2, 3, 4, 1, 0], [4, 3, 2, 0, 0, 0]])
    logits = torch.full((2, 6, 6), -1e4)
    logits[..., 1:5] = 0.0  # uniform over A, C, G, T
    metric = Perplexity()
    for row in range(2):  # pooled over batches: 4 then 2 predicted tokens
        nll, count, _ = next_token_nll(logits[row:row + 1, :-1], tokens[row:row + 1, 1:])
        metric.update(nll, count)
    assert metric.compute().item() == pytest.approx(4.0)
    task = LanguageModelTask(DNALM(hidden_size=4, num_layers=1))
    assert task.loss(logits, tokens).item() == pytest.approx(math.log(4))


def test_task_options_are_checked():
    with pytest.raises(BiodlError, match="unknown seq2seq metric 'identiy'; did you mean"):
        Seq2SeqTask(Seq2Seq(hidden_size=4), metrics=["identiy"])
    with pytest.raises(BiodlError, match="tbptt_steps.*has none"):
        LanguageModelTask(torch.nn.Linear(2, 2), tbptt_steps=4)
    with pytest.raises(BiodlError, match="task.loss: mse does not fit a lm task"):
        lm.build(TaskConfig(loss="mse"), DNALM(hidden_size=4), {}, {})


# ---- two-batch fits of each task on tiny data ---------------------------------------------

def tagging_case(write):
    text = "".join(genbank_record(f"c{i}", "ACGTACGTACGTAAAT", [("CDS", "3..8")])
                   for i in (1, 2, 3))
    split = GroupSplitConfig(val_groups=["c2.1"], test_groups=["c3.1"])
    dm = GenbankTagsDataModule(GenbankTagsData(genbank=write("g.gbk", text), window=6,
                                               batch_size=2, split=split))
    model = RNNTagger(input="onehot", num_outputs=2, hidden_size=8)
    cfg = TaskConfig(class_weights="balanced")
    return dm, model, tagging.build(cfg, model, {"name": "rnn_tagger", "kwargs": {}},
                                           dm.input_spec().to_dict(), dm.class_counts()), [
        "val/acc", "val/f1", "val/mcc", "val/auroc", "val/loss"]


def seq2seq_case(write):
    rng = np.random.default_rng(0)
    rows = ["contig\tcds\tprotein"]
    for i in range(8):
        codons = int(rng.integers(2, 6))
        rows.append(f"c{1 + i % 4}\t{''.join(rng.choice(list('ACGT'), 3 * codons))}\t"
                    f"{''.join(rng.choice(list('MKAW'), codons - 1))}*")
    dm = PairsDataModule(PairsData(table=write("p.tsv", "\n".join(rows)), batch_size=2,
                                   split=SPLIT))
    model = Seq2Seq(embedding_dim=8, hidden_size=16)
    cfg = TaskConfig(teacher_forcing=0.5, beam_size=2)
    task = seq2seq.build(cfg, model, {"name": "seq2seq", "kwargs": {}}, {}, decode_limit=1)
    return dm, model, task, ["val/token_acc", "val/exact_match", "val/identity", "val/loss"]


def lm_case(write):
    rng = np.random.default_rng(0)
    fasta = "".join(f">c{i}\n{''.join(rng.choice(list('ACGT'), 40))}\n" for i in (1, 2, 3, 4))
    dm = LanguageDataModule(LanguageData(genome=write("g.fa", fasta), window=16, batch_size=2,
                                         split=SPLIT))
    model = DNALM(embedding_dim=4, hidden_size=16, num_layers=1)
    cfg = TaskConfig(tbptt_steps=5, scheduler=SchedulerConfig(name="step", step_size=1))
    task = lm.build(cfg, model, {"name": "dna_lm", "kwargs": {}}, {}, gradient_clip_val=1.0)
    return dm, model, task, ["val/perplexity", "val/acc", "val/loss"]


@pytest.mark.parametrize("case", [tagging_case, seq2seq_case, lm_case])
def test_two_batch_fit_logs_every_metric_and_reloads(case, write, tmp_path):
    dm, model, task, logged = case(write)
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    before = [p.detach().clone() for p in model.parameters()]
    trainer.fit(task, datamodule=dm)
    assert set(logged) <= set(trainer.callback_metrics)
    assert "train/loss" in trainer.callback_metrics
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    trainer.save_checkpoint(tmp_path / "task.ckpt")
    checkpoint = torch.load(tmp_path / "task.ckpt", weights_only=True)
    assert checkpoint["biodl_task"] == task.kind
    reloaded = type(task).load_from_checkpoint(tmp_path / "task.ckpt", model=model)
    assert reloaded.hparams["model_spec"] == task.hparams["model_spec"]


def test_lm_tbptt_steps_the_optimiser_once_per_chunk(write):
    dm, model, task, _ = lm_case(write)  # windows of 16 tokens: 15 targets in chunks of 5
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(task, datamodule=dm)
    assert trainer.optimizers[0].state_dict()["state"][0]["step"].item() == 3


@pytest.mark.parametrize("size,window,stride,owners", [
    (7, 3, 2, [0, 0, 0, 1, 1, 2, 2]),  # ties (bases 2 and 4) go to the earlier window
    (6, 3, 2, [0, 0, 0, 1, 2, 2]),  # the last window is shorter: its own centre counts
    (6, 2, 4, [0, 0, -1, -1, 1, 1]),  # stride > window: bases 2-3 are in no window
])
def test_each_base_takes_the_window_it_is_most_central_in(size, window, stride, owners):
    from biodl.data.labelled_windows import window_starts
    from biodl.inference.sequences import BaseTable

    table = BaseTable(size, 1)
    for k, start in enumerate(window_starts(size, window, stride).tolist()):
        n = min(window, size - start)
        table.add(start, np.full((n, 1), k, dtype=np.float32))
    assert np.where(table.covered, table.probs[:, 0], -1).tolist() == owners


@pytest.mark.parametrize("beam", [1, 2])
def test_prediction_decodes_a_source_the_same_alone_and_in_a_batch(beam):
    from biodl.inference.sequences import decode, decode_limits

    torch.manual_seed(0)
    task = Seq2SeqTask(Seq2Seq(embedding_dim=8, hidden_size=8), beam_size=beam).eval()
    lengths = torch.tensor([30, 12, 7])
    src = torch.randint(1, 5, (3, 30)) * (torch.arange(30)[None, :] < lengths[:, None])
    together = decode(task, src, lengths)
    alone = [decode(task, src[i:i + 1, :n], lengths[i:i + 1])[0]
             for i, n in enumerate(lengths.tolist())]
    assert together == alone
    assert decode_limits(lengths) == [22, 10, 6]
    assert all(len(row) <= limit for row, limit in zip(alone, [22, 10, 6]))
