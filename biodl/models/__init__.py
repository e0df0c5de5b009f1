"""Pure torch models behind a name registry: `build_model("cnn1d", channels=[64, 64])`."""

from __future__ import annotations

import inspect
import typing
from typing import Any, Callable

from torch import nn

from biodl.config.binding import closest, convert
from biodl.errors import BiodlError
from biodl.models.classic import Basset, DanQ, DeepBind, DeepSEA
from biodl.models.cnn1d import CNN1D
from biodl.models.coverage import BPNet, CNNCoverage
from biodl.models.hybrid import CNNLSTM
from biodl.models.lm import DNALM
from biodl.models.resnet import resnet18, resnet34, resnet50
from biodl.models.rnn import RNNClassifier, RNNTagger
from biodl.models.seq2seq import Seq2Seq
from biodl.models.vgg import (alexnet, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19,
                              vgg19_bn)

MODELS: dict[str, Callable[..., nn.Module]] = {
    "cnn1d": CNN1D,
    "deepbind": DeepBind,
    "basset": Basset,
    "danq": DanQ,
    "deepsea": DeepSEA,
    "rnn_classifier": RNNClassifier,
    "rnn_tagger": RNNTagger,
    "cnn_lstm": CNNLSTM,
    "seq2seq": Seq2Seq,
    "dna_lm": DNALM,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "alexnet": alexnet,
    "vgg11": vgg11, "vgg11_bn": vgg11_bn, "vgg13": vgg13, "vgg13_bn": vgg13_bn,
    "vgg16": vgg16, "vgg16_bn": vgg16_bn, "vgg19": vgg19, "vgg19_bn": vgg19_bn,
    "bpnet": BPNet,
    "cnn_coverage": CNNCoverage,
}


def model_arguments(name: str) -> dict[str, inspect.Parameter]:
    if name not in MODELS:
        raise BiodlError(f"model.name: unknown model '{name}'{closest(name, MODELS)} "
                         f"(registered: {', '.join(sorted(MODELS))})")
    return dict(inspect.signature(MODELS[name]).parameters)


def check_model_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kwargs converted to the constructor's annotated types, or a BiodlError naming the key."""
    params = model_arguments(name)
    hints = typing.get_type_hints(MODELS[name].__init__ if isinstance(MODELS[name], type)
                                  else MODELS[name])
    checked = {}
    for key, value in kwargs.items():
        if key not in params:
            raise BiodlError(f"model.{key}: '{name}' has no argument '{key}'{closest(key, params)}")
        checked[key] = convert(hints.get(key, Any), value, f"model.{key}", {})
    return checked


def build_model(name: str, **kwargs: Any) -> nn.Module:
    checked = check_model_kwargs(name, kwargs)
    return MODELS[name](**checked)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
