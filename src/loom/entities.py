"""Plain entities shared by the store, the clients, the registry and (later) the server (layer 0).

Frozen dataclasses: the store returns them (ORM rows never leave ``loom.store``),
the tracking client and the registry pass them on, the server will map them
one to one onto MLflow's REST messages. Times are integer milliseconds since
the epoch, as in MLflow.

The registry follows MLflow 3: a :class:`RegisteredModel` has numbered
:class:`ModelVersion` s and aliases; every ``log_model`` makes a
:class:`LoggedModel`. Unlike MLflow, every alias move is kept as an
:class:`AliasEvent`, so "which version held ``production`` at time T" is a
query, and a version names its files by the hash of their tree (``tree``), so
it can never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(StrEnum):
    ACTIVE_ONLY = "active"
    DELETED_ONLY = "deleted"
    ALL = "all"


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    lifecycle_stage: Lifecycle = Lifecycle.ACTIVE
    creation_time: int = 0
    last_update_time: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True)
class RunInput:
    """A data version a run consumed: a path with its content hash at a git revision.

    ``modified`` says the path is tracked in a workspace and held content other than
    its committed pointer's when the run read it (that content is in the cache).
    """

    path: str
    hash: str
    size: int | None = None
    kind: str = "file"  # "file" | "directory"
    git_rev: str | None = None
    name: str | None = None
    modified: bool = False


@dataclass(frozen=True)
class Artifact:
    """A file logged by a run, stored as an object named by its hash."""

    path: str  # relative, forward slashes
    hash: str
    size: int


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    user: str | None = None
    lifecycle_stage: Lifecycle = Lifecycle.ACTIVE
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest value per key
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[RunInput, ...] = ()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str | None = None


@dataclass(frozen=True)
class RunOutput:
    """Something a run produced, named by its content hash: a file, a folder (the hash
    of its tree) or a model package (``kind="model"``). Lineage joins these hashes to
    other runs' input hashes."""

    path: str
    hash: str
    size: int | None = None
    kind: str = "file"  # "file" | "directory" | "model"


@dataclass(frozen=True)
class LoggedModel:
    """One ``log_model`` call (MLflow 3's LoggedModel): a model package in a run."""

    model_id: str  # "m-" + 32 hex digits
    experiment_id: str
    name: str  # the artifact path it was logged under, e.g. "model"
    tree: str  # hash of the package's tree: its files, fixed
    flavor: str
    run_id: str | None = None
    creation_time: int = 0
    last_update_time: int = 0
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_time: int = 0
    last_update_time: int = 0
    description: str | None = None
    lifecycle_stage: Lifecycle = Lifecycle.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version, now
    latest_version: int | None = None  # newest active version


@dataclass(frozen=True)
class ModelVersion:
    """A numbered, immutable version of a registered model.

    ``tree`` is the hash of the model package's tree object: the version's files
    are fixed by it. ``source`` is where it was registered from (``runs:/ID/model``
    or ``models:/m-…``).
    """

    name: str
    version: int
    tree: str
    source: str
    creation_time: int = 0
    last_update_time: int = 0
    run_id: str | None = None
    model_id: str | None = None
    flavor: str | None = None
    semver: str | None = None
    description: str | None = None
    user: str | None = None
    status: str = "READY"
    lifecycle_stage: Lifecycle = Lifecycle.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # aliases that point here now


class AliasEventKind(StrEnum):
    SET = "set"  # promote: the alias now points at to_version
    ROLLBACK = "rollback"  # back to the version that held it before the undone move
    DELETE = "delete"  # the alias points nowhere (to_version is None)


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias, kept forever: never updated, never deleted."""

    event_id: int
    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    kind: AliasEventKind
    time: int
    user: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class DataLink:
    """One run's link to a data version (content ``hash``), the edge lineage walks.

    ``role`` is ``"input"`` (the run read it, a :class:`RunInput`), ``"output"`` (a
    :class:`RunOutput`) or ``"artifact"`` (one logged file). ``git_rev`` and ``modified``
    are an input's; an output or artifact has neither.
    """

    hash: str
    run_id: str
    role: str  # "input" | "output" | "artifact"
    path: str
    kind: str | None = None  # "file" | "directory" | "model"
    size: int | None = None
    git_rev: str | None = None
    modified: bool = False


@dataclass(frozen=True)
class DatasetInput:
    """An MLflow dataset a run used (``mlflow.log_input``): described, not content-hashed.

    MLflow's ``digest`` is a short fingerprint, not a content hash, so these are kept
    apart from :class:`RunInput`, which lineage joins on."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    context: str | None = None  # the input's mlflow.data.context tag ("training", "eval")
    tags: dict[str, str] = field(default_factory=dict)  # the input's other tags
