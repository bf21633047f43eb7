"""Publish: the run's lists, audits and analytics and the warehouse over them, atomically."""

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import dagster as dg
import polars as pl

from assets.constants import PUBLISH
from assets.ingest import ages_on
from assets.resources import ScrublineData
from assets.run_clock import clock_source, run_created, run_started
from pipelines.config import Retention
from pipelines.operations.run_folders import WORK, prune_run_folders
from pipelines.publishing.certificate import scrub_certificates
from pipelines.publishing.dialler_files import list_files
from pipelines.publishing.expiry import (
    campaigns_valid_through,
    expired_marker,
    list_status,
    list_valid_through,
    registries_valid_through,
    withdraw_if_expired,
)
from pipelines.publishing.publish import LATEST, RUNS, archive_old_runs, publish_run, run_outputs
from pipelines.publishing.records import Manifest
from pipelines.publishing.registry_archive import archive_registry_copies
from pipelines.publishing.signing import private_key, public_key_pem, sign_file
from pipelines.publishing.warehouse import build_warehouse, install_warehouse, warehouse_contents
from pipelines.registries.store import snapshot_lineage
from pipelines.registries.unusable_entries import unusable_report
from pipelines.registries.versions import LEDGER, keep_ledger, ledger_with, registry_ledger, registry_versions
from pipelines.suppression.scrub import number_outcomes, reconciliation
from pipelines.suppression.sellers import campaign_sellers

# The frames the run folder is made of: the function's parameters of the same names.
_PUBLISHED_FRAMES = [
    "scrubbed_leads", "number_analytics", "normalised_crm_contacts", "suppression_list", "established_relationships",
    "unusable_suppression_entries", "normalised_registry_entries", "registry_snapshots", "dialler_leads",
    "calling_windows", "cli_days", "cli_health", "pool_capacity", "dialled_numbers", "call_limit_breaches",
]  # fmt: skip
_ANALYST_WORK = "work in your own database that ATTACHes the warehouse read-only: see docs/operations.md"


