"""``loom import-dvc``: convert a DVC 3.x project in place.

    >>> report = import_dvc("path/to/project")      # doctest: +SKIP
    >>> [n.message for n in report.attention]        # what the user should look at

``dvc.yaml`` becomes ``loom.yaml`` (the same stages, templating kept),
``.dvc`` files become pointer files with their data in the Loom cache,
``dvc.lock`` becomes ``loom.lock`` (so ``loom repro`` reruns nothing DVC
considered up to date), and DVC's remotes become Loom remotes where Loom can
reach their URL. DVC's own files are left in place for the user to remove.
An existing ``loom.yaml``/``loom.lock`` is replaced only with ``force``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from loom import atomic
from loom._types import StrPath
from loom.data.lock import workspace_lock
from loom.data.state import StateIndex
from loom.data.workspace import Workspace, init
from loom.errors import AlreadyExistsError, UsageError
from loom.pipelines.dvcimport import dvcfiles, dvclock, dvcyaml, remotes
from loom.pipelines.dvcimport.expand import TemplateError, expand, load_context
from loom.pipelines.dvcimport.project import DvcProject
from loom.pipelines.dvcimport.report import Note, Report
from loom.pipelines.dvcimport.sources import Sources

__all__ = ["Note", "Report", "import_dvc"]
LOOM_YAML, LOOM_LOCK = "loom.yaml", "loom.lock"


def import_dvc(path: StrPath | None = None, *, force: bool = False) -> Report:
    """Convert the DVC project at ``path`` (default: the current directory) in place."""
    project = DvcProject.open(path)
    root = project.root
    _refuse_overwrite(root, force)
    pipeline = project.read_yaml("dvc.yaml") if project.exists("dvc.yaml") else None
    lock = project.read_yaml("dvc.lock") if project.exists("dvc.lock") else None
    for name, doc in (("dvc.yaml", pipeline), ("dvc.lock", lock)):
        if doc is not None and not isinstance(doc, dict):
            raise UsageError(f"{name} is not a mapping.", hint=f"Fix {name}.", path=name)
    ws = _workspace(root)
    report = Report(str(root))
    loom_doc = dvcyaml.convert(pipeline, report) if pipeline is not None else None
    stages = _expanded(project, pipeline, report) if pipeline is not None else {}
    with workspace_lock(ws):
        state = StateIndex(ws.loom_dir / "state.db")
        try:
            sources = Sources(ws, project.cache(), state)
            dvcfiles.convert(project, sources, report, force=force)
            entries = dvclock.convert(lock, stages, sources, report) if lock else {}
            state.save()
        finally:
            state.close()
        remotes.convert(project, ws, report, force=force)
        if loom_doc is not None:
            _write_pipeline(project, pipeline, loom_doc, report)
            _write_lock(root, entries, report)
    _notes(project, report)
    return report


def _refuse_overwrite(root: Path, force: bool) -> None:
    there = [n for n in (LOOM_YAML, LOOM_LOCK) if (root / n).exists()]
    if there and not force:
        raise AlreadyExistsError(
            f"{' and '.join(there)} already exist{'s' if len(there) == 1 else ''} in {root}.",
            hint="Run `loom import-dvc --force` to replace them with the converted DVC project.",
            path=str(root / there[0]),
        )


def _workspace(root: Path) -> Workspace:
    """The Loom workspace at ``root``, made if there is none (as `loom init` would)."""
    ws = Workspace.find_or_none(root)
    if ws is not None and ws.root == root:
        ws.layers()  # a wrong setting stops the import here, naming the file and key
        return ws
    if ws is not None:
        raise UsageError(
            f"{root} is inside the Loom workspace {ws.root}, not at its top.",
            hint=f"Convert a DVC project at the top of a workspace (`loom init` in {root} "
            "makes one there).",
            path=str(root),
        )
    return init(root, no_scm=not (root / ".git").exists())


def _expanded(project: DvcProject, doc: dict[str, Any], report: Report) -> dict[str, dict]:
    """dvc.yaml's stages by their generated names, templates filled in (for dvc.lock)."""
    try:
        context = load_context(project.root, list(doc.get("vars") or []), _read_params)
        out: dict[str, dict] = {}
        for name, body in (doc.get("stages") or {}).items():
            if isinstance(body, dict):
                out.update(expand(name, body, context))
        return out
    except (TemplateError, OSError, ValueError) as exc:
        report.needs(
            "pipeline",
            "dvc.yaml",
            f"its templates can't be filled in ({exc}), so dvc.lock was not converted",
            hint="Fix dvc.yaml, then run `loom import-dvc --force`.",
        )
        return {}


def _read_params(path: Path) -> dict[str, Any]:
    import json
    import tomllib

    import yaml

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
    elif path.suffix == ".toml":
        doc = tomllib.loads(text)
    else:
        doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name} is not a mapping")
    return doc


def _write_pipeline(project: DvcProject, dvc_doc: dict, loom_doc: dict, report: Report) -> None:
    """loom.yaml: dvc.yaml's very text (comments kept) when nothing was left out."""
    import yaml

    if loom_doc == dvc_doc:
        text = (project.root / "dvc.yaml").read_text(encoding="utf-8")
    else:
        report.needs(
            "pipeline",
            "loom.yaml",
            "written anew from dvc.yaml's values, so its comments are not kept",
            hint="Compare it with dvc.yaml; the report lists each change.",
        )
        text = "# Converted from dvc.yaml by `loom import-dvc`.\n" + yaml.safe_dump(
            loom_doc, sort_keys=False, allow_unicode=True
        )
    atomic.write_text(project.root / LOOM_YAML, text)
    report.wrote(LOOM_YAML)
    n = len(loom_doc.get("stages") or {})
    report.done("pipeline", "dvc.yaml", f"-> loom.yaml ({n} stage{'s' * (n != 1)})")


def _write_lock(root: Path, entries: dict[str, dict], report: Report) -> None:
    import yaml

    doc = {"schema": "loom-lock/1", "stages": entries}
    atomic.write_text(root / LOOM_LOCK, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    report.wrote(LOOM_LOCK)


def _notes(project: DvcProject, report: Report) -> None:
    """What the conversion leaves to the user."""
    for other in project.files_named("dvc.yaml"):
        if other != "dvc.yaml":
            report.needs(
                "pipeline",
                other,
                "not converted: loom.yaml lives at the workspace root only",
                hint="Move its stages into loom.yaml with `wdir:` set to its folder.",
            )
    ignore = project.root / ".dvcignore"
    if ignore.is_file() and any(
        line.strip() and not line.lstrip().startswith("#")
        for line in ignore.read_text(encoding="utf-8").splitlines()
    ):
        report.needs("pipeline", ".dvcignore", "Loom has no .dvcignore: its patterns don't apply")
    leftovers = [
        *(n for n in (".dvc", ".dvcignore", "dvc.yaml", "dvc.lock") if (project.root / n).exists()),
        *project.dvc_files(),
    ]
    shown = " ".join(shlex.quote(n) for n in leftovers[:8]) + (" …" if len(leftovers) > 8 else "")
    report.needs(
        "project",
        "DVC files",
        f"left in place: {shown}",
        hint=f"Once `loom status` and `loom repro --dry-run` look right: `git rm -r -q {shown}`.",
    )
