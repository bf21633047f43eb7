"""Versioned registry snapshots: each registry version's valid numbers as sorted 64-bit E.164 integers.

A snapshot lives at `<data dir>/registries/<registry>/<version>.parquet` (zstd), one column
`e164_int` (Int64, unique, ascending): `+12015550123` is 12015550123. E.164 has at most 15 digits
and never a leading 0, so the integer is lossless (`"+" + str(n)` gives the number back), and a
scrub joins on 8-byte integers instead of strings. The version is `registry_versions`' version, so
a snapshot names exactly the files it was made from. Snapshots are written to a temporary file and
renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import polars as pl

REGISTRIES_DIR = "registries"
SNAPSHOT_COLUMN = "e164_int"
SNAPSHOT_SUFFIX = ".parquet"
SNAPSHOT_COMPRESSION = "zstd"


def registry_snapshot(entries: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct valid number among a registry's normalised entries, as a sorted E.164 integer."""
    return (
        entries.lazy()
        .filter(pl.col("phone_valid").fill_null(False))
        .select(e164_as_int(pl.col("phone_e164")).alias(SNAPSHOT_COLUMN))
        .unique()
        .sort(SNAPSHOT_COLUMN)
        .collect()
    )


def e164_as_int(phone_e164: pl.Expr) -> pl.Expr:
    """`+12015550123` as 12015550123: the digits after the plus, as a signed 64-bit integer."""
    return phone_e164.str.strip_prefix("+").cast(pl.Int64)


def snapshot_path(data_dir: Path, *, registry: str, version: str) -> Path:
    """Where a registry version's snapshot is kept under the data directory."""
    return data_dir / REGISTRIES_DIR / registry / f"{version}{SNAPSHOT_SUFFIX}"


def write_snapshot(snapshot: pl.DataFrame, path: Path) -> Path:
    """Write a snapshot as zstd Parquet, atomically: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(path)
    try:
        snapshot.write_parquet(staging, compression=SNAPSHOT_COMPRESSION)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path


def staging_path(path: Path) -> Path:
    """A hidden, unique temporary name in the snapshot's own folder, so the rename stays on one file system."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
