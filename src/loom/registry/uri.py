"""Model URIs: where ``load_model`` and ``register_model`` find a model package.

    runs:/RUN_ID/path       the files a run logged under ``path``
    models:/NAME/3          version 3 of the registered model NAME
    models:/NAME@alias      the version the alias points at now
    models:/NAME/latest     the newest active version
    models:/m-<32 hex>      a logged model (one ``log_model`` call)

Parsing checks the form only; whether the run, model or alias exists is the
store's answer.

    >>> parse("models:/rag-embedder@production")
    AliasURI(name='rag-embedder', alias='production')
    >>> parse("runs:/0123456789abcdef0123456789abcdef/model").path
    'model'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from loom import paths
from loom.errors import ValidationError

FORMS = (
    "runs:/RUN_ID/path, models:/NAME/VERSION, models:/NAME@ALIAS, "
    "models:/NAME/latest or models:/m-<32 hex digits>"
)
ALIAS = re.compile(r"[a-z0-9_-]+")
MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_RUN_REF = re.compile(r"[0-9a-f]{6,32}")  # a full run id or a unique prefix of one
_VERSION = re.compile(r"[1-9][0-9]{0,17}")
_BAD_NAME = re.compile(r"[/@:\x00-\x1f\x7f]")
NAME_LEN = 500


@dataclass(frozen=True)
class RunsURI:
    run_id: str
    path: str

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}"


@dataclass(frozen=True)
class VersionURI:
    name: str
    version: int

    def __str__(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class AliasURI:
    name: str
    alias: str

    def __str__(self) -> str:
        return f"models:/{self.name}@{self.alias}"


@dataclass(frozen=True)
class LatestURI:
    name: str

    def __str__(self) -> str:
        return f"models:/{self.name}/latest"


@dataclass(frozen=True)
class LoggedModelURI:
    model_id: str

    def __str__(self) -> str:
        return f"models:/{self.model_id}"


ModelURI = RunsURI | VersionURI | AliasURI | LatestURI | LoggedModelURI


def parse(uri: object) -> ModelURI:
    """The parts of a model URI; ValidationError naming the accepted forms if malformed."""
    if not isinstance(uri, str):
        raise _bad(uri, f"it is a {type(uri).__name__}, not a string")
    if uri.startswith("runs:/"):
        return _runs(uri, uri.removeprefix("runs:/"))
    if uri.startswith("models:/"):
        return _models(uri, uri.removeprefix("models:/"))
    return _raise_bad(uri, "it starts with neither 'runs:/' nor 'models:/'")


def _runs(uri: str, rest: str) -> RunsURI:
    run_id, _, path = rest.partition("/")
    if not _RUN_REF.fullmatch(run_id):
        _raise_bad(uri, f"{run_id!r} is not a run id (32 hex digits, or a unique prefix)")
    path = path.rstrip("/")
    if not path:
        _raise_bad(uri, "it names no artifact path after the run id")
    why = paths.problem(path)
    if why is not None:
        _raise_bad(uri, f"its artifact path is not valid: {why}")
    return RunsURI(run_id, path)


def _models(uri: str, rest: str) -> ModelURI:
    if MODEL_ID.fullmatch(rest):
        return LoggedModelURI(rest)
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        _check_name(uri, name)
        if not ALIAS.fullmatch(alias):
            _raise_bad(uri, f"alias {alias!r} is not lowercase letters, digits, '_' or '-'")
        return AliasURI(name, alias)
    name, slash, version = rest.rpartition("/")
    if not slash:
        _raise_bad(uri, "it names no version or alias")
    _check_name(uri, name)
    if version == "latest":
        return LatestURI(name)
    if _VERSION.fullmatch(version):
        return VersionURI(name, int(version))
    if version.lower() in {"production", "staging", "archived", "none"}:
        _raise_bad(
            uri,
            f"{version!r} is a stage; in Loom stages are aliases: models:/{name}@{version.lower()}",
        )
    return _raise_bad(uri, f"{version!r} is neither a version number nor 'latest'")


def _check_name(uri: str, name: str) -> None:
    if not name:
        _raise_bad(uri, "the model name is empty")
    if len(name) > NAME_LEN:
        _raise_bad(uri, f"the model name is {len(name)} characters long (at most {NAME_LEN})")
    if name != name.strip():
        _raise_bad(uri, "the model name starts or ends with a space")
    bad = _BAD_NAME.search(name)
    if bad is not None:
        _raise_bad(uri, f"the model name contains {bad.group()!r}")


def _bad(uri: object, why: str) -> ValidationError:
    return ValidationError(
        f"Malformed model URI {uri!r}: {why}.",
        hint=f"Use one of {FORMS}.",
        uri=str(uri),
    )


def _raise_bad(uri: object, why: str) -> NoReturn:
    raise _bad(uri, why)
