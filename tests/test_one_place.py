"""One place for each rule: checked on the source, so a second copy can't creep back in."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "loom"


def _calls(attr: str, owner: str) -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == attr
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == owner
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_renames_into_place_happen_only_in_the_atomic_helper() -> None:
    """Temp file + rename is loom.atomic's job (short temp names, EXDEV, read-only bits)."""
    assert all(p.startswith("atomic.py:") for p in _calls("replace", "os")), _calls("replace", "os")
    assert all(p.startswith("atomic.py:") for p in _calls("rename", "os"))


def test_the_workspace_is_found_in_one_place(tmp_path: Path) -> None:
    """A folder with .loom/ but no config.toml is no workspace, for data and tracking alike."""
    from loom.data.workspace import Workspace
    from loom.tracking import uri

    (tmp_path / ".loom").mkdir()
    assert Workspace.find_or_none(tmp_path) is None
    assert uri.find_workspace(tmp_path) is None
    (tmp_path / ".loom" / "config.toml").write_text("")
    assert Workspace.find_or_none(tmp_path) == Workspace(tmp_path.resolve())
    assert uri.find_workspace(tmp_path) == tmp_path.resolve()
