"""The DNA language model: causal logits (sampling: tests/unit/test_sample.py)."""

import pytest
import torch

from biodl.models.lm import DNALM


def tiny(cell: str = "lstm") -> DNALM:
    torch.manual_seed(0)
    return DNALM(embedding_dim=4, hidden_size=8, num_layers=2, cell=cell).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_logits_are_causal(cell):
    model = tiny(cell)
    tokens = torch.randint(1, 6, (2, 9))
    logits = model(tokens)
    assert logits.shape == (2, 9, 6)
    changed = tokens.clone()
    changed[:, 5:] = 0  # the future (and right padding) does not change the past
    torch.testing.assert_close(model(changed)[:, :5], logits[:, :5])
