"""The DNA language model: causal logits, sampling shapes and seeded determinism."""

import pytest
import torch

from biodl.errors import BiodlError
from biodl.models.lm import BASES, DNALM


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


def test_sampling_shapes_and_alphabet():
    model = tiny()
    samples = model.sample(3, 10, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (3, 10) and samples.dtype == torch.long
    assert set(samples.unique().tolist()) <= set(BASES)


def test_sampling_is_deterministic_with_a_seeded_generator():
    model = tiny()
    first = model.sample(4, 12, temperature=0.7, generator=torch.Generator().manual_seed(7))
    again = model.sample(4, 12, temperature=0.7, generator=torch.Generator().manual_seed(7))
    other = model.sample(4, 12, temperature=0.7, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_sampling_continues_a_prompt():
    model, prompt = tiny(), torch.tensor([1, 2, 3])
    samples = model.sample(2, 6, prompt=prompt, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (2, 6)
    assert (samples[:, :3] == prompt).all()
    assert model.sample(2, 2, prompt=prompt).tolist() == [[1, 2], [1, 2]]
    with pytest.raises(BiodlError, match="temperature"):
        model.sample(1, 4, temperature=0.0)
