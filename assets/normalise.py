"""Normalise: every phone value to E.164 with phonenumbers' exact answer."""

import dagster as dg
import polars as pl

from assets.memo import memoised, upstream
from assets.metadata import frame_metadata, rate
from assets.resources import FRAME_OR_FILE, ScrublineData
from pipelines.inputs.calls import normalise_call_records, normalise_number_estate
from pipelines.inputs.crm import normalise_crm
from pipelines.inputs.dialler import normalise_dialler
from pipelines.publishing.publish import RUNS, write_quarantine
from pipelines.registries.entries import normalise_registries
from pipelines.registries.unusable_entries import (
    cut_download_problems,
    cut_downloads,
    stored_unusable_shares,
    unusable_share_problems,
    unusable_shares,
)
from pipelines.registries.versions import (
    LEDGER,
    accepted_versions,
    missing_problems,
    missing_registries,
    registry_ledger,
    registry_shrinkage,
    registry_versions,
    shrink_problems,
    unused_acknowledgements,
)


# Memoised (`assets.memo`): their upstream is a scan, read only when the step computes.
@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def normalised_crm_contacts(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, crm_contacts: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """One row per CRM record; every configured phone column normalised to `<col>_e164` and friends."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        contacts = normalise_crm(crm_contacts.collect(), config.crm, default_region=config.default_region)
        return dg.Output(contacts, metadata=_validity_metadata(contacts, config.crm.phone_columns[0]))

    return memoised(context, scrubline, depends_on=upstream(context, scrubline, "crm_contacts"), compute=compute)


@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def normalised_dialler_leads(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, dialler_leads: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """One row per dialler record; the phone column normalised to `<col>_e164` and friends."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        leads = normalise_dialler(dialler_leads.collect(), config.dialler, default_region=config.default_region)
        return dg.Output(leads, metadata=_validity_metadata(leads, config.dialler.phone_column))

    return memoised(context, scrubline, depends_on=upstream(context, scrubline, "dialler_leads"), compute=compute)


@dg.asset(kinds={"polars"})
def normalised_registry_entries(scrubline: ScrublineData, registry_entries: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """One row per registry entry: numbers normalised in their registry's region, wildcard blocks as E.164 prefixes."""
    entries = normalise_registries(registry_entries, scrubline.config.registries)
    return dg.Output(entries, metadata=_validity_metadata(entries, "phone"))


@dg.asset_check(
    asset=normalised_registry_entries,
    blocking=True,
    additional_ins={"registry_snapshots": dg.AssetIn("registry_snapshots")},
)
def registries_have_not_shrunk(
    scrubline: ScrublineData, normalised_registry_entries: pl.DataFrame, registry_snapshots: pl.DataFrame
) -> dg.AssetCheckResult:
    """A registry with far fewer numbers than the last published run's copy is a broken download: the run stops."""
    config = scrubline.config
    versions = registry_versions(normalised_registry_entries, registry_snapshots)
    accepted = accepted_versions(
        registry_ledger(scrubline.published / RUNS, kept=scrubline.home / LEDGER), config.retired_registries
    )
    shrinkage = registry_shrinkage(versions, accepted, config.registries)
    problems = shrink_problems(shrinkage)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "shrinkage": dg.MetadataValue.json(shrinkage.drop("version").to_dicts()),
            "counts": {name: count for name, count in versions.select("registry", "count_numbers").iter_rows()},
            "unused_accept_shrink": unused_acknowledgements(versions, config.registries),
            "threshold": "each registry's shrink is at most its max_shrink, or its version is accept_shrink",
        },
        description="; ".join(problems) or None,
    )


# A registry dropped from the config (deleted, or a repeated `registries:` key) would silently stop suppressing.
@dg.asset_check(asset=normalised_registry_entries, blocking=True)
def no_registry_is_missing(scrubline: ScrublineData) -> dg.AssetCheckResult:
    """Every registry a published run used is still configured, or retired deliberately in `retired_registries`."""
    config = scrubline.config
    ledger = registry_ledger(scrubline.published / RUNS, kept=scrubline.home / LEDGER)
    missing = missing_registries(ledger, config.registries, config.retired_registries)
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={
            "missing_registries": missing,
            "retired_registries": [entry.name for entry in config.retired_registries],
            "threshold": "every registry in the ledger of published runs is configured or retired",
        },
        description="; ".join(missing_problems(missing, ledger)) or None,
    )


