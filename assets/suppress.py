"""Suppress: the suppression list and the scrub of every campaign against it, with blocking checks."""

from collections.abc import Callable, Iterator

import dagster as dg
import polars as pl

import pipelines.suppression.relationships
import pipelines.suppression.suppression_list
from assets.checks import expectation_result
from assets.memo import memoised, upstream
from assets.metadata import frame_metadata, rate
from assets.resources import FRAME_OR_FILE, ScrublineData, reads_columns
from assets.run_clock import run_started
from assets.scrub_shards import SHARD_IO_MANAGER
from pipelines.calling.deferral import DEFERRED_REASONS, TIMING_COLUMNS, defer_uncallable, lead_numbers, placed_windows
from pipelines.calling.windows import located
from pipelines.config import ScrublineConfig
from pipelines.inputs.crm import crm_numbers
from pipelines.parquet_files import FrameFile, scanned
from pipelines.phones.e164 import result_column
from pipelines.phones.masking import masked_e164
from pipelines.registries.store import listed_in_snapshots
from pipelines.registries.unusable_entries import unusable_entries, unusable_report
from pipelines.suppression.invariants import clean_rows_flagged, leaked_numbers, reconciliation
from pipelines.suppression.relationships import EBR_INQUIRY, EBR_PURCHASE
from pipelines.suppression.scrub import OUTCOMES, canonical_leads, scrub_leads
from pipelines.suppression.sellers import campaign_sellers, scope_aliases, unknown_seller_scopes
from pipelines.suppression.shards import merged_in_audit_order, shard_plan, shard_rows
from pipelines.suppression.suppression_list import (
    CRM_DO_NOT_CALL,
    binding_suppressions,
    known_numbers,
    phones_of,
    registries_with_entries,
    with_exemptions,
)
from pipelines.validation.suites import validate_frame


