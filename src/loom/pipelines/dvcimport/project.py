"""A DVC project on disk, read-only: its ``.dvc`` files, ``dvc.yaml``, ``dvc.lock``, config.

>>> project = DvcProject.open(".")     # UsageError unless there is a .dvc/ folder
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom.errors import UsageError
from loom.pipelines.dvcimport.dvccache import DvcCache, DvcHash

_SKIP = {".git", ".dvc", ".loom", "node_modules", "__pycache__"}
_SECTION = re.compile(r"^\[\s*'?\s*(\w+)(?:\s+\"([^\"]*)\")?\s*'?\s*\]$")


def out_hash(entry: dict[str, Any]) -> DvcHash | None:
    """The hash of one out or dep entry of a ``.dvc`` file or ``dvc.lock``; None if none.

    DVC 3 writes ``hash: md5``; an entry without it was written by DVC 2.
    """
    md5 = entry.get("md5")
    if not isinstance(md5, str) or not md5:
        return None
    return DvcHash(md5, legacy=entry.get("hash") != "md5")


@dataclass
class DvcProject:
    root: Path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None) -> DvcProject:
        root = Path(path or ".").resolve()
        if not (root / ".dvc").is_dir():
            raise UsageError(
                f"{root} is not a DVC project (it has no .dvc/ folder).",
                hint="Run `loom import-dvc PATH` with the folder that holds .dvc/ and dvc.yaml.",
                path=str(root),
            )
        return cls(root)

    # -- files --------------------------------------------------------------------
    def read_yaml(self, rel: str) -> Any:
        import yaml

        path = self.root / rel
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"Can't read {rel}: {exc.strerror or exc}.", hint="Check the file.", path=rel
            ) from None
        try:
            return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{rel}:{mark.line + 1}" if mark is not None else rel
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise UsageError(
                f"{where} is not valid YAML: {problem}.",
                hint=f"Fix {rel} (DVC can't read it either), then run `loom import-dvc` again.",
                path=rel,
            ) from None

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def files_named(self, suffix: str) -> list[str]:
        """Root-relative paths of the project's files ending in ``suffix``, sorted.

        In a git repository, the files git tracks or would track (tracked data,
        which git ignores, is not walked); else a walk that skips .git, .dvc, .loom.
        """
        if (self.root / ".git").exists():
            proc = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                 f"*{suffix}"],
                cwd=self.root, capture_output=True,
            )  # fmt: skip
            if proc.returncode == 0:
                names = {os.fsdecode(n) for n in proc.stdout.split(b"\0") if n}
                return sorted(n for n in names if n.endswith(suffix) and self.exists(n))
        out = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in _SKIP]
            rel = os.path.relpath(folder, self.root)
            for name in files:
                if name.endswith(suffix):
                    out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
        return sorted(out)

    def dvc_files(self) -> list[str]:
        return [f for f in self.files_named(".dvc") if not f.startswith(".dvc/")]

    # -- config -------------------------------------------------------------------
    def config(self, local: bool = False) -> dict[str, dict[str, str]]:
        """``.dvc/config`` (or ``config.local``) as {section: {key: value}}; sections
        are ``core``, ``cache``, ``remote "NAME"``…"""
        path = self.root / ".dvc" / ("config.local" if local else "config")
        if not path.is_file():
            return {}
        out: dict[str, dict[str, str]] = {}
        section: dict[str, str] | None = None
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                m = _SECTION.match(line)
                if m is None:
                    raise _bad_config(path, n, raw)
                name = f'{m[1]} "{m[2]}"' if m[2] is not None else m[1]
                section = out.setdefault(name, {})
                continue
            key, eq, value = line.partition("=")
            if not eq or section is None:
                raise _bad_config(path, n, raw)
            section[key.strip()] = value.strip()
        return out

    def setting(self, section: str, key: str) -> str | None:
        """One value of config.local, else of config."""
        for local in (True, False):
            value = self.config(local=local).get(section, {}).get(key)
            if value:
                return value
        return None

    def cache(self) -> DvcCache:
        """DVC's local cache: ``cache.dir`` of config.local or config (relative to .dvc/)."""
        where = self.setting("cache", "dir")
        base = self.root / ".dvc"
        return DvcCache((base / where).resolve() if where else base / "cache")


def _bad_config(path: Path, line: int, text: str) -> UsageError:
    return UsageError(
        f"{path}:{line} is not a DVC config line: {text.strip()!r}.",
        hint="Fix it (`dvc config --list` shows what DVC reads), then run the import again.",
        path=str(path),
    )
