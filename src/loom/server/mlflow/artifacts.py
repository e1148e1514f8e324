"""The artifact proxy, ``/api/2.0/mlflow-artifacts/…``: MLflow's ``--serve-artifacts``.

An MLflow client maps ``mlflow-artifacts:/<exp>/<run_id>/artifacts/<rel>`` to
``PUT|GET|DELETE artifacts/<exp>/<run_id>/artifacts/<rel>`` and lists with
``GET artifacts?path=…``. Two namespaces exist, nothing else:

- ``<exp>/<run_id>/artifacts/<rel>``: the run's artifact rows (what Loom's own client
  and lineage read);
- ``<exp>/models/<model_id>/artifacts/<rel>``: the files of an MLflow 3 logged model.

Bytes are content-addressed objects in the server's blobs; a path is only a row that
names one. So there is no file system path to escape to, and still every path is checked
with :mod:`loom.paths` after percent-decoding (and decoding again, against double
encoding): a client that sends ``..`` gets a 400, not a quiet rewrite.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from loom import paths
from loom.entities import Artifact, Lifecycle
from loom.errors import (
    ConflictError,
    LoomError,
    MissingObjectError,
    NotFoundError,
    ValidationError,
)
from loom.server.blobs import Upload
from loom.server.http import BodyTooLarge, Response, json_response
from loom.server.mlflow import wire
from loom.server.routing import EDIT, READ, Access, Ctx, Endpoint, Msg

DEFAULT_MAX_UPLOAD = 5 * 1024**3  # 5 GiB, S3's largest single PUT; MLflow has no limit
MAX_UPLOAD_ENV = "LOOM_SERVER_MAX_UPLOAD_BYTES"
_DECODE_ROUNDS = 3  # '%25252e' is three encodings deep; more is refused below
_TEXT_SUFFIXES = frozenset(
    {".txt", ".log", ".json", ".jsonl", ".yaml", ".yml", ".csv", ".tsv", ".md", ".py", ".toml"}
)
_TEXT_NAMES = frozenset({"MLmodel", "MLproject", "LICENSE", "README"})


@dataclass(frozen=True)
class Target:
    """Where a proxy path points: a run's or a logged model's artifacts, and a path in them."""

    kind: str  # "run" | "model"
    owner: str  # the run id or the model id
    experiment_id: str
    rel: str  # "" for the root

    def list(self, store: Any, prefix: str | None = None) -> list[Artifact]:
        if self.kind == "run":
            return list(store.list_artifacts(self.owner, prefix or None))
        return list(store.list_logged_model_files(self.owner, prefix or None))


def checked_path(path: object) -> str:
    """``path`` (already percent-decoded once by the server) if it and every further
    decoding of it is a safe relative path; else a ValidationError (400)."""
    if not isinstance(path, str):
        raise ValidationError(f"Invalid artifact path {path!r}.")
    if path.lower().startswith("file:"):
        raise ValidationError(f"Invalid artifact path {path!r}: URIs are not paths here.")
    current = path
    for _ in range(_DECODE_ROUNDS):
        paths.check_relative(current, "artifact path")
        try:
            decoded = unquote(current, errors="strict")
        except UnicodeDecodeError:
            raise ValidationError(f"Invalid artifact path {path!r}: not UTF-8.") from None
        if decoded == current:
            return path
        current = decoded
    raise ValidationError(f"Invalid artifact path {path!r}: it is percent-encoded too often.")


def experiment_of_artifact_path(path: str) -> str:
    """The experiment a proxy path belongs to, for auth: its first segment, after the
    path is checked. The handlers then refuse a run or model not in that experiment."""
    first = checked_path(path).split("/", 1)[0]
    if not first.isdigit():
        raise NotFoundError(f"No experiment {first!r} for the artifact path {path!r}.")
    return first


def resolve(store: Any, path: object) -> Target:
    """The run or logged model a proxy path names (NotFoundError if there is none, if it
    is deleted, or if it is not in the path's experiment)."""
    parts = checked_path(path).split("/")
    exp = parts[0]
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        from loom.store.logged_models import DELETED

        lm = store.get_logged_model(parts[2])
        if lm.experiment_id != exp or lm.status == DELETED:
            raise _not_found(path)
        return Target("model", lm.model_id, exp, "/".join(parts[4:]))
    if len(parts) >= 3 and parts[2] == "artifacts":
        run = store.get_run(parts[1])
        if run.experiment_id != exp or run.lifecycle_stage != Lifecycle.ACTIVE:
            raise _not_found(path)
        return Target("run", run.run_id, exp, "/".join(parts[3:]))
    raise _not_found(path)


def _not_found(path: object) -> NotFoundError:
    return NotFoundError(
        f"No artifact location {path!r}.",
        hint="Artifact paths are <experiment>/<run_id>/artifacts/… or "
        "<experiment>/models/<model_id>/artifacts/…",
    )


def children(files: list[Artifact], folder: str) -> list[dict[str, Any]]:
    """MLflow's FileInfo list of what is directly in ``folder``: names relative to it,
    folders first seen as ``is_dir``. A file (not a folder) lists as nothing."""
    if any(f.path == folder for f in files):
        return []
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        below = f.path[len(folder) + 1 :] if folder else f.path
        head, sep, _ = below.partition("/")
        if sep:
            out.setdefault(head, {"path": head, "is_dir": True})
        else:
            out[head] = {"path": head, "is_dir": False, "file_size": f.size}
    return [out[k] for k in sorted(out)]


# -- the proxy's handlers ---------------------------------------------------------------


def list_files(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    target = resolve(ctx.store, msg.text("path", required=True))
    return {"files": children(target.list(ctx.store, target.rel), target.rel)}


def download(ctx: Ctx, msg: Msg) -> Response:
    target = resolve(ctx.store, msg.text("path", required=True))
    if not target.rel:
        raise ValidationError("Name a file to download, not the artifact root.")
    found = [f for f in target.list(ctx.store, target.rel) if f.path == target.rel]
    if not found:
        raise NotFoundError(f"No artifact {target.rel!r} (a folder can't be downloaded).")
    try:
        chunks: Iterator[bytes] = ctx.services.blobs.read_chunks(found[0].hash)
    except MissingObjectError as exc:
        raise NotFoundError(exc.message, hint=exc.hint) from None
    return Response(
        200,
        content_type=_content_type(target.rel),
        headers=_download_headers(target.rel),
        chunks=chunks,
        length=found[0].size,
    )


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    target = resolve(ctx.store, msg.text("path", required=True))
    if not target.rel:
        raise ValidationError("Name a file or folder to delete, not the artifact root.")
    if target.kind == "run":
        gone = ctx.store.delete_artifacts(target.owner, target.rel)
    else:
        gone = ctx.store.delete_logged_model_files(target.owner, target.rel)
    if not gone:
        raise NotFoundError(f"No artifact {target.rel!r}.")
    return {}


async def upload(ctx: Ctx, msg: Msg) -> Response:
    """Stream the body into a staging file, hashed on the way; then one row names it."""
    limit = max_upload(ctx)
    declared = ctx.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    target = await asyncio.to_thread(resolve, ctx.store, msg.text("path", required=True))
    if not target.rel:
        raise ValidationError("Name the file to upload, not the artifact root.")
    await asyncio.to_thread(_check_shape, ctx.store, target)
    up = await asyncio.to_thread(Upload, ctx.services.blobs)
    try:
        async for chunk in ctx.request.stream():
            if up.size + len(chunk) > limit:
                raise _too_large(limit)
            up.write(chunk)
        oid, size = await asyncio.to_thread(up.finish)
    except BaseException:
        up.abort()
        raise
    await asyncio.to_thread(_record, ctx.store, target, Artifact(target.rel, oid, size))
    return json_response({})


def _check_shape(store: Any, target: Target) -> None:
    """A path is a file or a folder, never both: ``a`` and ``a/b`` can't both be files
    (no tree, and no folder on the client's disk, could hold them)."""
    below = target.list(store, target.rel)
    if any(f.path != target.rel for f in below):
        raise ConflictError(f"{target.rel!r} is a folder of artifacts; it can't be a file too.")
    parts = target.rel.split("/")
    for i in range(1, len(parts)):
        folder = "/".join(parts[:i])
        if any(f.path == folder for f in target.list(store, folder)):
            raise ConflictError(f"{folder!r} is a file; {target.rel!r} can't be inside it.")


def _record(store: Any, target: Target, artifact: Artifact) -> None:
    if target.kind == "run":
        store.log_artifacts(target.owner, [artifact])
    else:
        store.add_logged_model_files(target.owner, [artifact])


def max_upload(ctx: Ctx) -> int:
    raw = ctx.services.settings.extra.get("max_upload_bytes") or os.environ.get(MAX_UPLOAD_ENV)
    return int(raw) if raw and str(raw).isdigit() else DEFAULT_MAX_UPLOAD


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The artifact is over the server's upload limit of {limit} bytes.",
        hint=f"Split it, or raise the limit with {MAX_UPLOAD_ENV} on the server.",
    )


def _content_type(rel: str) -> str:
    """Text that is clearly text is shown as plain text; anything else is bytes. Never
    text/html or image/svg+xml: an uploaded page must not run in the server's origin."""
    name = posixpath.basename(rel)
    if name in _TEXT_NAMES or posixpath.splitext(name)[1].lower() in _TEXT_SUFFIXES:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def _download_headers(rel: str) -> list[tuple[str, str]]:
    name = posixpath.basename(rel)
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
    return [
        ("content-disposition", disposition),
        ("content-security-policy", "sandbox; default-src 'none'"),
        ("cache-control", "private, no-cache"),
    ]


class NotImplementedHere(LoomError):
    code = "NOT_IMPLEMENTED"
    http_status = 501


def multipart(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """Multipart uploads go through presigned cloud URLs, which a content-addressed store
    can't hand out; the client's message test makes it fall back to one PUT."""
    resolve(ctx.store, msg.text("path", required=True))
    raise NotImplementedHere(
        "Multipart upload is not supported for the current artifact repository.",
        hint="Unset MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD; files are uploaded with one PUT.",
    )


# -- MLflow's ListArtifacts (/api/2.0/mlflow/artifacts/list) ----------------------------


def list_run_artifacts(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    from loom.server.mlflow.runs import run_id

    run = ctx.store.get_run(run_id(msg))
    folder = msg.text("path", default="") or ""
    if folder:
        checked_path(folder)
    files = ctx.store.list_artifacts(run.run_id, folder or None)
    listed = [{**f, "path": paths.join(folder, f["path"])} for f in children(files, folder)]
    return {"root_uri": wire.run_artifact_uri(run), "files": listed}


def endpoints() -> list[Endpoint]:
    """The proxy's routes (under ``/api/2.0/mlflow-artifacts/``). The access key is the
    proxy path; auth finds its experiment with :func:`experiment_of_artifact_path`."""
    read = Access("artifact_path", READ, "path")
    edit = Access("artifact_path", EDIT, "path")
    return [
        Endpoint("GET", "artifacts", list_files, read),
        Endpoint("GET", "artifacts/{path}", download, read),
        Endpoint("PUT", "artifacts/{path}", upload, edit, raw=True),  # type: ignore[arg-type]
        Endpoint("DELETE", "artifacts/{path}", delete, edit),
        Endpoint("POST", "mpu/create/{path}", multipart, edit),
    ]


def mlflow_endpoints() -> list[Endpoint]:
    """ListArtifacts, in MLflow's own router (``/api/2.0/mlflow/artifacts/list``)."""
    return [Endpoint("GET", "artifacts/list", list_run_artifacts, Access("run", READ, "run_id"))]
