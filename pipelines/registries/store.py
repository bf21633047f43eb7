"""Versioned registry snapshots: a stored registry's numbers as sorted 64-bit E.164 integers.

A snapshot lives under the data directory at `registries/<registry>/<version>-<build>.parquet`
(one column `e164_int`, unique and ascending, delta-encoded then zstd: `+12015550123` is
12015550123; E.164 has at most 15 digits and never a leading 0, so `"+" + str(n)` gives the number
back). Beside it, a `.json`
record says how it was made: files with their SHA-256, count, jurisdiction, the Parquet's own
SHA-256, and what each download in it read (its distinct numbers, and the unusable ones left out).
The record is written last, so a snapshot without one is incomplete and is made again; a snapshot
whose Parquet no longer has the recorded SHA-256 is made again too.

A full list's version is `version_of` its files' checksums; each change list applied, in the order
of the ISO date in its name, makes `changed_version(parent, its checksum)`. A version names exactly
the downloads it holds. The build names what else decides which numbers are kept — the installed
phonenumbers (validity) and the jurisdiction — so an upgrade or a new jurisdiction makes a new file
rather than reusing or overwriting one. A nightly run with no new file reuses its snapshot, and a
new change list costs one apply.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import polars as pl
from pydantic import BaseModel, ConfigDict

from pipelines.config import Registry, resolve_files
from pipelines.duck import query_frames
from pipelines.errors import ConfigError, RegistryError
from pipelines.inputs.records import file_sha256, lineage_path
from pipelines.phones.e164 import e164_as_int
from pipelines.registries.us_ingest import Ingested, apply_us_changes, ingest_us_download
from pipelines.registries.versions import changed_version, version_of

REGISTRIES_DIR = "registries"
SNAPSHOT_SUFFIX = ".parquet"
# Bump when the way a snapshot is made changes, so no snapshot made the old way is reused.
SNAPSHOT_FORMAT = 3
_CHANGE_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
RECORD_SUFFIX = ".json"
SNAPSHOTS_SCHEMA = {
    "registry": pl.String,
    "version": pl.String,
    "count_numbers": pl.Int64,
    "files": pl.List(pl.Struct({"file": pl.String, "sha256": pl.String})),
    "snapshot": pl.String,
    "snapshot_sha256": pl.String,
    "downloaded_on": pl.Date,
    "readings": pl.List(pl.Struct({"change_list": pl.String, "count_read": pl.Int64, "count_unusable": pl.Int64})),
}
LISTED_SCHEMA = {
    "phone_e164": pl.String,
    "phone_region": pl.String,
    "registry": pl.String,
    "source_file": pl.String,
    "source_sha256": pl.String,
    "downloaded_on": pl.Date,
}
_HELD = """
select keys.e164_int
from keys
semi join (
    select e164_int
    from read_parquet($snapshot)
    where e164_int between $lowest::bigint and $highest::bigint
) as snapshot using (e164_int)
"""
# Keys per semi-join: small hash tables probe fast (between 1M and 4M did best here, at 10M keys).
_KEYS_PER_JOIN = 2_000_000


class RecordedFile(BaseModel):
    """One download a snapshot holds, by its path under the data directory and its SHA-256."""

    model_config = ConfigDict(frozen=True)

    file: str
    sha256: str


class DownloadReading(BaseModel):
    """What the ingest read of one download: the full list (`change_list` None) or a change list's additions."""

    model_config = ConfigDict(frozen=True)

    change_list: str | None
    count_read: int
    count_unusable: int


class SnapshotRecord(BaseModel):
    """How a snapshot was made, kept beside it as `<version>-<build>.json`: written last, read back to reuse it."""

    model_config = ConfigDict(frozen=True)

    registry: str
    version: str
    count_numbers: int
    files: list[RecordedFile]
    jurisdiction: list[str]
    snapshot: str
    snapshot_sha256: str
    # The full list's, then each change list's, in the order applied: a snapshot made from one change list
    # still answers for every download it holds.
    readings: list[DownloadReading]


def registry_snapshots(registries: Sequence[Registry], *, data_dir: Path) -> pl.DataFrame:
    """One row per stored registry: its current snapshot (made or reused), version, files, count and download date."""
    rows = [
        {**stored_registry(registry, data_dir=data_dir).model_dump(), "downloaded_on": registry.downloaded_on}
        for registry in registries
        if registry.is_stored
    ]
    return pl.DataFrame([{key: row[key] for key in SNAPSHOTS_SCHEMA} for row in rows], schema=SNAPSHOTS_SCHEMA)


class _Version(NamedTuple):
    """One version in a stored registry's chain: the full list (`change` None), then one per change list."""

    version: str
    files: list[RecordedFile]
    change: Path | None