@dg.asset(kinds={"duckdb", "polars"})
def established_relationships(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    normalised_crm_contacts: pl.DataFrame,
    normalised_registry_entries: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per number with an established business relationship on the run's date: contact, basis, dates."""
    config = scrubline.config
    relationships = pipelines.suppression.relationships.established_relationships(
        crm_numbers(normalised_crm_contacts, config.crm),
        normalised_registry_entries,
        source=config.crm,
        opt_out_registries=[registry.name for registry in config.registries if not registry.is_ebr_exemptible],
        today=run_started(context).date(),
    )
    bases = dict(relationships.get_column("exemption").value_counts().iter_rows())
    return dg.Output(
        relationships,
        metadata={
            **frame_metadata(relationships, preview_columns=["phone_e164", "exemption", "ebr_date", "ebr_until"]),
            **{f"count_{basis}": bases.get(basis, 0) for basis in (EBR_PURCHASE, EBR_INQUIRY)},
        },
    )


@dg.asset(kinds={"polars"})
def unusable_suppression_entries(
    scrubline: ScrublineData, normalised_registry_entries: pl.DataFrame, normalised_crm_contacts: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """One row per registry entry or CRM do-not-call phone that is no valid number; each still suppresses the
    numbers its digits could mean (`pipelines.registries.unusable_entries`)."""
    unusable = unusable_entries(
        normalised_registry_entries,
        normalised_crm_contacts,
        source=scrubline.config.crm,
        crm_source_name=CRM_DO_NOT_CALL,
    )
    counts = unusable.group_by("source_name").len().sort("source_name")
    return dg.Output(
        unusable,
        metadata={
            "dagster/row_count": unusable.height,
            **{f"count_unusable/{name}": count for name, count in counts.iter_rows()},
            "unusable_entries": dg.MetadataValue.json(unusable_report(unusable)),
        },
    )


# Memoised (`assets.memo`): which known numbers a stored snapshot holds does not change with the run's day.
@dg.asset(kinds={"duckdb", "polars"}, dagster_type=FRAME_OR_FILE)
def stored_registry_listings(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    normalised_crm_contacts: pl.LazyFrame,
    normalised_dialler_leads: pl.LazyFrame,
    registry_snapshots: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per (CRM or dialler number, stored registry holding it), joined on integers against the snapshot."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        known = known_numbers(
            phones_of(normalised_crm_contacts, config.crm.phone_columns).collect(),
            phones_of(normalised_dialler_leads, [config.dialler.phone_column]).collect(),
        )
        listings = listed_in_snapshots(known, registry_snapshots, data_dir=scrubline.root)
        counts = listings.group_by("registry").len().sort("registry")
        return dg.Output(
            listings,
            metadata={
                "dagster/row_count": listings.height,
                **{f"count_numbers/{name}": count for name, count in counts.iter_rows()},
            },
        )

    depends_on = upstream(
        context, scrubline, "normalised_crm_contacts", "normalised_dialler_leads", "registry_snapshots"
    )
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


# Memoised (`assets.memo`): what the registries, blocks, CRM flags and unusable entries list for the known numbers does
# not change with the run's day; only which of them an established relationship lifts does (`suppression_list`).
@dg.asset(kinds={"duckdb", "polars"}, dagster_type=FRAME_OR_FILE)
def suppression_entries(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    normalised_registry_entries: pl.DataFrame,
    normalised_crm_contacts: pl.DataFrame,
    normalised_dialler_leads: pl.DataFrame,
    stored_registry_listings: pl.DataFrame,
    unusable_suppression_entries: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per (number, source, file, opt-out time, seller scope): registry numbers, blocks, CRM do-not-call flags,
    in audit order; stored registries contribute the CRM's and the dialler lists' numbers they hold."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        numbers = crm_numbers(normalised_crm_contacts, config.crm)
        entries = pipelines.suppression.suppression_list.suppression_entries(
            normalised_registry_entries,
            numbers,
            stored_listings=stored_registry_listings,
            registries=config.registries,
            known_numbers=known_numbers(numbers, leads_of(config, normalised_dialler_leads)),
            scopes_as_sellers=scope_aliases(config),
            unusable=unusable_suppression_entries,
        )
        return dg.Output(
            entries, metadata=frame_metadata(entries, preview_columns=["phone_e164", "source_name", "source_file"])
        )

    depends_on = upstream(
        context,
        scrubline,
        "normalised_registry_entries",
        "normalised_crm_contacts",
        "normalised_dialler_leads",
        "stored_registry_listings",
        "unusable_suppression_entries",
    )
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


@dg.asset(kinds={"polars"})
def suppression_list(
    scrubline: ScrublineData, suppression_entries: pl.DataFrame, established_relationships: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """The suppression entries as of the run's day: a national or state registry's row for a number with an
    established business relationship that day names the exemption, the contact and the date behind it."""
    entries = with_exemptions(suppression_entries, established_relationships, registries=scrubline.config.registries)
    counts = entries.group_by("source_name").agg(pl.col("phone_e164").n_unique()).sort("source_name")
    return dg.Output(
        entries,
        metadata={
            **frame_metadata(entries, preview_columns=["phone_e164", "source_name", "source_file"]),
            "count_numbers": entries.get_column("phone_e164").n_unique(),
            "count_exempt_entries": entries.height - binding_suppressions(entries).height,
            **{f"count_numbers/{name}": count for name, count in counts.iter_rows()},
        },
    )


# A scope is matched exactly against sellers and campaigns: a misspelt one would silently suppress nothing.
@dg.asset_check(asset=suppression_list, blocking=True)
def opt_out_sellers_exist(scrubline: ScrublineData, suppression_list: pl.DataFrame) -> dg.AssetCheckResult:
    """With several sellers, every opt-out scope names a configured seller or one of its campaigns."""
    unknown = unknown_seller_scopes(suppression_list, aliases=scope_aliases(scrubline.config))
    return dg.AssetCheckResult(
        passed=unknown.height == 0,
        metadata={"unknown_scopes": dg.MetadataValue.json(unknown.to_dicts()), "threshold": 0},
        description="; ".join(
            f"{source_file} scopes an opt-out to '{scope}', which is neither a seller nor a campaign in sellers; "
            "correct the scope, or sellers in scrubline.yaml"
            for scope, source_file in unknown.iter_rows()
        )
        or None,
    )


@dg.asset_check(asset=suppression_list, blocking=True)
def suppression_list_expectations(scrubline: ScrublineData, suppression_list: pl.DataFrame) -> dg.AssetCheckResult:
    """E.164 shape, a known source and lineage on every entry; no repeated (number, source, file)."""
    source_names = [registry.name for registry in scrubline.config.registries] + [CRM_DO_NOT_CALL]
    return expectation_result(
        validate_frame(suppression_list, "suppression_list", parameters={"source_names": source_names})
    )


@dg.asset_check(
    asset=suppression_list,
    blocking=True,
    additional_ins={
        "normalised_registry_entries": dg.AssetIn("normalised_registry_entries"),
        "registry_snapshots": dg.AssetIn("registry_snapshots"),
    },
)
def every_registry_contributes(
    scrubline: ScrublineData,
    suppression_list: pl.DataFrame,
    normalised_registry_entries: pl.DataFrame,
    registry_snapshots: pl.DataFrame,
) -> dg.AssetCheckResult:
    """A registry with no valid number in its jurisdiction and no block is a broken source, not an empty one."""
    configured = {registry.name for registry in scrubline.config.registries}
    contributing = registries_with_entries(suppression_list, normalised_registry_entries, registry_snapshots)
    silent = sorted(configured - contributing)
    return dg.AssetCheckResult(
        passed=not silent,
        metadata={
            "registries_without_numbers": silent,
            "threshold": "every configured registry has a valid number in its jurisdiction, or a block",
        },
        description=(
            f"registry(ies) {', '.join(silent)} yield no valid number in their jurisdiction and no block: "
            "a broken or wrong download, so nothing is published; fix the files or the registry's region"
        )
        if silent
        else None,
    )


# Memoised (`assets.memo`): where a number is called depends on the number and the rule table, not on the run's day.
@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def lead_places(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, normalised_dialler_leads: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """One row per valid dialler number: its time zones, state or province, jurisdictions and call limit."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        phone = config.dialler.phone_column
        leads = normalised_dialler_leads.select(
            **{f"phone_{part}": result_column(phone, part) for part in ("e164", "type", "region", "valid")}
        )
        places = located(lead_numbers(leads), "phone", rules=config.calling_time.rules)
        return dg.Output(places, metadata=frame_metadata(places, preview_columns=["phone_e164", "phone_subdivision"]))

    depends_on = upstream(context, scrubline, "normalised_dialler_leads")
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


@dg.op(out=dg.DynamicOut(pl.DataFrame, io_manager_key=SHARD_IO_MANAGER))
def scrub_shard_plan(scrubline: ScrublineData, normalised_dialler_leads: pl.LazyFrame) -> Iterator[dg.DynamicOutput]:
    """One step per range of the leads' numbers (`shards.shard_plan`), as many as `scrub.shards` allows."""
    config = scrubline.config
    numbers = normalised_dialler_leads.select(lead_number_column(config)).collect().to_series()
    for shard in shard_plan(numbers, shards=config.scrub.shards).iter_slices(1):
        yield dg.DynamicOutput(shard, mapping_key=f"shard_{shard.item(0, 'shard')}")


# The windows of the clean rows decide which are deferred, and are kept for `calling_windows`, which would otherwise
# compute them again. Of the call log, they read each number's recent attempts (`deferral.number_windows`).
@dg.op(
    out={
        "scrubbed": dg.Out(pl.DataFrame, io_manager_key=SHARD_IO_MANAGER),
        "windows": dg.Out(pl.DataFrame, io_manager_key=SHARD_IO_MANAGER),
    },
    tags=reads_columns(normalised_call_records=["dialled_e164", "started_at", "is_attempt"]),
)
def scrubbed_shard(
    context: dg.OpExecutionContext,
    scrubline: ScrublineData,
    normalised_dialler_leads: pl.LazyFrame,
    suppression_list: pl.LazyFrame,
    normalised_call_records: pl.LazyFrame,
    lead_places: pl.LazyFrame,
    shard: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The leads of one range of numbers scrubbed against the suppression entries of that range only, its clean
    rows given the list day's window from that range's calls, or deferred; and those windows."""
    config = scrubline.config
    leads = shard_rows(normalised_dialler_leads, shard, number_column=lead_number_column(config))
    entries = shard_rows(suppression_list, shard, number_column="phone_e164")
    calls = shard_rows(normalised_call_records, shard, number_column="dialled_e164")
    scrubbed = scrub_leads(leads_of(config, leads.collect()), entries.collect())
    clean_numbers = lead_numbers(scrubbed.lazy().filter(pl.col("outcome") == "clean")).select("phone_e164")
    placed = clean_numbers.join(
        shard_rows(lead_places, shard, number_column="phone_e164").collect(), on="phone_e164", maintain_order="left"
    )
    windows = placed_windows(placed, calls.collect(), rules=config.calling_time.rules, as_of=run_started(context))
    return defer_uncallable(scrubbed, windows), windows


@dg.op(out={"scrubbed_leads": dg.Out(FRAME_OR_FILE), "clean_number_windows": dg.Out(FRAME_OR_FILE)})
def scrubbed_in_audit_order(shards: list[FrameFile], windows: list[FrameFile]) -> Iterator[dg.Output]:
    """The scrubbed shards as one frame, in audit order; their windows as one frame (a number is in one shard).

    A scrub in one shard is in audit order already: its files are linked as they are, neither read nor written
    again (10M scrubbed rows with their lineage take seconds each way)."""
    clean_windows = _merged(windows, merge=lambda frames: pl.concat(frames, how="vertical", rechunk=False))
    yield dg.Output(
        clean_windows,
        output_name="clean_number_windows",
        metadata=frame_metadata(
            scanned(clean_windows), preview_columns=["phone_e164", "window_start_utc", "window_end_utc"]
        ),
    )
    del clean_windows
    scrubbed = _merged(shards, merge=merged_in_audit_order)
    scan = scanned(scrubbed)
    outcomes = dict(scan.group_by("outcome").len().collect().iter_rows())
    count_rows = sum(outcomes.values())
    yield dg.Output(
        scrubbed,
        output_name="scrubbed_leads",
        metadata={
            **frame_metadata(scan, preview_columns=["campaign", "lead_id", "phone_e164", "outcome", "reason"]),
            **{f"count_{outcome}": outcomes.get(outcome, 0) for outcome in OUTCOMES},
            "count_shards": len(shards),
            # A row lists its lifted entries (`exemptions`) exactly when it names why (`exemption_reason`).
            "count_exempted": scan.select(pl.col("exemption_reason").is_not_null().sum()).collect().item(),
            "suppression_rate": rate(outcomes.get("suppressed", 0), count_rows),
            "invalid_rate": rate(outcomes.get("invalid", 0), count_rows),
        },
    )


def _merged(files: list[FrameFile], *, merge: Callable[[list[pl.DataFrame]], pl.DataFrame]) -> pl.DataFrame | FrameFile:
    """One shard's file as it is, or the shards' frames read and merged."""
    if len(files) == 1:
        return files[0]
    return merge([file.scan().collect() for file in files])


@dg.graph_multi_asset(
    outs={
        "scrubbed_leads": dg.AssetOut(
            kinds={"duckdb", "polars"},
            description=(
                "One row per dialler record with its outcome (clean, suppressed, invalid, quarantined, deferred) and "
                "reason; clean and deferred rows with the list day's calling window. Scrubbed in `scrub.shards` "
                "steps by number range."
            ),
        ),
        "clean_number_windows": dg.AssetOut(
            kinds={"polars"},
            description=(
                "One row per valid number of a row the scrub left clean: where it is called, the list day's window, "
                "its call limit and calls in the last 24 hours, and why it is deferred."
            ),
        ),
    },
)
def scrubbed_leads(
    normalised_dialler_leads: pl.LazyFrame,
    suppression_list: pl.LazyFrame,
    normalised_call_records: pl.LazyFrame,
    lead_places: pl.LazyFrame,
) -> dict[str, object]:
    """The scrub of every dialler record in shards by number range, with its clean rows' windows for the list's day."""
    scrubbed, windows = scrub_shard_plan(normalised_dialler_leads).map(
        lambda shard: scrubbed_shard(
            normalised_dialler_leads, suppression_list, normalised_call_records, lead_places, shard
        )
    )
    merged_leads, merged_windows = scrubbed_in_audit_order(scrubbed.collect(), windows.collect())
    return {"scrubbed_leads": merged_leads, "clean_number_windows": merged_windows}


# What `invariants.clean_rows_flagged` reads: the scrubbed leads' keys, seller, number and outcome; the suppression
# list's number, seller scope and exemption.
_READS_FLAGGED = reads_columns(
    scrubbed_leads=["campaign", "seller", "lead_id", "phone_e164", "outcome"],
    suppression_list=["phone_e164", "seller_scope", "exemption"],
)


@dg.asset_check(asset="scrubbed_leads", blocking=True)
def scrubbed_leads_expectations(scrubbed_leads: pl.DataFrame) -> dg.AssetCheckResult:
    """One row per source record, a known outcome, a reason for every outcome but clean, a known deferral reason."""
    parameters = {"deferred_reasons": list(DEFERRED_REASONS)}
    return expectation_result(validate_frame(scrubbed_leads, "scrubbed_leads", parameters=parameters))


@dg.asset_check(
    asset="scrubbed_leads",
    blocking=True,
    additional_ins={"suppression_list": dg.AssetIn("suppression_list")},
    op_tags=_READS_FLAGGED,
)
def clean_call_lists_expectations(scrubbed_leads: pl.DataFrame, suppression_list: pl.DataFrame) -> dg.AssetCheckResult:
    """Clean rows: E.164 shape, ids present, one row per (campaign, number), none on the suppression list."""
    return expectation_result(validate_frame(clean_rows_flagged(scrubbed_leads, suppression_list), "clean_call_lists"))


@dg.asset_check(
    asset="scrubbed_leads",
    blocking=True,
    op_tags=reads_columns(scrubbed_leads=["campaign", "lead_id", "outcome", *TIMING_COLUMNS]),
)
def clean_rows_have_windows(scrubbed_leads: pl.DataFrame) -> dg.AssetCheckResult:
    """Clean rows: each with the list day's calling window, ending after it starts and after `not_before_utc`."""
    clean = scrubbed_leads.filter(pl.col("outcome") == "clean").select("campaign", "lead_id", *TIMING_COLUMNS)
    return expectation_result(validate_frame(clean, "clean_call_windows"))


@dg.asset_check(
    asset="scrubbed_leads",
    blocking=True,
    additional_ins={"dialler_leads": dg.AssetIn("dialler_leads")},
    op_tags=reads_columns(scrubbed_leads=["campaign", "outcome"], dialler_leads=["campaign"]),
)
def rows_reconcile(scrubbed_leads: pl.DataFrame, dialler_leads: pl.DataFrame) -> dg.AssetCheckResult:
    """Per campaign, records read = clean + suppressed + invalid + quarantined + deferred."""
    counts = reconciliation(dialler_leads, scrubbed_leads)
    result = expectation_result(validate_frame(counts, "scrub_reconciliation"))
    return dg.AssetCheckResult(
        passed=result.passed,
        metadata={**result.metadata, "reconciliation": dg.MetadataValue.json(counts.to_dicts())},
        description=result.description,
    )


@dg.asset_check(
    asset="scrubbed_leads",
    blocking=True,
    additional_ins={"suppression_list": dg.AssetIn("suppression_list")},
    op_tags=_READS_FLAGGED,
)
def no_clean_number_is_suppressed(scrubbed_leads: pl.DataFrame, suppression_list: pl.DataFrame) -> dg.AssetCheckResult:
    """The invariant Scrubline exists for, checked in DuckDB: no clean number is on the suppression list."""
    leaked = leaked_numbers(scrubbed_leads, suppression_list)
    return dg.AssetCheckResult(
        passed=leaked.height == 0,
        metadata={
            "count_leaked": leaked.height,
            "threshold": 0,
            "leaked_sample": dg.MetadataValue.json(
                leaked.head(5).with_columns(masked_e164(pl.col("phone_e164")).alias("phone_e164")).to_dicts()
            ),
        },
        description=f"{leaked.height} clean number(s) are on the suppression list; nothing is published"
        if leaked.height
        else None,
    )


def lead_number_column(config: ScrublineConfig) -> str:
    """The normalised dialler leads' E.164 column: what the scrub's shards split by."""
    return f"{config.dialler.phone_column}_e164"


def leads_of(config: ScrublineConfig, normalised_dialler_leads: pl.DataFrame) -> pl.DataFrame:
    """The dialler records under Scrubline's column names, each with its campaign's seller."""
    return canonical_leads(
        normalised_dialler_leads,
        id_column=config.dialler.id_column,
        phone_column=config.dialler.phone_column,
        sellers=campaign_sellers(config, normalised_dialler_leads.get_column("campaign")),
    )