@dg.multi_asset(
    group_name=PUBLISH,
    specs=[
        dg.AssetSpec(
            "published_run",
            kinds={"parquet"},
            deps=_PUBLISHED_FRAMES,
            description=(
                "The run's folder under `published/`: clean lists and their certificates, suppressed, invalid, "
                "outcomes; `latest` and the run date point at it once everything, warehouse included, is built."
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
)
def publish(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    scrubbed_leads: pl.DataFrame,
    number_analytics: pl.DataFrame,
    normalised_crm_contacts: pl.DataFrame,
    suppression_list: pl.DataFrame,
    established_relationships: pl.DataFrame,
    unusable_suppression_entries: pl.DataFrame,
    normalised_registry_entries: pl.DataFrame,
    registry_snapshots: pl.DataFrame,
    dialler_leads: pl.DataFrame,
    calling_windows: pl.DataFrame,
    cli_days: pl.DataFrame,
    cli_health: pl.DataFrame,
    pool_capacity: pl.DataFrame,
    dialled_numbers: pl.DataFrame,
    call_limit_breaches: pl.DataFrame,
) -> Iterator[dg.MaterializeResult]:
    """Publish the run whole (see `pipelines.publishing.publish`), then remove its intermediates."""
    config = scrubline.config()
    started_at = run_started(context)
    created_at = run_created(context)
    call_analytics = {
        "cli_days": cli_days,
        "cli_health": cli_health,
        "pool_capacity": pool_capacity,
        "dialled_numbers": dialled_numbers,
        "call_limit_breaches": call_limit_breaches,
    }
    outputs = run_outputs(
        scrubbed_leads,
        number_analytics=number_analytics,
        contacts=normalised_crm_contacts,
        suppression_list=suppression_list,
        number_outcomes=number_outcomes(
            scrubbed_leads, run_id=context.run.run_id, run_started_at=started_at, run_created_at=created_at
        ),
        analytics={
            "calling_windows": calling_windows,
            **(call_analytics if config.calls.is_configured else {}),
        },
        profiles=config.dialler_files.profiles_for,
    )
    ages = ages_on(scrubline, today=started_at.date())
    inputs_until = [
        registries_valid_through(ages),
        list_valid_through(started_at.date(), max_list_age_days=config.max_list_age_days),
    ]
    validity = campaigns_valid_through(
        scrubbed_leads, established_relationships, registries_until=min(until for until in inputs_until if until)
    )
    counts = reconciliation(dialler_leads, scrubbed_leads)
    versions = registry_versions(normalised_registry_entries, registry_snapshots)
    ledger = registry_ledger(scrubline.published / RUNS, kept=scrubline.root / LEDGER)
    outputs[LEDGER] = ledger_with(ledger, versions, run_id=context.run.run_id, run_started_at=started_at)
    lineage = pl.concat(
        [
            *(
                frame.select("source_file", "source_sha256")
                for frame in (scrubbed_leads, normalised_crm_contacts, normalised_registry_entries)
            ),
            snapshot_lineage(registry_snapshots),
        ]
    )
    key = private_key(config.signing, data_dir=scrubline.root) if config.signing else None
    archived = (
        archive_registry_copies(
            ((file["file"], file["sha256"]) for files in versions.get_column("files") for file in files),
            data_dir=scrubline.root,
            max_bytes=config.registry_archive.max_bytes,
        )
        if config.registry_archive.enabled
        else None
    )
    # Before publishing, so that the new warehouse's number_history reads the runs archived now.
    pruned = _apply_retention(scrubline, config.retention, run_id=context.run.run_id, now=started_at)
    published = publish_run(
        outputs,
        published_dir=scrubline.published,
        warehouse=scrubline.warehouse,
        run_id=context.run.run_id,
        run_date=started_at.date(),
        run_created_at=created_at,
        manifest=Manifest(
            run_id=context.run.run_id,
            run_started_at=started_at,
            valid_through=validity.get_column("valid_through").min(),
            clock=clock_source(context),
            published_at=datetime.now(UTC),
            inputs=dict(lineage.unique().sort("source_file").iter_rows()),
            reconciliation=counts.to_dicts(),
            registries=versions.to_dicts(),
        ),
        certificates=scrub_certificates(
            counts,
            versions,
            registries=config.registries,
            retired=config.retired_registries,
            ages=ages,
            validity=validity,
            public_key=public_key_pem(key) if key else None,
            checks=evaluated_checks(context),
            scrubbed=scrubbed_leads,
            sellers=campaign_sellers(config, dialler_leads.get_column("campaign")),
            unusable=unusable_report(unusable_suppression_entries),
            crm=config.crm,
            calling_rules=config.calling_time.rules,
            archived=archived,
            run_id=context.run.run_id,
            run_started_at=started_at,
        ),
        lists={
            campaign: list_files(campaign, config.dialler_files.profiles_for(campaign))
            for campaign in counts.get_column("campaign")
        },
        sign=partial(sign_file, key=key) if key else None,
    )
    keep_ledger(outputs[LEDGER], scrubline.root / LEDGER)
    if LATEST not in published.links_moved:
        context.log.warning(f"latest stays on a run created after this one; this run is kept as {published.run_dir}")
    if published.analyst_work_kept is not None:
        context.log.warning(
            f"someone had written to the warehouse; their copy is kept as {published.analyst_work_kept} "
            f"({_ANALYST_WORK})"
        )
    shutil.rmtree(scrubline.work(context.run.run_id))
    yield dg.MaterializeResult(
        asset_key="published_run",
        metadata={
            "run_dir": dg.MetadataValue.path(str(published.run_dir)),
            "links_moved": published.links_moved,
            **pruned,
            "outputs": {path: frame.height for path, frame in outputs.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key="warehouse",
        metadata={
            "path": dg.MetadataValue.path(str(scrubline.warehouse)),
            "views": warehouse_contents(scrubline.warehouse),
            "analyst_work_kept": dg.MetadataValue.path(str(published.analyst_work_kept))
            if published.analyst_work_kept
            else "none",
        },
    )


def _apply_retention(scrubline: ScrublineData, retention: Retention, *, run_id: str, now: datetime) -> dict:
    """Prune what `retention` no longer keeps, on the run's clock; what was pruned, for the run's metadata."""
    pruned = {
        "pruned_work_dirs": prune_run_folders(
            scrubline.root / WORK, keep=run_id, written_before=now - timedelta(days=retention.failed_work_days)
        ),
        "pruned_quarantine": prune_run_folders(
            scrubline.quarantine, keep=run_id, written_before=now - timedelta(days=retention.quarantine_days)
        ),
    }
    archived = (
        archive_old_runs(scrubline.published, started_before=now - timedelta(days=retention.run_days))
        if retention.run_days is not None
        else []
    )
    return {**{key: [folder.name for folder in folders] for key, folders in pruned.items()}, "archived_runs": archived}


# A list may not outlive what it was scrubbed against: checked at the start of every run and every hour.
# It names the IO manager only so that its run, like every run, holds the data directory (see RunWorkspace).
@dg.asset(group_name=PUBLISH, kinds={"duckdb"}, required_resource_keys={"scrubline", "io_manager"})
def list_expiry(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Whether `published/latest` is within its `valid_through`; past it, the list is withdrawn (`latest`
    removed, `published/EXPIRED` written) and the warehouse's `list_status` says so."""
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
    marker = expired_marker(scrubline.published)
    return dg.MaterializeResult(
        metadata={
            "is_latest_withdrawn": marker is not None,
            "expired": dg.MetadataValue.json(marker or {}),
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
