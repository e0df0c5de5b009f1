"""Attributions on every sequence model of the zoo, randomly initialised at tiny sizes: DeepLIFT/
SHAP adds up to out(x) - out(reference) (<= 1e-5) on the CNNs and is refused on recurrent
models; integrated gradients is complete to 1% at the default steps; ISM equals re-scoring
every mutant one by one."""

from __future__ import annotations

import pytest
import torch

from biodl.errors import BiodlError
from biodl.interpret import (attribute, make_references, relative_error, sum_to_delta)
from biodl.models import build_model

L = 60
CNNS = {
    "cnn1d": dict(channels=[8, 8], num_outputs=2),
    "cnn1d_maxavg_residual": dict(channels=[8, 8], num_outputs=2, global_pool="maxavg",
                                  residual=True, activation="elu"),
    "deepbind": dict(num_motifs=4, motif_length=8, hidden=8, num_outputs=2),
    "basset": dict(seq_len=L, channels=[8, 8, 8], kernel_sizes=[5, 3, 3], pools=[2, 2, 2],
                   hidden=[16, 16], num_outputs=2),
    "deepsea": dict(seq_len=L, channels=[8, 8, 8], kernel_size=5, pools=[2, 2, 1], hidden=16,
                    num_outputs=2),
}
RECURRENT = {
    "danq": dict(seq_len=L, conv_channels=8, kernel_size=5, pool=4, hidden_size=8, dense=16,
                 num_outputs=2),
    "cnn_lstm": dict(channels=[8], kernel_size=5, pool=4, hidden_size=8, num_outputs=2),
    "rnn_classifier": dict(input="onehot", hidden_size=8, num_outputs=2),
}
ZOO = {**CNNS, **RECURRENT}


def model_of(key: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(key.split("_maxavg")[0], **ZOO[key]).eval()


def onehot(n: int = 3, length: int = L, seed: int = 0) -> torch.Tensor:
    bases = torch.randint(0, 4, (n, length), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.one_hot(bases, 4).transpose(1, 2).float()  # (n, 4, L)


@pytest.mark.parametrize("key", CNNS)
def test_deeplift_shap_sums_to_delta_on_every_cnn(key):
    model, x = model_of(key), onehot()
    refs = make_references(x, 4)
    attributions = attribute(model, x, "deeplift_shap", 1, references=refs)
    error, delta = sum_to_delta(model, x, attributions, refs, 1)
    assert attributions.shape == (3, 4, L)
    assert float(error.max()) <= 1e-5 and float(delta.abs().max()) > 0
    assert torch.all(attributions[x == 0] == 0)  # projected onto the observed bases


@pytest.mark.parametrize("key", RECURRENT)
def test_deeplift_shap_refused_on_recurrent_models_unless_forced(key):
    model, x = model_of(key), onehot()
    with pytest.raises(BiodlError, match="integrated-gradients or --method ism"):
        attribute(model, x, "deeplift_shap", 0)
    refs = make_references(x, 2)
    forced = attribute(model, x, "deeplift_shap", 0, references=refs, force=True)
    error, _ = sum_to_delta(model, x, forced, refs, 0)
    assert forced.shape == (3, 4, L) and torch.isfinite(error).all()


@pytest.mark.parametrize("key", ZOO)
def test_integrated_gradients_complete_to_one_percent_at_default_steps(key):
    model, x = model_of(key), onehot()
    refs = make_references(x, 4)
    attributions = attribute(model, x, "integrated_gradients", 1, references=refs)
    error, delta = sum_to_delta(model, x, attributions, refs, 1)
    assert relative_error(error, delta) <= 0.01


@pytest.mark.parametrize("key", ZOO)
def test_ism_equals_scoring_every_mutant_one_by_one(key):
    model, x = model_of(key), onehot(2)
    attributions = attribute(model, x, "ism", 1, batch_size=100)
    with torch.inference_mode():
        for i in range(2):
            original = float(model(x[i:i + 1])[0, 1])
            for position in range(L):
                for base in range(4):
                    mutant = x[i:i + 1].clone()
                    mutant[0, :, position] = 0
                    mutant[0, base, position] = 1
                    expected = float(model(mutant)[0, 1]) - original
                    assert abs(float(attributions[i, base, position]) - expected) <= 1e-5


def test_saliency_is_gradient_times_input():
    model, x = model_of("cnn1d"), onehot(2)
    attributions = attribute(model, x, "saliency", 0)
    x_grad = x.clone().requires_grad_()
    model(x_grad)[:, 0].sum().backward()
    assert torch.allclose(attributions, x_grad.grad * x)


def test_references_are_dinucleotide_shuffles_seeded_per_sequence():
    x = onehot(3)
    refs = make_references(x, 2, seed=5)
    assert refs.shape == (3, 2, 4, L)
    assert torch.equal(refs.sum(dim=-1), x[:, None].sum(dim=-1).expand(3, 2, 4))  # base counts
    assert torch.equal(make_references(x[2:], 2, seed=5, first_index=2), refs[2:])


def test_variable_length_model_takes_lengths():
    model, x = model_of("rnn_classifier"), onehot(2)
    lengths = torch.tensor([L, L // 2])
    saliency = attribute(model, x, "saliency", 0, lengths=lengths)
    assert torch.all(saliency[1, :, L // 2:] == 0)  # past the end: no effect
    ism = attribute(model, x, "ism", 0, lengths=lengths)
    assert torch.all(ism[1, :, L // 2:].abs() <= 1e-6)


def test_bad_method_and_target_are_one_line_errors():
    model, x = model_of("cnn1d"), onehot(1)
    with pytest.raises(BiodlError, match="choose saliency, integrated_gradients"):
        attribute(model, x, "gradcam", 0)
    with pytest.raises(BiodlError, match="outputs 0 to 1"):
        attribute(model, x, "saliency", 2)
