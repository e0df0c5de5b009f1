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
