"""Refs in the object store: what tracked runs use, kept by gc, robust to torn writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loom.errors import ValidationError
from loom.objects import gc
from loom.objects.hashing import hash_bytes
from loom.objects.odb import ObjectDB
from loom.objects.refs import Refs


def _oids(n: int, tag: str = "x") -> list[str]:
    return [hash_bytes(f"{tag}{i}".encode()) for i in range(n)]


def test_add_appends_batches_and_reads_them_back(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    a, b, c = _oids(3)
    odb.refs.add("runs", "r1", [a, b])
    odb.refs.add("runs", "r1", [b, c])  # a second batch, one repeated oid
    odb.refs.add("runs", "r2", [c])
    odb.refs.add("runs", "r3", [])  # nothing to note: no file
    assert odb.refs.root == tmp_path / "cache" / "refs"
    assert odb.refs.read("runs", "r1") == [a, b, c]
    assert odb.refs.names("runs") == ["r1", "r2"]
    assert odb.refs.oids() == {a, b, c}
    assert odb.refs.oids("runs") == {a, b, c}
    assert odb.refs.names("stores") == [] and odb.refs.read("runs", "nope") == []
    odb.refs.write("stores", "k", [a])
    odb.refs.write("stores", "k", [b])  # replaced whole
    assert odb.refs.read("stores", "k") == [b] and odb.refs.has("stores", "k")
    assert odb.refs.kinds() == ["runs", "stores"]


def test_a_torn_last_line_is_ignored_and_the_next_batch_still_counts(tmp_path: Path) -> None:
    refs = Refs(tmp_path / "refs")
    a, b, c = _oids(3)
    refs.add("runs", "r1", [a])
    path = refs.path("runs", "r1")
    with open(path, "ab") as f:  # what a writer cut short leaves: half an oid, no newline
        f.write(b.encode()[:30])
    assert refs.read("runs", "r1") == [a]
    refs.add("runs", "r1", [c])  # must not glue onto the torn line
    assert refs.read("runs", "r1") == [a, c]
    with open(path, "ab") as f:  # garbage that isn't even text
        f.write(b"\xff\xfe\x00" + b"Z" * 64 + b"\n")
    assert refs.oids() == {a, c}


def test_a_writer_killed_mid_batch_leaves_readable_refs(tmp_path: Path) -> None:
    # A real process appending big batches, SIGKILLed: whatever it left reads without error,
    # and every line read is a whole oid it wrote.
    root = tmp_path / "refs"
    script = (
        "import sys\n"
        "from loom.objects.refs import Refs\n"
        "from loom.objects.hashing import hash_bytes\n"
        "refs = Refs(sys.argv[1])\n"
        "oids = [hash_bytes(str(i).encode()) for i in range(20000)]\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    refs.add('runs', 'r1', oids)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    from tests.conftest import wait_for

    wait_for(lambda: (root / "runs" / "r1").is_file() and os.path.getsize(root / "runs" / "r1"))
    proc.kill()
    proc.wait()
    proc.stdout.close()
    wrote = {hash_bytes(str(i).encode()) for i in range(20000)}
    got = Refs(root).read("runs", "r1")
    assert got and set(got) <= wrote


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x" * 129, "a\nb"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError):
        Refs(tmp_path).add("runs", name, _oids(1))
    with pytest.raises(ValidationError):
        Refs(tmp_path).names(name)
    assert not any(tmp_path.iterdir())


def test_only_oids_can_be_referenced(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Refs(tmp_path / "refs").add("runs", "r1", ["not-an-oid"])
    assert not (tmp_path / "refs").exists()


def test_gc_leaves_refs_alone(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = odb.add_bytes(b"artifact")
    odb.refs.add("runs", "r1", [oid])
    result = gc.collect(odb, keep=set(), grace_seconds=0)
    assert result.removed == [oid]  # objects.gc keeps only what it is told to
    assert odb.refs.read("runs", "r1") == [oid]  # refs are never collected
