import pytest
import torch
from torch import nn

from biodl.callbacks import layer_grad_norms
from biodl.config import TaskConfig
from biodl.errors import BiodlError
from biodl.models.cnn1d import CNN1D
from biodl.models.resnet import resnet18
from biodl.tasks import build_task, task_mode
from biodl.transfer import freeze_backbone, init_from


def test_layer_grad_norms_are_per_parameter_owning_layer():
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(2))
        model[2].weight.fill_(1.0)
        model[2].bias.zero_()
    model(torch.tensor([[1.0, 2.0]])).sum().backward()
    norms = layer_grad_norms(model)
    assert list(norms) == ["0", "2"]
    # d/dW2 = relu(x) = (1, 2) and d/db2 = 1 -> sqrt(1 + 4 + 1); d/dW1 = outer(1s, x)
    assert norms["2"] == pytest.approx(6 ** 0.5)
    assert norms["0"] == pytest.approx((2 * (1 + 4)) ** 0.5)


def test_init_from_loads_the_body_and_keeps_a_new_head(tmp_path):
    source = CNN1D(channels=(8, 8), num_outputs=5)
    path = tmp_path / "weights.pt"
    torch.save(source.state_dict(), path)
    target = CNN1D(channels=(8, 8), num_outputs=1)
    report = init_from(target, path)
    assert "blocks.0.conv.weight" in report.loaded
    assert "head.0.weight" in report.skipped and "head.0.weight" in report.missing
    assert torch.equal(target.blocks[1].conv.weight, source.blocks[1].conv.weight)
    assert freeze_backbone(target) == len(list(target.parameters())) - 2
    assert [n for n, p in target.named_parameters() if p.requires_grad] == ["head.0.weight",
                                                                           "head.0.bias"]


def test_init_from_another_architecture_is_an_error(tmp_path):
    path = tmp_path / "other.pt"
    torch.save(nn.Linear(3, 3).state_dict(), path)
    with pytest.raises(BiodlError, match="no layer of .* fits this model"):
        init_from(CNN1D(), path)


def test_resnet_init_from_torchvision_keys_adapts_channels(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(resnet18().state_dict(), path)  # torchvision's key names and shapes
    model = resnet18(in_channels=5, num_outputs=8)
    report = init_from(model, path)
    assert "conv1.weight" in report.adapted and "fc.weight" in report.missing
    assert model(torch.zeros(1, 5, 64, 64)).shape == (1, 8)


def test_hinge_loss_is_multiclass_margin():
    assert task_mode("hinge", "class", 2) == "multiclass"
    task = build_task(TaskConfig(loss="hinge"), CNN1D(num_outputs=2), "multiclass", ["a", "b"],
                      [1, 1], {})
    logits, y = torch.tensor([[2.0, 0.0], [0.0, 0.5]]), torch.tensor([0, 0])
    # sample 1: max(0, 1 - 2 + 0) = 0; sample 2: max(0, 1 - 0 + 0.5) = 1.5; each / C = 2
    assert task.loss(logits, y).item() == pytest.approx((0 + 1.5 / 2) / 2)