def stored_registry(registry: Registry, *, data_dir: Path) -> SnapshotRecord:
    """The record of a registry's snapshot after its full list and every change list, made where missing.

    Only the newest intact snapshot in the chain is checked and reused; versions after it are made from it.
    """
    full = resolve_files(data_dir, registry.path, key=f"registries[{registry.name}].path")
    chain = _chain(full, change_lists(registry, data_dir=data_dir), data_dir=data_dir)
    # A national format always has a jurisdiction; the snapshot keeps its valid numbers there.
    regions = list(registry.covered_regions or [])
    place = partial(snapshot_path, data_dir, registry=registry.name, regions=regions)
    index, record = _newest_intact(chain, place)
    try:
        for version, files, change in chain[index + 1 :]:
            path = place(version=version)
            if change is None:
                ingested = ingest_us_download(full, snapshot=path, regions=regions)
                readings = [_reading(ingested, change_list=None)]
            else:
                ingested = apply_us_changes(data_dir / record.snapshot, change, snapshot=path, regions=regions)
                readings = [*record.readings, _reading(ingested, change_list=files[-1].file)]
            record = _recorded(path, data_dir=data_dir, registry=registry.name, version=version, files=files,
                               regions=regions, count_numbers=ingested.count_numbers, readings=readings)  # fmt: skip
    except RegistryError as error:
        raise RegistryError(f"registry '{registry.name}': {error}") from error
    return record


def _reading(ingested: Ingested, *, change_list: str | None) -> DownloadReading:
    return DownloadReading(
        change_list=change_list, count_read=ingested.count_read, count_unusable=ingested.count_unusable
    )


def _newest_intact(chain: list[_Version], place: Callable[..., Path]) -> tuple[int, SnapshotRecord | None]:
    """The position and record of the newest version whose snapshot is intact; (-1, None) when none is."""
    for index in reversed(range(len(chain))):
        if (record := _intact(place(version=chain[index].version))) is not None:
            return index, record
    return -1, None


def _chain(full: Sequence[Path], changes: Sequence[Path], *, data_dir: Path) -> list[_Version]:
    """The versions a full list and its change lists make, in order, from the files' checksums alone."""
    files = [_file_record(path, data_dir) for path in full]
    chain = [_Version(version_of([file.sha256 for file in files]), files, None)]
    for path in changes:
        change = _file_record(path, data_dir)
        previous = chain[-1]
        chain.append(_Version(changed_version(previous.version, change.sha256), [*previous.files, change], path))
    return chain


def change_lists(registry: Registry, *, data_dir: Path) -> list[Path]:
    """A registry's change lists in the order of the date in their names (`2026-11-21` or `20261121`)."""
    return [path for _, path in dated_change_lists(registry, data_dir=data_dir)]


def newest_change_lists(registries: Sequence[Registry], *, data_dir: Path) -> dict[str, tuple[date, str]]:
    """By registry with change lists: the date in its newest change list's name, and that name."""
    newest = {}
    for registry in registries:
        dated = dated_change_lists(registry, data_dir=data_dir)
        if dated:
            listed_on, path = dated[-1]
            newest[registry.name] = (listed_on, path.name)
    return newest


def dated_change_lists(registry: Registry, *, data_dir: Path) -> list[tuple[date, Path]]:
    """A registry's change lists with the date in their names, in date order.

    A path sort would apply `changes-10` before `changes-9`; an undated or twice-dated name is an
    error, because applying change lists out of order can drop a number that was added again. So is
    a list dated on or before the full list's download: it followed an older full list.
    """
    if registry.changes is None:
        return []
    key = f"registries[{registry.name}].changes"
    paths = resolve_files(data_dir, registry.changes, key=key)
    dates = [_date_in_name(path.name) for path in paths]
    undated = [path.name for path, found in zip(paths, dates, strict=True) if found is None]
    if undated:
        raise ConfigError(f"{key}: {', '.join(undated)} carry no date (YYYY-MM-DD) in their names; rename them")
    ordered = sorted((found, path) for found, path in zip(dates, paths, strict=True) if found is not None)
    repeated = sorted(str(day) for day, count in Counter(day for day, _ in ordered).items() if count > 1)
    if repeated:
        raise ConfigError(f"{key}: more than one change list dated {', '.join(repeated)}; keep one per date")
    older = [
        path.name
        for day, path in ordered
        if registry.full_list_downloaded_on and day <= registry.full_list_downloaded_on
    ]
    if older:
        raise ConfigError(
            f"{key}: {', '.join(older)} dated on or before the full list's download "
            f"(full_list_downloaded_on: {registry.full_list_downloaded_on}): they followed an older full list, "
            "and applied to this one could drop a number added since; remove them"
        )
    return ordered


