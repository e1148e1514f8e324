"""``dvc.yaml`` -> ``loom.yaml``: the same stages, templating kept as templating.

``loom.yaml`` reads the subset of ``dvc.yaml`` that real projects use, with
paths relative to the stage's ``wdir`` as in DVC, so a ``dvc.yaml`` mostly
carries over unchanged, and is then copied as it is (comments kept). Two
things change: keys Loom has no use for are left out and reported (top-level
``artifacts``/``datasets``, an out's ``type``/``labels``/``meta``), and a
metrics or plots file without a ``cache`` flag gets ``cache: true``: DVC
caches those by default, Loom keeps them in git by default.
"""

from __future__ import annotations

from typing import Any

from loom.pipelines.dvcimport.report import Report

TOP_KEYS = {"vars", "stages", "metrics", "plots", "params"}
STAGE_KEYS = {
    "cmd", "wdir", "deps", "params", "outs", "metrics", "plots",
    "frozen", "always_changed", "foreach", "do", "matrix", "desc", "meta", "vars",
}  # fmt: skip
OUT_FLAGS = {"cache", "persist", "desc", "remote", "push"}
PLOT_FLAGS = OUT_FLAGS | {"x", "y", "template", "title", "x_label", "y_label", "header"}


def convert(doc: dict[str, Any], report: Report) -> dict[str, Any]:
    """The ``loom.yaml`` document for the parsed ``dvc.yaml`` ``doc``; drops go to ``report``."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in TOP_KEYS:
            out[key] = value
        else:
            report.needs(
                "pipeline",
                f"dvc.yaml: {key}",
                f"top-level `{key}:` has no loom.yaml counterpart and was left out",
                hint="Loom has no counterpart; keep what you need by hand.",
            )
    stages = out.get("stages") or {}
    out["stages"] = {name: _stage(name, body, report) for name, body in stages.items()}
    return out


def _stage(name: str, body: Any, report: Report) -> Any:
    if not isinstance(body, dict):
        return body  # the pipeline parser says what is wrong, with the line
    kept = {}
    for key, value in body.items():
        if key == "do" and isinstance(value, dict):
            kept[key] = _stage(name, value, report)
        elif key in ("outs", "metrics", "plots") and isinstance(value, list):
            flags = PLOT_FLAGS if key == "plots" else OUT_FLAGS
            kept[key] = [_out(name, entry, flags, key != "outs", report) for entry in value]
        elif key in STAGE_KEYS:
            kept[key] = value
            if key == "deps" and isinstance(value, list):
                _external(name, value, report)
        else:
            report.needs("stage", name, f"`{key}:` has no loom.yaml counterpart and was left out")
    return kept


def _out(stage: str, entry: Any, flags: set[str], cached_default: bool, report: Report) -> Any:
    """One out as loom.yaml has it; ``cached_default``: a metrics or plots file, which DVC
    caches unless told ``cache: false`` and Loom keeps in git unless told ``cache: true``."""
    if isinstance(entry, str):
        entry = {entry: {}} if cached_default else entry
    if not isinstance(entry, dict) or len(entry) != 1:
        return entry
    [(path, opts)] = entry.items()
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        return entry
    dropped = sorted(set(opts) - flags)
    if dropped:
        report.needs(
            "stage",
            stage,
            f"{path}: {', '.join(dropped)} left out (loom.yaml takes {', '.join(sorted(flags))})",
        )
    kept = {k: v for k, v in opts.items() if k in flags}
    if cached_default and "cache" not in kept:
        kept["cache"] = True
        report.done("stage", stage, f"{path}: `cache: true` written out (DVC's default)")
    return {path: kept} if kept else path


def _external(stage: str, deps: list[Any], report: Report) -> None:
    """DVC's external deps (a URL): Loom's deps are paths in the workspace."""
    for dep in deps:
        if isinstance(dep, str) and "://" in dep:
            report.needs(
                "stage",
                stage,
                f"dep {dep} is outside the workspace, which loom.yaml can't express",
                hint="Download it into the workspace in a stage of its own (or `loom add` "
                "a copy), and depend on that path.",
            )
