"""Every registered model: builds at its defaults, and its docstring states its parameter count."""

import pytest
import torch

from biodl.models import MODELS, build_model, check_model_kwargs, count_parameters

DEFAULT_COUNTS = {
    "cnn1d": 152_705,
    "deepbind": 2_129,
    "basset": 4_135_064,
    "danq": 46_929_039,
    "deepsea": 52_843_119,
    "rnn_classifier": 42_209,
    "rnn_tagger": 42_209,
    "cnn_lstm": 109_441,
    "seq2seq": 433_401,
    "dna_lm": 808_550,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "bpnet": 109_122,
    "cnn_coverage": 76_737,
}


def test_every_model_is_registered_under_its_name():
    assert set(MODELS) == set(DEFAULT_COUNTS)


@pytest.mark.parametrize("name", sorted(DEFAULT_COUNTS))
def test_default_parameter_count_matches_docstring(name):
    with torch.device("meta"):  # no memory or init time for the 50M-parameter models
        model = build_model(name)
    assert count_parameters(model) == DEFAULT_COUNTS[name]
    assert f"{DEFAULT_COUNTS[name]:,}" in MODELS[name].__doc__


@pytest.mark.parametrize("name", ["deepbind", "basset", "rnn_classifier", "rnn_tagger",
                                  "cnn_lstm", "seq2seq", "dna_lm", "resnet18"])
def test_small_defaults_build_for_real(name):
    assert count_parameters(build_model(name)) == DEFAULT_COUNTS[name]


def test_yaml_values_convert_by_annotation():
    kwargs = check_model_kwargs("rnn_tagger", {"conv_channels": [8, 8], "cell": "gru"})
    assert kwargs == {"conv_channels": (8, 8), "cell": "gru"}
    assert check_model_kwargs("deepsea", {"dropout": [0.1, 0.1, 0.1]})["dropout"] == (0.1, 0.1, 0.1)
    assert check_model_kwargs("resnet50", {"small_input": True}) == {"small_input": True}
