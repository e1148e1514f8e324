"""Has this folder changed since its tree was hashed? Answered by GNU find's walk, in C.

A Python walk stats 20,000 files in ~110 ms of one core's time; ``find -printf``
lists the same (names, inodes, mtimes, sizes, modes, types) with the stat calls
as nearly all its cost, split over two processes (~50 ms on two cores). The
listing's hash is looked up in the state index; a hit gives the folder's tree
hash, size and file count without a Python walk.
That is all this module answers: a miss, or a system without GNU find (macOS,
busybox), falls back to ``loom.data.walk``, which alone decides what a folder
holds. Used where a folder is usually unchanged (``loom repro``'s deps and outs).

    >>> with Listings(ws.tmp) as listings:      # doctest: +SKIP
    ...     state.listing(listings.fingerprint(Path("data/raw")))
    ('5f1c…', 61_440_000, 20_000)

A listing is recorded only when it was the same before and after the Python
walk that hashed the folder (:meth:`Listings.confirm`), so the tree it maps to
is the tree it describes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

from blake3 import blake3  # a memo key, not an object id: no need to load loom.objects

from loom import atomic
from loom.data.root import LOOM_DIR, find_root

# -L: the stat of what a link points to, as the walk reads it. A link to a folder is
# printed, not entered (the walk refuses those; entering one could list the disk).
# %l, empty for files, tells a link from its target; \0 ends each field: names may
# hold newlines. %p, the whole path: several starting points may share names below.
_LINKS_TO_FOLDERS = (
    *("(", "-type", "d", "-xtype", "l"),
    *("-printf", "LINK-TO-FOLDER %p\\0", "-prune", ")", "-o"),
)
_PRINT = ("-printf", "%p\\0%i %T@ %s %m %y %l\\0")


_MAX_STARTS = 2000  # sub-folders named on find's command lines, at most (ARG_MAX)


def _args(exe: str, starts: list[str], shallow: bool) -> list[str]:
    depth = ("-mindepth", "1", *(("-maxdepth", "1") if shallow else ()))
    return [exe, "-L", *starts, *depth, *_LINKS_TO_FOLDERS, *_PRINT]


# Memos kept across commands live in a folder of .loom/tmp: gc sweeps only the files
# directly in .loom/tmp (temp files of killed processes), never a folder's.
MEMOS = "memo"
HINTS = f"{MEMOS}/listing-hints"  # the folders the last command listed, one per NUL


@cache
def _find() -> str | None:
    # A find without -printf (BSD's, busybox's) fails on it: the Python walk then.
    return shutil.which("find")


class Listings:
    """find's listings for one command, those the last command asked for started at once.

    The hints file names the folders listed last time, so that find runs while Python
    imports and parses ``loom.yaml`` (the two take about as long); each started listing
    is taken once, by the first :meth:`fingerprint` of its folder.
    """

    def __init__(self, tmp: Path | None = None) -> None:
        """``tmp``: the workspace's temp folder, where the hints file is kept."""
        hints = tmp / HINTS if tmp is not None else None
        self.hints = hints
        self._hinted: list[str] = []
        self._running: dict[str, _Find] = {}
        self._listed: dict[str, None] = {}  # in order, once each
        self._peeked: dict[str, str | None] = {}
        self._checks: list[tuple[_Find, str, Callable[[], None]]] = []
        if hints is not None:
            self._start_hinted(hints)

    @classmethod
    def start_early(cls) -> None:
        """Start the hinted listings of the workspace around the cwd, first thing in the
        process; :meth:`early` hands them over once the workspace is known."""
        global _early
        root = find_root()
        if root is not None:
            _early = cls(Path(root, LOOM_DIR, "tmp"))

    @classmethod
    def early(cls, tmp: Path) -> Listings:
        """The listings :meth:`start_early` started for ``tmp``, else new ones."""
        global _early
        found, _early = _early, None
        if found is not None and found.hints == tmp / HINTS:
            return found
        if found is not None:
            found._stop()
        return cls(tmp)

    @staticmethod
    def drop_early() -> None:
        """Stop what :meth:`start_early` started if nobody took it."""
        global _early
        found, _early = _early, None
        if found is not None:
            found._stop()

    def fingerprint(self, top: Path) -> str | None:
        """The hash of ``top``'s listing, or None when find is missing or reports a problem."""
        key = os.path.abspath(top)  # a folder named like an option (``-name``) is a path
        self._listed[key] = None
        if key in self._peeked:
            return self._peeked.pop(key)
        run = self._running.pop(key, None) or _Find.start(key)
        if run is None:
            return None
        out = run.result()
        return None if out is None else _hash(out)

    def peek(self, top: Path) -> str | None:
        """:meth:`fingerprint`, kept for the next one of the same folder to take."""
        key = os.path.abspath(top)
        if key not in self._peeked:
            self._peeked[key] = self.fingerprint(top)
        return self._peeked[key]

    def confirm(self, top: Path, quick: str, then: Callable[[], None]) -> None:
        """Call ``then`` in :meth:`settle` if ``top``'s listing is still ``quick``: the folder
        did not change while it was walked. The second listing runs meanwhile, off the
        command's way (on a first ``loom repro`` it runs beside the first stage)."""
        run = _Find.start(os.path.abspath(top))
        if run is not None:
            self._checks.append((run, quick, then))

    def settle(self) -> None:
        """Finish the :meth:`confirm` checks."""
        checks, self._checks = self._checks, []
        for run, quick, then in checks:
            out = run.result()
            if out is not None and _hash(out) == quick:
                then()

    def close(self) -> None:
        """Stop the listings nobody asked for; name this command's folders for the next."""
        self._stop()
        # a command that listed nothing (it stopped early) leaves the hints as they were
        if self.hints is not None and self._listed and list(self._listed) != self._hinted:
            try:
                self.hints.parent.mkdir(parents=True, exist_ok=True)
                atomic.write_bytes(self.hints, "".join(f"{k}\0" for k in self._listed).encode())
            except OSError:
                pass  # only a head start is lost
            self._hinted = list(self._listed)

    def _stop(self) -> None:
        for run in self._running.values():
            run.stop()
        self._running.clear()
        for run, _, _ in self._checks:
            run.stop()
        self._checks.clear()

    def __enter__(self) -> Listings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_hinted(self, hints: Path) -> None:
        try:
            self._hinted = [k for k in hints.read_bytes().decode().split("\0") if k]
        except (OSError, UnicodeDecodeError):
            return
        for key in self._hinted:
            run = _Find.start(key)
            if run is not None:
                self._running[key] = run


