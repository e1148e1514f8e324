"""``loom.yaml``: the stages of a pipeline, templates filled in, paths resolved to the root.

    >>> p = load(Path("."))                               # doctest: +SKIP
    >>> p.stages["train"].deps[0].path                    # doctest: +SKIP
    'data/processed'
    >>> [o.path for o in p.stages["train"].metrics]        # doctest: +SKIP
    ['metrics.json']

Every path (deps, outs, metrics, plots, params files) is stored relative to the
workspace root, resolved through the stage's ``wdir``; each item keeps the
``Where`` (file and line) it was written at, so every later error can name it.
``loads`` parses bytes, with a ``read`` function for the files ``vars`` names,
so a ``loom.yaml`` at another git revision is read the same way.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom import paths
from loom.errors import NotFoundError
from loom.pipelines import template
from loom.pipelines.errors import PipelineError, Where
from loom.pipelines.template import Reader
from loom.pipelines.yamlfile import YList, YMap
from loom.pipelines.yamlfile import loads as yaml_loads

FILE = "loom.yaml"
DEFAULT_PARAMS = "params.yaml"
_STAGE_KEYS = {
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "frozen",
    "always_changed",
    "desc",
    "meta",
    "vars",
}
_TOP_KEYS = {"stages", "vars", "experiment", "metrics", "plots", "params"}
_OUT_OPTIONS = {"cache", "persist", "desc", "remote", "push"}
_PLOT_OPTIONS = _OUT_OPTIONS | {
    "x",
    "y",
    "template",
    "title",
    "x_label",
    "y_label",
    "header",
}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_BAD_IN_NAME = re.compile(r"[\s/:]")  # generated names: no space, slash or colon
_RESERVED = (".git", ".loom")


@dataclass(frozen=True)
class Dep:
    path: str  # relative to the workspace root
    where: Where


@dataclass(frozen=True)
class Out:
    """An out, a metrics file or a plot (``section``); ``cache`` false: it stays in git."""

    path: str
    section: str  # "outs" | "metrics" | "plots"
    cache: bool
    persist: bool
    where: Where
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A param ``key`` (dotted; a whole section) of ``file``; ``key`` None: the whole file."""

    file: str  # relative to the workspace root
    key: str | None
    where: Where


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: str  # a list of commands is joined with " && "
    wdir: str  # "." or a path relative to the root
    deps: tuple[Dep, ...]
    params: tuple[Param, ...]
    outs: tuple[Out, ...]  # outs, metrics and plots, in that order
    where: Where
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None

    @property
    def metrics(self) -> tuple[Out, ...]:
        return tuple(o for o in self.outs if o.section == "metrics")

    @property
    def plots(self) -> tuple[Out, ...]:
        return tuple(o for o in self.outs if o.section == "plots")

    @property
    def param_files(self) -> list[str]:
        return list(dict.fromkeys(p.file for p in self.params))


@dataclass(frozen=True)
class Pipeline:
    """The stages of one ``loom.yaml``, in the order written (generated ones in place)."""

    stages: dict[str, Stage]
    file: str = FILE
    experiment: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)  # vars, for templating
    metrics: tuple[Out, ...] = ()  # top-level metrics/plots files no stage writes
    plots: tuple[Out, ...] = ()

    def stage(self, name: str) -> Stage:
        found = self.stages.get(name)
        if found is None:
            raise NotFoundError(
                f"No stage named {name!r} in {self.file}.",
                hint=f"Stages: {', '.join(self.stages) or 'none'}.",
                stage=name,
            )
        return found


def disk_reader(root: Path) -> Reader:
    """Read root-relative files from disk; None for a missing one."""

    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    return read


def exists(root: Path) -> bool:
    """Whether ``root`` has a ``loom.yaml`` (one stat: ``loom status`` asks every time)."""
    return (root / FILE).is_file()


def load(root: Path, *, read: Reader | None = None) -> Pipeline:
    """The pipeline of ``root/loom.yaml``; PipelineError (file and line) when it is wrong."""
    read = read or disk_reader(root)
    data = read(FILE)
    if data is None:
        raise PipelineError(
            None,
            f"There is no {FILE} in {root}.",
            hint="Write one with your stages (cmd, deps, outs); see the README's pipeline "
            "quick-start.",
        )
    return loads(data, read=read)


