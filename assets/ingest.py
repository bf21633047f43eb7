"""Ingest: every input record as strings, with file, row and checksum lineage."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

import pipelines.registries.store
from assets.constants import REGISTRY_INGEST_POOL
from assets.memo import memoised
from assets.metadata import PREVIEW_ROWS, frame_metadata, rate
from assets.resources import FRAME_OR_FILE, ScrublineData, reads_columns
from assets.run_clock import run_started
from pipelines.config import resolve_files
from pipelines.inputs.calls import no_call_records, no_number_estate, read_call_records, read_number_estate
from pipelines.inputs.crm import read_crm
from pipelines.inputs.dialler import read_dialler
from pipelines.inputs.records import LINEAGE_COLUMNS, QUARANTINE_COLUMNS, quarantined
from pipelines.operations.frame_memo import file_checksums
from pipelines.parquet_files import FrameFile
from pipelines.publishing.publish import write_quarantine
from pipelines.registries.entries import read_registries
from pipelines.registries.freshness import registry_ages, staleness_problems
from pipelines.registries.store import newest_change_lists
from pipelines.suppression.suppression_list import future_opt_outs

# A data directory without a call log has no call records or estate: those assets hold no rows.
NOT_CONFIGURED = {"calls": "no calls.records in scrubline.yaml"}


@dg.asset(kinds={"polars", "duckdb"}, dagster_type=FRAME_OR_FILE)
def crm_contacts(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per CRM export record, as read; unreadable records kept with a quarantine reason."""
    source = scrubline.config.crm
    return read_once(
        context, scrubline, source.path, read=lambda: read_crm(source, data_dir=scrubline.root), name="crm"
    )


# With a do-not-call column, an unreadable CRM record may be an opt-out nobody can see: fail closed. Of the records,
# the check reads what `quarantined` keeps.
@dg.asset_check(
    asset=crm_contacts,
    blocking=True,
    op_tags=reads_columns(crm_contacts=[*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS]),
)
def crm_records_are_readable(scrubline: ScrublineData, crm_contacts: pl.DataFrame) -> dg.AssetCheckResult:
    """When the CRM carries do-not-call flags, every CRM record must be readable."""
    unreadable = quarantined(crm_contacts)
    has_flags = scrubline.config.crm.do_not_call_column is not None
    first = unreadable.row(0, named=True) if unreadable.height else None
    return dg.AssetCheckResult(
        passed=not (has_flags and first),
        metadata={"count_unreadable": unreadable.height, "threshold": 0 if has_flags else "no do_not_call_column"},
        description=(
            f"{unreadable.height} unreadable CRM record(s), first {first['source_file']} row {first['source_row']} "
            f"({first['quarantine_reason']}); its do-not-call flag cannot be read, so nothing is published "
            "until the export is fixed"
        )
        if has_flags and first
        else None,
    )


@dg.asset(kinds={"polars", "duckdb"}, dagster_type=FRAME_OR_FILE)
def dialler_leads(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per dialler record, campaign from the file stem; unreadable records kept with a reason."""
    source = scrubline.config.dialler
    return read_once(
        context, scrubline, source.path, read=lambda: read_dialler(source, data_dir=scrubline.root), name="dialler"
    )


@dg.asset(kinds={"polars", "duckdb"})
def registry_entries(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per entry of every registry read row by row; any unreadable entry fails the run."""
    entries = read_registries(scrubline.config.registries, data_dir=scrubline.root)
    counts = entries.group_by("registry").len().sort("registry")
    future = future_opt_outs(entries, now=run_started(context))
    if future.height:
        first = future.row(0, named=True)
        context.log.warning(
            f"{future.height} opt-out(s) dated after the run started, first {first['source_file']} row "
            f"{first['source_row']} ({first['requested_at']}); they are suppressed all the same: correct their dates"
        )
    return dg.Output(
        entries,
        metadata={
            **frame_metadata(entries, preview_columns=["registry", "source_file", "source_row"]),
            **{f"count_entries/{name}": count for name, count in counts.iter_rows()},
            "count_future_opt_outs": future.height,
            "future_opt_outs": dg.MetadataValue.json(
                future.head(PREVIEW_ROWS).with_columns(pl.col("requested_at").cast(pl.String)).to_dicts()
            ),
            "files": {
                name: sha
                for name, sha in entries.select("source_file", "source_sha256").unique().sort("source_file").iter_rows()
            },
        },
    )


# After registry_entries, so a stale registry (its blocking freshness check) stops the run before a long ingest.
# In a pool: where runs execute side by side (a cluster), one stores a new download while the others wait for it.
@dg.asset(kinds={"polars", "parquet"}, deps=["registry_entries"], pool=REGISTRY_INGEST_POOL)
def registry_snapshots(scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per stored (US national) registry: its sorted E.164-integer snapshot, made only for new downloads."""
    snapshots = pipelines.registries.store.registry_snapshots(scrubline.config.registries, data_dir=scrubline.root)
    return dg.Output(
        snapshots,
        metadata={
            **frame_metadata(snapshots, preview_columns=["registry", "version", "count_numbers", "snapshot"]),
            **{
                f"count_numbers/{name}": count
                for name, count in snapshots.select("registry", "count_numbers").iter_rows()
            },
            "snapshots": dg.MetadataValue.json(
                snapshots.select("registry", "version", "count_numbers", "snapshot", "files").to_dicts()
            ),
        },
    )


@dg.asset_check(asset=registry_entries, blocking=True)
def registries_are_fresh(context: dg.AssetCheckExecutionContext, scrubline: ScrublineData) -> dg.AssetCheckResult:
    """A registry copy older than its maximum age on the run's date stops the run: stale data is never used."""
    today = run_started(context).date()
    ages = ages_on(scrubline, today=today)
    problems = staleness_problems(ages, today=today)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "run_date": today.isoformat(),
            "ages": dg.MetadataValue.json(
                ages.select(
                    "registry",
                    "age_days",
                    "max_age_days",
                    "age_evidence",
                    pl.col("age_from", "downloaded_on").cast(pl.String),
                ).to_dicts()
            ),  # fmt: skip
            "threshold": "each registry's age_days is at most its max_age_days, from the date its newest file proves",
        },
        description="; ".join(problems) or None,
    )


