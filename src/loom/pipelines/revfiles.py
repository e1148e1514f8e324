"""Files as they are at a git revision, or in the workspace: what the diff commands compare.

A revision is resolved once to its commit (``git rev-parse``); then every file
a command needs at it comes from one ``git cat-file --batch`` (one process per
revision, not one per file). The workspace (``rev=None``) is read from disk.
Paths are workspace-relative, also when the workspace is a subfolder of the
git repository. A file that is absent is ``None``: a diff shows it as missing.

    >>> revs = Revisions(ws.root)
    >>> head = revs.resolve("HEAD")
    >>> revs.read(head, ["params.yaml"])["params.yaml"][:10]
    b'train:\\n  l'
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from loom.data import git
from loom.errors import NotFoundError, UsageError, ValidationError, WorkspaceError

WORKSPACE = "workspace"  # how the workspace is named in tables and JSON, as DVC names it


@dataclass(frozen=True)
class Rev:
    """A revision as the user named it (``label``) and its commit; ``commit`` None: the
    workspace."""

    label: str
    commit: str | None = None

    @property
    def where(self) -> str:
        """``in the workspace`` or ``at HEAD~1``: for messages."""
        return f"in the {WORKSPACE}" if self.commit is None else f"at {self.label}"


def opening(where: str) -> str:
    """``where`` to start a sentence: ``At HEAD~1``, ``In the workspace``."""
    return where[:1].upper() + where[1:]


class Revisions:
    """Reads files of the workspace at ``root`` at git revisions or on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # each file is read once per revision: loom.yaml's vars (params.yaml) and the
        # params diff read the same file
        self._cache: dict[tuple[str | None, str], bytes | None] = {}

    def resolve(self, rev: str | None) -> Rev:
        """``rev`` (a commit, branch, tag, ``HEAD~1``…) checked to name a commit; None: the
        workspace."""
        if rev is None:
            return Rev(WORKSPACE)
        self._prefix  # noqa: B018 -- outside a git repository, say so before naming the rev
        ok = bool(rev) and not rev.startswith("-")  # never an option to git
        proc = self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") if ok else None
        if proc is None or proc.returncode != 0:
            raise NotFoundError(
                f"{rev!r} is not a git revision in {self.root}.",
                hint=_rev_hint(rev, self._has_commits()),
                rev=rev,
            )
        return Rev(rev, proc.stdout.decode().strip())

    def read(self, rev: Rev, paths: list[str]) -> dict[str, bytes | None]:
        """The bytes of each of ``paths`` at ``rev``; None where the file does not exist."""
        todo = [p for p in dict.fromkeys(paths) if (rev.commit, p) not in self._cache]
        if todo and rev.commit is None:
            self._cache.update(((None, p), self._read_disk(p)) for p in todo)
        elif todo:
            self._cache.update(((rev.commit, p), d) for p, d in self._read_commit(rev, todo))
        return {p: self._cache[rev.commit, p] for p in paths}

    def reader(self, rev: Rev) -> Callable[[str], bytes | None]:
        """One file at a time at ``rev`` (what ``spec.loads`` reads vars files with)."""
        return lambda rel: self.read(rev, [rel])[rel]

    def _read_disk(self, rel: str) -> bytes | None:
        path = self.root / rel
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None  # a parent is a file: the path names nothing
        except IsADirectoryError:
            raise _folder(rel, f"in the {WORKSPACE}") from None

    def _read_commit(self, rev: Rev, paths: list[str]) -> Iterator[tuple[str, bytes | None]]:
        """``(path, bytes or None)`` from one ``git cat-file --batch``: it takes one name a
        line and answers ``<oid> <type> <size>\\n<bytes>\\n`` or ``<name> missing\\n``."""
        odd = [p for p in paths if "\n" in p or "\r" in p]  # no line of their own: one by one
        batch = [p for p in paths if p not in odd]
        names = "".join(f"{rev.commit}:{self._prefix}{p}\n" for p in batch)
        out = self._git_ok("cat-file", "--batch", data=names.encode()) if batch else b""
        pos = 0
        for rel in batch:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if header[-1] == b"missing" or len(header) != 3:
                yield rel, None
                continue
            kind, size = header[1], int(header[2])
            if kind == b"tree":
                raise _folder(rel, rev.where)
            yield rel, out[pos : pos + size] if kind == b"blob" else None
            pos += size + 1
        for rel in odd:
            proc = self._git("cat-file", "blob", f"{rev.commit}:{self._prefix}{rel}")
            yield rel, proc.stdout if proc.returncode == 0 else None

    def _git_ok(self, *args: str, data: bytes) -> bytes:
        proc = self._git(*args, data=data)
        if proc.returncode != 0:
            raise WorkspaceError(
                f"git {args[0]} failed in {self.root}: "
                f"{proc.stderr.decode(errors='replace').strip()}",
                hint="Check the repository with `git fsck`.",
            )
        return proc.stdout

    @cached_property
    def _prefix(self) -> str:
        """The workspace's path inside its git repository ('' at the top, else 'sub/')."""
        proc = self._git("rev-parse", "--show-prefix")
        if proc.returncode != 0:
            raise UsageError(
                f"{self.root} is not in a git repository, so it has no revisions to compare.",
                hint="Run `git init` and commit; without a revision, use `loom metrics show`.",
            )
        return proc.stdout.decode().strip()

    def _has_commits(self) -> bool:
        return self._git("rev-parse", "--verify", "--quiet", "HEAD").returncode == 0

    def _git(self, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return git.run(self.root, *args, data=data)


def _rev_hint(rev: str, has_commits: bool) -> str:
    if not has_commits:
        return "The repository has no commits yet: commit once (`git commit`), then compare."
    if rev.startswith("-"):
        return "A revision can't start with '-'; `git log --oneline` lists commits."
    return "Use a commit, branch or tag: `git log --oneline` lists them."


def _folder(rel: str, where: str) -> ValidationError:
    return ValidationError(
        f"{rel} is a folder {where}; params, metrics and plots files must be files.",
        hint="Name the files inside it in loom.yaml, e.g. `metrics: [eval/scores.json]`.",
        path=rel,
    )