def loads(data: str | bytes, *, read: Reader | None = None, file: str = FILE) -> Pipeline:
    """The pipeline ``data`` holds; ``read`` gives the root-relative files vars name."""
    read = read or (lambda rel: None)
    doc = yaml_loads(data, file, templated=True)
    if doc is None:
        doc = YMap()
    if not isinstance(doc, YMap):
        raise PipelineError(Where(file, 1), "loom.yaml must be a mapping with a stages: key.")
    for key in doc:
        if key not in _TOP_KEYS:
            raise PipelineError(
                Where(file, doc.line_of(key)),
                f"unknown key {key!r}.",
                hint=f"Top-level keys: {', '.join(sorted(_TOP_KEYS))}.",
            )
    context = _base_context(doc, read, file)
    stages_doc = doc.get("stages") or YMap()
    if not isinstance(stages_doc, YMap):
        raise PipelineError(Where(file, doc.line_of("stages")), "stages must be a mapping.")
    stages: dict[str, Stage] = {}
    for raw_name, body in stages_doc.items():
        at = Where(file, stages_doc.line_of(raw_name))
        name = _check_name(raw_name, at)
        if not isinstance(body, YMap):
            raise PipelineError(at, f"stage {name!r} must be a mapping (cmd, deps, outs …).")
        for full, one, ctx, line in template.expand(name, body, context, file):
            # a plain stage is where its name is; a generated one, at its foreach/matrix
            stage = _stage(full, one, ctx, at if full == name else Where(file, line), read)
            if stage.name in stages:
                raise PipelineError(at, f"two stages are named {stage.name!r}.")
            stages[stage.name] = stage
    experiment = doc.get("experiment")
    if experiment is not None and not isinstance(experiment, str):
        raise PipelineError(Where(file, doc.line_of("experiment")), "experiment must be a name.")
    metrics = _outs(doc.get("metrics"), "metrics", ".", file, doc.line_of("metrics"))
    plots = _outs(doc.get("plots"), "plots", ".", file, doc.line_of("plots"))
    return Pipeline(stages, file, experiment, context, metrics, plots)


def _base_context(doc: YMap, read: Reader, file: str) -> dict[str, Any]:
    """params.yaml (when there is one) and the top-level vars."""
    context: dict[str, Any] = {}
    entries = doc.get("vars")
    listed = [e for e in entries if isinstance(e, str)] if isinstance(entries, list) else []
    default = read(DEFAULT_PARAMS)
    if default is not None and DEFAULT_PARAMS not in listed:
        values = template.vars_file(DEFAULT_PARAMS, read, Where(DEFAULT_PARAMS, 0))
        context.update(values)
    return template.load_vars(entries, read, file, doc.line_of("vars"), context)


def _check_name(name: Any, at: Where) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PipelineError(
            at,
            f"{name!r} is not a valid stage name.",
            hint="Use letters, digits, '_', '-' and '.', starting with a letter or digit.",
        )
    return name


def _stage(name: str, body: YMap, context: dict[str, Any], at: Where, read: Reader) -> Stage:
    file = at.file
    if _BAD_IN_NAME.search(name):
        raise PipelineError(at, f"the stage name {name!r} may not hold spaces, '/' or ':'.")
    for key in body:
        if key not in _STAGE_KEYS:
            raise PipelineError(
                Where(file, body.line_of(key)),
                f"stage {name!r}: unknown key {key!r}.",
                hint=f"Stage keys: {', '.join(sorted(_STAGE_KEYS))}.",
            )
    if "vars" in body:
        context = template.load_vars(body["vars"], read, file, body.line_of("vars"), context)
    fields = YMap((k, v) for k, v in body.items() if k != "vars")
    fields.line, fields.lines = body.line, dict(body.lines)
    resolved = template.resolve(fields, context, file, at.line)

    def where(key: str) -> Where:
        return Where(file, resolved.line_of(key))

    cmd = _cmd(name, resolved.get("cmd"), where("cmd") if "cmd" in resolved else at)
    wdir = _wdir(name, resolved.get("wdir", "."), where("wdir"))
    deps = tuple(
        Dep(_path(p, wdir, w, f"stage {name!r}: dep"), w)
        for p, w in _strings(resolved.get("deps"), name, "deps", file, resolved.line_of("deps"))
    )
    params = _params(name, resolved.get("params"), wdir, file, resolved.line_of("params"))
    outs: list[Out] = []
    for section in ("outs", "metrics", "plots"):
        outs += _outs(resolved.get(section), section, wdir, file, resolved.line_of(section), name)
    return Stage(
        name=name,
        cmd=cmd,
        wdir=wdir,
        deps=deps,
        params=params,
        outs=tuple(outs),
        where=at,
        frozen=_flag(resolved, "frozen", name, file),
        always_changed=_flag(resolved, "always_changed", name, file),
        desc=resolved.get("desc") if isinstance(resolved.get("desc"), str) else None,
    )


def _cmd(name: str, value: Any, at: Where) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(c, str) and c.strip() for c in value):
        return " && ".join(value)
    raise PipelineError(
        at,
        f"stage {name!r} needs a cmd: a command, or a list of commands.",
        hint="e.g. cmd: python src/train.py",
    )


