"""Plain entities the store returns; ORM rows never leave ``loom.store``.

These are the contract between ``loom.store`` and everything above it.
Times are integer milliseconds since the epoch, as in MLflow.
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
