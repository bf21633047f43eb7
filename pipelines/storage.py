"""Where published files live: a local folder or an `s3://bucket/prefix` URL, with the two conditional writes an
atomic publish without rename needs — create-only, and compare-and-swap on a tag.

Object storage goes through obstore (the Python binding of Rust's `object_store`), chosen over fsspec/s3fs because:
- it makes S3's conditional writes first-class: `put(mode="create")` sends `If-None-Match: *` and
  `put(mode={"e_tag": ...})` sends `If-Match`, each refused with its own exception, where s3fs has no
  compare-and-swap on an ETag;
- `object_store` is the same crate polars' cloud IO is built on, so one set of `AWS_*` settings means the same to
  both, and it brings no botocore/aiobotocore pins to clash with the rest of the project;
- it has an fsspec adapter (`obstore.fsspec.FsspecStore`) that DuckDB can register, for when the warehouse reads
  object storage (DuckDB 2.0's wheel has no httpfs and cannot fetch it offline).
Settings come from the standard environment variables, read by `object_store` itself: `AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, and `AWS_ALLOW_HTTP=true` for a
local endpoint over plain HTTP.

A local folder is plain files: `object_store`'s local store has no compare-and-swap, and the same guarantees are
made by the kernel. Create-only is a hard link of a fully written temporary file (`link` fails if the name
exists, and the name never shows a half-written file); compare-and-swap holds an exclusive `flock` on a lock file
beside the object, compares the object's SHA-256 (its tag) with the expected one, and `os.replace`s a fully
written temporary file over it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import obstore
import obstore.exceptions
from obstore.store import S3Store

from pipelines.errors import ScrublineError

S3_SCHEME = "s3://"


class AlreadyExistsError(ScrublineError):
    """A create-only write found the object already there: it was not replaced."""


class ChangedError(ScrublineError):
    """A compare-and-swap found the object changed since it was read: it was not replaced."""


@dataclass(frozen=True)
class Tagged:
    """An object's bytes and its tag: the ETag on object storage, the SHA-256 of the bytes on a local folder."""

    data: bytes
    tag: str


class Storage(ABC):
    """A directory of objects addressed by `/`-separated paths relative to it."""

    url: str

    @abstractmethod
    def put(self, path: str, data: bytes) -> None:
        """Write `data` at `path`, replacing whatever was there."""

    @abstractmethod
    def put_new(self, path: str, data: bytes) -> None:
        """Write `data` at `path` only if nothing is there; `AlreadyExistsError` otherwise."""

    @abstractmethod
    def read(self, path: str) -> Tagged | None:
        """The object at `path` with its tag; None when there is none."""

    @abstractmethod
    def swap(self, path: str, data: bytes, *, expected: str) -> None:
        """Replace the object at `path` with `data` only if its tag is still `expected`; `ChangedError` otherwise."""

    def where(self, path: str) -> str:
        """`path` as a location a person can paste: a file path or an `s3://` URL."""
        return f"{self.url.rstrip('/')}/{path}"


def open_storage(location: str | Path) -> Storage:
    """The storage at `location`: an `s3://bucket/prefix` URL, or else a local folder."""
    text = str(location)
    return ObjectStorage(text) if text.startswith(S3_SCHEME) else LocalStorage(Path(location))


class LocalStorage(Storage):
    """A local folder; see the module's docstring for how its writes are made atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def put(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def put_new(self, path: str, data: bytes) -> None:
        target = self.root / path
        temporary = self._written_aside(target, data)
        try:
            os.link(temporary, target)
        except FileExistsError as error:
            raise AlreadyExistsError(f"{target} already exists; it was not replaced") from error
        finally:
            temporary.unlink()

    def read(self, path: str) -> Tagged | None:
        target = self.root / path
        if not target.is_file():
            return None
        data = target.read_bytes()
        return Tagged(data, hashlib.sha256(data).hexdigest())

    def swap(self, path: str, data: bytes, *, expected: str) -> None:
        target = self.root / path
        lock = target.with_name(f".{target.name}.lock")
        target.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            current = self.read(path)
            if current is None or current.tag != expected:
                raise ChangedError(f"{target} changed since it was read; it was not replaced")
            os.replace(self._written_aside(target, data), target)

    @staticmethod
    def _written_aside(target: Path, data: bytes) -> Path:
        """`data` in a temporary file beside `target`, flushed to disk, so renaming or linking it is all or nothing."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return temporary


class ObjectStorage(Storage):
    """An S3 bucket and prefix (`s3://bucket/prefix`), through obstore with S3's own conditional writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store = S3Store.from_url(url)

    def put(self, path: str, data: bytes) -> None:
        obstore.put(self._store, path, data)

    def put_new(self, path: str, data: bytes) -> None:
        try:
            obstore.put(self._store, path, data, mode="create")
        except obstore.exceptions.AlreadyExistsError as error:
            raise AlreadyExistsError(f"{self.where(path)} already exists; it was not replaced") from error

    def read(self, path: str) -> Tagged | None:
        try:
            result = obstore.get(self._store, path)
        except FileNotFoundError:
            return None
        return Tagged(bytes(result.bytes()), str(result.meta["e_tag"]))

    def swap(self, path: str, data: bytes, *, expected: str) -> None:
        try:
            obstore.put(self._store, path, data, mode={"e_tag": expected})
        except (obstore.exceptions.PreconditionError, FileNotFoundError) as error:
            raise ChangedError(f"{self.where(path)} changed since it was read; it was not replaced") from error
