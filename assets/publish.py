"""Publish: the run's lists, audits and analytics and the warehouse over them, atomically."""

import shutil
from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.ingest import ages_on
from assets.metadata import rate, table_metadata
from assets.resources import ScrublineData, reads_columns
from assets.run_clock import clock_source, run_created, run_started
from pipelines.parquet_files import FrameFile
from pipelines.publishing.expiry import (
    expired_marker,
    list_status,
    withdraw_expired_dated_links,
    withdraw_if_expired,
)
from pipelines.publishing.night import Night, NightFrames, PublishedNight, publish_night
from pipelines.publishing.publish import LATEST, PublishedRun
from pipelines.publishing.staging import Sent
from pipelines.publishing.warehouse import build_warehouse, install_warehouse, warehouse_contents
from pipelines.suppression.scrub import OUTCOMES

# The frames the run folder is made of: the function's parameters of the same names.
_PUBLISHED_FRAMES = [
    "scrubbed_leads", "number_analytics", "normalised_crm_contacts", "suppression_list", "established_relationships",
    "unusable_suppression_entries", "normalised_registry_entries", "registry_snapshots", "dialler_leads",
    "calling_windows", "cli_days", "cli_health", "pool_capacity", "dialled_numbers", "call_limit_breaches",
]  # fmt: skip
_ANALYST_WORK = "work in your own database that ATTACHes the warehouse read-only: see docs/operations.md"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "published_run",
            kinds={"parquet"},
            # After list_expiry too, so no executor runs the two side by side: both move `latest`.
            deps=[*_PUBLISHED_FRAMES, "list_expiry"],
            description=(
                "The run's folder under `published/`: clean lists and their certificates, suppressed, invalid, "
                "outcomes; `latest.json` and the run date point at it once everything, warehouse included, is built."
            ),
        ),
        dg.AssetSpec(
            "warehouse",
            kinds={"duckdb"},
            deps=["published_run"],
            description=(
                "`warehouse.duckdb`: views over the latest published run and `number_history` over every run, "
                "swapped in whole with `latest`."
            ),
        ),
    ],
    # Of the dialler's records, publishing counts rows per campaign and no more.
    op_tags=reads_columns(dialler_leads=["campaign"]),
)
def publish(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    # Scans, read file by file as the run folder is written, and files published as they are (`NightFrames`).
    scrubbed_leads: pl.LazyFrame,
    number_analytics: FrameFile,
    normalised_crm_contacts: FrameFile,
    suppression_list: FrameFile,
    established_relationships: pl.DataFrame,
    unusable_suppression_entries: pl.DataFrame,
    normalised_registry_entries: pl.DataFrame,
    registry_snapshots: pl.DataFrame,
    dialler_leads: pl.DataFrame,
    calling_windows: FrameFile,
    cli_days: FrameFile,
    cli_health: pl.DataFrame,
    pool_capacity: pl.DataFrame,
    dialled_numbers: FrameFile,
    call_limit_breaches: FrameFile,
) -> Iterator[dg.MaterializeResult]:
    """Publish the run whole (`pipelines.publishing.night`), then remove its intermediates; on object storage, send
    the publish to the bucket (`pipelines.publishing.staging`)."""
    started_at = run_started(context)
    frames = NightFrames(
        scrubbed_leads=scrubbed_leads, dialler_leads=dialler_leads, number_analytics=number_analytics,
        contacts=normalised_crm_contacts, suppression_list=suppression_list,
        established_relationships=established_relationships, unusable_entries=unusable_suppression_entries,
        registry_entries=normalised_registry_entries, registry_snapshots=registry_snapshots,
        calling_windows=calling_windows,
        call_analytics={"cli_days": cli_days, "cli_health": cli_health, "pool_capacity": pool_capacity,
                        "dialled_numbers": dialled_numbers, "call_limit_breaches": call_limit_breaches},
    )  # fmt: skip
    night = Night(
        context.run.run_id, started_at, run_created(context), clock_source(context), evaluated_checks(context)
    )
    ages = ages_on(scrubline, today=started_at.date())
    done = publish_night(
        frames, night=night, config=scrubline.config, ages=ages, data_dir=scrubline.root, home=scrubline.home,
        published_dir=scrubline.published, warehouse=scrubline.warehouse,
    )  # fmt: skip
    _warn(context, done.published)
    shutil.rmtree(scrubline.work(context.run.run_id))
    sent = scrubline.send_back()  # on object storage: the publish is done once the bucket has it
    yield dg.MaterializeResult(
        asset_key="published_run", metadata={**published_metadata(done, ages=ages), **_sent_metadata(sent)}
    )
    yield dg.MaterializeResult(
        asset_key="warehouse",
        metadata={
            "path": dg.MetadataValue.path(str(scrubline.warehouse)),
            "views": warehouse_contents(scrubline.warehouse),
            "analyst_work_kept": str(done.published.analyst_work_kept or "none"),
        },
    )


