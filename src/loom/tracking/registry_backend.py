"""The model registry's part of the :class:`~loom.tracking.backend.Backend` contract.

Registered models, versions, aliases (as events), logged models and run outputs.
Each method is one transaction; ``user`` is who made the change (the client fills
it). Errors are LoomErrors: NotFoundError naming what exists, ValidationError for
a bad name, alias, version or semver, ConflictError for a deleted model or
version, AlreadyExistsError for a taken name or semver.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from loom.store.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunOutput,
    ViewType,
)


class RegistryBackend(abc.ABC):
    # -- registered models -------------------------------------------------------

    @abc.abstractmethod
    def create_registered_model(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """A new model; AlreadyExistsError if the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """With tags, current aliases and newest active version."""

    @abc.abstractmethod
    def list_registered_models(
        self, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[RegisteredModel]: ...

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Soft delete."""

    @abc.abstractmethod
    def restore_registered_model(self, name: str) -> None: ...

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    # -- model versions ----------------------------------------------------------

    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        tree: str,
        *,
        run_id: str | None = None,
        model_id: str | None = None,
        flavor: str | None = None,
        semver: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        user: str | None = None,
    ) -> tuple[ModelVersion, bool]:
        """The next version (model created if missing) and True, or the active version
        that already has ``tree`` and False."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """Active or deleted (see ``lifecycle_stage``)."""

    @abc.abstractmethod
    def get_latest_version(self, name: str) -> ModelVersion:
        """The newest active version."""

    @abc.abstractmethod
    def list_model_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[ModelVersion]: ...

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None: ...

    @abc.abstractmethod
    def delete_model_version(
        self, name: str, version: int, force: bool = False, user: str | None = None
    ) -> list[AliasEvent]:
        """Soft delete; a version holding an alias needs ``force``, which removes them
        (the DELETE events come back)."""

    @abc.abstractmethod
    def restore_model_version(self, name: str, version: int) -> None: ...

    # -- aliases -----------------------------------------------------------------

    @abc.abstractmethod
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        comment: str | None = None,
        user: str | None = None,
    ) -> AliasEvent:
        """Promote: the alias points at ``version``; the move is kept as an event."""

    @abc.abstractmethod
    def delete_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent: ...

    @abc.abstractmethod
    def rollback_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent:
        """Undo the alias's last move not yet rolled back."""

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    @abc.abstractmethod
    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Oldest first."""

    @abc.abstractmethod
    def get_model_version_at(self, name: str, alias: str, time_ms: int) -> ModelVersion | None:
        """The version the alias pointed at at ``time_ms``; None if nowhere."""

    @abc.abstractmethod
    def get_aliases_at(self, name: str, time_ms: int | None = None) -> dict[str, int]:
        """Alias -> version at ``time_ms`` (None: now), for aliases pointing somewhere."""

    # -- logged models and outputs -----------------------------------------------

    @abc.abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        tree: str,
        flavor: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        model_id: str | None = None,
    ) -> LoggedModel:
        """``model_id`` may be chosen by the caller (``m-`` + 32 hex digits; log_model writes
        it into the package before the row exists); AlreadyExistsError if taken."""

    @abc.abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    @abc.abstractmethod
    def list_logged_models(self, run_id: str) -> list[LoggedModel]: ...

    @abc.abstractmethod
    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None: ...

    @abc.abstractmethod
    def list_outputs(self, run_id: str) -> list[RunOutput]: ...
