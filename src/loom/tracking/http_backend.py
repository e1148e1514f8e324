"""The Backend over HTTP: ``loom.Client("http://host:5000")`` talks to ``loom server``.

Each contract method is one call of :data:`loom.api.routes.ROUTES` on one
keep-alive ``httpx.Client``; an error body's ``error_code`` is raised again as
the LoomError it came from (:mod:`loom.api.errors`), so callers catch the same
classes as with a local store. Artifact bytes are objects on the server: only the
missing ones are uploaded, and a download is verified before it is renamed into
place. Batching stays in the client above, so logging is batched over HTTP too.
"""

from __future__ import annotations

import functools
import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import blake3
import httpx

from loom import atomic
from loom.api import codec
from loom.api.errors import error_from_body
from loom.api.routes import OBJECT, OBJECTS_MISSING, PREFIX, ROUTES
from loom.errors import CorruptObjectError, MissingObjectError, RemoteError, UsageError
from loom.objects.hashing import hash_file, hash_files
from loom.store.entities import (
    AliasEvent,
    Artifact,
    DataLink,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    Page,
    RegisteredModel,
    Run,
    RunInput,
    RunOutput,
    RunStatus,
    ViewType,
)
from loom.tracking.backend import Backend

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
CONNECT_RETRIES = 2
_CHUNK = 1024 * 1024


@functools.cache
def _returns(name: str) -> Any:
    return typing.get_type_hints(getattr(Backend, name)).get("return")


