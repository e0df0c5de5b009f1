"""Recurrent classifier, tagger and CNN-LSTM: shapes, and padding that changes nothing."""

import pytest
import torch

from biodl.models.hybrid import CNNLSTM
from biodl.models.rnn import RNNClassifier, RNNTagger

LENGTHS = torch.tensor([12, 7, 3])


def padded_tokens() -> torch.Tensor:
    """(3, 12) random ACGTN tokens, right-padded with PAD=0 to LENGTHS."""
    tokens = torch.randint(1, 6, (3, 12), generator=torch.Generator().manual_seed(0))
    return tokens.masked_fill(torch.arange(12)[None, :] >= LENGTHS[:, None], 0)


def padded_onehot() -> torch.Tensor:
    """(3, 4, 12) one-hot with garbage (not zeros) past each length: it must be masked."""
    return torch.randn(3, 4, 12, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("options", [
    {"pooling": "last"},
    {"pooling": "mean", "cell": "gru"},
    {"pooling": "max", "num_layers": 2, "hidden": 8},
    {"pooling": "last", "bidirectional": False},
])
def test_classifier_output_ignores_padding(options):
    torch.manual_seed(0)
    model = RNNClassifier(num_outputs=2, embedding_dim=4, hidden_size=6, **options).eval()
    x = padded_tokens()
    batch = model(x, LENGTHS)  # (3, 2)
    assert batch.shape == (3, 2)
    for i, length in enumerate(LENGTHS.tolist()):
        alone = model(x[i:i + 1, :length])  # no lengths: every position valid
        torch.testing.assert_close(batch[i:i + 1], alone)


def test_classifier_onehot_input():
    model = RNNClassifier(input="onehot", hidden_size=6, pooling="mean").eval()
    x = padded_onehot()
    batch = model(x, LENGTHS)
    torch.testing.assert_close(batch[2:], model(x[2:, :, :3]))


@pytest.mark.parametrize("options", [{}, {"conv_channels": (5, 5), "conv_kernel": 5, "cell": "gru"},
                                     {"conv_channels": (5,), "batch_norm": True}])
def test_tagger_per_position_outputs_ignore_padding(options):
    torch.manual_seed(0)
    model = RNNTagger(num_outputs=3, embedding_dim=4, hidden_size=6, **options).eval()
    x = padded_tokens()
    batch = model(x, LENGTHS)
    assert batch.shape == (3, 12, 3)
    for i, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(batch[i, :length], model(x[i:i + 1, :length])[0])


@pytest.mark.parametrize("options", [
    {"pool_type": "max", "global_pool": "max"},
    {"pool_type": "avg", "global_pool": "mean", "cell": "gru", "activation": "gelu"},
    {"global_pool": "last", "hidden": 4, "num_layers": 2},
])
def test_cnn_lstm_ignores_padding(options):
    torch.manual_seed(0)
    model = CNNLSTM(channels=(6, 6), kernel_size=3, pool=2, hidden_size=5, **options).eval()
    x = padded_onehot()
    batch = model(x, LENGTHS)
    assert batch.shape == (3, 1)
    for i, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(batch[i:i + 1], model(x[i:i + 1, :, :length]))


def test_cnn_lstm_fixed_length_input():
    model = CNNLSTM(channels=(8,), pool=4, hidden_size=4, num_outputs=7).eval()
    assert model(torch.zeros(2, 4, 50)).shape == (2, 7)
