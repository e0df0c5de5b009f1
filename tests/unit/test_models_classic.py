"""The published models: shapes on small inputs and their length checks."""

import pytest
import torch

from biodl.errors import BiodlError
from biodl.models import count_parameters
from biodl.models.classic import Basset, DanQ, DeepBind, DeepSEA


def test_deepbind_takes_any_length():
    model = DeepBind(num_outputs=2).eval()
    assert model(torch.zeros(3, 4, 10)).shape == (3, 2)
    assert model(torch.zeros(1, 4, 101)).shape == (1, 2)


def test_deepbind_options():
    assert count_parameters(DeepBind(global_pool="maxavg")) == 2_641
    model = DeepBind(hidden=0, num_motifs=4, motif_length=6).eval()
    assert count_parameters(model) == 4 * 6 * 4 + 4 + 4 + 1
    assert model(torch.zeros(2, 4, 20)).shape == (2, 1)


def test_basset_published_layers():
    model = Basset()
    assert [m.out_channels for m in model.conv if isinstance(m, torch.nn.Conv1d)] == [300, 200, 200]
    assert [m.kernel_size[0] for m in model.conv if isinstance(m, torch.nn.Conv1d)] == [19, 11, 7]
    assert model.dense[0].in_features == 200 * 10
    assert model.out.out_features == 164


def test_basset_small_forward():
    model = Basset(channels=(8, 8, 8), hidden=(16, 16), num_outputs=5, seq_len=200).eval()
    assert model(torch.zeros(2, 4, 200)).shape == (2, 5)


def test_danq_published_layers_and_small_forward():
    with torch.device("meta"):
        model = DanQ()
    assert model.lstm.hidden_size == 320 and model.lstm.bidirectional
    assert model.dense[0].in_features == 75 * 640
    small = DanQ(conv_channels=8, hidden_size=4, dense=6, num_outputs=3, seq_len=60).eval()
    assert small(torch.zeros(2, 4, 60)).shape == (2, 3)


def test_deepsea_has_exactly_the_published_parameter_count():
    with torch.device("meta"):
        model = DeepSEA()
    assert count_parameters(model) == 52_843_119
    assert model.dense[0].in_features == 960 * 53


def test_deepsea_small_forward():
    model = DeepSEA(channels=(8, 8, 8), hidden=6, num_outputs=3, seq_len=200).eval()
    assert model(torch.zeros(2, 4, 200)).shape == (2, 3)


def test_fixed_length_models_name_the_fix():
    model = DeepSEA(channels=(4, 4, 4), hidden=4, seq_len=200)
    with pytest.raises(BiodlError, match="set model.seq_len=150"):
        model(torch.zeros(1, 4, 150))
    with pytest.raises(BiodlError, match="too short for deepsea"):
        DeepSEA(seq_len=50)
    with pytest.raises(BiodlError, match="one kernel size, pool and dropout per conv layer"):
        DeepSEA(channels=(4, 4), seq_len=200)
