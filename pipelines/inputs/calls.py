"""The dialler's call records and the number estate, read with lineage and normalised to E.164.

Both are read under Scrubline's own column names, whatever the exports call them. A call record the
analytics cannot use keeps a `call_reason` and is left out of them, but still counts as an attempt on
the number it dialled when it says when and whom it called. The estate is the programme's own short
list of CLIs; a row that is not a readable, valid, unique, pooled CLI is set aside with its reason.
Both feed only analytics, so a bad record never stops the clean lists from publishing.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import CallRecordsSource, NumberEstateSource, resolve_files
from pipelines.inputs.flags import is_set_flag
from pipelines.inputs.instants import utc_instant
from pipelines.inputs.records import LINEAGE_COLUMNS, QUARANTINE_COLUMNS, optional_columns, read_many
from pipelines.phones.e164 import normalise_phones, result_column

DISPOSITIONS = ("answered", "no_answer", "busy", "failed", "voicemail")
ANSWERED = "answered"
ATTESTATIONS = ("A", "B", "C")
CALL_RECORD_COLUMNS = ("call_id", "cli", "dialled", "started_at", "duration_s", "disposition", "complaint")
ESTATE_COLUMNS = ("cli", "pool", "carrier", "attestation", "reputation_label", "reputation_checked_on")
_LINEAGE_SCHEMA = {"source_file": pl.String, "source_row": pl.Int64, "source_sha256": pl.String}
_QUARANTINE_SCHEMA = {"quarantine_reason": pl.String, "raw_record": pl.String}
CALL_RECORD_SCHEMA = {**dict.fromkeys(CALL_RECORD_COLUMNS, pl.String), **_LINEAGE_SCHEMA, **_QUARANTINE_SCHEMA}
ESTATE_SCHEMA = {**dict.fromkeys(ESTATE_COLUMNS, pl.String), **_LINEAGE_SCHEMA, **_QUARANTINE_SCHEMA}
_NUMBER_SUFFIXES = ("e164", "valid", "type", "region", "reason")


def read_call_records(source: CallRecordsSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per call record, as strings under Scrubline's column names, with lineage; unreadable rows kept."""
    columns = {
        "call_id": source.call_id_column,
        "cli": source.cli_column,
        "dialled": source.dialled_column,
        "started_at": source.started_at_column,
        "duration_s": source.duration_column,
        "disposition": source.disposition_column,
        "complaint": source.complaint_column,
    }
    return _read_renamed(source.path, columns, key="calls.records.path", data_dir=data_dir)


def no_call_records() -> pl.DataFrame:
    """The call records of a data directory that declares none: no rows, the columns `read_call_records` gives."""
    return pl.DataFrame(schema=CALL_RECORD_SCHEMA)


def normalise_call_records(records: pl.DataFrame, *, default_region: str) -> pl.DataFrame:
    """Call records with E.164 CLI and dialled number, typed fields, `is_attempt` and a `call_reason` when unusable."""
    numbers = normalise_phones(records, "cli", region=default_region)
    numbers = normalise_phones(numbers, "dialled", region=default_region)
    return numbers.select(
        "call_id",
        *_number_columns("cli"),
        *_number_columns("dialled"),
        started_at=utc_instant(pl.col("started_at")),
        duration_s=_whole_seconds(pl.col("duration_s")),
        disposition=_disposition(pl.col("disposition")),
        is_complaint=is_set_flag(pl.col("complaint")),
        is_repeated=pl.col("call_id").is_not_null() & ~pl.col("call_id").is_first_distinct(),
        **{name: name for name in (*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS)},
    ).select(
        pl.exclude("is_repeated", *QUARANTINE_COLUMNS),
        # Counted against the number's call limit: an unreadable duration does not undo a call.
        is_attempt=pl.col("quarantine_reason").is_null()
        & ~pl.col("is_repeated")
        & pl.col("started_at").is_not_null()
        & pl.col("dialled_valid"),
        call_reason=_call_reason(),
    )


def read_number_estate(source: NumberEstateSource, *, data_dir: Path) -> pl.DataFrame:
    """One row per estate record, as strings under Scrubline's column names; unreadable rows kept with a reason."""
    columns = {
        "cli": source.cli_column,
        "pool": source.pool_column,
        "carrier": source.carrier_column,
        "attestation": source.attestation_column,
        "reputation_label": source.reputation_label_column,
        "reputation_checked_on": source.reputation_checked_column,
    }
    return _read_renamed(source.path, columns, key="calls.estate.path", data_dir=data_dir)


def no_number_estate() -> pl.DataFrame:
    """The estate of a data directory that declares none: no rows, the columns `read_number_estate` gives."""
    return pl.DataFrame(schema=ESTATE_SCHEMA)


