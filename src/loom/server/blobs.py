"""Artifact bytes on the server: content-addressed objects in the artifact destination.

A local folder is an :class:`~loom.objects.odb.ObjectDB`; an ``s3://`` URL is laid
out like a Loom remote (``blake3/ab/cdef…``), so ``loom pull`` from the same
bucket finds a run's artifacts. Either way an upload is hashed as it streams in,
lands in a temp file, and becomes visible under its hash in one step: a reader
never sees half a file, and identical files are stored once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import blake3

from loom._types import Oid
from loom.errors import MissingObjectError

CHUNK = 1024 * 1024


class Blobs:
    """Put, test and read objects by hash; implemented for a folder and for object storage."""

    def staging(self) -> Path:
        """A fresh temp file path on the same filesystem as the objects where possible."""
        raise NotImplementedError

    def adopt(self, tmp: Path, oid: Oid) -> None:
        """Make the complete file ``tmp`` the object ``oid``; ``tmp`` is gone afterwards."""
        raise NotImplementedError

    def exists(self, oid: Oid) -> bool:
        raise NotImplementedError

    def read_chunks(self, oid: Oid) -> Iterator[bytes]:
        """The object's bytes in chunks (MissingObjectError before the first if absent)."""
        raise NotImplementedError

    def put_bytes(self, data: bytes) -> tuple[Oid, int]:
        oid = blake3.blake3(data).hexdigest()
        if not self.exists(oid):
            tmp = self.staging()
            tmp.write_bytes(data)
            self.adopt(tmp, oid)
        return oid, len(data)

    def read_bytes(self, oid: Oid) -> bytes:
        return b"".join(self.read_chunks(oid))


class LocalBlobs(Blobs):
    def __init__(self, root: Path) -> None:
        from loom.objects.odb import ObjectDB

        root.mkdir(parents=True, exist_ok=True)
        self.odb = ObjectDB(root)
        self.root = root

    def staging(self) -> Path:
        return self.odb.tmp_path()

    def adopt(self, tmp: Path, oid: Oid) -> None:
        try:
            if not self.odb.exists(oid):
                self.odb.adopt(tmp, oid)
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, oid: Oid) -> bool:
        return self.odb.exists(oid)

    def read_chunks(self, oid: Oid) -> Iterator[bytes]:
        f = self.odb.open(oid)  # MissingObjectError now, not at the first chunk

        def chunks() -> Iterator[bytes]:
            with f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return chunks()


class RemoteBlobs(Blobs):
    """Objects in S3 (or any fsspec store Loom's remotes support)."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        from loom.objects.remote import open_remote

        self.remote = open_remote(url, endpoint_url=endpoint_url)
        self._tmp = Path(tempfile.gettempdir())

    def staging(self) -> Path:
        fd, name = tempfile.mkstemp(prefix="loom-upload-", dir=self._tmp)
        os.close(fd)
        return Path(name)

    def adopt(self, tmp: Path, oid: Oid) -> None:
        try:
            if not self.exists(oid):
                self.remote.put_file(tmp, self.remote.path(oid))  # a PUT is all or nothing
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, oid: Oid) -> bool:
        path = self.remote.path(oid)
        with self.remote.errors(f"check {self.remote.display(path)}"):
            return bool(self.remote.fs.exists(path))

    def read_chunks(self, oid: Oid) -> Iterator[bytes]:
        path = self.remote.path(oid)
        with self.remote.errors(f"read {self.remote.display(path)}"):
            try:
                f = self.remote.fs.open(path, "rb", block_size=CHUNK)
            except FileNotFoundError:
                raise MissingObjectError(
                    f"Object {oid} is missing from {self.remote.url}.",
                    hint="It was deleted from the bucket; log the artifact again.",
                ) from None

        def chunks() -> Iterator[bytes]:
            with f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return chunks()


def open_blobs(destination: str, endpoint_url: str | None = None) -> Blobs:
    if "://" in destination and not destination.startswith("file://"):
        return RemoteBlobs(destination, endpoint_url)
    return LocalBlobs(Path(destination.removeprefix("file://")).absolute())


class Upload:
    """Bytes streaming into a staging file, hashed on the way."""

    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs
        self.path = blobs.staging()
        self._f = open(self.path, "wb")  # noqa: SIM115 (closed in finish/abort)
        self._hasher = blake3.blake3()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._hasher.update(chunk)
        self._f.write(chunk)
        self.size += len(chunk)

    def finish(self) -> tuple[Oid, int]:
        """Store the bytes as their object (blocking: call on a worker thread)."""
        self._f.close()
        oid = self._hasher.hexdigest()
        self.blobs.adopt(self.path, oid)
        return oid, self.size

    def abort(self) -> None:
        self._f.close()
        self.path.unlink(missing_ok=True)
