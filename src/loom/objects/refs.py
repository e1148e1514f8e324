"""References kept in the object store itself: which objects something outside it needs.

A store's objects are kept by gc when a pointer file names them, and pointer
files live in git. Other users of a store — tracked runs whose artifacts are
objects here — live in a database that gc may not be able to reach (another
tracking URI, a PostgreSQL server). So they write down, in the store, what
they reference, and gc keeps every oid a ref names, whatever it was started
with.

Layout, under ``<odb.root>/refs/``::

    refs/<kind>/<name>      one oid per line: 64 lowercase hex digits, then "\\n"

``kind`` and ``name`` are single names of letters, digits, ``.``, ``_`` and
``-``. Kinds in use: ``runs/<run_id>`` (the artifacts of one tracked run) and
``stores/<key>`` (the artifacts a tracking store already named when this cache
first met it; ``key`` is a hash of the store's URI, see
``loom.tracking.artifact_refs``).

Writers append (:meth:`Refs.add`): each batch is one ``O_APPEND`` write that
starts with a newline, then fsynced, so a batch is never glued onto a line a
killed writer left unfinished. Readers take every line that is an oid and skip
the rest (blank lines, a torn last line), so a kill at any moment costs at most
the batch being written, never a crash. Whole refs can also be replaced
atomically (:meth:`Refs.write`). gc never removes a ref: a deleted run can be
restored, and its artifacts with it.

    >>> refs = ObjectDB(root).refs                            # doctest: +SKIP
    >>> refs.add("runs", run_id, [oid_a, oid_b])              # doctest: +SKIP
    >>> oid_a in refs.oids()                                  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from loom import atomic
from loom._types import Oid, StrPath
from loom.errors import ValidationError, from_oserror
from loom.objects.hashing import is_oid

REFS_DIR = "refs"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class Refs:
    """The refs folder of one object store (``<odb.root>/refs``)."""

    def __init__(self, root: StrPath) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Refs({str(self.root)!r})"

    def path(self, kind: str, name: str) -> Path:
        return self.root / _check(kind, "ref kind") / _check(name, "ref name")

    def add(self, kind: str, name: str, oids: Iterable[Oid]) -> None:
        """Append ``oids`` to the ref ``kind/name`` (created if new): one write, fsynced.

        Costs an open, a write and an fsync (~1-5 ms on a local disk); callers
        batch, e.g. one call per ``log_artifacts``.
        """
        data = _lines(oids)
        if not data:
            return
        path = self.path(kind, name)
        try:
            fd, created = _open_append(path)
            try:
                view = memoryview(b"\n" + data)
                while view:  # a regular file takes it all in one write unless the disk is full
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise from_oserror(exc, "record what the cache must keep in") from None
        if created:
            atomic.fsync_dir(path.parent)

    def write(self, kind: str, name: str, oids: Iterable[Oid]) -> None:
        """Replace the ref ``kind/name`` with ``oids`` atomically (all of them or the old file)."""
        path = self.path(kind, name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(path, _lines(oids), fsync=True)
        except OSError as exc:
            raise from_oserror(exc, "record what the cache must keep in") from None
        atomic.fsync_dir(path.parent)

    def has(self, kind: str, name: str) -> bool:
        return self.path(kind, name).is_file()

    def read(self, kind: str, name: str) -> list[Oid]:
        """The oids of one ref, in the order written (empty if there is no such ref)."""
        return list(dict.fromkeys(_parse(self.path(kind, name))))

    def names(self, kind: str) -> list[str]:
        """The names of every ref of ``kind``, sorted."""
        folder = self.root / _check(kind, "ref kind")
        try:
            entries = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in entries if _NAME.fullmatch(n) and (folder / n).is_file())

    def oids(self, kind: str | None = None) -> set[Oid]:
        """Every oid any ref names (or any ref of ``kind``).

        Reads every ref file: one open per ref (per run), ~10 ms per 1,000 runs.
        """
        kinds = [kind] if kind is not None else self.kinds()
        out: set[Oid] = set()
        for k in kinds:
            for name in self.names(k):
                out.update(_parse(self.root / k / name))
        return out

    def kinds(self) -> list[str]:
        try:
            entries = os.listdir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in entries if _NAME.fullmatch(n) and (self.root / n).is_dir())


def _check(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            f"Invalid {what} {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            hint="Name refs after an id, e.g. a run id.",
        )
    return name


def _lines(oids: Iterable[Oid]) -> bytes:
    out = []
    for oid in dict.fromkeys(oids):
        if not is_oid(oid):
            raise ValidationError(f"Not an object id: {oid!r}.", hint="Oids are 64 hex digits.")
        out.append(oid)
    return "".join(o + "\n" for o in out).encode("ascii")


def _parse(path: Path) -> list[Oid]:
    """The oid lines of one ref file; anything else (a torn write's tail) is skipped."""
    try:
        text = path.read_bytes().decode("ascii", "replace")
    except (FileNotFoundError, IsADirectoryError):
        return []
    return [line for line in text.split("\n") if len(line) == 64 and is_oid(line)]


def _open_append(path: Path) -> tuple[int, bool]:
    """An O_APPEND descriptor for ``path`` and whether this call created the file."""
    flags = os.O_WRONLY | os.O_APPEND
    for _ in range(2):
        try:
            return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            return os.open(path, flags), False
        except FileNotFoundError:  # the first ref of its kind: make the folders durable too
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.fsync_dir(path.parent.parent)
            atomic.fsync_dir(path.parent.parent.parent)
    return os.open(path, flags | os.O_CREAT, 0o644), True
