"""The git plumbing experiments and ``loom reproduce`` stand on: snapshot commits, refs, worktrees.

- ``snapshot`` is what ``git stash create`` makes, without touching the index: a
  commit holding the uncommitted changes to tracked files (HEAD itself when there are
  none). A ref under ``refs/loom/`` keeps it from gc.
- ``add_worktree`` / ``remove_worktree``: a detached temporary worktree at a commit;
  removing it also prunes git's record of it, so an interrupted one leaves nothing.

    >>> base = snapshot(ws.root)                                   # doctest: +SKIP
    >>> keep(ws.root, f"refs/loom/exps/queue/{exp_id}", base)      # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from loom.data import git
from loom.errors import NotFoundError, UsageError

REFS = "refs/loom/exps"  # queue/<id> while queued, runs/<run id> once run


def repo_prefix(root: Path) -> str:
    """The workspace's folder inside its git repository ('' at the top, else 'sub/').

    UsageError when ``root`` is not in a git repository or it has no commit yet: an
    experiment's code is a commit."""
    proc = git.run(root, "rev-parse", "--show-prefix")
    if proc.returncode != 0:
        raise UsageError(
            f"{root} is not in a git repository; experiments and `loom reproduce` need one "
            "(the code of a run is a commit).",
            hint="Run `git init`, commit the project, then try again.",
        )
    if git.run(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        raise UsageError(
            f"The git repository of {root} has no commit yet.",
            hint="Commit the project once (`git add -A && git commit -m start`), then try again.",
        )
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


def head(root: Path) -> str:
    return git.text(root, "rev-parse", "--verify", "HEAD")


def snapshot(root: Path) -> str:
    """A commit of the workspace as it is: HEAD when nothing tracked changed, else a child
    of HEAD holding the changes to tracked (and staged) files; untracked ones are not in it.

    Made with a copy of the index, so the index itself is never rewritten: ``git stash
    create`` refreshes and rewrites it, and was seen to fail without a word right after
    a repro had rewritten tracked files.
    """
    parent = head(root)
    index = Path(root, git.text(root, "rev-parse", "--git-path", "index"))
    with tempfile.TemporaryDirectory(prefix="loom-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if index.is_file():
            shutil.copyfile(index, env["GIT_INDEX_FILE"])
        else:
            git.output(root, "read-tree", parent, env=env)
        git.output(root, "add", "--update", "--", ":/", env=env)
        tree = git.text(root, "write-tree", env=env)
    if tree == git.text(root, "rev-parse", f"{parent}^{{tree}}"):
        return parent
    message = ("-m", "loom experiment: the workspace's uncommitted changes")
    made = git.run(root, "commit-tree", tree, "-p", parent, *message)
    if made.returncode != 0:  # no identity configured: git stash's own fallback
        who = ("-c", "user.name=loom", "-c", "user.email=loom@localhost")
        return git.text(root, *who, "commit-tree", tree, "-p", parent, *message)
    return made.stdout.decode().strip()


def keep(root: Path, ref: str, commit: str) -> None:
    """Point ``ref`` at ``commit`` so that git never collects it."""
    git.output(root, "update-ref", ref, commit)


def drop(root: Path, ref: str) -> None:
    git.run(root, "update-ref", "-d", ref)


def resolve_commit(root: Path, commit: str) -> str:
    """``commit`` checked to be a commit of this repository; NotFoundError otherwise."""
    ok = bool(commit) and not commit.startswith("-")
    proc = git.run(root, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}") if ok else None
    if proc is None or proc.returncode != 0:
        raise NotFoundError(
            f"Commit {commit} is not in the git repository of {root}.",
            hint="Fetch it (`git fetch --all`, or from the clone where the run was made), "
            "then try again.",
            commit=commit,
        )
    return proc.stdout.decode().strip()


def add_worktree(root: Path, path: Path, commit: str) -> None:
    """A detached worktree of ``root``'s repository at ``commit``, in ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    git.output(
        root,
        "worktree",
        "add",
        "--detach",
        "--force",
        str(path),
        commit,
        hint="`git worktree list` shows the worktrees; `git worktree prune` forgets gone ones.",
    )


def remove_worktree(root: Path, path: Path) -> None:
    """Remove the worktree at ``path`` (and what is in it), never failing half-way:
    whatever git leaves is deleted, then git's record of it is pruned."""
    git.run(root, "worktree", "remove", "--force", "--force", str(path))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    git.run(root, "worktree", "prune")
