"""Dialler lists: one campaign per file, read with lineage (unreadable or id-less records quarantined), normalised."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipelines.config import DiallerSource, resolve_files
from pipelines.inputs.records import optional_columns, read_many
from pipelines.phones.e164 import normalise_phones


def read_dialler(source: DiallerSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per dialler record; `campaign` is the file's stem."""
    files = resolve_files(data_dir, source.path, key="dialler.path")
    required = [source.id_column, source.phone_column, *optional_columns(source.country_column)]
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


def normalise_dialler(records: pl.DataFrame, source: DiallerSource, *, default_region: str) -> pl.DataFrame:
    """Dialler records with `<phone column>_*` E.164 columns."""
    return normalise_phones(records, source.phone_column, region=default_region, region_column=source.country_column)
