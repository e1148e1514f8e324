"""The import contract of DESIGN.md: layers only import downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "loom"

BASE = {"errors", "config", "_types", "atomic", "paths", "entities", "timeparse"}
ALLOWED: dict[str, set[str]] = {
    "errors": BASE,
    "config": BASE,
    "_types": BASE,
    "atomic": BASE,
    "paths": BASE,
    "entities": BASE,
    "timeparse": BASE,
    "objects": BASE | {"objects"},
    "data": BASE | {"objects", "data"},
    "store": BASE | {"store"},
    "api": BASE | {"api"},
    "tracking": BASE | {"objects", "data", "store", "api", "tracking"},
    # above tracking: a model package is stored as run artifacts (issue 12's plan)
    "registry": BASE | {"objects", "data", "store", "api", "tracking", "registry"},
    "pipelines": BASE | {"objects", "data", "tracking", "pipelines"},
    "lineage": BASE | {"objects", "data", "store", "tracking", "registry", "pipelines", "lineage"},
}
_ALL_BELOW_SERVER = set(ALLOWED) | {"server", "ui", "__init__", "__main__"}
ALLOWED["server"] = _ALL_BELOW_SERVER
ALLOWED["ui"] = _ALL_BELOW_SERVER
ALLOWED["cli"] = _ALL_BELOW_SERVER | {"cli"}


def _component(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _loom_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module + "." + a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "loom" and len(parts) > 1:
                # `from loom import __version__` reaches the package facade itself
                target = "__init__" if parts[1].startswith("__") else parts[1]
                found.append((node.lineno, target))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.name != "__main__.py" or p.parent != SRC)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    component = _component(path)
    if component in {"__init__", "__main__"}:
        return  # the package facade resolves names lazily for users
    allowed = ALLOWED.get(component)
    assert allowed is not None, f"{component} is not in the layer table of DESIGN.md"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [(line, target) for line, target in _loom_imports(tree) if target not in allowed]
    assert not bad, f"{path.relative_to(SRC)} imports upward: {bad}"


def test_checker_catches_a_wrong_way_import() -> None:
    tree = ast.parse("from loom.cli.main import app\nimport loom.tracking.client\n")
    assert [t for _, t in _loom_imports(tree)] == ["cli", "tracking"]
    assert "cli" not in ALLOWED["data"] and "tracking" not in ALLOWED["objects"]


def test_nothing_imports_the_cli() -> None:
    for path in _modules():
        if _component(path) == "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert "cli" not in {t for _, t in _loom_imports(tree)}, path
