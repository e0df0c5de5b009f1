"""Inference outputs: written through a temporary file, with the permissions the umask gives,
never over an existing file unless forced."""

import os

import pytest

from biodl.errors import BiodlError
from biodl.inference.output import write_table


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_output_honours_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert write_table(tmp_path / "p.csv", ["id", "p"], [["a", 0.25]]) == 1
    finally:
        os.umask(old)
    assert (tmp_path / "p.csv").stat().st_mode & 0o777 == mode
    assert (tmp_path / "p.csv").read_text() == "id,p\na,0.25\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]  # no temporary file left


def test_existing_output_and_missing_folder_are_refused(tmp_path):
    (tmp_path / "keep.csv").write_text("precious\n")
    with pytest.raises(BiodlError, match="keep.csv: already exists; choose another --output"):
        write_table(tmp_path / "keep.csv", ["id"], [])
    assert (tmp_path / "keep.csv").read_text() == "precious\n"
    with pytest.raises(BiodlError, match="the folder .*nowhere does not exist"):
        write_table(tmp_path / "nowhere" / "p.csv", ["id"], [])
