"""The one atomic-write helper: whole or absent, short temp names, threads don't collide."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from loom import atomic


def test_a_255_byte_name_is_written(tmp_path: Path) -> None:
    dest = tmp_path / ("n" * 255)
    atomic.write_bytes(dest, b"data")
    assert dest.read_bytes() == b"data"
    assert os.listdir(tmp_path) == [dest.name]


def test_temp_names_are_short_and_unique() -> None:
    names = {atomic.temp_name() for _ in range(10_000)}
    assert len(names) == 10_000
    assert max(len(n) for n in names) < 40
    assert all(atomic.is_temp(n) for n in names)


def test_an_error_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_file(dest) as f:
        f.write(b"half")
        raise RuntimeError("killed mid-write")
    assert dest.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]


def test_readonly_and_tmp_dir(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    dest = tmp_path / "obj"
    atomic.write_bytes(dest, b"x", readonly=True, fsync=True, tmp_dir=tmp_path / "tmp")
    assert not dest.stat().st_mode & stat.S_IWUSR
    assert os.listdir(tmp_path / "tmp") == []


def test_many_threads_writing_one_file_never_collide(tmp_path: Path) -> None:
    dest = tmp_path / "shared"
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(50):
                atomic.write_text(dest, f"writer {i}\n" * 100)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = set(dest.read_text().splitlines())
    assert len(lines) == 1  # one whole write, never a mix
    assert os.listdir(tmp_path) == ["shared"]