def published_metadata(done: PublishedNight, *, ages: pl.DataFrame) -> dict[str, object]:
    """Where the run went; per campaign each outcome's count and rate, and each dated registry's age in days, as
    numbers the UI plots across runs; the clean lists' rows and column schema."""
    per_campaign = {
        f"{measure}_{outcome}/{row['campaign']}": value
        for row in done.reconciliation.to_dicts()
        for outcome in OUTCOMES
        for measure, value in (
            ("count", row[f"count_{outcome}"]),
            ("rate", rate(row[f"count_{outcome}"], row["count_rows_in"])),
        )
    }
    lists = [
        pl.scan_parquet(done.published.run_dir / path)
        for path in done.files
        if path.startswith("clean/") and path.endswith(".parquet")
    ]
    return {
        "run_dir": dg.MetadataValue.path(str(done.published.run_dir)),
        "links_moved": done.published.links_moved,
        **done.pruned,
        "outputs": {path: listed.rows for path, listed in done.files.items()},
        **(table_metadata(pl.concat(lists)) if lists else {}),
        **per_campaign,
        **{
            f"age_days/{registry}": age
            for registry, age in ages.select("registry", "age_days").iter_rows()
            if age is not None
        },
    }


def _sent_metadata(sent: Sent | None) -> dict[str, object]:
    """What a run on object storage sent to the bucket; nothing on a local folder."""
    if sent is None:
        return {}
    return {"sent_objects": len(sent.written), "removed_objects": len(sent.removed), "moved_latest": sent.moved_latest}


def _warn(context: dg.AssetExecutionContext, published: PublishedRun) -> None:
    if LATEST not in published.links_moved:
        context.log.warning(f"latest stays on a run created after this one; this run is kept as {published.run_dir}")
    if published.analyst_work_kept is not None:
        context.log.warning(
            f"someone had written to the warehouse; their copy is kept as {published.analyst_work_kept} "
            f"({_ANALYST_WORK})"
        )


# A list may not outlive what it was scrubbed against: checked at the start of every run and every hour.
# It names the IO manager only so that its run, like every run, holds the data directory (see RunWorkspace).
@dg.asset(kinds={"duckdb"}, required_resource_keys={"scrubline", "io_manager"})
def list_expiry(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Whether the list `published/latest.json` names is within its `valid_through`; past it, the list is withdrawn
    (`latest.json` marked `withdrawn`, the local `latest` link removed, `published/EXPIRED` written) and the
    warehouse's `list_status` says so."""
    scrubline: ScrublineData = context.resources.scrubline
    withdrawal = withdraw_if_expired(scrubline.published, now=run_started(context))
    if withdrawal is not None:
        run_dir = scrubline.published / str(withdrawal["run_dir"])
        building = build_warehouse(scrubline.warehouse, run_dir=run_dir, status=list_status(run_dir, withdrawal))
        kept = install_warehouse(building, scrubline.warehouse, replaced_by=f"{withdrawal['run_id']}-withdrawn")
        context.log.warning(
            f"run {withdrawal['run_id']} was valid through {withdrawal['valid_through']}: its lists are withdrawn"
        )
        if kept is not None:
            context.log.warning(f"someone had written to the warehouse; their copy is kept as {kept} ({_ANALYST_WORK})")
    dated = withdraw_expired_dated_links(scrubline.published, now=run_started(context))
    if dated:
        context.log.warning(f"lists of {', '.join(dated)} are past their valid_through: their date links are removed")
    marker = expired_marker(scrubline.published)
    return dg.MaterializeResult(
        metadata={
            "is_latest_withdrawn": marker is not None,
            "expired": dg.MetadataValue.json(marker or {}),
            "withdrawn_dated_links": dg.MetadataValue.json(dated),
        }
    )


def evaluated_checks(context: dg.AssetExecutionContext) -> list[dict[str, object]]:
    """Every asset check this run has evaluated so far, in order: asset, check, whether it passed."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=1000
    ).records
    evaluations = [record.event_log_entry.dagster_event.event_specific_data for record in records]
    return [
        {"asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name, "passed": evaluation.passed}
        for evaluation in evaluations
    ]
