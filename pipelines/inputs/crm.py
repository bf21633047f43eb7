"""The CRM export: read with lineage and quarantine, normalised to E.164, and its numbers long.

A do-not-call flag not recognisably "no" suppresses; the purchase and inquiry dates feed EBR
(`pipelines.suppression.relationships`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import CrmSource, resolve_files
from pipelines.inputs.flags import is_set_flag
from pipelines.inputs.instants import iso_date
from pipelines.inputs.records import optional_columns, read_many
from pipelines.phones.e164 import normalise_phones, result_column


def read_crm(source: CrmSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per CRM export record, all columns as strings, with lineage."""
    files = resolve_files(data_dir, source.path, key="crm.path")
    dates = (source.last_purchase_column, source.last_inquiry_column)
    required = [
        source.id_column,
        *source.phone_columns,
        *optional_columns(source.country_column, source.do_not_call_column, *dates),
    ]
    return read_many(files, data_dir=data_dir, required_columns=required)


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


def crm_numbers(crm: pl.DataFrame, source: CrmSource) -> pl.DataFrame:
    """One row per (CRM record, phone column) holding a valid number: the CRM's numbers, long."""
    return pl.concat(
        [
            crm.filter(pl.col(result_column(column, "valid"))).select(
                contact_id=pl.col(source.id_column),
                phone_column=pl.lit(column),
                phone_e164=pl.col(result_column(column, "e164")),
                phone_region=pl.col(result_column(column, "region")),
                is_do_not_call="is_do_not_call",
                last_purchase_on="last_purchase_on",
                last_inquiry_on="last_inquiry_on",
                source_file="source_file",
                source_sha256="source_sha256",
            )
            for column in source.phone_columns
        ]
    )


def _optional_date(column: str | None) -> pl.Expr:
    return iso_date(pl.col(column)) if column else pl.lit(None, pl.Date)