def _date_in_name(name: str) -> date | None:
    """The calendar date a change list's name carries (`2026-11-21` or `20261121`); None for none or no real date."""
    found = _CHANGE_DATE.search(name)
    if found is None:
        return None
    try:
        return datetime.strptime("".join(found.groups()), "%Y%m%d").date()
    except ValueError:
        return None


def listed_in_snapshots(known_numbers: pl.DataFrame, snapshots: pl.DataFrame, *, data_dir: Path) -> pl.DataFrame:
    """Each known number (`phone_e164`, `phone_region`) a stored registry holds, with that registry's version.

    The join is DuckDB's, on 64-bit integers, reading the snapshot's Parquet directly.
    """
    known = known_numbers.select("phone_e164", "phone_region", e164_int=e164_as_int(pl.col("phone_e164")))
    keys = known.get_column("e164_int").drop_nulls().sort()
    listed = [
        known.filter(pl.col("e164_int").is_in(_held(keys, data_dir / snapshot).implode()))
        .drop("e164_int")
        .with_columns(
            registry=pl.lit(registry),
            source_file=pl.lit(snapshot),
            source_sha256=pl.lit(snapshot_sha256),
            downloaded_on=pl.lit(downloaded_on, pl.Date),
        )
        for registry, snapshot, snapshot_sha256, downloaded_on in snapshots.select(
            "registry", "snapshot", "snapshot_sha256", "downloaded_on"
        ).iter_rows()
    ]
    return pl.concat([pl.DataFrame(schema=LISTED_SCHEMA), *listed])


def _held(sorted_keys: pl.Series, snapshot: Path) -> pl.Series:
    """The keys a snapshot holds: DuckDB semi-joins on integers, streaming the Parquet.

    The keys go a few million at a time, each batch against only the snapshot's row groups in its range
    (the snapshot is sorted): small hash tables probe far faster than one table of every key.
    """
    batches = (sorted_keys.slice(start, _KEYS_PER_JOIN) for start in range(0, sorted_keys.len(), _KEYS_PER_JOIN))
    held = [
        query_frames(
            _HELD,
            params={"snapshot": str(snapshot), "lowest": batch.first(), "highest": batch.last()},
            keys=batch.to_frame(),
        ).get_column("e164_int")
        for batch in batches
    ]
    return pl.concat([sorted_keys.clear(), *held])


def snapshot_lineage(snapshots: pl.DataFrame) -> pl.DataFrame:
    """(`source_file`, `source_sha256`) of every stored registry's downloads and of its snapshot itself."""
    downloads = snapshots.select(pl.col("files").explode().struct.unnest()).rename(
        {"file": "source_file", "sha256": "source_sha256"}
    )
    return pl.concat([downloads, snapshots.select(source_file="snapshot", source_sha256="snapshot_sha256")])


def snapshot_path(data_dir: Path, *, registry: str, version: str, regions: Sequence[str]) -> Path:
    """Where a registry version's snapshot, built for `regions` by this phonenumbers, is kept."""
    return data_dir / REGISTRIES_DIR / registry / f"{version}-{build_key(regions)}{SNAPSHOT_SUFFIX}"


def build_key(regions: Sequence[str]) -> str:
    """What besides the downloads decides a snapshot's numbers: phonenumbers' version, jurisdiction, format."""
    build = json.dumps([phonenumbers.__version__, sorted(regions), SNAPSHOT_FORMAT])
    return hashlib.sha256(build.encode()).hexdigest()[:16]


def staging_path(path: Path) -> Path:
    """A hidden, unique temporary name in the file's own folder, so the rename stays on one file system."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _intact(path: Path) -> SnapshotRecord | None:
    """A snapshot's record when it is complete (record written) and its Parquet still has the recorded SHA-256."""
    record_path = path.with_suffix(RECORD_SUFFIX)
    if not (record_path.is_file() and path.is_file()):
        return None
    record = SnapshotRecord.model_validate_json(record_path.read_text(encoding="utf-8"))
    return record if record.snapshot_sha256 == file_sha256(path) else None


def _recorded(
    path: Path,
    *,
    data_dir: Path,
    registry: str,
    version: str,
    files: list[RecordedFile],
    regions: list[str],
    count_numbers: int,
    readings: list[DownloadReading],
) -> SnapshotRecord:
    """Write a newly made snapshot's record beside it, atomically and last, and return it."""
    record = SnapshotRecord(
        registry=registry,
        version=version,
        count_numbers=count_numbers,
        files=files,
        jurisdiction=regions,
        snapshot=path.relative_to(data_dir).as_posix(),
        snapshot_sha256=file_sha256(path),
        readings=readings,
    )
    record_path = path.with_suffix(RECORD_SUFFIX)
    staging = staging_path(record_path)
    staging.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    os.replace(staging, record_path)
    return record


def _file_record(path: Path, data_dir: Path) -> RecordedFile:
    return RecordedFile(file=lineage_path(path, data_dir), sha256=file_sha256(path))
