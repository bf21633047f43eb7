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

Beyond the contract, a data directory on object storage is staged (`pipelines.publishing.staging`): a run downloads
it to a local folder, runs on that, and sends back what changed. For that the storage lists a prefix, downloads and
uploads whole files (streamed, never held in memory), and deletes; those are all `ObjectStorage` offers that
`LocalStorage` does not need to, since a local data directory is used in place.

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
from collections.abc import Iterator
from contextlib import contextmanager
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


class UnreachableError(ScrublineError):
    """Object storage refused or never answered a request: a wrong endpoint, bucket or credentials."""


# What to check when a bucket cannot be reached: every setting `object_store` reads, by the standard names.
_SETTINGS_HINT = (
    "check AWS_ENDPOINT_URL (and AWS_ALLOW_HTTP=true for an http:// endpoint), AWS_REGION, that the bucket exists, "
    "and the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a role the machine has)"
)


def is_object_storage(location: str | Path) -> bool:
    """Whether `location` names object storage (an `s3://` URL) rather than a local folder."""
    return str(location).startswith(S3_SCHEME)


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
    return ObjectStorage(text) if is_object_storage(text) else LocalStorage(Path(location))


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
    """An S3 bucket and prefix (`s3://bucket/prefix`), through obstore with S3's own conditional writes.

    Every request that fails for want of the bucket, the endpoint or credentials raises `UnreachableError` naming
    the URL and the settings to check, not obstore's own error (a page of the HTTP client's debug output)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        try:
            self._store = S3Store.from_url(url)
        except (obstore.exceptions.BaseError, ValueError) as error:
            raise UnreachableError(f"{url}: not a usable S3 URL ({_first_line(error)}); {_SETTINGS_HINT}") from error

    def put(self, path: str, data: bytes) -> None:
        with self._reaching(path):
            obstore.put(self._store, path, data)

    def list(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        """Every object under `prefix` (a folder: `a/b` lists `a/b/...`, not `a/bc`), as (path, ETag)."""
        with self._reaching(prefix):
            for batch in obstore.list(self._store, prefix or None):
                for meta in batch:
                    yield str(meta["path"]), str(meta["e_tag"])

    def download(self, path: str, target: Path) -> None:
        """Copy the object at `path` into the local file `target`, chunk by chunk."""
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._reaching(path), target.open("wb") as handle:
            for chunk in obstore.get(self._store, path):
                handle.write(chunk)

    def upload(self, source: Path, path: str, *, create_only: bool = False) -> None:
        """Copy the local file `source` to `path` (in parts when large); with `create_only`, only if nothing is
        there (`AlreadyExistsError` otherwise)."""
        try:
            with self._reaching(path):
                obstore.put(self._store, path, source, mode="create" if create_only else "overwrite")
        except obstore.exceptions.AlreadyExistsError as error:
            raise AlreadyExistsError(f"{self.where(path)} already exists; it was not replaced") from error

    def delete(self, paths: list[str]) -> None:
        """Remove the objects at `paths`; one already gone is no error."""
        with self._reaching(paths[0] if paths else ""):
            for start in range(0, len(paths), 1000):  # S3's DeleteObjects takes at most 1,000 keys
                obstore.delete(self._store, paths[start : start + 1000])

    @contextmanager
    def _reaching(self, path: str) -> Iterator[None]:
        """Turn a request that could not reach the bucket into `UnreachableError`; the conditional writes' own
        refusals, and a missing object, pass through for the caller to judge."""
        try:
            yield
        except (
            obstore.exceptions.AlreadyExistsError,
            obstore.exceptions.PreconditionError,
            FileNotFoundError,
        ):
            raise
        except obstore.exceptions.BaseError as error:
            where = self.where(path)
            raise UnreachableError(f"{where}: cannot reach it ({_first_line(error)}); {_SETTINGS_HINT}") from error

    def put_new(self, path: str, data: bytes) -> None:
        try:
            with self._reaching(path):
                obstore.put(self._store, path, data, mode="create")
        except obstore.exceptions.AlreadyExistsError as error:
            raise AlreadyExistsError(f"{self.where(path)} already exists; it was not replaced") from error

    def read(self, path: str) -> Tagged | None:
        try:
            with self._reaching(path):
                result = obstore.get(self._store, path)
        except FileNotFoundError:
            return None
        return Tagged(bytes(result.bytes()), str(result.meta["e_tag"]))

    def swap(self, path: str, data: bytes, *, expected: str) -> None:
        try:
            with self._reaching(path):
                obstore.put(self._store, path, data, mode={"e_tag": expected})
        except (obstore.exceptions.PreconditionError, FileNotFoundError) as error:
            raise ChangedError(f"{self.where(path)} changed since it was read; it was not replaced") from error


def _first_line(error: BaseException) -> str:
    """An obstore error's first line: what failed, without the HTTP client's debug dump that follows it."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
