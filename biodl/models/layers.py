"""Building blocks shared by the model families: activations and weight initialisation."""

from __future__ import annotations

from typing import Literal

from torch import nn

Activation = Literal["relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid"]
Init = Literal["default", "kaiming", "xavier"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
    "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def init_weights(module: nn.Module, scheme: str, nonlinearity: str = "relu") -> None:
    """Initialise conv and linear weights in place; biases to zero, norms to (1, 0).

    `default` keeps PyTorch's own initialisation.
    """
    if scheme == "default":
        return
    gain_name = nonlinearity if nonlinearity in ("relu", "leaky_relu", "tanh", "sigmoid") else "relu"
    for layer in module.modules():
        if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(layer.weight, nonlinearity=gain_name if gain_name in
                                        ("relu", "leaky_relu") else "relu")
            else:
                nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain_name))
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
