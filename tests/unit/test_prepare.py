"""The one input path: lengths are never changed silently; the input spec round-trips."""

import numpy as np
import pytest

from biodl.data import prepare
from biodl.data.spec import InputSpec, Kind, Target, spec_of_checkpoint
from biodl.errors import BiodlError


def where(i: int) -> str:
    return f"in.fa line {i + 1}: record 'r{i}'"


def test_equal_lengths_pass_unchanged():
    codes = prepare.sequence_codes([b"ACGT", b"TTGA"], 4, "error", where)
    assert codes.lengths is None
    assert codes.codes.tolist() == [list(b"ACGT"), list(b"TTGA")]


def test_other_lengths_are_refused_naming_record_length_window_and_choices():
    with pytest.raises(BiodlError) as longer:
        prepare.sequence_codes([b"ACGT", b"ACGTAC"], 4, "error", where)
    assert str(longer.value) == (
        "in.fa line 2: record 'r1' is 6 bp but the model takes 4-bp windows (1 record(s) "
        "differ); set --length-policy crop (centre 4 bp) or scan (slide the window along it; "
        "predict only), or crop_pad for both")
    with pytest.raises(BiodlError, match=r"record 'r0' is 2 bp .* set data.length_policy pad"):
        prepare.sequence_codes([b"AC", b"ACGT"], 4, "crop", where, option="data.length_policy")


def test_crop_and_pad_centre_the_window():
    codes = prepare.sequence_codes([b"AACGTT", b"CG"], 4, "crop_pad", where).codes
    assert codes.tolist() == [list(b"ACGT"), [0, ord("C"), ord("G"), 0]]
    with pytest.raises(BiodlError, match="is 2 bp"):
        prepare.sequence_codes([b"AACGTT", b"CG"], 4, "crop", where)
    with pytest.raises(BiodlError, match="is 6 bp"):
        prepare.sequence_codes([b"AACGTT", b"CG"], 4, "pad", where)


def test_variable_length_keeps_the_start_and_the_true_lengths():
    codes = prepare.sequence_codes([b"ACG", b"A"], None, "error", where, variable_length=True)
    assert codes.codes.tolist() == [list(b"ACG"), [ord("A"), 0, 0]]
    assert codes.lengths.tolist() == [3, 1]
    with pytest.raises(BiodlError, match="longer than the model's maximum of 2 bp"):
        prepare.sequence_codes([b"ACG"], 2, "error", where, variable_length=True)
    cropped = prepare.sequence_codes([b"ACG"], 2, "crop", where, variable_length=True)
    assert cropped.codes.tolist() == [list(b"AC")] and cropped.lengths.tolist() == [2]


def test_a_wrong_policy_names_the_choices():
    with pytest.raises(BiodlError, match="'cut' is not a length policy; choose error, crop"):
        prepare.sequence_codes([b"ACGT"], 4, "cut", where)


def test_length_summary_counts_raw_lengths():
    sizes = np.array([70, 81, 81, 90])
    assert prepare.length_summary(sizes, 81, False) == {
        "min": 70, "median": 81.0, "max": 90, "cropped": 1, "padded": 1}


def test_scan_windows_never_run_off_the_end():
    assert prepare.scan_windows(10, 4, 3).tolist() == [0, 3, 6]
    assert prepare.scan_windows(3, 4, 1).tolist() == []


def test_input_spec_round_trips_through_plain_values():
    spec = InputSpec(format="fasta", kind=Kind.ONEHOT, target=Target.CLASS,
                     output_names=("bg", "promoter"), length=81, strands="both")
    values = spec.to_dict()
    assert values["kind"] == "onehot" and values["output_names"] == ["bg", "promoter"]
    assert InputSpec.from_dict(values) == spec and spec.positive_class == "promoter"
    other = InputSpec.from_dict({**values, "length": 101})
    assert spec.differences(other) == ["length: 81 != 101"]


def test_a_checkpoint_without_a_spec_must_be_retrained():
    with pytest.raises(BiodlError, match="old.ckpt: this checkpoint has no input spec .* re-train"):
        spec_of_checkpoint({"data_spec": {"kind": "sequences"}}, "old.ckpt")

