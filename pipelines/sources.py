"""The inputs `scrubline.yaml` declares, read with lineage and normalised to E.164.

CRM exports and dialler lists keep unreadable records (quarantined); a registry with any
unreadable record fails the run, because a list scrubbed against part of a registry is unsafe.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import CrmSource, DiallerSource, Registry, resolve_files
from pipelines.e164 import normalise_phones
from pipelines.errors import RegistryError
from pipelines.ingest import read_many

REGISTRY_PHONE_COLUMN = "phone"
_FALSE_FLAGS = ["", "0", "false", "f", "no", "n", "none", "null"]


def read_crm(source: CrmSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per CRM export record, all columns as strings, with lineage."""
    files = resolve_files(data_dir, source.path, key="crm.path")
    required = [source.id_column, *source.phone_columns, *_optional(source.country_column, source.do_not_call_column)]
    return read_many(files, data_dir=data_dir, required_columns=required)


def read_dialler(source: DiallerSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per dialler record; `campaign` is the file's stem."""
    files = resolve_files(data_dir, source.path, key="dialler.path")
    required = [source.id_column, source.phone_column, *_optional(source.country_column)]
    records = read_many(files, data_dir=data_dir, required_columns=required)
    return records.with_columns(campaign=pl.col("source_file").str.extract(r"([^/]+?)(?:\.[^./]*)?$"))


def read_registry(registry: Registry, *, data_dir: Path) -> pl.DataFrame:
    """One row per registry entry with `registry` and lineage; any unreadable record is fatal."""
    files = resolve_files(data_dir, registry.path, key=f"registries[{registry.name}].path")
    column = registry.phone_column or REGISTRY_PHONE_COLUMN
    records = read_many(
        files, data_dir=data_dir, required_columns=[column], has_header=registry.phone_column is not None
    )
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
        phone=pl.col(column),
        source_file="source_file",
        source_row="source_row",
        source_sha256="source_sha256",
    )


def normalise_crm(records: pl.DataFrame, source: CrmSource, *, default_region: str) -> pl.DataFrame:
    """CRM records with `<col>_*` E.164 columns for every configured phone column and `is_do_not_call`."""
    for column in source.phone_columns:
        records = normalise_phones(records, column, region=default_region, region_column=source.country_column)
    flag = pl.col(source.do_not_call_column) if source.do_not_call_column else pl.lit(None, pl.String)
    # A do-not-call value that is not recognisably "no" suppresses: an unclear flag must not let a call through.
    return records.with_columns(is_do_not_call=is_set_flag(flag))


def normalise_dialler(records: pl.DataFrame, source: DiallerSource, *, default_region: str) -> pl.DataFrame:
    """Dialler records with `<phone column>_*` E.164 columns."""
    return normalise_phones(records, source.phone_column, region=default_region, region_column=source.country_column)


def normalise_registry(entries: pl.DataFrame, registry: Registry) -> pl.DataFrame:
    """Registry entries with `phone_*` E.164 columns, in the registry's own region."""
    return normalise_phones(entries, REGISTRY_PHONE_COLUMN, region=registry.region)


def crm_numbers(crm: pl.DataFrame, source: CrmSource) -> pl.DataFrame:
    """One row per (CRM record, phone column) holding a valid number: the CRM's numbers, long."""
    return pl.concat(
        [
            crm.filter(pl.col(f"{column}_valid")).select(
                contact_id=pl.col(source.id_column),
                phone_column=pl.lit(column),
                phone_e164=pl.col(f"{column}_e164"),
                is_do_not_call="is_do_not_call",
                source_file="source_file",
                source_sha256="source_sha256",
            )
            for column in source.phone_columns
        ]
    )


def is_set_flag(flag: pl.Expr) -> pl.Expr:
    """A yes/no column read cautiously: anything present and not recognisably "no" counts as yes."""
    return flag.is_not_null() & ~flag.str.strip_chars().str.to_lowercase().is_in(_FALSE_FLAGS)


def _optional(*columns: str | None) -> list[str]:
    return [column for column in columns if column]
