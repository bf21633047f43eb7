"""When the inbox is ready to scrub: its files changed, then stayed still for a settle period.

The inbox's state is every file's relative path, size and modification time, hashed into a
fingerprint. Files still being written are not part of it: temporary names (`.part`, `.tmp`,
`.crdownload`) and dot-files are ignored, and a state must hold unchanged for `settle_seconds`
before a run is asked for, so a file being copied (its size or mtime still moving) never starts one.
With `ready_marker`, nothing starts until the sender puts `inbox/_READY` down.

The sensor keeps its memory in a cursor (`InboxCursor`, JSON a person can read in the UI). On its
first tick it has none: the inbox then counts as already scrubbed when it holds exactly the files,
with the same SHA-256, that the latest published run read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from pipelines.inputs.records import file_sha256, lineage_path
from pipelines.records import Manifest

IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload")
READY_MARKER = "_READY"


class InboxCursor(BaseModel):
    """What the sensor last saw and last asked for; serialised as the sensor's cursor."""

    model_config = ConfigDict(frozen=True)

    # Fingerprint of the inbox at the last tick, how many files it had, and since when it has not changed.
    seen: str | None = None
    count_files: int = 0
    unchanged_since: datetime | None = None
    # Fingerprint of the inbox the last run was asked for (or that the latest published run read).
    requested: str | None = None

    def serialised(self) -> str:
        return self.model_dump_json()

    @classmethod
    def parse(cls, text: str) -> InboxCursor:
        return cls.model_validate_json(text)


class InboxDecision(NamedTuple):
    """A run key to ask for (None: no run), why, and the cursor to keep."""

    run_key: str | None
    reason: str
    cursor: InboxCursor


def inbox_files(inbox_dir: Path) -> list[Path]:
    """The inbox's files that are ready to be read, sorted: no temporary names, dot-files or the ready marker."""
    return sorted(
        path
        for path in inbox_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(inbox_dir).parts)
        and not path.name.endswith(IGNORED_SUFFIXES)
        and path.relative_to(inbox_dir).as_posix() != READY_MARKER
    )


def inbox_fingerprint(inbox_dir: Path) -> str | None:
    """SHA-256 over every ready file's relative path, size and modification time; None for an empty inbox."""
    files = inbox_files(inbox_dir)
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(inbox_dir).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def first_cursor(inbox_dir: Path, *, data_dir: Path, published_inputs: Mapping[str, str]) -> InboxCursor:
    """The cursor of a sensor's first tick: the inbox counts as requested when the latest published run
    (whose manifest `inputs` map each file it read, relative to the data directory, to its SHA-256) read
    exactly its files."""
    files = {lineage_path(path, data_dir): path for path in inbox_files(inbox_dir)}
    prefix = f"{lineage_path(inbox_dir, data_dir)}/"
    published = {path: sha for path, sha in published_inputs.items() if path.startswith(prefix)}
    same = bool(files) and files.keys() == published.keys()
    if same and all(file_sha256(files[path]) == published[path] for path in files):
        return InboxCursor(requested=inbox_fingerprint(inbox_dir))
    return InboxCursor()


def published_inputs(manifest: Path | None) -> dict[str, str]:
    """The files a published run read and their SHA-256 (its manifest's `inputs`); none without a manifest."""
    return Manifest.read(manifest).inputs if manifest is not None and manifest.is_file() else {}


def decide(
    inbox_dir: Path, cursor: InboxCursor, *, now: datetime, settle_seconds: int, ready_marker: bool
) -> InboxDecision:
    """Whether to ask for a run now: the inbox changed since the last request and has held still long enough."""
    fingerprint = inbox_fingerprint(inbox_dir)
    unchanged_since = cursor.unchanged_since if fingerprint == cursor.seen else now
    kept = InboxCursor(
        seen=fingerprint,
        count_files=len(inbox_files(inbox_dir)),
        unchanged_since=unchanged_since,
        requested=cursor.requested,
    )
    if fingerprint is None:
        return InboxDecision(None, f"{inbox_dir} has no files ready", kept)
    if fingerprint == cursor.requested:
        return InboxDecision(None, "inbox unchanged since the last run it started (or the latest published)", kept)
    if ready_marker and not (inbox_dir / READY_MARKER).is_file():
        return InboxDecision(None, f"inbox changed; waiting for {inbox_dir / READY_MARKER}", kept)
    settled_at = unchanged_since + timedelta(seconds=settle_seconds)
    if now < settled_at or fingerprint != cursor.seen:
        return InboxDecision(
            None,
            f"inbox changed; waiting until its files hold still for {settle_seconds} s (since {unchanged_since})",
            kept,
        )
    return InboxDecision(
        fingerprint,
        f"{kept.count_files} file(s) unchanged for {settle_seconds} s",
        kept.model_copy(update={"requested": fingerprint}),
    )
