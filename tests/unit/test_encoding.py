import numpy as np
import pytest
import torch

from biodl.data import encoding


def encode(text: str, unknown="zeros", lowercase="upper") -> np.ndarray:
    codes = encoding.to_codes([text.encode()], len(text))
    return encoding.onehot(codes, encoding.onehot_table(unknown, lowercase))[0]


def test_onehot_is_channels_first_in_acgt_order():
    x = encode("ACGT")
    assert x.shape == (4, 4) and x.dtype == np.float32
    assert np.array_equal(x, np.eye(4, dtype=np.float32))


@pytest.mark.parametrize("unknown, n_column, r_column", [
    ("zeros", [0, 0, 0, 0], [0, 0, 0, 0]),
    ("uniform", [0.25] * 4, [0.25] * 4),
    ("iupac", [0.25] * 4, [0.5, 0, 0.5, 0]),
])
def test_n_and_iupac_policies(unknown, n_column, r_column):
    x = encode("NR", unknown)
    assert x[:, 0].tolist() == n_column
    assert x[:, 1].tolist() == r_column


def test_lowercase_policies():
    assert encode("a", lowercase="upper")[:, 0].tolist() == [1, 0, 0, 0]
    assert encode("a", "uniform", lowercase="n")[:, 0].tolist() == [0.25] * 4


def test_first_invalid_follows_the_policy():
    assert encoding.first_invalid(b"ACGTNR", "zeros", "upper") == -1
    assert encoding.first_invalid(b"ACGTNR", "error", "upper") == 4
    assert encoding.first_invalid(b"ACgT", "zeros", "error") == 2
    assert encoding.first_invalid(b"ACGU", "error", "upper") == -1  # U reads as T


def test_fit_length_centre_crops_and_pads_with_zeros():
    assert encoding.fit_length(b"AACCGGTT", 4) == b"CCGG"
    assert encoding.fit_length(b"ACG", 6) == b"\x00ACG\x00\x00"
    assert encode("ACG")[:, :].sum() == 3
    padded = encoding.onehot(encoding.to_codes([b"ACG"], 5), encoding.onehot_table())[0]
    assert padded[:, 0].sum() == 0 and padded[:, 4].sum() == 0


def test_reverse_complement_of_codes_equals_flip_of_onehot():
    codes = encoding.to_codes([b"AACGTNR", b"GGC"], 7)
    table = encoding.onehot_table("iupac")
    rc = encoding.onehot(encoding.reverse_complement_codes(codes), table)
    flipped = torch.from_numpy(encoding.onehot(codes, table)).flip(-2, -1).numpy()
    assert np.array_equal(rc, flipped)
    assert encoding.decode(encoding.reverse_complement_codes(codes)[0]) == "YNACGTT"
    assert encoding.reverse_complement(b"AACGTNR") == b"YNACGTT"


def test_shift_moves_bases_and_fills_with_padding():
    codes = encoding.to_codes([b"ACGT", b"ACGT"], 4)
    shifted = encoding.shift_codes(codes, np.array([1, -2]))
    assert shifted[0].tolist() == [0, ord("A"), ord("C"), ord("G")]
    assert shifted[1].tolist() == [ord("G"), ord("T"), 0, 0]


def test_tokens_follow_the_documented_alphabet():
    codes = encoding.to_codes([b"ACGTNRUacgt"], 12)
    assert encoding.tokens(codes).tolist() == [[1, 2, 3, 4, 5, 5, 4, 1, 2, 3, 4, 0]]
    assert encoding.tokens(codes).dtype == np.int64
    assert encoding.tokens(codes, lowercase="n")[0, 7:11].tolist() == [5, 5, 5, 5]
    assert encoding.VOCAB_SIZE == 6 and encoding.TOKENS == "-ACGTN"


def test_reverse_complement_of_tokens_matches_that_of_codes():
    codes = encoding.to_codes([b"AACGTNR", b"GGC"], 7)
    rc = encoding.reverse_complement_tokens(encoding.tokens(codes))
    assert rc.tolist() == [[5, 5, 1, 2, 3, 4, 4], [0, 0, 3, 2, 2, 0, 0]]  # GGC -> GCC
    assert np.array_equal(rc, encoding.tokens(encoding.reverse_complement_codes(codes)))
    assert encoding.decode_tokens(rc[0]) == "NNACGTT"


@pytest.mark.parametrize("unknown", ["zeros", "uniform", "iupac"])
@pytest.mark.parametrize("lowercase", ["upper", "n"])
def test_onehot_equals_a_plain_table_lookup(unknown, lowercase):
    rng = np.random.default_rng(0)
    codes = np.frombuffer(b"ACGTNRYKMacgtnr\x00", np.uint8)[rng.integers(0, 16, (3, 40))]
    table = encoding.onehot_table(unknown, lowercase)
    expected = table[codes].transpose(0, 2, 1)
    assert np.array_equal(encoding.onehot(codes, table), expected)
    out = np.full((3, 4, 40), 7, dtype=np.float32)
    assert encoding.onehot(codes[:, ::-1], table, out=out) is out
    assert np.array_equal(out, expected[:, :, ::-1])
