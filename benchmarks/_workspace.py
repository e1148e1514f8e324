"""Seeded workspaces for the data benchmark: many small files and one large file.

Every byte comes from a seeded generator, so Loom and DVC see identical input
in every repetition, and a restored workspace can be checked against the
fingerprint of the original.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from pathlib import Path

import blake3

SEGMENT = 64 << 20


def small_path(i: int) -> str:
    """Nested layout: 20 top folders × 10 sub-folders, about 100 files per leaf."""
    return f"d{i % 20:02d}/e{(i // 20) % 10}/f{i:05d}.bin"


def make_small_files(root: Path, count: int, seed: int = 7) -> list[str]:
    """Write ``count`` files of 1–8 KiB of seeded random bytes under ``root``."""
    rng = random.Random(seed)
    paths = [small_path(i) for i in range(count)]
    for d in {os.path.dirname(p) for p in paths}:
        (root / d).mkdir(parents=True, exist_ok=True)
    for p in paths:
        (root / p).write_bytes(rng.randbytes(rng.randint(1024, 8192)))
    return paths


def modify_files(root: Path, paths: list[str], count: int, seed: int) -> list[str]:
    """Rewrite ``count`` of the files (spread over the tree) with new seeded bytes."""
    rng = random.Random(seed)
    step = max(1, len(paths) // count)
    changed = paths[::step][:count]
    for p in changed:
        (root / p).write_bytes(rng.randbytes(rng.randint(1024, 8192)))
    return changed


def fingerprint(root: Path) -> tuple[int, str]:
    """(file count, digest of every relative path and its bytes) for a folder."""
    digest = hashlib.blake2b()
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath, name)
            digest.update(str(full.relative_to(root)).encode() + b"\0")
            digest.update(full.read_bytes())
            count += 1
    return count, digest.hexdigest()


def make_big_file(path: Path, size: int, seed: int = 11) -> None:
    """A large file of seeded pseudo-random bytes (BLAKE3 XOF, one fresh stream a segment).

    Every 64 MiB segment is its own stream, so nothing repeats: neither compression
    nor chunk-level deduplication can make hashing or storing it cheaper.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        written, k = 0, 0
        while written < size:
            n = min(SEGMENT, size - written)
            fh.write(blake3.blake3(f"bench-{seed}-{k}".encode()).digest(length=n))
            written += n
            k += 1
    os.replace(tmp, path)


def copy_big_file(template: Path, dest: Path) -> None:
    """A fresh, writable copy (a new inode) of the large file for one tool and repetition."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dest)


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))
