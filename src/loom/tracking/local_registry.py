"""The registry and lineage methods of :class:`~loom.tracking.backend.LocalBackend`.

Each passes one call to the SQL store in this process (the contract is in
``registry_backend.py`` and ``backend.py``); kept apart so no module grows
without bound. Outputs record their refs first, as artifacts do, so gc keeps
what they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from loom.entities import (
    AliasEvent,
    DataLink,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    Run,
    RunOutput,
    ViewType,
)
from loom.tracking import artifact_refs

if TYPE_CHECKING:
    from loom.objects.odb import ObjectDB
    from loom.store import Store


class LocalRegistry:
    store: Store

    @property
    def odb(self) -> ObjectDB:
        raise NotImplementedError  # LocalBackend's

    def create_registered_model(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        return self.store.create_registered_model(name, description, dict(tags) if tags else None)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(name)

    def list_registered_models(
        self, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[RegisteredModel]:
        return self.store.list_registered_models(view)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self.store.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self.store.delete_registered_model(name)

    def restore_registered_model(self, name: str) -> None:
        self.store.restore_registered_model(name)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self.store.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.store.delete_registered_model_tag(name, key)

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
        return self.store.create_model_version(
            name,
            source,
            tree,
            run_id=run_id,
            model_id=model_id,
            flavor=flavor,
            semver=semver,
            description=description,
            tags=dict(tags) if tags else None,
            user=user,
        )

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self.store.get_model_version(name, version)

    def get_latest_version(self, name: str) -> ModelVersion:
        return self.store.get_latest_version(name)

    def list_model_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[ModelVersion]:
        return self.store.list_model_versions(name, view)

    def update_model_version(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion:
        return self.store.update_model_version(name, version, description)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self.store.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self.store.delete_model_version_tag(name, version, key)

    def delete_model_version(
        self, name: str, version: int, force: bool = False, user: str | None = None
    ) -> list[AliasEvent]:
        return self.store.delete_model_version(name, version, force=force, user=user)

    def restore_model_version(self, name: str, version: int) -> None:
        self.store.restore_model_version(name, version)

    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        comment: str | None = None,
        user: str | None = None,
    ) -> AliasEvent:
        return self.store.set_registered_model_alias(name, alias, version, comment, user=user)

    def delete_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent:
        return self.store.delete_registered_model_alias(name, alias, comment, user=user)

    def rollback_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent:
        return self.store.rollback_registered_model_alias(name, alias, comment, user=user)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.store.get_model_version_by_alias(name, alias)

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.store.get_alias_history(name, alias)

    def get_model_version_at(self, name: str, alias: str, time_ms: int) -> ModelVersion | None:
        return self.store.get_model_version_at(name, alias, time_ms)

    def get_aliases_at(self, name: str, time_ms: int | None = None) -> dict[str, int]:
        return self.store.get_aliases_at(name, time_ms)

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
        return self.store.create_logged_model(
            experiment_id,
            name,
            tree,
            flavor,
            run_id=run_id,
            tags=dict(tags) if tags else None,
            model_id=model_id,
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self.store.get_logged_model(model_id)

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        return self.store.list_logged_models(run_id)

    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None:
        # refs first, as for artifacts (R3): a logged folder's tree object is kept by gc
        artifact_refs.record(self.odb, run_id, [o.hash for o in outputs])
        self.store.log_outputs(run_id, list(outputs))

    def list_outputs(self, run_id: str) -> list[RunOutput]:
        return self.store.list_outputs(run_id)

    # -- lineage ---------------------------------------------------------------

    def links_by_hash(
        self, hashes: Sequence[str], roles: Sequence[str] = ("input", "output", "artifact")
    ) -> list[DataLink]:
        return self.store.links_by_hash(hashes, roles)

    def links_by_run(
        self, run_ids: Sequence[str], roles: Sequence[str] = ("input", "output")
    ) -> list[DataLink]:
        return self.store.links_by_run(run_ids, roles)

    def consumed_artifacts(self, run_ids: Sequence[str]) -> list[DataLink]:
        return self.store.consumed_artifacts(run_ids)

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        return self.store.get_runs(run_ids)

    def model_versions_by_run(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        return self.store.model_versions_by_run(run_ids)

    def alias_event_at(self, name: str, alias: str, time_ms: int) -> AliasEvent | None:
        return self.store.alias_event_at(name, alias, time_ms)
