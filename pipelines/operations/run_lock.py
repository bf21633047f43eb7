"""One run at a time per data directory: an exclusive lock on `<data dir>/.scrubline.lock`.

The lock is an `flock` on the file, so the kernel releases it when the holding process ends, however
it ends (kill -9 included): a dead run never leaves the directory locked. While held, the file says
which run holds it, so a second run can name it. `scrubline run` takes the lock before it starts the
job, and the job takes it again when it starts (UI, schedule and sensor runs have no other guard);
the job finds its own run id in the file and goes on under the lock its command already holds.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipelines.errors import ScrublineError

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
