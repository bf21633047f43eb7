"""One run at a time per data directory: an exclusive lock on `<data dir>/.scrubline.lock`.

The lock is an `flock` on the file, so the kernel releases it when the holding process ends, however
it ends (kill -9 included): a dead run never leaves the directory locked. While held, the file says
which run holds it, so a second run can name it. `scrubline run` takes the lock before it starts the
job, and the job takes it again when it starts (UI, schedule and sensor runs have no other guard);
the job finds its own run id in the file and goes on under the lock its command already holds.

A data directory on object storage has no `flock`: its lock is the object `.scrubline.lock` written create-only
(`Storage.put_new`, S3's `If-None-Match: *`), naming the run, host and process that hold it, and removed when the
run ends (`hold_object_lock`). Nothing removes it when the holder dies (kill -9, a lost node): the next run is told
who holds it and since when, and an operator who has made sure that run is gone removes the object (stale-lock
recovery, docs/operations.md). A lease that expires by itself would let a slow but live run lose the lock in the
middle of its publish; a lock left behind after a crash costs a night, never a mixed publish.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipelines.errors import ScrublineError
from pipelines.storage import AlreadyExistsError, ObjectStorage

LOCK_FILE = ".scrubline.lock"


class DataDirectoryBusyError(ScrublineError):
    """Another run holds the data directory."""


@contextmanager
def hold_data_dir(
    data_dir: Path, *, run_id: str, wait: bool, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the data directory's lock for run `run_id` for the block; with `wait`, wait for another run to end
    (first telling `on_wait` who holds it).

    Raises DataDirectoryBusyError, naming the holder, when another run holds it and `wait` is false.
    """
    path = data_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(descriptor):
            holder = _holder(path)
            if holder.get("run_id") == run_id:
                yield  # the command that started this run holds the lock for it
                return
            busy = f"{data_dir} is in use by {_describe(holder)} (lock {path})"
            if not wait:
                raise DataDirectoryBusyError(
                    f"{busy}; one run at a time per data directory: wait until it ends, or start with "
                    "scrubline run --wait to queue behind it"
                )
            if on_wait is not None:
                on_wait(busy)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        _record_holder(descriptor, run_id)
        yield
    finally:
        os.close(descriptor)  # closing the only descriptor releases the flock


@contextmanager
def hold_object_lock(
    storage: ObjectStorage,
    *,
    run_id: str,
    wait: bool,
    on_wait: Callable[[str], None] | None = None,
    poll_s: float = 5.0,
) -> Iterator[None]:
    """Hold the lock object of the data directory `storage` for run `run_id` for the block (see the module's
    docstring); with `wait`, poll every `poll_s` until the run holding it removes it (first telling `on_wait`).

    A lock already held for `run_id` (by the command that started the run) is entered and left in place. Raises
    DataDirectoryBusyError, naming the holder and how to remove a stale lock, when another run holds it and `wait`
    is false."""
    holder = {
        "run_id": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    told = False
    while not _created(storage, holder):
        found = storage.read(LOCK_FILE)
        if found is None:
            continue  # released between the write and the read: try again
        held = _parsed(found.data)
        if held.get("run_id") == run_id:
            yield  # the command that started this run holds the lock for it
            return
        busy = f"{storage.url} is in use by {_describe_object_holder(held)} (lock {storage.where(LOCK_FILE)})"
        if not wait:
            raise DataDirectoryBusyError(
                f"{busy}; one run at a time per data directory: wait until it ends, or start with scrubline run "
                f"--wait to queue behind it. Object storage never releases the lock of a run that died: once sure "
                f"that run is not running, remove {storage.where(LOCK_FILE)} and start again"
            )
        if on_wait is not None and not told:
            on_wait(busy)
            told = True
        time.sleep(poll_s)
    try:
        yield
    finally:
        release_object_lock(storage, run_id=run_id)


def release_object_lock(storage: ObjectStorage, *, run_id: str) -> None:
    """Remove the lock object if it still names `run_id` (never another run's lock)."""
    found = storage.read(LOCK_FILE)
    if found is not None and _parsed(found.data).get("run_id") == run_id:
        storage.delete([LOCK_FILE])


def _created(storage: ObjectStorage, holder: dict[str, object]) -> bool:
    """Write the lock object naming `holder`, create-only; whether it was written (false: another holds it)."""
    try:
        storage.put_new(LOCK_FILE, json.dumps(holder).encode())
    except AlreadyExistsError:
        return False
    return True


def _parsed(data: bytes) -> dict[str, object]:
    try:
        parsed = json.loads(data or b"{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _describe_object_holder(holder: dict[str, object]) -> str:
    if not holder:
        return "another run"
    run_id, host, pid, since = (holder.get(key) for key in ("run_id", "host", "pid", "since"))
    return f"run {run_id} (host {host}, pid {pid}, since {since})"


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _record_holder(descriptor: int, run_id: str) -> None:
    holder = {"run_id": run_id, "pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(holder).encode(), 0)


def _holder(path: Path) -> dict[str, object]:
    """The recorded holder; empty while a new holder is being written."""
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "another run"
    return f"run {holder['run_id']} (pid {holder['pid']}, since {holder['since']})"