def _flag(body: YMap, key: str, name: str, file: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise PipelineError(
            Where(file, body.line_of(key)), f"stage {name!r}: {key} must be true or false."
        )
    return value


def _wdir(name: str, value: Any, at: Where) -> str:
    if not isinstance(value, str):
        raise PipelineError(at, f"stage {name!r}: wdir must be a folder path.")
    if value in (".", "./", ""):
        return "."
    return _path(value, ".", at, f"stage {name!r}: wdir")


def _path(value: Any, wdir: str, at: Where, what: str) -> str:
    """``value`` relative to ``wdir``, as a clean root-relative path; refused if it leaves."""
    if not isinstance(value, str) or not value:
        raise PipelineError(at, f"{what} must be a path, not {value!r}.")
    if value.startswith("/"):
        raise PipelineError(
            at,
            f"{what} {value!r} is absolute; paths in loom.yaml are relative.",
            hint="Write it relative to the stage's wdir (the workspace root by default).",
        )
    joined = posixpath.normpath(posixpath.join(wdir, value.rstrip("/")))
    why = paths.problem(joined, strict=False)
    if joined == "." or joined.startswith("../") or joined == ".." or why is not None:
        raise PipelineError(
            at,
            f"{what} {value!r} is not inside the workspace"
            + (f" ({why})." if why and not joined.startswith("..") else "."),
            hint="Pipelines read and write inside the workspace; copy the data in.",
        )
    if joined.split("/", 1)[0] in _RESERVED:
        raise PipelineError(at, f"{what} {value!r} is inside {joined.split('/', 1)[0]}/.")
    return joined


def _strings(value: Any, name: str, key: str, file: str, line: int) -> list[tuple[Any, Where]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PipelineError(
            Where(file, line),
            f"stage {name!r}: {key} must be a list.",
            hint=f"e.g. {key}: [data/raw, src/prepare.py]",
        )
    lines = value.lines if isinstance(value, YList) else []
    return [(v, Where(file, lines[i] if i < len(lines) else line)) for i, v in enumerate(value)]


def _outs(
    value: Any, section: str, wdir: str, file: str, line: int, name: str | None = None
) -> tuple[Out, ...]:
    label = f"stage {name!r}: {section}" if name else section
    out = []
    for item, at in _strings(value, name or "", section, file, line):
        options: Mapping[str, Any] = {}
        if isinstance(item, dict):
            if len(item) != 1:
                raise PipelineError(
                    at,
                    f"{label}: each entry is a path, or one path with its options.",
                    hint="e.g. - metrics.json: {cache: false}",
                )
            [(item, opts)] = item.items()
            options = _options(opts or {}, section, label, at)
        cache = options.get("cache", section == "outs")
        persist = options.get("persist", False)
        if not isinstance(cache, bool) or not isinstance(persist, bool):
            raise PipelineError(at, f"{label}: cache and persist must be true or false.")
        path = _path(item, wdir, at, label[:-1] if label.endswith("s") else label)
        out.append(Out(path, section, cache, persist, at, dict(options)))
    return tuple(out)


def _options(opts: Any, section: str, label: str, at: Where) -> Mapping[str, Any]:
    allowed = _PLOT_OPTIONS if section == "plots" else _OUT_OPTIONS
    if not isinstance(opts, dict):
        raise PipelineError(at, f"{label}: the options of a path must be a mapping.")
    for key in opts:
        if key not in allowed:
            raise PipelineError(
                Where(at.file, opts.line_of(key) if isinstance(opts, YMap) else at.line),
                f"{label}: unknown option {key!r}.",
                hint=f"Options: {', '.join(sorted(allowed))}.",
            )
    return template.plain(opts)


def _params(name: str, value: Any, wdir: str, file: str, line: int) -> tuple[Param, ...]:
    out: list[Param] = []
    default = _path(DEFAULT_PARAMS, wdir, Where(file, line), "params file")
    for item, at in _strings(value, name, "params", file, line):
        if isinstance(item, str):
            out.append(Param(default, item, at))
            continue
        if not isinstance(item, dict):
            raise PipelineError(at, f"stage {name!r}: a params entry is a key or {{file: [keys]}}.")
        for params_file, keys in item.items():
            where = Where(file, item.line_of(params_file) if isinstance(item, YMap) else at.line)
            path = _path(params_file, wdir, where, f"stage {name!r}: params file")
            if keys is None or keys == []:
                out.append(Param(path, None, where))
                continue
            for key, key_at in _strings(keys, name, "params", file, where.line):
                if not isinstance(key, str) or not key:
                    raise PipelineError(key_at, f"stage {name!r}: a param key must be a name.")
                out.append(Param(path, key, key_at))
    return tuple(out)
