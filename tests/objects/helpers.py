"""Small shared helpers for the object-store tests (real files, no mocks)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from loom.objects import hash_files


def make_files(root: Path, n: int, *, seed: int = 0, lo: int = 1024, hi: int = 8192):
    """``n`` seeded random files under ``root``; returns ``[(path, oid, size)]``."""
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        p = root / f"d{i % 10}" / f"f{i:05d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rng.randbytes(rng.randint(lo, hi)))
        paths.append(p)
    oids = hash_files(paths)
    return [(p, o, p.stat().st_size) for p, o in zip(paths, oids, strict=True)]


def flip_byte(path: Path, offset: int = 0) -> None:
    """Flip one bit of a (possibly read-only) file in place."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def age(path: Path, seconds: float) -> None:
    """Move a file's mtime ``seconds`` into the past (for gc's grace period)."""
    st = os.stat(path)
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))