def normalise_number_estate(estate: pl.DataFrame, *, default_region: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The usable CLIs, one row each in E.164 with pool, carrier, attestation and reputation; and the rows set
    aside, with lineage, `quarantine_reason` (the first problem found) and `raw_record`."""
    numbers = normalise_phones(estate, "cli", region=default_region)
    typed = numbers.select(
        "cli_e164",
        pool=_blank_as_null(pl.col("pool")),
        carrier=_blank_as_null(pl.col("carrier")),
        attestation=_blank_as_null(pl.col("attestation")).str.to_uppercase(),
        reputation_label=_blank_as_null(pl.col("reputation_label")),
        reputation_checked_on=_blank_as_null(pl.col("reputation_checked_on")).str.to_date("%Y-%m-%d", strict=False),
        cli_valid="cli_valid",
        cli_reason="cli_reason",
        reputation_checked_raw=_blank_as_null(pl.col("reputation_checked_on")),
        raw_record=pl.coalesce(
            "raw_record", pl.concat_str([pl.col(c).fill_null("") for c in ESTATE_COLUMNS], separator=",")
        ),
        **{name: name for name in (*LINEAGE_COLUMNS, "quarantine_reason")},
    ).with_columns(problem=_estate_problem())
    usable = typed.filter(pl.col("problem").is_null())
    set_aside = typed.filter(pl.col("problem").is_not_null())
    return (
        usable.drop("cli_valid", "cli_reason", "reputation_checked_raw", *QUARANTINE_COLUMNS, "problem").sort(
            "cli_e164"
        ),
        set_aside.select(*LINEAGE_COLUMNS, quarantine_reason="problem", raw_record="raw_record"),
    )


def _read_renamed(pattern: str, columns: dict[str, str | None], *, key: str, data_dir: Path) -> pl.DataFrame:
    """The files `pattern` matches, their configured columns under Scrubline's names (an unconfigured optional one
    is null), lineage and quarantine kept."""
    files = resolve_files(data_dir, pattern, key=key)
    records = read_many(files, data_dir=data_dir, required_columns=optional_columns(*columns.values()))
    return records.select(
        **{name: pl.col(column) if column else pl.lit(None, pl.String) for name, column in columns.items()},
        **{name: name for name in (*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS)},
    )


def _joined(columns: tuple[str, ...]) -> pl.Expr:
    """A record's fields as one comma-separated text, for quarantine."""
    return pl.concat_str([pl.col(column).fill_null("") for column in columns], separator=",")


def _number_columns(column: str) -> list[str]:
    return [column, *(result_column(column, suffix) for suffix in _NUMBER_SUFFIXES)]


def _whole_seconds(raw: pl.Expr) -> pl.Expr:
    """A non-negative whole number of seconds (a float's `.0` allowed); else null."""
    seconds = raw.str.strip_chars().str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    return pl.when(seconds >= 0).then(seconds)


def _disposition(raw: pl.Expr) -> pl.Expr:
    disposition = raw.str.strip_chars().str.to_lowercase()
    return pl.when(disposition.is_in(DISPOSITIONS)).then(disposition)


def _blank_as_null(raw: pl.Expr) -> pl.Expr:
    value = raw.str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value)


def _call_reason() -> pl.Expr:
    """Why a record is left out of the analytics: the first problem found; null for a usable record."""
    return (
        pl.when(pl.col("quarantine_reason").is_not_null())
        .then(pl.col("quarantine_reason"))
        .when(pl.col("is_repeated"))
        .then(pl.lit("repeated_call_id"))
        .when(pl.col("started_at").is_null())
        .then(pl.lit("invalid_started_at"))
        .when(~pl.col("cli_valid"))
        .then(pl.concat_str(pl.lit("cli_"), pl.col("cli_reason")))
        .when(~pl.col("dialled_valid"))
        .then(pl.concat_str(pl.lit("dialled_"), pl.col("dialled_reason")))
        .when(pl.col("duration_s").is_null())
        .then(pl.lit("invalid_duration"))
        .when(pl.col("disposition").is_null())
        .then(pl.lit("unknown_disposition"))
    )


def _estate_problem() -> pl.Expr:
    return (
        pl.when(pl.col("quarantine_reason").is_not_null())
        .then(pl.col("quarantine_reason"))
        .when(~pl.col("cli_valid"))
        .then(pl.concat_str(pl.lit("CLI is not a valid number: "), pl.col("cli_reason")))
        .when(pl.col("pool").is_null())
        .then(pl.lit("no pool"))
        .when(~pl.col("attestation").is_in(ATTESTATIONS).fill_null(False))
        .then(pl.lit("attestation is not A, B or C"))
        .when(pl.col("reputation_checked_raw").is_not_null() & pl.col("reputation_checked_on").is_null())
        .then(pl.lit("reputation check date is not YYYY-MM-DD"))
        .when(pl.col("reputation_label").is_not_null() & pl.col("reputation_checked_on").is_null())
        .then(pl.lit("a reputation label without its check date"))
        .when(~pl.col("cli_e164").is_first_distinct())
        .then(pl.lit("the CLI is listed more than once"))
    )
