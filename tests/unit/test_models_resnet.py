"""ResNets: torchvision's parameter counts and key names, transfer to other channels/outputs."""

import pytest
import torch

from biodl.errors import BiodlError
from biodl.models import count_parameters
from biodl.models.resnet import freeze_backbone, load_backbone, resnet18, resnet34, resnet50


@pytest.mark.parametrize("builder, count", [(resnet18, 11_689_512), (resnet34, 21_797_672),
                                            (resnet50, 25_557_032)])
def test_parameter_counts_match_torchvision(builder, count):
    with torch.device("meta"):
        assert count_parameters(builder()) == count


def test_state_dict_keys_are_torchvision_names():
    keys = set(resnet18().state_dict())
    assert len(keys) == 122  # torchvision's resnet18 state_dict, BN buffers included
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
            "layer4.1.conv2.weight", "fc.weight", "fc.bias"} <= keys
    assert "layer1.0.downsample.0.weight" not in keys
    with torch.device("meta"):
        bottleneck = set(resnet50().state_dict())
    assert {"layer1.0.conv3.weight", "layer1.0.downsample.0.weight",
            "layer4.2.bn3.weight"} <= bottleneck


def test_small_input_keeps_keys_and_resolution():
    model = resnet18(in_channels=1, num_outputs=4, small_input=True).eval()
    assert set(model.state_dict()) == set(resnet18().state_dict())
    assert model.conv1.weight.shape == (64, 1, 3, 3)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 4)


def test_zero_init_residual_zeroes_the_last_bn():
    model = resnet18(zero_init_residual=True)
    assert model.layer1[0].bn2.weight.abs().sum() == 0


def test_load_backbone_into_five_channels_and_eight_classes(tmp_path):
    pretrained = resnet18()
    torch.save(pretrained.state_dict(), tmp_path / "resnet18.pth")  # torchvision's key names
    model = resnet18(in_channels=5, num_outputs=8)
    report = load_backbone(model, torch.load(tmp_path / "resnet18.pth", weights_only=True))
    assert report.adapted == ["conv1.weight"]
    assert report.skipped == ["fc.weight", "fc.bias"]
    assert report.missing == ["fc.weight", "fc.bias"]
    assert len(report.loaded) == 122 - 3
    torch.testing.assert_close(model.layer3[1].conv2.weight, pretrained.layer3[1].conv2.weight)
    rgb = pretrained.conv1.weight
    torch.testing.assert_close(model.conv1.weight[:, 3], rgb[:, 0] * 3 / 5)  # R, G, B, R, G
    assert model.eval()(torch.randn(2, 5, 64, 64)).shape == (2, 8)


def test_load_backbone_accepts_biodl_checkpoints_and_keeps_a_matching_head():
    pretrained = resnet18(num_outputs=8)
    checkpoint = {"state_dict": {f"model.{k}": v for k, v in pretrained.state_dict().items()}}
    model = resnet18(num_outputs=8)
    report = load_backbone(model, checkpoint, new_head=False)
    assert report.missing == [] and report.adapted == []
    torch.testing.assert_close(model.fc.weight, pretrained.fc.weight)


def test_freeze_backbone_leaves_only_the_head_trainable():
    model = freeze_backbone(resnet18(num_outputs=3))
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]


def test_load_backbone_rejects_another_depth():
    with torch.device("meta"):
        small, large = resnet18(), resnet34()
    with pytest.raises(BiodlError, match="not in the model; is it the same ResNet depth"):
        load_backbone(small, large.state_dict())
    with pytest.raises(BiodlError, match="missing from the file; is it the same ResNet depth"):
        load_backbone(large, small.state_dict())


def test_channels_last_changes_layout_not_numbers():
    torch.manual_seed(0)
    plain = resnet18(in_channels=5, num_outputs=3, small_input=True).eval()
    nhwc = resnet18(in_channels=5, num_outputs=3, small_input=True, channels_last=True).eval()
    nhwc.load_state_dict(plain.state_dict())
    assert nhwc.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 5, 16, 16)
    torch.testing.assert_close(nhwc(x), plain(x), rtol=1e-4, atol=1e-4)
