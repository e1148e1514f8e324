"""A no-op ``loom repro`` answered from what the last one read, without loading the pipeline.

When every stage was up to date, ``loom repro`` writes down everything its
decision rested on: ``loom.yaml``, ``loom.lock``, the params and vars files, each
dep and out — a file by its stat key, a folder by its find listing
(``loom.data.listing``), an absent path as absent. Next time, if each is still the
same, nothing that decision read has changed, so the answer is the same; that
costs some stats and the listings already under way, where loading the pipeline
modules and YAML took longer than the listings themselves. Anything different, or
anything written too recently to be told from a same-tick edit (``RACY_NS``, as
the state index has it), and the pipeline is planned in full as always.

    >>> memo = Seen()                                      # doctest: +SKIP
    >>> memo.file("loom.yaml", os.stat("loom.yaml"))        # doctest: +SKIP
    >>> remember(ws.tmp, memo, result_dict)               # doctest: +SKIP
    >>> answer(ws.tmp, ws.root, listings)                 # doctest: +SKIP
    {'stages': [{'stage': 'train', 'action': 'skipped', 'reason': 'up to date'}]}
"""

from __future__ import annotations

import marshal
import os
import stat
import time
from pathlib import Path
from typing import Any

from loom import atomic
from loom.data.listing import MEMOS, Listings
from loom.data.racy import RACY_NS

MEMO = f"{MEMOS}/repro-noop"  # in the workspace's .loom/tmp
_ABSENT: tuple[Any, ...] = ("absent",)
_UNSURE: tuple[Any, ...] = ("unsure",)  # seen, but not in a form that can be checked again


class Seen:
    """What one plan read, path by path (root-relative), in the form :func:`answer` checks."""

    def __init__(self) -> None:
        self.paths: dict[str, tuple[Any, ...]] = {}
        self.newest = 0  # the newest mtime among the files

    def file(self, rel: str, st: os.stat_result | None) -> None:
        self.paths.setdefault(rel, _file(st))
        if st is not None:
            self.newest = max(self.newest, st.st_mtime_ns)

    def key(self, rel: str, key: tuple[int, int, int] | None) -> None:
        """A file by the stat key (inode, mtime_ns, size) its hash was found by."""
        self.paths.setdefault(rel, ("file", *key) if key is not None else _ABSENT)
        if key is not None:
            self.newest = max(self.newest, key[1])

    def folder(self, rel: str, listing: str | None) -> None:
        """A folder by the find listing its hash was known by (None: it was walked)."""
        self.paths.setdefault(rel, ("dir", listing) if listing else _UNSURE)


def _format() -> tuple[Any, ...]:
    """What the memo's meaning rests on besides the workspace: this package's code. Another
    Loom (an upgrade, an edit of the planner) may decide otherwise, so its memo is not read
    (a stat of each module here: well under a millisecond)."""
    here = os.path.dirname(__file__)
    code = sorted(
        (e.name, e.stat().st_mtime_ns, e.stat().st_size)
        for e in os.scandir(here)
        if e.name.endswith(".py")
    )
    return (1, code)


def remember(tmp: Path, seen: Seen, result: dict[str, Any]) -> None:
    """Write the memo, unless something seen can't be checked again or is too recent."""
    path = tmp / MEMO
    settled = time.time_ns() - seen.newest >= RACY_NS
    if not settled or any(v == _UNSURE for v in seen.paths.values()):
        forget(tmp)
        return
    memo = {"format": _format(), "paths": sorted(seen.paths.items()), "result": result}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, marshal.dumps(memo))
    except OSError:
        forget(tmp)  # only a head start is lost


def forget(tmp: Path) -> None:
    try:
        (tmp / MEMO).unlink()
    except OSError:
        pass


def answer(tmp: Path, root: Path, listings: Listings) -> dict[str, Any] | None:
    """The last no-op's result if everything it read is as it was, else None."""
    try:
        memo = marshal.loads((tmp / MEMO).read_bytes())
        if memo["format"] != _format():
            return None
        for rel, was in memo["paths"]:
            if _now(root / rel, was, listings) != was:
                return None
        result: dict[str, Any] = memo["result"]
        return result
    except (OSError, ValueError, EOFError, TypeError, KeyError):  # none, or not ours
        return None


def _now(path: Path, was: tuple[Any, ...], listings: Listings) -> tuple[Any, ...]:
    if was[0] == "dir":
        return ("dir", listings.peek(path))  # the full plan, if it comes to that, takes it
    try:
        return _file(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return _ABSENT


def _file(st: os.stat_result | None) -> tuple[Any, ...]:
    if st is None:
        return _ABSENT
    if not stat.S_ISREG(st.st_mode):
        return ("other", stat.S_IFMT(st.st_mode))
    return ("file", st.st_ino, st.st_mtime_ns, st.st_size)
