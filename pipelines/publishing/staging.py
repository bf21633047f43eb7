"""A data directory on object storage (`s3://bucket/prefix`), run through a local staging folder.

A run on object storage downloads the data directory to a local folder (`stage`), runs there exactly as on a local
data directory, and sends back what it changed (`send_back`), publishing by the same contract as everywhere else
(`pipelines.publishing.latest`): the run's files first, its manifest create-only, `published/latest.json` by
compare-and-swap on the ETag it had when the run downloaded it, and only then the warehouse and the objects the run
removed (retention, leftovers of dead runs). A run killed at any point of it leaves `latest.json` on the previous
complete run; the next run removes the leftovers, locally and then in the bucket.

Why a local copy rather than every engine function reading `s3://`: the parsers of registry zips and input CSVs,
the DuckDB reads (DuckDB 2.0's wheel has no httpfs, and cannot fetch it offline), the warehouse (one DuckDB file,
which DuckDB cannot write to object storage) and the frame memo's hard links all need local files; so does
Dagster's re-execution of one run. Each path through the engine stays the one a local data directory takes, tested
by every other test, and the bucket sees whole files only. The cost: each run downloads what it reads — the inbox,
the registries, the published runs `number_history` and the ledger read, the memo frames it reuses — and needs the
local disk for it; `SCRUBLINE_STAGING_DIR` says where (default: the system's temporary folder).

Not downloaded: the lock object and `work/` (intermediates of other runs). Staged by name only, as empty files:
- the copies of `registry_archive/`: that archive is addressed by content and a run only asks whether a copy is
  there (`registry_archive`); it can hold a copy of every registry ever scrubbed against;
- the frames of `memo/`: a run asks whether one is there under its fingerprint, and downloads only the ones it reuses
  (`fetch`); the rest (a night's normalised leads and registries) would cost more to download than to leave.
Neither is sent back unless the run makes a new one.

A run's intermediates stay in its staging folder: removed once the run published, kept after a failure for
inspection (its Data Docs among them). What repeats `latest.json` on a local folder only — the symlinks
`published/latest` and `published/<run date>`, the `EXPIRED` marker — is never sent: readers of object storage
follow `latest.json` (docs/outputs.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.clients import CLIENTS
from pipelines.errors import ScrublineError
from pipelines.operations.frame_memo import MEMO
from pipelines.operations.run_folders import WORK
from pipelines.operations.run_lock import LOCK_FILE
from pipelines.publishing.latest import LATEST_POINTER
from pipelines.publishing.layout import MANIFEST, RUNS
from pipelines.publishing.links import EXPIRED
from pipelines.publishing.registry_archive import ARCHIVE_DIR
from pipelines.storage import AlreadyExistsError, ChangedError, ObjectStorage, is_object_storage

STAGING_VARIABLE = "SCRUBLINE_STAGING_DIR"
# Kept in the staging folder: what was staged, as {path: [ETag, size, mtime_ns, is staged by name only]}; and that
# it was sent back.
_STAGED = ".staged.json"
_SENT = ".sent"
_PUBLISHED = "published"
# The warehouse, and an analyst's copy of it moved aside (`warehouse.analyst-<run id>.duckdb`).
_WAREHOUSE_NAME = re.compile(r"(^|/)warehouse(\.analyst-[^/]+)?\.duckdb$")
# A run's manifest, in any client's `published/`: sent create-only, after every other file of its run.
_MANIFEST_PATH = re.compile(rf"(^|/){_PUBLISHED}/{RUNS}/[^/]+/{re.escape(MANIFEST)}$")


class StagingError(ScrublineError):
    """A run on object storage could not send back what it published."""


@dataclass(frozen=True)
class Sent:
    """What `send_back` did: the objects written and removed, and whether `latest.json` moved."""

    written: list[str]
    removed: list[str]
    moved_latest: bool


def local_data_dir(data_dir: str, run_id: str | None) -> Path:
    """Where the engine reads the data directory `data_dir` from: the folder itself, or for object storage the
    staging folder of run `run_id` (there is none outside a run)."""
    if not is_object_storage(data_dir):
        return Path(data_dir).resolve()
    if run_id is None:
        raise ScrublineError(
            f"{data_dir}: a data directory on object storage is read by a run, through its staging folder; the inbox "
            "sensor and the cross-client warehouse need a local data directory"
        )
    return staging_dir(data_dir, run_id)


def staging_dir(url: str, run_id: str) -> Path:
    """The local folder run `run_id` stages the data directory at `url` in: under `$SCRUBLINE_STAGING_DIR` (default:
    the system's temporary folder), one folder per data directory and run."""
    base = Path(os.environ.get(STAGING_VARIABLE) or tempfile.gettempdir()) / "scrubline-staging"
    return base / hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16] / run_id


def stage(storage: ObjectStorage, local: Path) -> Path:
    """Download the data directory `storage` into `local`, once (a second call for the same run finds it staged);
    `local`, holding every object but the lock and `work/`."""
    if (local / _STAGED).is_file():
        return local
    shutil.rmtree(local, ignore_errors=True)  # a staging cut short: start it again
    local.mkdir(parents=True)
    staged: dict[str, list[object]] = {}
    for path, tag in storage.list():
        if not _is_staged(path):
            continue
        target = local / path
        is_named_only = _is_named_only(path)
        if is_named_only:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()  # its name says what is there; its bytes are fetched if ever needed (`fetch`)
        else:
            storage.download(path, target)
        status = target.stat()
        staged[path] = [tag, status.st_size, status.st_mtime_ns, is_named_only]
    (local / _STAGED).write_text(json.dumps(staged), encoding="utf-8")
    return local


