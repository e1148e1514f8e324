"""Remotes: the cache's layout (loose ``blake3/ab/cd…`` + ``packs/``) on any fsspec filesystem.

    >>> remote = open_remote("s3://bucket/loom", endpoint_url="http://127.0.0.1:9000")
    >>> remote = open_remote("../backup")

fsspec and its cloud drivers are imported here, on first use, never when
``loom`` is imported.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loom import atomic
from loom._types import Oid
from loom.errors import CorruptObjectError, DependencyError, LoomError, RemoteError, from_oserror
from loom.objects.hashing import ALGO, is_oid
from loom.objects.pack import (
    PACKS_DIR,
    PackEntry,
    decode_index,
    idx_name,
    index_pack_id,
    pack_id_of,
    pack_name,
)

_DRIVERS = {  # scheme -> (fsspec protocol, module, extra)
    "s3": ("s3", "s3fs", "s3"),
    "gs": ("gs", "gcsfs", "gs"),
    "gcs": ("gs", "gcsfs", "gs"),
    "azure": ("abfs", "adlfs", "azure"),
    "az": ("abfs", "adlfs", "azure"),
    "abfs": ("abfs", "adlfs", "azure"),
}
SUPPORTED = "a local path, file://, s3://, gs://, azure:// (az://, abfs://)"
_FEW = 64  # below this many oids, per-object existence checks beat listing the remote
_FULL = {errno.ENOSPC, errno.EDQUOT}
# errnos that only a local filesystem gives, whatever the remote: the hint is the filesystem's
_LOCAL_ERRNOS = _FULL | {errno.EROFS, errno.ENAMETOOLONG, errno.EMFILE, errno.ENFILE, errno.EIO}


def open_remote(
    url: str, *, endpoint_url: str | None = None, options: dict[str, Any] | None = None
) -> Remote:
    """Open the remote at ``url``; nothing is contacted until the first transfer."""
    options = dict(options or {})
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "file":
        local = rest if sep else url
        if not local:
            raise RemoteError("The remote URL is empty.", hint=f"Use {SUPPORTED}.")
        import fsspec.implementations.local as local_fs

        return Remote(url, local_fs.LocalFileSystem(), str(Path(local).resolve()), local=True)
    if scheme not in _DRIVERS:
        raise RemoteError(
            f"Unknown remote scheme {scheme!r} in {url}.",
            hint=f"Use {SUPPORTED}, e.g. `loom remote add -d storage s3://bucket/loom`.",
            url=url,
        )
    protocol, module, extra = _DRIVERS[scheme]
    try:
        __import__(module)
    except ImportError:
        raise DependencyError(
            f"Remote {url} needs the {module} package, which is not installed.",
            hint=f"pip install 'loom[{extra}]'",
            url=url,
        ) from None
    import fsspec

    if protocol == "s3":
        options.setdefault("config_kwargs", {"connect_timeout": 5, "retries": {"max_attempts": 2}})
        # another process may push meanwhile: a cached listing would hide its packs
        options.setdefault("use_listings_cache", False)
        if endpoint_url:
            options.setdefault("endpoint_url", endpoint_url)
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    root = rest.rstrip("/")
    if not root.split("/")[0]:
        raise RemoteError(f"Remote URL {url} names no bucket.", hint=f"Use {SUPPORTED}.")
    return Remote(url, fs, root, local=False)


class Remote:
    """One remote store; paths are relative to ``root`` and laid out like the local cache."""

    def __init__(self, url: str, fs: Any, root: str, *, local: bool) -> None:
        self.url = url
        self.fs = fs
        self.root = root
        self.local = local

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    def path(self, oid: Oid) -> str:
        return f"{self.root}/{ALGO}/{oid[:2]}/{oid[2:]}"

    def pack_path(self, pack_id: str) -> str:
        return f"{self.root}/{PACKS_DIR}/{pack_name(pack_id)}"

    def idx_path(self, pack_id: str) -> str:
        return f"{self.root}/{PACKS_DIR}/{idx_name(pack_id)}"

    def display(self, path: str) -> str:
        """A remote path as a person would type it (with its scheme)."""
        if self.local:
            return path
        scheme = self.url.partition("://")[0]
        return f"{scheme}://{path}"

    # -- errors --------------------------------------------------------------------
    @contextmanager
    def errors(self, what: str, *, reading: bool = True) -> Iterator[None]:
        """Turn driver exceptions (botocore, aiohttp, OSError) into one RemoteError with a hint.

        FileNotFoundError passes through on reads (the caller reports a missing
        object); on writes it means the bucket or container does not exist. An
        OSError of a local remote (or of a local file, such as a full disk) gets
        the filesystem's hint for its errno, not one about credentials or networks.
        """
        try:
            yield
        except LoomError:
            raise
        except FileNotFoundError as exc:
            if reading:
                raise
            raise RemoteError(
                f"Cannot {what}: {exc}",
                hint="Create the bucket first, or fix the remote URL (`loom remote list`).",
                url=self.url,
            ) from exc
        except OSError as exc:
            if self.local or exc.errno in _LOCAL_ERRNOS:
                raise self._filesystem_error(exc, what, reading) from exc
            if not isinstance(exc, PermissionError):
                raise self._unreachable(exc, what) from exc
            raise RemoteError(
                f"Remote {self.url} refused to {what}: {exc}",
                hint="Check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                "~/.aws/credentials) and the bucket's permissions.",
                url=self.url,
            ) from exc
        except Exception as exc:  # any driver failure is the remote's, reported the same way
            raise self._unreachable(exc, what) from exc

    def _filesystem_error(self, exc: OSError, what: str, reading: bool) -> RemoteError:
        if exc.errno in _FULL and self.local and not reading:
            # a write to a local remote: its disk is full, whatever file the OSError names
            # (a copy names its source, in the cache)
            return RemoteError(
                f"Cannot {what} on remote {self.url}: {exc.strerror}.",
                hint=f"The disk of remote {self.url} is full: free space there, then run again.",
                url=self.url,
            )
        said = from_oserror(exc, f"{what} on remote {self.url}")
        return RemoteError(said.message, hint=said.hint, url=self.url, path=said.fields.get("path"))

    def _unreachable(self, exc: Exception, what: str) -> RemoteError:
        return RemoteError(
            f"Cannot {what} on remote {self.url}: {type(exc).__name__}: {exc}",
            hint="Check that the remote is reachable and its URL/endpoint_url are right "
            "(`loom remote list`), then run the command again.",
            url=self.url,
        )

    # -- index ---------------------------------------------------------------------
    def pack_ids(self) -> list[str]:
        with self.errors("list packs"):
            try:
                names = [
                    p.rsplit("/", 1)[-1] for p in self.fs.ls(f"{self.root}/{PACKS_DIR}", False)
                ]
            except FileNotFoundError:
                return []
        return sorted(pid for n in names if (pid := pack_id_of(n)))

    def load_index(
        self, cache_dir: Path | None = None
    ) -> tuple[dict[Oid, tuple[str, int, int]], list[CorruptObjectError]]:
        """Every packed oid → ``(pack id, offset, size)``, and the indexes found corrupt.

        Indexes are immutable and named by their entries, so a verified copy kept
        in ``cache_dir`` is reused instead of being downloaded again.
        """
        index: dict[Oid, tuple[str, int, int]] = {}
        bad: list[CorruptObjectError] = []
        for pid, entries in self._read_indexes(self.pack_ids(), cache_dir, bad):
            for e in entries:
                index[e.oid] = (pid, e.offset, e.size)
        return index, bad

    def _read_indexes(
        self, ids: list[str], cache_dir: Path | None, bad: list[CorruptObjectError]
    ) -> Iterator[tuple[str, list[PackEntry]]]:
        fetch = []
        for pid in ids:
            entries = _cached_index(cache_dir / idx_name(pid)) if cache_dir else None
            if entries is None:
                fetch.append(pid)
            else:
                yield pid, entries
        if not fetch:
            return
        with self.errors("read pack indexes"):
            blobs = self.fs.cat([self.idx_path(pid) for pid in fetch], on_error="return")
        for pid in fetch:
            where = self.display(self.idx_path(pid))
            data = blobs.get(self.idx_path(pid)) or blobs.get(self._proto(self.idx_path(pid)))
            if isinstance(data, FileNotFoundError):
                continue  # removed between ls and cat
            try:
                if not isinstance(data, bytes):
                    raise RemoteError(f"Cannot read {where}: {data}", url=self.url)
                entries = decode_index(data, where)
                if index_pack_id(data) != pid:
                    raise CorruptObjectError(
                        f"Corrupt pack index {where}: its entries do not match its name.",
                        path=where,
                    )
            except CorruptObjectError as exc:
                bad.append(exc)
                continue
            if cache_dir:
                _save(cache_dir, idx_name(pid), data)
            yield pid, entries

    def _proto(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def missing(self, oids: Iterable[Oid], index: dict[Oid, Any]) -> set[Oid]:
        """The oids neither in a pack (``index``) nor stored loose on the remote."""
        rest = {o for o in oids if o not in index}
        if not rest:
            return rest
        if len(rest) < _FEW:
            with self.errors("check objects"):
                return {o for o in rest if not self.fs.exists(self.path(o))}
        return rest - self.loose_oids()

    def loose_oids(self) -> set[Oid]:
        base = f"{self.root}/{ALGO}/"
        with self.errors("list objects"):
            try:
                found = self.fs.find(base.rstrip("/"))
            except FileNotFoundError:
                return set()
        out = set()
        for p in found:
            tail = p.split(f"{ALGO}/", 1)[-1].replace("/", "")
            if is_oid(tail):
                out.add(tail)
        return out

    # -- bytes -----------------------------------------------------------------------
    def cat_range(self, path: str, start: int, end: int) -> bytes:
        with self.errors(f"read {self.display(path)}"):
            return self.fs.cat_file(path, start=start, end=end)

    def get_file(self, path: str, local: Path) -> None:
        with self.errors(f"download {self.display(path)}"):
            self.fs.get_file(path, str(local))

    def put_bytes(self, data: bytes, path: str) -> None:
        """Write ``data`` at ``path`` so that no reader ever sees part of it."""
        with self.errors(f"write {self.display(path)}", reading=False):
            if not self.local:
                self.fs.pipe_file(path, data)  # an object store PUT is all-or-nothing
                return
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # objects are read-only once written
            atomic.write_bytes(path, data, fsync=True, readonly=True)

    def put_file(self, local: Path, path: str) -> None:
        with self.errors(f"upload {self.display(path)}", reading=False):
            if not self.local:
                self.fs.put_file(str(local), path)
                return
            from loom.objects.links import copy_file

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            tmp = atomic.temp_path(os.path.dirname(path))
            try:
                copy_file(local, tmp)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
                atomic.install(tmp, path, readonly=True)  # read-only once written
            finally:
                Path(tmp).unlink(missing_ok=True)


def _cached_index(path: Path) -> list[PackEntry] | None:
    """A cached index, or None if absent or damaged (then it is fetched again)."""
    try:
        data = path.read_bytes()
        entries = decode_index(data, str(path))
    except FileNotFoundError:
        return None
    except CorruptObjectError:
        path.unlink(missing_ok=True)
        return None
    return entries if index_pack_id(data) == path.name[5:-4] else None


def _save(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(directory / name, data)
