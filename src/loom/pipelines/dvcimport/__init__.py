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
from loom.pipelines import lock, spec
from loom.pipelines.dvcimport import dvcfiles, dvclock, dvcyaml, remotes
from loom.pipelines.dvcimport.project import DvcProject
from loom.pipelines.dvcimport.report import Note, Report
from loom.pipelines.dvcimport.sources import Sources
from loom.pipelines.errors import PipelineError
from loom.pipelines.lock import StageLock

__all__ = ["Note", "Report", "import_dvc"]
LOOM_YAML, LOOM_LOCK = spec.FILE, lock.FILE


def import_dvc(path: StrPath | None = None, *, force: bool = False) -> Report:
    """Convert the DVC project at ``path`` (default: the current directory) in place."""
    project = DvcProject.open(path)
    root = project.root
    _refuse_overwrite(root, force)
    pipeline = project.read_yaml("dvc.yaml") if project.exists("dvc.yaml") else None
    dvc_lock = project.read_yaml("dvc.lock") if project.exists("dvc.lock") else None
    for name, doc in (("dvc.yaml", pipeline), ("dvc.lock", dvc_lock)):
        if doc is not None and not isinstance(doc, dict):
            raise UsageError(f"{name} is not a mapping.", hint=f"Fix {name}.", path=name)
    report = Report(str(root))
    ws = _workspace(root, report)
    text = _pipeline_text(project, pipeline, report) if pipeline is not None else None
    stages = _stages(root, text, report) if text is not None else {}
    with workspace_lock(ws):
        state = StateIndex(ws.loom_dir / "state.db")
        try:
            sources = Sources(ws, project.cache(), state)
            dvcfiles.convert(project, sources, report, force=force)
            entries = dvclock.convert(dvc_lock, stages, sources, report) if dvc_lock else {}
            state.save()
        finally:
            state.close()
        remotes.convert(project, ws, report, force=force)
        if text is not None:
            atomic.write_text(root / LOOM_YAML, text)
            report.wrote(LOOM_YAML)
            report.done("pipeline", "dvc.yaml", f"-> loom.yaml ({_count(stages)})")
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


def _workspace(root: Path, report: Report) -> Workspace:
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
    ws = init(root, no_scm=not (root / ".git").exists())
    report.done("project", ".loom", "a Loom workspace was made here (as `loom init` does)")
    report.wrote(".loom/config.toml")
    report.wrote(".loom/.gitignore")
    return ws


def _pipeline_text(project: DvcProject, dvc_doc: dict[str, Any], report: Report) -> str:
    """loom.yaml's text: dvc.yaml's very text (comments kept) when nothing had to change."""
    import yaml

    loom_doc = dvcyaml.convert(dvc_doc, report)
    if loom_doc == dvc_doc:
        return (project.root / "dvc.yaml").read_text(encoding="utf-8")
    report.needs(
        "pipeline",
        "loom.yaml",
        "written anew from dvc.yaml's values, so its comments are not kept",
        hint="Compare it with dvc.yaml; the report lists each change.",
    )
    body = yaml.safe_dump(loom_doc, sort_keys=False, allow_unicode=True)
    return "# Converted from dvc.yaml by `loom import-dvc`.\n" + body


def _stages(root: Path, text: str, report: Report) -> dict[str, spec.Stage]:
    """The converted pipeline's stages as ``loom repro`` will read them (templates filled
    in, paths relative to the root), by the names dvc.lock uses."""
    try:
        return spec.loads(text, read=spec.disk_reader(root)).stages
    except PipelineError as exc:
        report.needs(
            "pipeline",
            "loom.yaml",
            f"Loom can't read the converted pipeline, so dvc.lock was not converted: {exc.message}",
            hint=exc.hint or "Fix loom.yaml, then run `loom import-dvc --force`.",
        )
        return {}


def _count(stages: dict[str, spec.Stage]) -> str:
    return f"{len(stages)} stage{'s' * (len(stages) != 1)}"


def _write_lock(root: Path, entries: dict[str, StageLock], report: Report) -> None:
    lock.write(root, entries)
    report.wrote(lock.FILE)


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
    link = project.setting("cache", "type") or ""
    if "symlink" in link or "hardlink" in link:
        report.needs(
            "data",
            ".dvc/cache",
            f"DVC's cache.type is {link}: workspace files may be links into DVC's cache, "
            "which stop working once .dvc/ is removed",
            hint="After removing .dvc/, `loom checkout --force` and `loom repro` put "
            "Loom's copies in their place.",
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