class HttpBackend(Backend):
    """The contract's methods as calls to a Loom server's ``/api/v1``.

    >>> b = HttpBackend("http://127.0.0.1:5000")  # doctest: +SKIP
    """

    def __init__(self, uri: str, *, token: str | None = None) -> None:
        self.uri = uri.rstrip("/")
        self._auth = _credentials(token)
        self._http: httpx.Client | None = None
        self._pid = os.getpid()

    @property
    def http(self) -> httpx.Client:
        """One keep-alive connection pool; a forked child opens its own (sharing the
        parent's sockets would mix the two processes' answers)."""
        if self._http is None or self._pid != os.getpid():
            self._http = httpx.Client(
                base_url=self.uri + PREFIX,
                auth=self._auth,
                timeout=TIMEOUT,
                # a refused connection is retried (nothing was sent: safe for every call),
                # e.g. while a restarted server comes back
                transport=httpx.HTTPTransport(retries=CONNECT_RETRIES),
            )
            self._pid = os.getpid()
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def upgrade(self) -> None:
        raise UsageError(
            f"{self.uri} is a server: its store is upgraded where it runs.",
            hint="Run `loom server --upgrade` (or `loom db upgrade`) on the server's store.",
        )

    # -- the calls ---------------------------------------------------------------

    def _call(self, name: str, args: dict[str, Any]) -> Any:
        route = ROUTES[name]
        payload = {k: codec.encode(v) for k, v in args.items() if k != "self"}
        if route.verb == "GET":
            query = {k: _query(v) for k, v in payload.items() if v is not None}
            response = self._send("GET", route.path, params=query)
        else:
            response = self._send(
                route.verb,
                route.path,
                content=codec.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        return codec.decode(_returns(name), response.json())

    def _send(self, verb: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self.http.request(verb, path, **kw)
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"Could not reach the Loom server at {self.uri}: {exc}.",
                hint="Is `loom server` running there? Check LOOM_TRACKING_URI.",
            ) from exc
        _raise_for(response)
        return response

    # -- artifact bytes ----------------------------------------------------------

    def put_files(self, files: Sequence[Path]) -> list[tuple[str, int]]:
        """Hash here, upload only what the server lacks (each distinct object once)."""
        sizes = [os.stat(f).st_size for f in files]
        oids = hash_files(list(files)) if len(files) > 1 else [hash_file(f) for f in files]
        missing = set(self._missing(oids))
        for f, oid in zip(files, oids, strict=True):
            if oid in missing:
                with open(f, "rb") as fh:
                    self._send("PUT", OBJECT.format(oid=oid), content=_read(fh))
                missing.discard(oid)
        return list(zip(oids, sizes, strict=True))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        from loom.objects.hashing import hash_bytes

        oid = hash_bytes(data)
        if self._missing([oid]):
            self._send("PUT", OBJECT.format(oid=oid), content=data)
        return oid, len(data)

    def get_file(self, oid: str, dst: Path) -> None:
        """Stream the object to a temp file beside ``dst``, check its hash, rename."""
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.http.stream("GET", OBJECT.format(oid=oid)) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                hasher = blake3.blake3()
                with atomic.atomic_file(dst) as out:  # an error leaves dst untouched
                    for chunk in response.iter_bytes(_CHUNK):
                        hasher.update(chunk)
                        out.write(chunk)
                    _verify(hasher.hexdigest(), oid)
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"Could not download object {oid} from {self.uri}: {exc}.",
                hint="Check the server is up, then try again.",
            ) from exc

    def fetch_missing(self, run_id: str, oids: Sequence[str]) -> None:
        """The server holds every artifact it has a row for; say so if one is gone."""
        gone = self._missing(list(oids))
        if gone:
            raise MissingObjectError(
                f"The server at {self.uri} lacks {len(gone)} artifact object(s) of run "
                f"{run_id}, e.g. {gone[0]}.",
                hint="They were deleted from its artifact store; log them again.",
            )

    def _missing(self, oids: Sequence[str]) -> list[str]:
        if not oids:
            return []
        body = codec.dumps({"oids": sorted(set(oids))})
        response = self._send(
            "POST", OBJECTS_MISSING, content=body, headers={"Content-Type": "application/json"}
        )
        return list(response.json()["missing"])

    # -- the contract: one call each, with Backend's own signatures (a test compares) --

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        return self._call("create_experiment", locals())

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self._call("get_or_create_experiment", locals())

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._call("get_experiment", locals())

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._call("get_experiment_by_name", locals())

    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        return self._call("list_experiments", locals())

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._call("rename_experiment", locals())

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("delete_experiment", locals())

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("restore_experiment", locals())

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._call("set_experiment_tag", locals())

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_id: str | None = None,
        artifacts: Sequence[Artifact] = (),
    ) -> Run:
        return self._call("create_run", locals())

    def get_run(self, run_id: str) -> Run:
        return self._call("get_run", locals())

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None:
        self._call("update_run", locals())

    def end_run(
        self,
        run_id: str,
        status: RunStatus | str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self._call("end_run", locals())

    def delete_run(self, run_id: str) -> None:
        self._call("delete_run", locals())

    def restore_run(self, run_id: str) -> None:
        self._call("restore_run", locals())

    def list_runs_by_status(self, status: RunStatus) -> list[Run]:
        return self._call("list_runs_by_status", locals())

    def last_activity(self, run_ids: Sequence[str]) -> dict[str, int]:
        return self._call("last_activity", locals())

    def run_id_prefixes(self, run_ids: Sequence[str], min_length: int = 8) -> dict[str, str]:
        return self._call("run_id_prefixes", locals())

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
    ) -> Page[Run]:
        return self._call("search_runs", locals())

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self._call("log_batch", locals())

    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[Metric]:
        return self._call("get_metric_history", locals())

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self._call("log_inputs", locals())

    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        self._call("log_artifacts", locals())

    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        return self._call("list_artifacts", locals())

    def artifact_hashes(self) -> set[str]:
        return self._call("artifact_hashes", locals())

    def links_by_hash(
        self, hashes: Sequence[str], roles: Sequence[str] = ("input", "output", "artifact")
    ) -> list[DataLink]:
        return self._call("links_by_hash", locals())

    def links_by_run(
        self, run_ids: Sequence[str], roles: Sequence[str] = ("input", "output")
    ) -> list[DataLink]:
        return self._call("links_by_run", locals())

    def consumed_artifacts(self, run_ids: Sequence[str]) -> list[DataLink]:
        return self._call("consumed_artifacts", locals())

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        return self._call("get_runs", locals())

    def model_versions_by_run(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        return self._call("model_versions_by_run", locals())

    def alias_event_at(self, name: str, alias: str, time_ms: int) -> AliasEvent | None:
        return self._call("alias_event_at", locals())

    def create_registered_model(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        return self._call("create_registered_model", locals())

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._call("get_registered_model", locals())

    def list_registered_models(
        self, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[RegisteredModel]:
        return self._call("list_registered_models", locals())

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self._call("update_registered_model", locals())

    def delete_registered_model(self, name: str) -> None:
        self._call("delete_registered_model", locals())

    def restore_registered_model(self, name: str) -> None:
        self._call("restore_registered_model", locals())

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._call("set_registered_model_tag", locals())

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("delete_registered_model_tag", locals())

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
        return self._call("create_model_version", locals())

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self._call("get_model_version", locals())

    def get_latest_version(self, name: str) -> ModelVersion:
        return self._call("get_latest_version", locals())

    def list_model_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[ModelVersion]:
        return self._call("list_model_versions", locals())

    def update_model_version(
        self, name: str, version: int, description: str | None
    ) -> ModelVersion:
        return self._call("update_model_version", locals())

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._call("set_model_version_tag", locals())

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self._call("delete_model_version_tag", locals())

    def delete_model_version(
        self, name: str, version: int, force: bool = False, user: str | None = None
    ) -> list[AliasEvent]:
        return self._call("delete_model_version", locals())

    def restore_model_version(self, name: str, version: int) -> None:
        self._call("restore_model_version", locals())

    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        comment: str | None = None,
        user: str | None = None,
    ) -> AliasEvent:
        return self._call("set_registered_model_alias", locals())

    def delete_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent:
        return self._call("delete_registered_model_alias", locals())

    def rollback_registered_model_alias(
        self, name: str, alias: str, comment: str | None = None, user: str | None = None
    ) -> AliasEvent:
        return self._call("rollback_registered_model_alias", locals())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._call("get_model_version_by_alias", locals())

    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self._call("get_alias_history", locals())

    def get_model_version_at(self, name: str, alias: str, time_ms: int) -> ModelVersion | None:
        return self._call("get_model_version_at", locals())

    def get_aliases_at(self, name: str, time_ms: int | None = None) -> dict[str, int]:
        return self._call("get_aliases_at", locals())

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
        return self._call("create_logged_model", locals())

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._call("get_logged_model", locals())

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        return self._call("list_logged_models", locals())

    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None:
        self._call("log_outputs", locals())

    def list_outputs(self, run_id: str) -> list[RunOutput]:
        return self._call("list_outputs", locals())


def _credentials(token: str | None) -> httpx.Auth | None:
    """A bearer token, else a user and password (HTTP basic): Loom's variables first, then
    MLflow's, so a team's MLflow setup signs Loom's client in too."""

    def env(name: str) -> str | None:
        return os.environ.get(f"LOOM_{name}") or os.environ.get(f"MLFLOW_{name}") or None

    token = token or env("TRACKING_TOKEN")
    if token:
        return _Bearer(token)
    user, password = env("TRACKING_USERNAME"), env("TRACKING_PASSWORD")
    if user and password:
        return httpx.BasicAuth(user, password)
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self.header
        yield request


def _query(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _read(fh: Any) -> Any:
    while chunk := fh.read(_CHUNK):
        yield chunk


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {
            "message": f"The server answered HTTP {response.status_code}: {response.text[:200]}"
        }
    raise error_from_body(response.status_code, body)


def _verify(got: str, oid: str) -> None:
    if got != oid:
        raise CorruptObjectError(
            f"The server sent bytes hashing to {got} for object {oid}.",
            hint="Try again; if it persists, the server's copy is damaged.",
        )
