"""Run artifacts in an object store: the refs that keep them, and fetching them for a team.

A run's artifact rows live in the tracking store (maybe PostgreSQL, maybe not
the store `loom gc` is started with); their bytes live in an object store
(usually the workspace cache). So the cache itself records which objects runs
use (``refs/runs/<run_id>``, see ``loom.objects.refs``), written *before* the
rows: gc, which keeps every ref'd oid, can never see a row whose object is
unreferenced.

Caches filled before refs existed have none: the first time a backend uses a
cache for a store, :func:`backfill` writes the store's artifact hashes (one
query) to ``refs/stores/<key>``, whose presence also marks it done.

A teammate on the same store but another clone has the rows and not the bytes:
``loom push`` sends ref'd objects to the workspace's default remote, and
:func:`fetch_missing` brings them back from it on download.

    >>> record(odb, run.run_id, [art.hash])          # doctest: +SKIP
    >>> fetch_missing(odb, run.run_id, [art.hash])   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from loom._types import Oid
from loom.data.workspace import LOOM_DIR, Workspace
from loom.errors import MissingObjectError, NoRemoteError
from loom.objects.hashing import hash_bytes
from loom.objects.odb import ObjectDB
from loom.store.validation import validate_run_id

RUNS = "runs"
STORES = "stores"


def record(odb: ObjectDB, run_id: str, oids: Iterable[Oid]) -> None:
    """Note that run ``run_id`` uses ``oids``; call it before the rows are written."""
    oids = list(oids)
    if oids:
        odb.refs.add(RUNS, validate_run_id(run_id), oids)


def store_key(uri: str) -> str:
    """A file name for a store URI (a hash: a URI may hold a password)."""
    return hash_bytes(uri.encode())[:32]


def backfill(odb: ObjectDB, uri: str, artifact_hashes: Callable[[], set[str]]) -> None:
    """Once per cache and store: ref every artifact the store already names.

    Costs one stat when done; the first time, one ``SELECT DISTINCT hash``.
    Two processes doing it at once write the same file twice (atomically).
    """
    key = store_key(uri)
    if odb.refs.has(STORES, key):
        return
    odb.refs.write(STORES, key, sorted(artifact_hashes()))


def backfill_resolved(odb: ObjectDB) -> None:
    """Backfill for the store the tracking URI resolves to, when its artifacts live in ``odb``.

    For ``loom gc`` on a cache from before refs, whose runs went to the default
    store: no backend may have used the cache since. Costs a config read and a
    stat once done; the store is opened only while the marker is missing.
    """
    from loom.tracking import uri as uris

    uri = uris.resolve_tracking_uri()
    if uri.startswith(("http://", "https://")):
        return  # a server keeps its own objects
    if uris.artifact_root(uri).resolve() != odb.root.resolve():
        return
    db = uris.sqlite_path(uri)
    if odb.refs.has(STORES, store_key(uri)) or (db is not None and not db.exists()):
        return
    from loom.store import open_store

    store = open_store(uri)
    try:
        backfill(odb, uri, store.artifact_hashes)
    finally:
        store.close()


def fetch_missing(odb: ObjectDB, run_id: str, oids: Iterable[Oid]) -> None:
    """Bring the objects ``odb`` lacks from the default remote of its workspace.

    The workspace is the one whose cache ``odb`` is, else the one around the
    current directory. Every fetched object is verified. MissingObjectError,
    with a hint to push from where the run was logged, when there is no
    workspace or remote, or the remote lacks some.
    """
    need = sorted(odb.missing(oids))
    if not need:
        return
    from loom.data.remotes import open_configured
    from loom.objects import transfer

    ws = _workspace(odb.root)
    try:
        if ws is None:
            raise NoRemoteError("No Loom workspace here, so no remote to fetch from.")
        remote = open_configured(ws)
    except NoRemoteError as exc:
        raise _missing(odb, run_id, need, f"{exc.message.rstrip('.')}.") from None
    try:
        transfer.pull(odb, remote, need)
    except MissingObjectError as exc:
        absent = exc.fields.get("oids") or need
        raise _missing(odb, run_id, absent, f"The remote {remote.url} lacks them too.") from None


def _workspace(root: Path) -> Workspace | None:
    loom_dir = root.parent
    if root.name == "cache" and loom_dir.name == LOOM_DIR and (loom_dir / "config.toml").is_file():
        return Workspace(loom_dir.parent)  # the cache is that workspace's
    return Workspace.find_or_none()


def _missing(odb: ObjectDB, run_id: str, oids: list[Oid], why: str) -> MissingObjectError:
    return MissingObjectError(
        f"{len(oids)} artifact object(s) of run {run_id} are not in the cache at {odb.root}. "
        + why,
        hint="Run `loom push` in the workspace where the run was logged (it sends run "
        "artifacts to the default remote), then download again from a workspace with "
        "that remote.",
        run_id=run_id,
        oids=list(oids),
    )
