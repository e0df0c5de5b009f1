"""Seq2seq with attention on a tiny untrained model: shapes, decoding contracts, beam = greedy."""

import pytest
import torch

from biodl.models.seq2seq import TGT_VOCAB_SIZE, Seq2Seq
from biodl.vocab import BOS, EOS, PAD, PROTEIN_TOKENS

SRC_LENGTHS = torch.tensor([10, 6, 4])


def tiny(seed: int = 0, **options) -> Seq2Seq:
    torch.manual_seed(seed)
    model = Seq2Seq(embedding_dim=8, hidden_size=12, tgt_vocab_size=8, dropout=0.0, **options)
    with torch.no_grad():  # larger weights than the default init, so decoding varies
        for parameter in model.parameters():
            parameter.mul_(4)
        model.out.bias[EOS] += 1.5  # some outputs end early, some run to max_len
    return model.eval()


def source(seed: int = 0) -> torch.Tensor:
    src = torch.randint(1, 6, (3, 10), generator=torch.Generator().manual_seed(seed))
    return src.masked_fill(torch.arange(10)[None, :] >= SRC_LENGTHS[:, None], PAD)


def test_protein_vocabulary_constants():
    assert (PAD, BOS, EOS) == (0, 1, 2)
    assert TGT_VOCAB_SIZE == len(PROTEIN_TOKENS) == 25
    assert PROTEIN_TOKENS[3] == "A" and PROTEIN_TOKENS[-2:] == ("*", "X")


@pytest.mark.parametrize("options", [{}, {"cell": "gru", "num_layers": 2},
                                     {"bidirectional_encoder": False}])
def test_forward_gives_logits_per_target_step(options):
    model = tiny(**options)
    tgt_in = torch.randint(1, 8, (3, 5))
    assert model(source(), SRC_LENGTHS, tgt_in).shape == (3, 5, 8)
    assert model(source(), None, tgt_in, teacher_forcing_ratio=0.0).shape == (3, 5, 8)


def test_source_padding_changes_nothing():
    model, src, tgt_in = tiny(), source(), torch.randint(1, 8, (3, 5))
    batch = model(src, SRC_LENGTHS, tgt_in)
    alone = model(src[2:, :4], None, tgt_in[2:])
    torch.testing.assert_close(batch[2:], alone)


def valid(rows: list[list[int]], max_len: int) -> bool:
    """Every row ends at its first EOS, or runs to max_len without one."""
    return all((row and row[-1] == EOS and EOS not in row[:-1] and len(row) <= max_len)
               or (len(row) == max_len and EOS not in row) for row in rows)


def test_greedy_and_beam_return_valid_token_lists():
    outputs = []
    for seed in range(4):
        model, src = tiny(seed), source(seed)
        greedy = model.greedy_decode(src, SRC_LENGTHS, max_len=8)
        beams = model.beam_search(src, SRC_LENGTHS, beam_size=3, max_len=8)
        assert len(greedy) == len(beams) == 3
        assert valid(greedy, 8) and valid(beams, 8)
        assert model.beam_search(src, SRC_LENGTHS, beam_size=1, max_len=8) == greedy
        outputs += greedy + beams
    assert all(EOS <= token < 8 for row in outputs for token in row)  # never PAD or BOS
    assert {row[-1] == EOS for row in outputs} == {True, False}  # both endings were tested


def test_decoding_stops_at_eos():
    model = tiny()
    with torch.no_grad():
        model.out.bias[EOS] = 1e4  # EOS always wins
    assert model.greedy_decode(source(), SRC_LENGTHS, max_len=5) == [[EOS]] * 3
    assert model.beam_search(source(), SRC_LENGTHS, beam_size=2, max_len=5) == [[EOS]] * 3
    with torch.no_grad():
        model.out.bias[EOS] = -1e4  # EOS never comes
    assert [len(row) for row in model.greedy_decode(source(), None, max_len=5)] == [5, 5, 5]


def test_codon_frontend_reads_one_position_per_codon():
    model = tiny(src_stride=3)
    memory, _ = model.encode(source(), SRC_LENGTHS)
    assert memory.values.shape[:2] == (3, 3)  # 10 bases -> 3 whole codons
    assert memory.mask.tolist() == [[True] * 3, [True, True, False], [True, False, False]]
    assert model(source(), SRC_LENGTHS, torch.randint(1, 8, (3, 5))).shape == (3, 5, 8)


def test_relative_attention_starts_peaked_on_the_diagonal():
    from biodl.models.seq2seq import RelativePosition

    bias = RelativePosition()(7, 20)
    assert bias.argmax().item() == 7
    assert bias[7].item() == pytest.approx(16.0)  # 32 frequencies, weight 0.5 each
    assert torch.equal(bias[6], bias[8])  # symmetric in the offset
    model = tiny(src_stride=3, relative_attention=True)
    rows = model.greedy_decode(source(), SRC_LENGTHS, max_len=6)
    assert valid(rows, 6)


@pytest.mark.parametrize("options", [{}, {"src_stride": 3, "relative_attention": True},
                                     {"cell": "gru", "num_layers": 2}])
def test_parallel_teacher_forcing_equals_step_by_step(options):
    model = tiny(input_feeding=False, **options)
    tgt_in = torch.randint(1, 8, (3, 7), generator=torch.Generator().manual_seed(1))
    parallel = model(source(), SRC_LENGTHS, tgt_in)  # one decoder call, batched attention
    memory, state = model.encode(source(), SRC_LENGTHS)
    feed = memory.values.new_zeros(3, model.hidden_size)
    steps = []
    for t in range(7):
        logits, state, feed = model.step(tgt_in[:, t], state, feed, memory, t)
        steps.append(logits)
    torch.testing.assert_close(parallel, torch.stack(steps, dim=1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_unpacked_gru_encoder_equals_packed(bidirectional, monkeypatch):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    import biodl.models.seq2seq as seq2seq

    def packed(rnn, x, lengths):  # the reference: torch's packed sequences
        out, state = rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], state

    model = tiny(cell="gru", bidirectional_encoder=bidirectional, src_stride=3)
    memory, state = model.encode(source(), SRC_LENGTHS)
    monkeypatch.setattr(seq2seq, "run_by_length", packed)
    memory_ref, state_ref = model.encode(source(), SRC_LENGTHS)
    valid = memory_ref.mask[..., None]
    torch.testing.assert_close(memory.values * valid, memory_ref.values * valid)
    torch.testing.assert_close(state, state_ref)
