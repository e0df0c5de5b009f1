import dataclasses

import pytest
import torch

from biodl.config import OptimizerConfig, SchedulerConfig, TaskConfig
from biodl.errors import BiodlError
from biodl.models.cnn1d import CNN1D
from biodl.tasks import build_task, class_weights
from biodl.tasks.optim import build_optimizer, build_scheduler

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
              "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_decay_weights_but_not_biases_or_norms(name):
    model = CNN1D(channels=(4,))
    cfg = dataclasses.asdict(OptimizerConfig(name=name, lr=0.01, weight_decay=0.1,
                                             momentum=0.9, nesterov=name == "sgd"))
    optimizer = build_optimizer(model, cfg)
    assert type(optimizer) is OPTIMIZERS[name]
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert {p.ndim for p in decayed["params"]} == {2, 3}  # linear and conv weights
    assert {p.ndim for p in plain["params"]} == {1}  # biases, BN scales and shifts
    if name == "sgd":
        assert decayed["nesterov"] is True and decayed["momentum"] == 0.9


@pytest.mark.parametrize("name, kind", [
    ("step", torch.optim.lr_scheduler.StepLR),
    ("cosine", torch.optim.lr_scheduler.CosineAnnealingLR),
    ("plateau", torch.optim.lr_scheduler.ReduceLROnPlateau),
    ("onecycle", torch.optim.lr_scheduler.OneCycleLR),
])
def test_schedulers(name, kind):
    optimizer = torch.optim.SGD(CNN1D(channels=(4,)).parameters(), lr=0.1)
    spec = build_scheduler(optimizer, dataclasses.asdict(SchedulerConfig(name=name)), 0.1,
                           max_epochs=5, total_steps=50)
    assert type(spec["scheduler"]) is kind
    if name == "onecycle":
        assert spec["interval"] == "step" and spec["scheduler"].total_steps == 50
    if name == "plateau":
        assert spec["monitor"] == "val/loss"
    assert build_scheduler(optimizer, {"name": "none"}, 0.1, 5, 50) is None


def test_balanced_class_weights_follow_scikit_learn():
    assert class_weights("balanced", [30, 10]) == [40 / 60, 40 / 20]
    assert class_weights("none", [30, 10]) is None
    with pytest.raises(BiodlError, match="2 weights for 3 classes"):
        class_weights([1.0, 2.0], [1, 1, 1])


def test_binary_loss_weights_each_sample_by_its_class_and_l1_adds():
    model = CNN1D(channels=(4,))
    task = build_task(TaskConfig(class_weights=[1.0, 3.0], l1=0.5), model, "binary", ["a", "b"],
                      [1, 1], {"name": "cnn1d", "kwargs": {}})
    logits, y = torch.zeros(2, 1), torch.tensor([0, 1])
    # BCE at logit 0 is log 2 for each sample; weights 1 and 3 average to 2
    assert task.loss(logits, y).item() == pytest.approx(2 * torch.log(torch.tensor(2.0)).item())
    expected = sum(p.abs().sum() for p in model.parameters() if p.ndim > 1)
    assert task.l1_norm().item() == pytest.approx(expected.item())


def test_unknown_metric_names_the_closest():
    with pytest.raises(BiodlError, match="unknown binary metric 'aucroc'; did you mean 'auroc'?"):
        build_task(TaskConfig(metrics=["aucroc"]), CNN1D(), "binary", ["a", "b"], [1, 1], {})


def test_mcc_matches_the_textbook_formula_and_is_zero_when_degenerate():
    from biodl.tasks.metrics import BinaryMCC

    target = torch.tensor([0, 0, 0, 0, 1, 1])
    assert BinaryMCC()(torch.tensor([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]), target).item() == 0.0
    # tp=1 fn=1 tn=3 fp=1: (3 - 1) / sqrt(2 * 2 * 4 * 4) = 0.25
    preds = torch.tensor([0.9, 0.1, 0.2, 0.1, 0.8, 0.3])
    assert BinaryMCC()(preds, target).item() == pytest.approx(0.25)