# A registry most of whose entries are no numbers is a broken download, whatever its count (fail closed).
@dg.asset_check(
    asset=normalised_registry_entries,
    blocking=True,
    additional_ins={"registry_snapshots": dg.AssetIn("registry_snapshots")},
)
def registries_are_readable_numbers(
    scrubline: ScrublineData, normalised_registry_entries: pl.DataFrame, registry_snapshots: pl.DataFrame
) -> dg.AssetCheckResult:
    """No registry holds more than its `max_invalid_share` of entries that are not valid numbers (a stored one:
    in any of its downloads), nor a file cut short (its last line unterminated and no number)."""
    registries = scrubline.config.registries
    shares = pl.concat(
        [
            unusable_shares(normalised_registry_entries, registries),
            stored_unusable_shares(registry_snapshots, registries),
        ]
    )
    cut = cut_downloads(normalised_registry_entries)
    problems = cut_download_problems(cut) + unusable_share_problems(shares)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "shares": dg.MetadataValue.json(shares.to_dicts()),
            "cut_downloads": dg.MetadataValue.json(cut.to_dicts()),
            "threshold": "each registry's unusable_share is at most its max_invalid_share (default 0.01)",
        },
        description="; ".join(problems) or None,
    )


@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def normalised_call_records(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, call_records: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """One row per call record: CLI and dialled number in E.164, typed fields, and why a record is unusable."""
    return memoised(
        context,
        scrubline,
        depends_on=upstream(context, scrubline, "call_records"),
        compute=lambda: _normalised_calls(call_records.collect(), default_region=scrubline.config.default_region),
    )


def _normalised_calls(call_records: pl.DataFrame, *, default_region: str) -> dg.Output[pl.DataFrame]:
    calls = normalise_call_records(call_records, default_region=default_region)
    reasons = calls.get_column("call_reason").drop_nulls().value_counts(sort=True)
    count_unusable = calls.height - calls.get_column("call_reason").null_count()
    return dg.Output(
        calls,
        metadata={
            **frame_metadata(calls, preview_columns=["call_id", "cli_e164", "started_at", "call_reason"]),
            "count_attempts": calls.get_column("is_attempt").sum(),
            "count_unusable": count_unusable,
            "unusable_rate": rate(count_unusable, calls.height),
            "unusable_reasons": {reason: count for reason, count in reasons.iter_rows()},
        },
    )


@dg.asset(kinds={"polars"})
def normalised_number_estate(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, number_estate: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """One row per usable owned CLI in E.164 with pool, carrier, attestation and reputation; bad rows set aside."""
    estate, set_aside = normalise_number_estate(number_estate, default_region=scrubline.config.default_region)
    path = write_quarantine(set_aside, quarantine_dir=scrubline.quarantine / context.run.run_id, name="estate")
    if path is not None:
        first = set_aside.row(0, named=True)
        context.log.warning(
            f"{set_aside.height} number-estate record(s) set aside, first {first['source_file']} row "
            f"{first['source_row']} ({first['quarantine_reason']}); CLI health leaves them out: fix the estate "
            f"file (all of them are in {path})"
        )
    pools = estate.group_by("pool").len().sort("pool")
    return dg.Output(
        estate,
        metadata={
            **frame_metadata(estate, preview_columns=["cli_e164", "pool", "attestation", "reputation_label"]),
            **{f"count_clis/{pool}": count for pool, count in pools.iter_rows()},
            "count_set_aside": set_aside.height,
            "quarantine_path": dg.MetadataValue.path(str(path)) if path else "none",
        },
    )


def _validity_metadata(frame: pl.DataFrame, column: str) -> dict[str, object]:
    count_invalid = frame.filter(~pl.col(f"{column}_valid")).height
    reasons = frame.get_column(f"{column}_reason").drop_nulls().value_counts(sort=True)
    return {
        **frame_metadata(
            frame, preview_columns=[f"{column}_e164", f"{column}_type", f"{column}_region", f"{column}_reason"]
        ),
        "count_invalid": count_invalid,
        "invalid_rate": rate(count_invalid, frame.height),
        "invalid_reasons": {reason: count for reason, count in reasons.iter_rows()},
    }
