"""Registry entries read row by row (all but stored registries), with lineage, and normalised to E.164.

A registry with any unreadable record fails the run: a list scrubbed against part of a registry is unsafe.
Opt-out lists carry when each entry was requested and for which seller (see docs/registries.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipelines.config import Registry, resolve_files
from pipelines.errors import InputFileError, RegistryError
from pipelines.inputs.instants import UTC, utc_instant_or_day
from pipelines.inputs.records import file_sha256, lineage_path, optional_columns, read_records
from pipelines.phones.e164 import RESULT_SUFFIXES, normalise_phones, result_column
from pipelines.registries.formats import RECORD_LAYOUTS, is_cut_last_line, read_line_registry

REGISTRY_PHONE_COLUMN = "phone"
REQUESTED_AT_TYPE = pl.Datetime("us", UTC)
REGISTRY_ENTRY_SCHEMA = {
    "registry": pl.String,
    "phone": pl.String,
    "block_prefix": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "source_sha256": pl.String,
    "downloaded_on": pl.Date,
    "requested_at": REQUESTED_AT_TYPE,
    "seller_scope": pl.String,
    "is_unterminated": pl.Boolean,
}


def read_registries(registries: Sequence[Registry], *, data_dir: Path) -> pl.DataFrame:
    """Every entry of the registries read row by row (all but the stored ones), in `REGISTRY_ENTRY_SCHEMA`."""
    read = [read_registry(registry, data_dir=data_dir) for registry in registries if not registry.is_stored]
    return pl.concat([pl.DataFrame(schema=REGISTRY_ENTRY_SCHEMA), *read])


def read_registry(registry: Registry, *, data_dir: Path) -> pl.DataFrame:
    """One row per registry entry (a number or a block) with lineage and download date; a malformed one is fatal."""
    files = resolve_files(data_dir, registry.path, key=f"registries[{registry.name}].path")
    try:
        records = pl.concat(
            [_read_registry_file(path, registry, data_dir=data_dir) for path in files], how="diagonal_relaxed"
        )
    except (RegistryError, InputFileError) as error:
        raise RegistryError(f"registry '{registry.name}': {error}") from error
    unreadable = records.filter(pl.col("quarantine_reason").is_not_null())
    if unreadable.height:
        first = unreadable.row(0, named=True)
        raise RegistryError(
            f"registry '{registry.name}': {unreadable.height} unreadable record(s), first in "
            f"{first['source_file']} row {first['source_row']} ({first['quarantine_reason']}); "
            "nothing is published until the registry file is fixed or replaced"
        )
    return records.select(
        registry=pl.lit(registry.name),
        phone="phone",
        block_prefix="block_prefix",
        source_file="source_file",
        source_row="source_row",
        source_sha256="source_sha256",
        downloaded_on=pl.lit(registry.downloaded_on, pl.Date),
        requested_at="requested_at",
        seller_scope="seller_scope",
        is_unterminated="is_unterminated",
    )


def normalise_registries(entries: pl.DataFrame, registries: Sequence[Registry]) -> pl.DataFrame:
    """Every registry's entries with `phone_*` E.164 columns; blocks are prefixes already, so theirs stay null."""
    by_name = {registry.name: registry for registry in registries}
    normalised = [
        normalise_registry(part, by_name[name]) for (name,), part in entries.group_by("registry", maintain_order=True)
    ]
    return pl.concat([_without_numbers(entries.clear()), *normalised])


def normalise_registry(entries: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    """Registry entries with `phone_*` E.164 columns, in the region the registry's numbers are written in."""
    if registry.format == "wildcard":
        return _without_numbers(entries)
    return normalise_phones(entries, REGISTRY_PHONE_COLUMN, region=registry.number_region)


def _without_numbers(entries: pl.DataFrame) -> pl.DataFrame:
    """Entries with null `phone_*` columns: what blocks (prefixes, not numbers) carry."""
    return entries.with_columns(
        pl.lit(None, pl.Boolean if suffix == "valid" else pl.String).alias(result_column(REGISTRY_PHONE_COLUMN, suffix))
        for suffix in RESULT_SUFFIXES
    )


def _read_registry_file(path: Path, registry: Registry, *, data_dir: Path) -> pl.DataFrame:
    """One registry file's records with lineage and a `quarantine_reason` for each malformed one."""
    if registry.format == "plain":
        column = registry.phone_column or REGISTRY_PHONE_COLUMN
        records = read_records(
            path,
            data_dir=data_dir,
            required_columns=[column, *optional_columns(registry.requested_at_column, registry.seller_column)],
            has_header=registry.phone_column is not None,
        )
        return records.with_columns(
            phone=pl.col(column), block_prefix=pl.lit(None, pl.String), is_unterminated=is_cut_last_line(path)
        ).pipe(_with_opt_out_scope, registry)
    records = read_line_registry(path, registry_format=registry.format, region=registry.number_region)
    is_malformed = pl.col("phone").is_null() & pl.col("block_prefix").is_null()
    return records.with_columns(
        source_file=pl.concat_str(
            pl.lit(lineage_path(path, data_dir)), pl.lit("!") + pl.col("member"), ignore_nulls=True
        ),
        source_sha256=pl.lit(file_sha256(path)),
        quarantine_reason=pl.when(is_malformed).then(pl.lit(f"not {RECORD_LAYOUTS[registry.format]}")),
        requested_at=pl.lit(None, REQUESTED_AT_TYPE),
        seller_scope=pl.lit(None, pl.String),
    )


def _with_opt_out_scope(records: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    """`requested_at` (UTC; null when the list has no such column) and `seller_scope` (null: company-wide).

    An opt-out whose time cannot be read is a malformed record: when it applies from is unknown.
    """
    if registry.requested_at_column is None:
        requested_at = pl.lit(None, REQUESTED_AT_TYPE)
        is_undated = pl.lit(False)
    else:
        requested_at = utc_instant_or_day(pl.col(registry.requested_at_column))
        is_undated = requested_at.is_null() & pl.col("quarantine_reason").is_null()
    scope = pl.col(registry.seller_column).str.strip_chars() if registry.seller_column else pl.lit(None)
    return records.with_columns(
        requested_at=requested_at,
        seller_scope=pl.when(scope != "").then(scope).cast(pl.String),
        quarantine_reason=pl.when(is_undated)
        .then(pl.lit(f"{registry.requested_at_column} is not a date (YYYY-MM-DD) or ISO 8601 time"))
        .otherwise("quarantine_reason"),
    )
