"""atomicfile: a file replaced whole, from any number of parts, never through a planted file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graphtape.cassette.atomicfile import atomic_write


def test_parts_beyond_one_writev_are_written_in_order(tmp_path: Path) -> None:
    parts = [f"{i:05d}\n".encode() for i in range(5000)]  # more than IOV_MAX (1024) parts
    atomic_write(tmp_path / "c.yaml", parts)
    assert (tmp_path / "c.yaml").read_bytes() == b"".join(parts)


@pytest.mark.parametrize("data", ["été\n", b"\x00\xff", [b"", b"a", b""], []])
def test_str_bytes_and_parts(tmp_path: Path, data: str | bytes | list[bytes]) -> None:
    atomic_write(tmp_path / "sub" / "f", data, durable=False)
    expected = data.encode() if isinstance(data, str) else data if isinstance(data, bytes) else b"".join(data)
    assert (tmp_path / "sub" / "f").read_bytes() == expected
    assert os.listdir(tmp_path / "sub") == ["f"]


def test_a_planted_temp_name_is_never_written_through(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_bytes(b"keep me")
    path = tmp_path / "c.yaml"
    planted = tmp_path / f".c.yaml.{os.getpid()}.tmp"
    planted.symlink_to(target)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert target.read_bytes() == b"keep me"
    assert planted.is_symlink()  # left as it was; the write went through another name


def test_a_failed_rename_leaves_the_old_file_and_no_temp_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    atomic_write(path, b"old")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied", dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        atomic_write(path, [b"new", b"er"])
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["c.yaml"]
