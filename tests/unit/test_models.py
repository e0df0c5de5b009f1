import pytest
import torch

from biodl.errors import BiodlError
from biodl.models import build_model, check_model_kwargs, count_parameters
from biodl.models.cnn1d import CNN1D


def test_cnn1d_maps_onehot_to_outputs():
    model = CNN1D(num_outputs=3, channels=(8, 16), pool=2).eval()
    assert model(torch.zeros(5, 4, 81)).shape == (5, 3)


def test_cnn1d_default_parameter_count_matches_docstring():
    # conv 4*128*9 + BN 2*128 + conv 128*128*9 + BN 2*128 + head 128 + 1
    assert count_parameters(CNN1D()) == 152_705
    assert "152,705" in CNN1D.__doc__


@pytest.mark.parametrize("options", [
    {"residual": True, "dilation": (1, 2)},
    {"global_pool": "maxavg", "hidden": 16},
    {"batch_norm": False, "pool_type": "avg", "activation": "gelu", "init": "xavier"},
])
def test_cnn1d_options_keep_the_contract(options):
    model = CNN1D(channels=(8, 8), **options).eval()
    assert model(torch.randn(2, 4, 50)).shape == (2, 1)


def test_build_model_converts_yaml_lists_to_annotated_tuples():
    model = build_model("cnn1d", channels=[8], kernel_size=5)
    assert model.blocks[0].conv.out_channels == 8


def test_unknown_model_and_argument_name_the_closest():
    with pytest.raises(BiodlError, match="unknown model 'cnn'; did you mean 'cnn1d'?"):
        build_model("cnn")
    with pytest.raises(BiodlError, match="model.kernel: 'cnn1d' has no argument 'kernel'; "
                                         "did you mean 'kernel_size'?"):
        check_model_kwargs("cnn1d", {"kernel": 3})
    with pytest.raises(BiodlError, match="model.dropout: expected a number"):
        check_model_kwargs("cnn1d", {"dropout": "high"})


def test_cnn1d_flatten_head_keeps_position_and_needs_the_length():
    model = CNN1D(channels=(8, 8), pool=2, global_pool="flatten", seq_len=81).eval()
    assert model.positions == 21  # 81 -> 41 -> 21 with ceil pooling
    assert model.head[-1].in_features == 8 * 21
    assert model(torch.zeros(3, 4, 81)).shape == (3, 1)
    with pytest.raises(BiodlError, match="global_pool=flatten needs model.seq_len"):
        CNN1D(global_pool="flatten")
