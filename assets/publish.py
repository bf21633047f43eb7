"""Publish: the run's lists, audits and analytics, atomically, and the warehouse over them."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.constants import PUBLISH
from assets.ingest import ages_on
from assets.resources import ScrublineData
from assets.run_clock import run_started
from pipelines.certificate import scrub_certificates
from pipelines.publish import LATEST, build_warehouse, publish_run, run_outputs
from pipelines.registry_store import snapshot_lineage
from pipelines.registry_versions import MANIFEST_KEY as REGISTRY_VERSIONS
from pipelines.registry_versions import registry_versions
from pipelines.scrub import number_outcomes, reconciliation


@dg.asset(group_name=PUBLISH, kinds={"parquet"})
def published_run(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    scrubbed_leads: pl.DataFrame,
    number_analytics: pl.DataFrame,
    normalised_crm_contacts: pl.DataFrame,
    suppression_list: pl.DataFrame,
    normalised_registry_entries: pl.DataFrame,
    registry_snapshots: pl.DataFrame,
    dialler_leads: pl.DataFrame,
    calling_windows: pl.DataFrame,
    cli_days: pl.DataFrame,
    cli_health: pl.DataFrame,
    pool_capacity: pl.DataFrame,
    dialled_numbers: pl.DataFrame,
) -> dg.MaterializeResult:
    """The run's folder under `published/`: clean lists and their certificates, suppressed, invalid, outcomes."""
    config = scrubline.config()
    started_at = run_started(context)
    call_analytics = {
        "cli_days": cli_days,
        "cli_health": cli_health,
        "pool_capacity": pool_capacity,
        "dialled_numbers": dialled_numbers,
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
    counts = reconciliation(dialler_leads, scrubbed_leads)
    versions = registry_versions(normalised_registry_entries, registry_snapshots)
    lineage = pl.concat(
        [
            *(
                frame.select("source_file", "source_sha256")
                for frame in (scrubbed_leads, normalised_crm_contacts, normalised_registry_entries)
            ),
            snapshot_lineage(registry_snapshots),
        ]
    )
    run_dir = publish_run(
        outputs,
        published_dir=scrubline.published,
        run_id=context.run.run_id,
        run_date=started_at.date(),
        manifest={
            "run_id": context.run.run_id,
            "published_at": datetime.now(UTC).isoformat(),
            "inputs": dict(lineage.unique().sort("source_file").iter_rows()),
            "reconciliation": counts.to_dicts(),
            REGISTRY_VERSIONS: versions.to_dicts(),
        },
        certificates=scrub_certificates(
            counts,
            versions,
            registries=config.registries,
            ages=ages_on(scrubline, today=started_at.date()),
            crm=config.crm,
            run_id=context.run.run_id,
            run_started_at=started_at,
        ),
    )
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
    views = build_warehouse(scrubline.warehouse, run_dir=run_dir)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(scrubline.warehouse)), "views": views})