_early: Listings | None = None  # started by start_early, taken by early


def _hash(listing: bytes) -> str:
    return "find:" + blake3(listing).hexdigest()


class _Find:
    """find processes writing into anonymous in-memory files: through a pipe each would
    stop at 64 KiB until read, and the listing of 20,000 files is over 1 MB.

    A folder with sub-folders is listed by three: its own entries, then each half of its
    sub-folders' trees, so that two cores share the stat calls (~90 ms for 20,000 files
    in one process). The listing is their outputs in that order.
    """

    def __init__(self, parts: list[tuple[subprocess.Popen[bytes], int]]) -> None:
        self.parts = parts

    @classmethod
    def start(cls, top: str) -> _Find | None:
        exe = _find()
        if exe is None or not hasattr(os, "memfd_create"):  # GNU find: Linux, and memfd
            return None
        try:
            subs = sorted(e.path for e in os.scandir(top) if e.is_dir(follow_symlinks=False))
        except OSError:
            subs = []  # find says what is wrong
        if not 2 <= len(subs) <= _MAX_STARTS:  # one find; so many names would not fit argv
            plans = [([top], False)]
        else:
            half = len(subs) // 2
            plans = [([top], True), (subs[:half], False), (subs[half:], False)]
        found = cls([])
        for starts, shallow in plans:
            out = os.memfd_create("loom-listing")
            try:
                proc = subprocess.Popen(
                    _args(exe, starts, shallow), stdout=out, stderr=subprocess.PIPE
                )
            except OSError:
                os.close(out)
                found.stop()
                return None
            found.parts.append((proc, out))
        return found

    def result(self) -> bytes | None:
        """The listing, or None when a find failed or said anything (a loop, a folder it
        can't read): the Python walk then finds and reports it."""
        chunks: list[bytes] = []
        ok = True
        for proc, out in self.parts:
            try:
                _, err = proc.communicate()
                ok = ok and proc.returncode == 0 and not err
                if ok:
                    with open(out, "rb", closefd=False) as f:
                        f.seek(0)
                        chunks.append(f.read())
            finally:
                os.close(out)
        self.parts = []
        return b"".join(chunks) if ok else None

    def stop(self) -> None:
        for proc, out in self.parts:
            proc.kill()
            proc.communicate()
            os.close(out)
        self.parts = []
