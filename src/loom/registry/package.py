"""The model package: a folder with ``loom-model.yaml`` and the flavor's files.

``loom-model.yaml`` says how to load the rest and where it came from::

    format: 1
    flavor: sklearn
    loader: loom.registry.flavors.sklearn
    flavor_options: {file: model.skops, format: skops}
    loom_version: 0.1.0
    python_version: 3.11.7
    requirements: [scikit-learn==1.5.2, skops==0.10.0, numpy==2.1.3, scipy==1.14.1]
    signature: {inputs: {type: tensor, dtype: float64, shape: [-1, 4]}, outputs: ...}
    input_example: input_example.json
    code: null                     # or "code": files from code_paths, put on sys.path
    run_id: 0123…                  # the run it was logged in
    model_id: m-0123…              # its LoggedModel
    artifact_path: model
    created: 1767225600000         # ms since the epoch

Reading validates every field and names the file in the error: a package
comes from a store or a teammate, so it is input like any other.

    >>> meta = PackageMeta.parse(text, "runs:/…/model/loom-model.yaml")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from typing import Any

from loom import paths
from loom.errors import PackageError
from loom.registry.flavors import MODULES
from loom.registry.signature import Signature

FILE = "loom-model.yaml"
FORMAT = 1
CODE_DIR = "code"
EXAMPLE_FILE = "input_example.json"
_TEXT_FIELDS = ("loom_version", "python_version", "run_id", "model_id", "artifact_path")


@dataclass(frozen=True)
class PackageMeta:
    flavor: str
    flavor_options: dict[str, Any]
    loom_version: str
    python_version: str
    requirements: tuple[str, ...] = ()
    signature: Signature | None = None
    input_example: str | None = None  # a file in the package
    code: str | None = None  # a folder in the package, put on sys.path when loading
    run_id: str | None = None
    model_id: str | None = None
    artifact_path: str | None = None
    created: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # fields a newer Loom wrote

    @property
    def loader(self) -> str:
        return MODULES[self.flavor]

    def files(self) -> list[str]:
        """The package files this metadata names (each must be in the package)."""
        named = [self.flavor_options.get("file"), self.input_example]
        return [f for f in named if isinstance(f, str)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "flavor": self.flavor,
            "loader": self.loader,
            "flavor_options": self.flavor_options,
            "loom_version": self.loom_version,
            "python_version": self.python_version,
            "requirements": list(self.requirements),
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "code": self.code,
            "run_id": self.run_id,
            "model_id": self.model_id,
            "artifact_path": self.artifact_path,
            "created": self.created,
            **self.extra,
        }

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @classmethod
    def parse(cls, text: bytes | str, where: str) -> PackageMeta:
        """Read and validate; PackageError naming ``where`` (the file) and the field."""
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _bad(where, f"it is not valid YAML ({_first_line(exc)})") from None
        except UnicodeDecodeError:
            raise _bad(where, "it is not UTF-8 text") from None
        if not isinstance(data, dict):
            raise _bad(where, f"it holds a {type(data).__name__}, not a mapping of fields")
        return _from_dict(data, where)


def _from_dict(data: dict[str, Any], where: str) -> PackageMeta:
    fmt = data.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise _bad(where, f"'format' is {fmt!r}, not a format number")
    if fmt > FORMAT:
        raise _bad(
            where,
            f"it is package format {fmt}, written by a newer Loom (this one reads {FORMAT})",
            hint="Upgrade Loom: pip install -U loom",
        )
    flavor = data.get("flavor")
    if flavor not in MODULES:
        raise _bad(where, f"'flavor' is {flavor!r}; Loom knows {', '.join(MODULES)}")
    if data.get("loader") != MODULES[flavor]:
        raise _bad(
            where,
            f"'loader' is {data.get('loader')!r}, but the {flavor} flavor loads with "
            f"{MODULES[flavor]} (Loom imports only its own loaders)",
        )
    options = data.get("flavor_options")
    if not isinstance(options, dict):
        raise _bad(where, "'flavor_options' is not a mapping")
    for key in _TEXT_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _bad(where, f"{key!r} is {data[key]!r}, not text")
    reqs = data.get("requirements") or []
    if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
        raise _bad(where, "'requirements' is not a list of strings")
    created = data.get("created") or 0
    if not isinstance(created, int):
        raise _bad(where, f"'created' is {created!r}, not a time in ms")
    meta = PackageMeta(
        flavor=flavor,
        flavor_options=options,
        loom_version=data.get("loom_version") or "?",
        python_version=data.get("python_version") or "?",
        requirements=tuple(reqs),
        signature=_signature(data.get("signature"), where),
        input_example=data.get("input_example"),
        code=data.get("code"),
        run_id=data.get("run_id"),
        model_id=data.get("model_id"),
        artifact_path=data.get("artifact_path"),
        created=created,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )
    for name in [*meta.files(), meta.code]:
        if name is not None and (why := paths.problem(name)) is not None:
            raise _bad(where, f"it names the file {name!r}, and {why}")
    return meta


_KNOWN = {
    "format",
    "flavor",
    "loader",
    "flavor_options",
    "requirements",
    "signature",
    "input_example",
    "code",
    "created",
    *_TEXT_FIELDS,
}


def _signature(data: Any, where: str) -> Signature | None:
    if data is None:
        return None
    try:
        return Signature.from_dict(data)
    except ValueError as exc:
        raise _bad(where, f"its 'signature' is wrong: {exc}") from None


def pin(packages: tuple[str, ...] | list[str]) -> list[str]:
    """``name==version`` for each installed distribution of ``packages`` (others skipped)."""
    pinned = []
    for name in dict.fromkeys(packages):
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pinned


def _bad(where: str, why: str, hint: str | None = None) -> PackageError:
    return PackageError(
        f"Model package file {where} is not valid: {why}.",
        hint=hint
        or "Log the model again with loom.log_model; package files are written by "
        "Loom, not by hand.",
        path=where,
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