def ages_on(scrubline: ScrublineData, *, today: date) -> pl.DataFrame:
    """Every dated registry's age on `today`, counted from the evidence (`pipelines.registries.freshness`)."""
    configured = scrubline.config.registries
    newest = newest_change_lists(configured, data_dir=scrubline.root)
    return registry_ages(configured, today=today, newest_change_lists=newest)


@dg.asset(kinds={"polars", "duckdb"}, dagster_type=FRAME_OR_FILE)
def call_records(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per call record as read, under Scrubline's column names; unreadable records kept with a reason."""
    source = scrubline.config.calls.records
    if source is None:
        return dg.Output(no_call_records(), metadata={"dagster/row_count": 0, **NOT_CONFIGURED})
    return read_once(
        context, scrubline, source.path, read=lambda: read_call_records(source, data_dir=scrubline.root), name="calls"
    )


@dg.asset(kinds={"polars", "duckdb"})
def number_estate(scrubline: ScrublineData) -> dg.Output[pl.DataFrame]:
    """One row per number-estate record: a CLI the programme owns; unreadable ones kept with a reason."""
    source = scrubline.config.calls.estate
    if source is None:
        return dg.Output(no_number_estate(), metadata={"dagster/row_count": 0, **NOT_CONFIGURED})
    estate = read_number_estate(source, data_dir=scrubline.root)
    return dg.Output(estate, metadata=frame_metadata(estate, preview_columns=["source_file", "source_row", "pool"]))


def read_once(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    pattern: str,
    *,
    read: Callable[[], pl.DataFrame],
    name: str,
) -> dg.Output:
    """The records of the files `pattern` matches, read once per set of file contents (`assets.memo`); a frame
    reused from an earlier run still has its unreadable records quarantined for this one."""
    checksums = file_checksums(resolve_files(scrubline.root, pattern, key=f"{name} path"), data_dir=scrubline.root)
    output = memoised(
        context,
        scrubline,
        depends_on={"files": checksums},
        compute=lambda: with_quarantine(context, scrubline, read(), name=name),
        is_rememberable=lambda records: read_from(records) == set(checksums),
    )
    if isinstance(output.value, FrameFile):
        unreadable = pl.scan_parquet(output.value.path).filter(pl.col("quarantine_reason").is_not_null())
        quarantine(context, scrubline, quarantined(unreadable.collect()), name=name)
    return output


def read_from(records: pl.DataFrame) -> set[tuple[str, str]]:
    """The files the records were read from, as (lineage path, SHA-256)."""
    return set(records.select("source_file", "source_sha256").unique().iter_rows())


def quarantine(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, rejected: pl.DataFrame, *, name: str
) -> Path | None:
    """The unreadable records written to the run's quarantine folder, and a warning naming it."""
    path = write_quarantine(rejected, quarantine_dir=scrubline.quarantine / context.run.run_id, name=name)
    if path is not None:
        context.log.warning(f"{rejected.height} unreadable {name} record(s) quarantined to {path}")
    return path


def with_quarantine(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, records: pl.DataFrame, *, name: str
) -> dg.Output[pl.DataFrame]:
    """The records as the asset's output, their unreadable ones written to the quarantine folder and reported."""
    rejected = quarantined(records)
    path = quarantine(context, scrubline, rejected, name=name)
    return dg.Output(
        records,
        metadata={
            **frame_metadata(records, preview_columns=["source_file", "source_row", "quarantine_reason"]),
            "count_quarantined": rejected.height,
            "quarantine_rate": rate(rejected.height, records.height),
            "quarantine_path": dg.MetadataValue.path(str(path)) if path else "none",
        },
    )