def fetch(storage: ObjectStorage, local: Path, path: Path) -> Path:
    """The file `path` of the staging folder `local` with its bytes: downloaded now if it was staged by name only (a
    memo frame the run reuses), and recorded as staged, so that it is not sent back. `path`, as it was."""
    relative = path.relative_to(local).as_posix()
    records = json.loads((local / _STAGED).read_text(encoding="utf-8"))
    record = records.get(relative)
    if record is None or not record[3]:
        return path
    storage.download(relative, path)
    status = path.stat()
    records[relative] = [record[0], status.st_size, status.st_mtime_ns, False]
    (local / _STAGED).write_text(json.dumps(records), encoding="utf-8")
    return path


def send_back(storage: ObjectStorage, local: Path) -> Sent:
    """Send what the run changed in its staging folder `local` back to `storage`, in the publish contract's order
    (see the module's docstring); once (a second call finds it sent). Raises StagingError when `latest.json` changed
    in the bucket since the run downloaded it, or a manifest being sent is already there: then nothing the run
    published is pointed at, and the bucket keeps what another publisher made."""
    if (local / _SENT).is_file():
        return Sent([], [], moved_latest=False)
    staged = json.loads((local / _STAGED).read_text(encoding="utf-8"))
    now = _files(local)
    changed = sorted(
        path for path, (size, mtime_ns) in now.items() if path not in staged or staged[path][1:3] != [size, mtime_ns]
    )
    pointers = [path for path in changed if Path(path).name == LATEST_POINTER and Path(path).parent.name == _PUBLISHED]
    manifests = [path for path in changed if _MANIFEST_PATH.search(path)]
    # Sent after the pointer moved: the warehouse over the new run (and an analyst's copy moved aside beside it).
    after = [path for path in changed if _WAREHOUSE_NAME.search(path)]
    first = [path for path in changed if path not in {*pointers, *manifests, *after}]
    for path in first:
        storage.upload(local / path, path)
    for path in manifests:
        try:
            storage.upload(local / path, path, create_only=True)
        except AlreadyExistsError as error:
            raise StagingError(f"{error}: another run published it; nothing this run made is pointed at") from error
    for path in pointers:
        try:
            if path in staged:
                storage.swap(path, (local / path).read_bytes(), expected=str(staged[path][0]))
            else:
                storage.put_new(path, (local / path).read_bytes())
        except (ChangedError, AlreadyExistsError) as error:
            raise StagingError(
                f"{storage.where(path)} changed since this run read it (another publisher, or a run that held the "
                "lock after a stale one was removed); it was not moved: the bucket keeps the other run's publish"
            ) from error
    for path in after:
        storage.upload(local / path, path)
    removed = sorted(path for path in staged if path not in now)
    storage.delete(removed)
    (local / _SENT).touch()
    return Sent([*first, *manifests, *pointers, *after], removed, moved_latest=bool(pointers))


def is_sent(local: Path) -> bool:
    """Whether the run staged at `local` sent back what it changed: its folder says so, or is gone (it published)."""
    return (local / _SENT).is_file() or not local.exists()


def remove_if_published(local: Path, *, run_id: str) -> bool:
    """Remove a sent staging folder whose run left no intermediates (it published: publishing removes them); a
    failed run's folder stays, with its `work/<run id>/`. Whether it was removed."""
    if not (local / _SENT).is_file() or any(local.glob(f"**/{WORK}/{run_id}")):
        return False
    shutil.rmtree(local)
    return True


def has_clients_remote(storage: ObjectStorage) -> bool:
    """Whether the data directory on object storage holds clients (any object under `clients/`)."""
    return next(iter(storage.list("clients")), None) is not None


def _is_staged(path: str) -> bool:
    """Whether an object of the data directory is downloaded: not a lock, nothing under a `work/`."""
    return Path(path).name != LOCK_FILE and not _is_work(path)


def _is_named_only(path: str) -> bool:
    """Whether an object is staged as an empty file of its name: a registry archive's copy, a memo's frame."""
    parts = path.split("/")
    return parts[0] == ARCHIVE_DIR or _is_in(parts, MEMO)


def _is_work(path: str) -> bool:
    """Whether `path` is in the run folders of the data directory or of a client (`clients/<client>/work/`)."""
    return _is_in(path.split("/"), WORK)


def _is_in(parts: list[str], folder: str) -> bool:
    """Whether a path (split in `parts`) is in `folder` of the data directory or of a client (`clients/<client>/`)."""
    return parts[0] == folder or (len(parts) > 3 and parts[0] == CLIENTS and parts[2] == folder)


def _files(local: Path) -> dict[str, tuple[int, int]]:
    """Every regular file the run may send back, as {path: (size, mtime_ns)}: not symlinks, not dot-files (locks,
    half-written files, the staging records), not the local `EXPIRED` marker, nothing under `work/`."""
    found = {}
    for directory, folders, names in os.walk(local):
        here = Path(directory).relative_to(local)
        folders[:] = [name for name in folders if not name.startswith(".") and not _is_work((here / name).as_posix())]
        for name in names:
            path = Path(directory) / name
            if name.startswith(".") or path.is_symlink() or (name == EXPIRED and here.name == _PUBLISHED):
                continue
            status = path.stat()
            found[(here / name).as_posix()] = (status.st_size, status.st_mtime_ns)
    return found
