"""Publish: the run's lists, audits and analytics, atomically, and the warehouse over them."""

from datetime import UTC, datetime
from functools import partial

import dagster as dg
import polars as pl

from assets.constants import PUBLISH
from assets.ingest import ages_on
from assets.resources import ScrublineData
from assets.run_clock import clock_source, run_started
from pipelines.certificate import scrub_certificates
from pipelines.expiry import (
    campaigns_valid_through,
    expired_marker,
    list_status,
    list_valid_through,
    registries_valid_through,
    withdraw_if_expired,
)
from pipelines.publish import LATEST, RUNS, build_warehouse, publish_run, run_outputs
from pipelines.registry_store import snapshot_lineage
from pipelines.registry_versions import LEDGER, keep_ledger, ledger_with, registry_ledger, registry_versions
from pipelines.registry_versions import MANIFEST_KEY as REGISTRY_VERSIONS
from pipelines.scrub import number_outcomes, reconciliation
from pipelines.sellers import campaign_sellers
from pipelines.signing import private_key, public_key_pem, sign_file
from pipelines.unusable_entries import unusable_report


@dg.asset(group_name=PUBLISH, kinds={"parquet"})
def published_run(
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
) -> dg.MaterializeResult:
    """The run's folder under `published/`: clean lists and their certificates, suppressed, invalid, outcomes."""
    config = scrubline.config()
    started_at = run_started(context)
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
        number_outcomes=number_outcomes(scrubbed_leads, run_id=context.run.run_id, run_started_at=started_at),
        analytics={
            "calling_windows": calling_windows,
            **(call_analytics if config.calls.is_configured else {}),
        },
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
    run_dir = publish_run(
        outputs,
        published_dir=scrubline.published,
        run_id=context.run.run_id,
        run_date=started_at.date(),
        manifest={
            "run_id": context.run.run_id,
            "run_started_at": started_at.isoformat(),
            "valid_through": validity.get_column("valid_through").min(),
            "clock": clock_source(context),
            "published_at": datetime.now(UTC).isoformat(),
            "inputs": dict(lineage.unique().sort("source_file").iter_rows()),
            "reconciliation": counts.to_dicts(),
            REGISTRY_VERSIONS: versions.to_dicts(),
        },
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
            run_id=context.run.run_id,
            run_started_at=started_at,
        ),
        sign=partial(sign_file, key=key) if key else None,
    )
    keep_ledger(outputs[LEDGER], scrubline.root / LEDGER)
    return dg.MaterializeResult(
        metadata={
            "run_dir": dg.MetadataValue.path(str(run_dir)),
            "latest": dg.MetadataValue.path(str(scrubline.published / LATEST)),
            "outputs": {path: frame.height for path, frame in outputs.items()},
        }
    )


@dg.asset(group_name=PUBLISH, kinds={"duckdb"}, deps=[published_run])
def warehouse(scrubline: ScrublineData) -> dg.MaterializeResult:
    """`warehouse.duckdb`: views over the latest published run and `number_history` over every run, swapped in whole."""
    run_dir = (scrubline.published / LATEST).resolve()
    views = build_warehouse(scrubline.warehouse, run_dir=run_dir, status=list_status(run_dir))
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(scrubline.warehouse)), "views": views})


# A list may not outlive what it was scrubbed against: checked at the start of every run and every hour.
@dg.asset(group_name=PUBLISH, kinds={"duckdb"})
def list_expiry(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.MaterializeResult:
    """Whether `published/latest` is within its `valid_through`; past it, the list is withdrawn (`latest`
    removed, `published/EXPIRED` written) and the warehouse's `list_status` says so."""
    withdrawal = withdraw_if_expired(scrubline.published, now=run_started(context))
    if withdrawal is not None:
        run_dir = scrubline.published / str(withdrawal["run_dir"])
        build_warehouse(scrubline.warehouse, run_dir=run_dir, status=list_status(run_dir, withdrawal))
        context.log.warning(
            f"run {withdrawal['run_id']} was valid through {withdrawal['valid_through']}: its lists are withdrawn"
        )
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
