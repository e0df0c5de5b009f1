"""Sampling from the DNA language model: alphabet, seeding, temperature, carried state, CLI."""

import pytest
import torch
from typer.testing import CliRunner

from biodl.cli import app
from biodl.errors import BiodlError
from biodl.inference.sample import (BASE_TOKENS, base_probabilities, check_options, draw, sample,
                                    sample_tokens, steps)
from biodl.models import build_model


runner = CliRunner()


def tiny(cell: str = "lstm", sharpen: float = 1.0):
    torch.manual_seed(0)
    model = build_model("dna_lm", embedding_dim=4, hidden_size=8, num_layers=2, cell=cell)
    with torch.no_grad():
        model.out.weight.mul_(sharpen)  # sharper logits keep argmax ties far apart
    return model.eval()


def test_shapes_and_alphabet_even_when_pad_and_n_are_likeliest():
    model = tiny()
    with torch.no_grad():
        model.out.bias[[0, 5]] = 100.0  # PAD and N: never drawn whatever their logits
    tokens = sample_tokens(model, 3, 10, seed=1)
    assert tokens.shape == (3, 10) and tokens.dtype == torch.long
    assert set(tokens.unique().tolist()) <= set(BASE_TOKENS)
    texts = sample(model, 3, 10, seed=1)
    assert [len(t) for t in texts] == [10, 10, 10] and set("".join(texts)) <= set("ACGT")


def test_the_same_seed_gives_the_same_samples_whatever_num():
    model = tiny()
    first = sample(model, 4, 30, temperature=0.7, seed=7)
    assert sample(model, 4, 30, temperature=0.7, seed=7) == first
    assert sample(model, 2, 30, temperature=0.7, seed=7) == first[:2]
    assert sample(model, 4, 30, temperature=0.7, seed=8) != first


def test_a_prompt_begins_every_sample_and_either_case_is_read():
    model = tiny()
    texts = sample(model, 2, 8, prompt="acg", seed=0)
    assert [t[:3] for t in texts] == ["ACG", "ACG"] and all(len(t) == 8 for t in texts)


def test_sampling_runs_without_dropout_and_restores_the_mode():
    model = tiny()
    model.train()
    in_train_mode = sample(model, 3, 20, seed=2)
    assert model.training
    assert sample(model.eval(), 3, 20, seed=2) == in_train_mode


def test_draw_is_an_inverse_cdf_that_skips_zero_probabilities():
    probs = torch.tensor([[0.2, 0.3, 0.5, 0.0]]).expand(5, 4)
    assert draw(probs, torch.tensor([0.1, 0.25, 0.6, 0.9999999, 0.0])).tolist() == [0, 1, 2, 2, 0]
    assert draw(torch.tensor([[0.0, 0.0, 1.0, 0.0]]), torch.tensor([0.0])).tolist() == [2]
    counts = torch.bincount(draw(probs[:1].expand(20_000, 4),
                                 torch.rand(20_000, generator=torch.Generator().manual_seed(0))))
    torch.testing.assert_close(counts / 20_000, probs[0, :3], atol=0.015, rtol=0)


def greedy(model, prompt: list[int], length: int) -> list[int]:
    """Argmax decoding over A/C/G/T, re-running the whole prefix each step."""
    tokens = torch.tensor([prompt])
    while tokens.shape[1] < length:
        best = model(tokens)[0, -1, list(BASE_TOKENS)].argmax()
        tokens = torch.cat([tokens, torch.tensor([[BASE_TOKENS[best]]])], dim=1)
    return tokens[0].tolist()


@torch.no_grad()
def test_temperature_near_zero_is_greedy_argmax():
    model = tiny(sharpen=10.0)
    expected = greedy(model, [1, 2, 3], 25)
    for seed in range(3):
        assert sample_tokens(model, 1, 25, temperature=1e-4, prompt="ACG",
                             seed=seed)[0].tolist() == expected


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@torch.no_grad()
def test_carried_state_gives_the_full_prefix_distribution(cell):
    model, temperature = tiny(cell), 0.8
    start = torch.tensor([[1, 4, 2], [3, 3, 1]])  # (2, 3)
    uniforms = torch.rand(2, 40, generator=torch.Generator().manual_seed(3))
    drawn = list(steps(model, start, uniforms, temperature))
    tokens = torch.cat([start, *[token for _, token in drawn]], dim=1)  # (2, 43)
    carried = torch.stack([probs for probs, _ in drawn], dim=1)  # (2, 40, 4)
    rerun = base_probabilities(model(tokens)[:, 2:-1], temperature)  # (2, 40, 4)
    torch.testing.assert_close(carried, rerun, atol=1e-5, rtol=0)
    assert (carried.sum(dim=-1) - 1).abs().max() < 1e-5


@pytest.mark.parametrize("options, match", [
    ((0, 10, 1.0, ""), "--num"), ((2, 0, 1.0, ""), "--length"), ((2, 10, 0.0, ""), "--temperature"),
    ((2, 10, -1.0, ""), "--temperature"), ((2, 10, float("nan"), ""), "--temperature"),
    ((2, 10, 1.0, "ACGN"), "--prompt: 'N'"), ((2, 10, 1.0, "acgx"), "--prompt: 'X'"),
    ((2, 3, 1.0, "ACG"), "longer than the prompt")])
def test_bad_options_name_the_option(options, match):
    with pytest.raises(BiodlError, match=match):
        check_options(*options)


@pytest.mark.parametrize("args, message", [
    (["--temperature", "0"], "--temperature: 0.0 must be a finite number > 0"),
    (["--length", "0"], "--length: 0 bases"), (["--num", "0"], "--num: 0 sequences"),
    (["--prompt", "ACGU"], "--prompt: 'U' not A, C, G or T")])
def test_cli_rejects_bad_options_in_one_line(tmp_path, args, message):
    result = runner.invoke(app, ["sample", str(tmp_path / "none.ckpt"), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}") and len(result.stderr.splitlines()) == 1


def test_cli_rejects_a_checkpoint_of_another_task(tmp_path):
    checkpoint = tmp_path / "classifier.ckpt"
    torch.save({"biodl_task": "classification"}, checkpoint)
    result = runner.invoke(app, ["sample", str(checkpoint), "-o", str(tmp_path / "s.fa")])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "is a classification model; sampling needs a checkpoint of an lm" in result.stderr
