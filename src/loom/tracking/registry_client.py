"""The model registry's methods of :class:`loom.Client` (a mixin of it).

Each is one backend call; the client fills in ``user`` (who promoted, who
registered) from this process's login.

    >>> c = loom.Client()                                       # doctest: +SKIP
    >>> mv, created = c.create_model_version("rag", "runs:/ID/model", tree)
    >>> c.set_registered_model_alias("rag", "production", mv.version, comment="recall 0.92")
    >>> c.get_model_version_by_alias("rag", "production").version
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from loom.store.entities import (
    AliasEvent,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunOutput,
    ViewType,
)
from loom.tracking import env
from loom.tracking.backend import Backend


def _strs(tags: Mapping[str, Any] | None) -> dict[str, str] | None:
    return {k: str(v) for k, v in tags.items()} if tags else None


class RegistryClient:
    """Registered models, versions, aliases and their history, logged models, outputs."""

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # Client's connection (the mixin needs only this)

    # -- registered models -------------------------------------------------------

    def create_registered_model(
        self, name: str, description: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> RegisteredModel:
        """A new model; AlreadyExistsError if the name is taken (versions create it too)."""
        return self.backend.create_registered_model(name, description, _strs(tags))

    def get_registered_model(self, name: str) -> RegisteredModel:
        """NotFoundError naming the models that exist if there is none."""
        return self.backend.get_registered_model(name)

    def list_registered_models(
        self, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[RegisteredModel]:
        return self.backend.list_registered_models(view)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self.backend.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Soft delete: ``restore_registered_model`` undoes it."""
        self.backend.delete_registered_model(name)

    def restore_registered_model(self, name: str) -> None:
        self.backend.restore_registered_model(name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.backend.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.backend.delete_registered_model_tag(name, key)

    # -- model versions ----------------------------------------------------------

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
        tags: Mapping[str, Any] | None = None,
    ) -> tuple[ModelVersion, bool]:
        """Register the files of tree ``tree`` as the next version of ``name`` (created if
        missing); False and the existing version when an active one has this tree."""
        return self.backend.create_model_version(
            name,
            source,
            tree,
            run_id=run_id,
            model_id=model_id,
            flavor=flavor,
            semver=semver,
            description=description,
            tags=_strs(tags),
            user=env.current_user(),
        )

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self.backend.get_model_version(name, version)

    def get_latest_version(self, name: str) -> ModelVersion:
        """The newest active version."""
        return self.backend.get_latest_version(name)

    def list_model_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[ModelVersion]:
        return self.backend.list_model_versions(name, view)

    def update_model_version(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion:
        return self.backend.update_model_version(name, version, description)

    def set_model_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        self.backend.set_model_version_tag(name, version, key, str(value))

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self.backend.delete_model_version_tag(name, version, key)

    def delete_model_version(
        self, name: str, version: int, force: bool = False
    ) -> list[AliasEvent]:
        """Soft delete; a version an alias points at needs ``force``, which removes those
        aliases (their DELETE events come back)."""
        return self.backend.delete_model_version(name, version, force, user=env.current_user())

    def restore_model_version(self, name: str, version: int) -> None:
        self.backend.restore_model_version(name, version)

    # -- aliases -----------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: int, comment: str | None = None
    ) -> AliasEvent:
        """Promote ``version`` to ``alias``; every move is kept (``get_alias_history``)."""
        return self.backend.set_registered_model_alias(
            name, alias, version, comment, user=env.current_user()
        )

    def delete_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None
    ) -> AliasEvent:
        return self.backend.delete_registered_model_alias(
            name, alias, comment, user=env.current_user()
        )

    def rollback_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None
    ) -> AliasEvent:
        """Return ``alias`` to the version that held it before its last move not yet
        rolled back (an undo stack: two rollbacks undo two moves)."""
        return self.backend.rollback_registered_model_alias(
            name, alias, comment, user=env.current_user()
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.backend.get_model_version_by_alias(name, alias)

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every alias move of the model (or of ``alias``), oldest first."""
        return self.backend.get_alias_history(name, alias)

    def get_model_version_at(self, name: str, alias: str, time_ms: int) -> ModelVersion | None:
        """Which version held ``alias`` at ``time_ms`` (ms since the epoch); None if none.
        ``loom.timeparse.parse_time`` turns "2026-03-15" into such a time."""
        return self.backend.get_model_version_at(name, alias, time_ms)

    def get_aliases_at(self, name: str, time_ms: int | None = None) -> dict[str, int]:
        """Alias -> version at ``time_ms`` (None: now), for every alias pointing somewhere."""
        return self.backend.get_aliases_at(name, time_ms)

    # -- logged models and outputs -----------------------------------------------

    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        tree: str,
        flavor: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        model_id: str | None = None,
    ) -> LoggedModel:
        return self.backend.create_logged_model(
            experiment_id, name, tree, flavor, run_id=run_id, tags=_strs(tags), model_id=model_id
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self.backend.get_logged_model(model_id)

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        return self.backend.list_logged_models(run_id)

    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None:
        """Record what the run produced (by content hash): lineage links it to inputs."""
        self.backend.log_outputs(run_id, list(outputs))

    def list_outputs(self, run_id: str) -> list[RunOutput]:
        return self.backend.list_outputs(run_id)
