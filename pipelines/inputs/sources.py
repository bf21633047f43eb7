"""The inputs `scrubline.yaml` declares, read with lineage and normalised to E.164.

CRM exports and dialler lists keep unreadable records (quarantined); a registry with any
unreadable record fails the run, because a list scrubbed against part of a registry is unsafe.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipelines.config import CrmSource, DiallerSource, Registry, resolve_files
from pipelines.errors import InputFileError, RegistryError
from pipelines.inputs.instants import UTC, iso_date, utc_instant_or_day
from pipelines.inputs.records import file_sha256, lineage_path, read_many, read_records
from pipelines.phones.e164 import RESULT_SUFFIXES, normalise_phones
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
_FALSE_FLAGS = ["", "0", "false", "f", "no", "n", "none", "null"]


def read_crm(source: CrmSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per CRM export record, all columns as strings, with lineage."""
    files = resolve_files(data_dir, source.path, key="crm.path")
    dates = (source.last_purchase_column, source.last_inquiry_column)
    required = [
        source.id_column,
        *source.phone_columns,
        *_optional(source.country_column, source.do_not_call_column, *dates),
    ]
    return read_many(files, data_dir=data_dir, required_columns=required)


def read_dialler(source: DiallerSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per dialler record; `campaign` is the file's stem."""
    files = resolve_files(data_dir, source.path, key="dialler.path")
    required = [source.id_column, source.phone_column, *_optional(source.country_column)]
    records = read_many(files, data_dir=data_dir, required_columns=required)
    return _quarantine_blank_ids(records, id_column=source.id_column, columns=required).with_columns(
        campaign=pl.col("source_file").str.extract(r"([^/]+?)(?:\.[^./]*)?$")
    )


def _quarantine_blank_ids(records: pl.DataFrame, *, id_column: str, columns: Sequence[str]) -> pl.DataFrame:
    """A readable record without an id cannot be traced back by the dialler: quarantined as `empty id`."""
    is_blank = pl.col("quarantine_reason").is_null() & (pl.col(id_column).str.strip_chars().fill_null("") == "")
    raw = pl.concat_str([pl.col(column).fill_null("") for column in columns], separator=",")
    return records.with_columns(
        quarantine_reason=pl.when(is_blank).then(pl.lit("empty id")).otherwise("quarantine_reason"),
        raw_record=pl.when(is_blank).then(raw).otherwise("raw_record"),
    )


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


def normalise_crm(records: pl.DataFrame, source: CrmSource, *, default_region: str) -> pl.DataFrame:
    """CRM records with `<col>_*` E.164 columns for every phone column, `is_do_not_call` and the EBR dates.

    `last_purchase_on` and `last_inquiry_on` are null when not configured or not a readable date: no exemption.
    """
    for column in source.phone_columns:
        records = normalise_phones(records, column, region=default_region, region_column=source.country_column)
    flag = pl.col(source.do_not_call_column) if source.do_not_call_column else pl.lit(None, pl.String)
    # A do-not-call value that is not recognisably "no" suppresses: an unclear flag must not let a call through.
    return records.with_columns(
        is_do_not_call=is_set_flag(flag),
        last_purchase_on=_optional_date(source.last_purchase_column),
        last_inquiry_on=_optional_date(source.last_inquiry_column),
    )


def normalise_dialler(records: pl.DataFrame, source: DiallerSource, *, default_region: str) -> pl.DataFrame:
    """Dialler records with `<phone column>_*` E.164 columns."""
    return normalise_phones(records, source.phone_column, region=default_region, region_column=source.country_column)


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
        pl.lit(None, pl.Boolean if suffix == "valid" else pl.String).alias(f"{REGISTRY_PHONE_COLUMN}_{suffix}")
        for suffix in RESULT_SUFFIXES
    )


def crm_numbers(crm: pl.DataFrame, source: CrmSource) -> pl.DataFrame:
    """One row per (CRM record, phone column) holding a valid number: the CRM's numbers, long."""
    return pl.concat(
        [
            crm.filter(pl.col(f"{column}_valid")).select(
                contact_id=pl.col(source.id_column),
                phone_column=pl.lit(column),
                phone_e164=pl.col(f"{column}_e164"),
                phone_region=pl.col(f"{column}_region"),
                is_do_not_call="is_do_not_call",
                last_purchase_on="last_purchase_on",
                last_inquiry_on="last_inquiry_on",
                source_file="source_file",
                source_sha256="source_sha256",
            )
            for column in source.phone_columns
        ]
    )


def is_set_flag(flag: pl.Expr) -> pl.Expr:
    """A yes/no column read cautiously: anything present and not recognisably "no" counts as yes."""
    return flag.is_not_null() & ~flag.str.strip_chars().str.to_lowercase().is_in(_FALSE_FLAGS)


def _read_registry_file(path: Path, registry: Registry, *, data_dir: Path) -> pl.DataFrame:
    """One registry file's records with lineage and a `quarantine_reason` for each malformed one."""
    if registry.format == "plain":
        column = registry.phone_column or REGISTRY_PHONE_COLUMN
        records = read_records(
            path,
            data_dir=data_dir,
            required_columns=[column, *_optional(registry.requested_at_column, registry.seller_column)],
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


def _optional_date(column: str | None) -> pl.Expr:
    return iso_date(pl.col(column)) if column else pl.lit(None, pl.Date)


def _optional(*columns: str | None) -> list[str]:
    return [column for column in columns if column]
