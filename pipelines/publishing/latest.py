"""The publish contract, the same on a local folder and on object storage (`pipelines.storage`), with no rename:

- every file of a run is written under `runs/<run id>/`; nothing reads a run there until `latest.json` names it;
- the run's manifest (`runs/<run id>/manifest.json`) is written last and create-only, so a run id publishes once
  and a manifest, once there, is whole;
- `latest.json` (`records.Latest`) is the one source of truth for which run readers use: the run, its manifest and
  the manifest's SHA-256. It is created once, then replaced only by compare-and-swap on its tag (S3's ETag), and
  only by a run created later than the one it names;
- readers follow `latest.json` → manifest (checked against the SHA-256) → the files the manifest lists, and never
  list `runs/`.

So a run killed mid-publish leaves files under its own `runs/<run id>/` that no reader follows, and of two
publishers racing for `latest.json` one wins and the other gets `PublishRaceError`, naming the winner. Withdrawing
an expired list is a swap too: the pointer keeps its run and gains `withdrawn`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipelines.errors import ScrublineError
from pipelines.publishing.layout import MANIFEST, RUNS
from pipelines.records import Latest, Manifest, Withdrawal
from pipelines.storage import AlreadyExistsError, ChangedError, LocalStorage, Storage

LATEST_POINTER = "latest.json"


class AlreadyPublishedError(ScrublineError):
    """The run's manifest is already there: a published run is never rewritten."""


class PublishRaceError(ScrublineError):
    """`latest.json` changed between reading it and swapping it: another publisher (or a withdrawal) got there first."""


@dataclass(frozen=True)
class Current:
    """The pointer as read, with the tag a swap must still find."""

    latest: Latest
    tag: str


def run_path(run_id: str, path: str) -> str:
    """Where a run's file lives, relative to the published directory."""
    return f"{RUNS}/{run_id}/{path}"


def read_latest(storage: Storage) -> Current | None:
    """`latest.json` and its tag; None before any run has published."""
    found = storage.read(LATEST_POINTER)
    return None if found is None else Current(Latest.parse(found.data), found.tag)


def resolve_latest(storage: Storage) -> Manifest | None:
    """The manifest of the run readers use, checked against the SHA-256 `latest.json` records; None when no run
    has published or its list is withdrawn."""
    current = read_latest(storage)
    if current is None or current.latest.withdrawn is not None:
        return None
    found = storage.read(current.latest.manifest)
    sha256 = None if found is None else hashlib.sha256(found.data).hexdigest()
    if found is None or sha256 != current.latest.manifest_sha256:
        raise ScrublineError(
            f"{storage.where(LATEST_POINTER)} names {current.latest.manifest} with SHA-256 "
            f"{current.latest.manifest_sha256}, but it is {'missing' if found is None else sha256}: the run was "
            "changed or removed after it published; publish a new run"
        )
    return Manifest.parse(found.data)


def commit_manifest(storage: Storage, manifest: Manifest) -> str:
    """Write the run's manifest create-only, after every other file of the run; its SHA-256, for the pointer."""
    data = manifest.to_json().encode()
    try:
        storage.put_new(run_path(manifest.run_id, MANIFEST), data)
    except AlreadyExistsError as error:
        # The same error as the check before writing: the folder is the published run's, and must be kept.
        raise already_published(storage, manifest.run_id) from error
    return hashlib.sha256(data).hexdigest()


def already_published(storage: Storage, run_id: str) -> AlreadyPublishedError:
    """The error for publishing `run_id` again."""
    return AlreadyPublishedError(
        f"run {run_id} is already published ({storage.where(run_path(run_id, MANIFEST))} exists); a published run "
        "is never rewritten: start a new run"
    )


def point_latest(storage: Storage, *, run_id: str, run_created_at: datetime, manifest_sha256: str) -> bool:
    """Point `latest.json` at the run unless it names a run created at or after `run_created_at` (a withdrawn
    list is always replaced); whether it moved. `PublishRaceError` when another publisher moved it meanwhile."""
    current = read_latest(storage)
    latest = Latest(
        run_id=run_id,
        manifest=run_path(run_id, MANIFEST),
        manifest_sha256=manifest_sha256,
        run_created_at=run_created_at,
    )
    if current is not None and not _is_replaced_by(current.latest, run_created_at):
        return False
    _swap(
        storage,
        latest,
        current,
        by=f"run {run_id}",
        advice=f"run {run_id} is complete under {storage.where(run_path(run_id, ''))} but not published, and no "
        "reader sees it; start a new run if its list should be the latest",
    )
    return True


def withdraw_latest(storage: Storage, current: Current, withdrawal: Withdrawal) -> None:
    """Mark the run `latest.json` names as withdrawn; `PublishRaceError` when it moved since `current` was read."""
    _swap(
        storage,
        current.latest.model_copy(update={"withdrawn": withdrawal}),
        current,
        by=f"withdrawing run {withdrawal.run_id}",
        advice="check the list the pointer now names for expiry again",
    )


def adopt_latest(storage: Storage, latest: Latest) -> None:
    """Create `latest.json` for a published directory that has none yet (one made before the pointer existed)."""
    _swap(storage, latest, None, by="adopting the latest link", advice="the pointer now there is the one to follow")


def _is_replaced_by(latest: Latest, run_created_at: datetime) -> bool:
    return latest.withdrawn is not None or latest.run_created_at is None or latest.run_created_at < run_created_at


def _swap(storage: Storage, latest: Latest, current: Current | None, *, by: str, advice: str) -> None:
    """Replace `current` (create when None) with `latest`, or raise `PublishRaceError` naming what is there now."""
    data = latest.to_json().encode()
    try:
        if current is None:
            storage.put_new(LATEST_POINTER, data)
        else:
            storage.swap(LATEST_POINTER, data, expected=current.tag)
    except (AlreadyExistsError, ChangedError) as error:
        now = read_latest(storage)
        winner = "nothing (it was removed)" if now is None else f"run {now.latest.run_id}"
        raise PublishRaceError(
            f"{by} lost the race for {storage.where(LATEST_POINTER)}: another publisher changed it since it was "
            f"read, and it now names {winner}, left as that publisher wrote it; {advice}"
        ) from error


def latest_run_folder(published_dir: Path) -> Path | None:
    """The folder of the run a local published directory's `latest.json` names; None when no run has published or
    its list is withdrawn."""
    manifest = resolve_latest(LocalStorage(published_dir))
    return None if manifest is None else published_dir / RUNS / manifest.run_id
