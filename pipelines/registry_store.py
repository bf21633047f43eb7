"""Versioned registry snapshots: a stored registry's numbers as sorted 64-bit E.164 integers.

A snapshot lives under the data directory at `registries/<registry>/<version>.parquet` (zstd, one
column `e164_int`, unique and ascending: `+12015550123` is 12015550123; E.164 has at most 15 digits
and never a leading 0, so `"+" + str(n)` gives the number back). Beside it, `<version>.json` records
how it was made: files with their SHA-256, count, jurisdiction and the Parquet's own SHA-256. The
record is written last, so a snapshot without one is incomplete and is made again.

A full list's version is `version_of` its files' checksums; each change list applied, in file-name
order, makes `changed_version(parent, its checksum)`. A version therefore names exactly the downloads
it holds: a nightly run with no new file reuses its snapshot, and a new change list costs one apply.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.config import Registry, matching_files, resolve_files
from pipelines.duck import query_frames
from pipelines.e164 import e164_as_int
from pipelines.errors import RegistryError
from pipelines.ingest import file_sha256
from pipelines.registry_versions import changed_version, version_of
from pipelines.us_registry_ingest import apply_us_changes, ingest_us_download

REGISTRIES_DIR = "registries"
SNAPSHOT_COLUMN = "e164_int"
SNAPSHOT_SUFFIX = ".parquet"
RECORD_SUFFIX = ".json"
SNAPSHOTS_SCHEMA = {
    "registry": pl.String,
    "version": pl.String,
    "count_numbers": pl.Int64,
    "files": pl.List(pl.Struct({"file": pl.String, "sha256": pl.String})),
    "snapshot": pl.String,
    "snapshot_sha256": pl.String,
    "downloaded_on": pl.Date,
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
semi join read_parquet($snapshot) as snapshot using (e164_int)
"""


def registry_snapshots(registries: Sequence[Registry], *, data_dir: Path) -> pl.DataFrame:
    """One row per stored registry: its current snapshot (made or reused), version, files, count and download date."""
    rows = [
        {**stored_registry(registry, data_dir=data_dir), "downloaded_on": registry.downloaded_on}
        for registry in registries
        if registry.is_stored
    ]
    return pl.DataFrame([{key: row[key] for key in SNAPSHOTS_SCHEMA} for row in rows], schema=SNAPSHOTS_SCHEMA)


def stored_registry(registry: Registry, *, data_dir: Path) -> dict[str, Any]:
    """The record of a registry's snapshot after its full list and every change list, made where missing."""
    regions = registry.covered_regions or []
    full = resolve_files(data_dir, registry.path, key=f"registries[{registry.name}].path")
    # Change lists arrive after the full list: none yet is normal.
    changes = matching_files(data_dir, registry.changes) if registry.changes else []
    files = [_file_record(path, data_dir) for path in full]
    make = partial(_snapshot, data_dir=data_dir, registry=registry.name, regions=regions)
    try:
        record = make(version_of([file["sha256"] for file in files]), files, partial(ingest_us_download, full))
        for path in changes:
            change = _file_record(path, data_dir)
            parent = data_dir / record["snapshot"]
            record = make(
                changed_version(record["version"], change["sha256"]),
                [*record["files"], change],
                partial(apply_us_changes, parent, path),
            )
    except RegistryError as error:
        raise RegistryError(f"registry '{registry.name}': {error}") from error
    return record


def listed_in_snapshots(known_numbers: pl.DataFrame, snapshots: pl.DataFrame, *, data_dir: Path) -> pl.DataFrame:
    """Each known number (`phone_e164`, `phone_region`) a stored registry holds, with that registry's version.

    The join is DuckDB's, on 64-bit integers, reading the snapshot's Parquet directly.
    """
    known = known_numbers.select("phone_e164", "phone_region", e164_int=e164_as_int(pl.col("phone_e164")))
    keys = known.select("e164_int")
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


def _held(keys: pl.DataFrame, snapshot: Path) -> pl.Series:
    """The `e164_int` keys a snapshot holds: a DuckDB semi-join on integers, streaming the Parquet."""
    return query_frames(_HELD, params={"snapshot": str(snapshot)}, keys=keys).get_column("e164_int")


def snapshot_lineage(snapshots: pl.DataFrame) -> pl.DataFrame:
    """(`source_file`, `source_sha256`) of every stored registry's downloads and of its snapshot itself."""
    downloads = snapshots.select(pl.col("files").explode().struct.unnest()).rename(
        {"file": "source_file", "sha256": "source_sha256"}
    )
    return pl.concat([downloads, snapshots.select(source_file="snapshot", source_sha256="snapshot_sha256")])


def snapshot_path(data_dir: Path, *, registry: str, version: str) -> Path:
    """Where a registry version's snapshot is kept under the data directory."""
    return data_dir / REGISTRIES_DIR / registry / f"{version}{SNAPSHOT_SUFFIX}"


def staging_path(path: Path) -> Path:
    """A hidden, unique temporary name in the file's own folder, so the rename stays on one file system."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _snapshot(
    version: str,
    files: list[dict[str, str]],
    build: Callable[..., int],
    *,
    data_dir: Path,
    registry: str,
    regions: list[str],
) -> dict[str, Any]:
    """The record of a snapshot version: read when already made for these regions, else built and recorded."""
    path = snapshot_path(data_dir, registry=registry, version=version)
    record_path = path.with_suffix(RECORD_SUFFIX)
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record["jurisdiction"] == regions:
            return record
    count_numbers = build(snapshot=path, regions=regions)
    record = {
        "registry": registry,
        "version": version,
        "count_numbers": count_numbers,
        "files": files,
        "jurisdiction": regions,
        "snapshot": path.relative_to(data_dir).as_posix(),
        "snapshot_sha256": file_sha256(path),
    }
    staging = staging_path(record_path)
    staging.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(staging, record_path)
    return record


def _file_record(path: Path, data_dir: Path) -> dict[str, str]:
    relative = path.relative_to(data_dir).as_posix() if path.is_relative_to(data_dir) else str(path)
    return {"file": relative, "sha256": file_sha256(path)}
