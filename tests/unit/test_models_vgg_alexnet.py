"""AlexNet and VGG: torchvision's parameter counts and state_dict keys, any channel count, and
the small-input variant on 28-64 px images."""

from __future__ import annotations

import pytest
import torch

from biodl.models import MODELS, build_model, count_parameters

# at 3 channels and 1000 outputs, as torchvision's (and the issue) list them
COUNTS = {"alexnet": 61_100_840, "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
          "vgg13": 133_047_848, "vgg13_bn": 133_053_736, "vgg16": 138_357_544,
          "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_match_torchvision(name):
    with torch.device("meta"):
        assert count_parameters(build_model(name)) == COUNTS[name]


def keys(name: str, **kwargs) -> list[str]:
    with torch.device("meta"):
        return list(build_model(name, **kwargs).state_dict())


def test_alexnet_keys_are_torchvision_s():
    convs = [f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")]
    linears = [f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")]
    assert keys("alexnet") == convs + linears


def test_vgg11_keys_are_torchvision_s():
    convs = [f"features.{i}.{p}" for i in (0, 3, 6, 8, 11, 13, 16, 18) for p in ("weight", "bias")]
    linears = [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert keys("vgg11") == convs + linears


def test_vgg11_bn_keys_are_torchvision_s():
    found = keys("vgg11_bn")
    assert found[:7] == ["features.0.weight", "features.0.bias", "features.1.weight",
                         "features.1.bias", "features.1.running_mean", "features.1.running_var",
                         "features.1.num_batches_tracked"]
    assert "features.25.weight" in found and "features.26.running_var" in found  # 8th conv, BN
    assert found[-2:] == ["classifier.6.weight", "classifier.6.bias"]


def test_small_input_keeps_the_keys_and_loads_full_conv_weights():
    full, small = build_model("vgg11"), build_model("vgg11", small_input=True)
    assert list(full.state_dict()) == list(small.state_dict())
    features = {k: v for k, v in full.state_dict().items() if k.startswith("features.")}
    small.load_state_dict(features, strict=False)  # every conv has torchvision's shape
    assert torch.equal(small.features[0].weight, full.features[0].weight)


@pytest.mark.parametrize("name", ["alexnet", "vgg11_bn"])
@pytest.mark.parametrize("size", [28, 64])
def test_small_input_any_channels(name, size):
    model = build_model(name, in_channels=1, num_outputs=8, small_input=True).eval()
    assert model(torch.zeros(2, 1, size, size)).shape == (2, 8)


def test_full_models_take_four_channels():
    model = build_model("alexnet", in_channels=4, num_outputs=3).eval()
    assert model(torch.zeros(1, 4, 96, 96)).shape == (1, 3)


def test_registered():
    assert {"alexnet", "vgg11", "vgg19_bn"} <= set(MODELS)


@pytest.mark.parametrize("name", ["alexnet", "vgg11_bn"])
def test_channels_last_changes_layout_not_numbers(name):
    torch.manual_seed(0)
    plain = build_model(name, in_channels=3, num_outputs=4, small_input=True).eval()
    nhwc = build_model(name, in_channels=3, num_outputs=4, small_input=True,
                       channels_last=True).eval()
    nhwc.load_state_dict(plain.state_dict())
    assert nhwc.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 28, 28)
    torch.testing.assert_close(nhwc(x), plain(x), rtol=1e-4, atol=1e-4)
