"""Regional ISM (recompute only what a substitution reaches) equals scoring every mutant whole:
on every CNN of the zoo, through the explain wrappers, and on conv/pool geometries chosen to hit
the edges (strides, dilation, 'same' padding with even kernels, ceil-mode partial windows, floor
pools that drop the tail, constant padding, residual blocks, N columns)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from biodl.interpret import attributions, regional_ism
from biodl.interpret.explain import BothStrands, Negated
from biodl.models import build_model
from biodl.models.layers import Residual

L = 37  # odd, so pools of 2 and 4 leave partial windows


def onehot(n: int, length: int = L, seed: int = 0, n_at: tuple[int, ...] = ()) -> torch.Tensor:
    bases = torch.randint(0, 4, (n, length), generator=torch.Generator().manual_seed(seed))
    x = torch.nn.functional.one_hot(bases, 4).transpose(1, 2).float()
    for position in n_at:
        x[:, :, position] = 0.0  # an N
    return x


def whole(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """Every mutant scored through the whole model (the path models without a split take)."""
    with torch.inference_mode():
        return attributions._ism_chunk(model, x, target, None, 10_000)


class Front(nn.Module):
    """Any chain of local layers and a dense head over the flattened map."""

    def __init__(self, layers: list[nn.Module], features: int):
        super().__init__()
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(features, 2)

    def local_split(self):
        return list(self.layers), self._from_features

    def forward(self, x):
        return self._from_features(self.layers(x))

    def _from_features(self, h):
        return self.head(h.flatten(1))


GEOMETRIES = {
    "stride 2, padding 3": lambda: [nn.Conv1d(4, 6, 7, stride=2, padding=3), nn.ReLU(),
                                    nn.Conv1d(6, 5, 3, stride=2)],
    "dilation and 'same', even kernel": lambda: [nn.Conv1d(4, 6, 4, padding="same"), nn.GELU(),
                                                 nn.Conv1d(6, 5, 3, dilation=3, padding="same")],
    "ceil pools with partial windows": lambda: [
        nn.Conv1d(4, 6, 5, padding=2), nn.MaxPool1d(2, ceil_mode=True),
        nn.Conv1d(6, 5, 3, padding=1), nn.AvgPool1d(4, ceil_mode=True)],
    "floor pools drop the tail": lambda: [nn.Conv1d(4, 6, 3), nn.MaxPool1d(4), nn.ELU(),
                                          nn.Conv1d(6, 5, 2), nn.AvgPool1d(3)],
    "constant padding, grouped conv": lambda: [nn.ConstantPad1d((5, 2), 0.25),
                                               nn.Conv1d(4, 8, 6), nn.Tanh(),
                                               nn.Conv1d(8, 8, 3, groups=4, padding=1)],
    "residual with BN and a 1x1 skip": lambda: [
        Residual(nn.Conv1d(4, 6, 5, padding=2), nn.BatchNorm1d(6), nn.Conv1d(4, 6, 1)),
        nn.ReLU(), Residual(nn.Conv1d(6, 6, 3, padding=1), nn.Identity(), nn.Identity()),
        nn.MaxPool1d(3, ceil_mode=True), nn.Dropout(0.5)],
}


def front_of(key: str) -> Front:
    torch.manual_seed(1)
    layers = GEOMETRIES[key]()
    with torch.no_grad():
        features = nn.Sequential(*layers)(torch.zeros(1, 4, L)).numel()
    model = Front(layers, features)
    for module in model.modules():  # BN with non-trivial statistics
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    return model.eval()


@pytest.mark.parametrize("key", GEOMETRIES)
@pytest.mark.parametrize("batch_size", [3, 40, 10_000])  # one position per block, several, all
def test_every_geometry_equals_whole_mutants(key, batch_size):
    model, x = front_of(key), onehot(3, n_at=(0, 20, L - 1))
    with torch.inference_mode():
        regional = regional_ism.mutagenesis(model, x, 1, batch_size)
    assert regional is not None
    expected = whole(model, x, 1)
    assert torch.allclose(regional, expected, atol=1e-5, rtol=0)
    assert torch.all(regional[x == 1] == 0)
    if key != "floor pools drop the tail":
        assert float(regional.abs().min(dim=1).values.max()) > 0  # every position has an effect


ZOO = {
    "cnn1d": dict(channels=[8, 8], num_outputs=2),
    "cnn1d_residual": dict(channels=[8, 8], num_outputs=2, global_pool="maxavg",
                           residual=True, pool_type="avg"),
    "cnn1d_flatten": dict(channels=[8, 8], num_outputs=2, global_pool="flatten", seq_len=L,
                          hidden=8),
    "deepbind": dict(num_motifs=4, motif_length=8, hidden=8, num_outputs=2),
    "basset": dict(seq_len=L, channels=[8, 8, 8], kernel_sizes=[5, 3, 3], pools=[2, 2, 2],
                   hidden=[16, 16], num_outputs=2),
    "deepsea": dict(seq_len=L, channels=[8, 8, 8], kernel_size=4, pools=[2, 2, 1], hidden=16,
                    num_outputs=2),
    "danq": dict(seq_len=L, conv_channels=8, kernel_size=5, pool=4, hidden_size=8, dense=16,
                 num_outputs=2),
}


def zoo_model(key: str) -> nn.Module:
    torch.manual_seed(0)
    return build_model(key.split("_")[0], **ZOO[key]).eval()


@pytest.mark.parametrize("key", ZOO)
def test_every_cnn_of_the_zoo_takes_the_regional_path(key):
    model, x = zoo_model(key), onehot(2, n_at=(5,))
    with torch.inference_mode():
        regional = regional_ism.mutagenesis(model, x, 1, 64)
    assert regional is not None
    assert torch.allclose(regional, whole(model, x, 1), atol=1e-5, rtol=0)


def test_wrappers_both_strands_and_negated():
    model, x = zoo_model("basset"), onehot(2, n_at=(3,))
    for wrapped in (BothStrands(model), Negated(model), Negated(BothStrands(model))):
        with torch.inference_mode():
            regional = regional_ism.mutagenesis(wrapped, x, 0, 50)
        assert regional is not None
        assert torch.allclose(regional, whole(wrapped, x, 0), atol=1e-5, rtol=0)


def test_models_without_a_local_front_are_scored_whole():
    torch.manual_seed(0)
    recurrent = build_model("rnn_classifier", input="onehot", hidden_size=8, num_outputs=2)
    assert regional_ism.mutagenesis(recurrent.eval(), onehot(1), 0, 64) is None
    pooled_with_padding = Front([nn.Conv1d(4, 4, 3), nn.MaxPool1d(3, stride=2)], 4 * 17)
    assert regional_ism.mutagenesis(pooled_with_padding.eval(), onehot(1), 0, 64) is None
    training = front_of("residual with BN and a 1x1 skip").train()
    assert regional_ism.mutagenesis(training, onehot(1), 0, 64) is None  # batch statistics


def test_a_split_that_disagrees_with_forward_falls_back():
    class Lying(Front):
        def forward(self, x):
            return super().forward(x) + 1e-2

    model = Lying([nn.Conv1d(4, 4, 3)], 4 * (L - 2)).eval()
    assert regional_ism.mutagenesis(model, onehot(1), 0, 64) is None
    ism = attributions.attribute(model, onehot(1), "ism", 0)  # scored whole, still right
    assert torch.allclose(ism, whole(model, onehot(1), 0), atol=1e-6, rtol=0)
