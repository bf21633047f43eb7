"""The cross-client warehouse, in a data directory of clients: downstream of every client's published run, and
rebuilt whenever a client's nightly run succeeds."""

import dagster as dg

from assets.jobs import nightly_scrub
from assets.resources import PUBLISHED, WAREHOUSE, ScrublineData
from pipelines.clients import client_home, client_names
from pipelines.publishing.latest import latest_run_folder
from pipelines.publishing.warehouse import build_clients_warehouse, install_warehouse, warehouse_contents


# Reads each client's latest.json, so it needs no client's lock: a client publishing meanwhile is shown next time.
@dg.asset(kinds={"duckdb"}, deps=["published_run"])
def clients_warehouse(context: dg.AssetExecutionContext, scrubline: ScrublineData) -> dg.MaterializeResult:
    """`warehouse.duckdb` at the top of the data directory: every client's latest clean lists and audits, one row per
    dialler record with its client, and the table `clients`; rebuilt and swapped in whole."""
    path = scrubline.root / WAREHOUSE
    latest = {
        client: latest_run_folder(client_home(scrubline.root, client) / PUBLISHED)
        for client in client_names(scrubline.root)
    }
    kept = install_warehouse(build_clients_warehouse(path, latest_runs=latest), path, replaced_by=context.run.run_id)
    if kept is not None:
        context.log.warning(f"someone had written to the cross-client warehouse; their copy is kept as {kept}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "views": warehouse_contents(path),
            "clients_with_lists": sorted(client for client, run in latest.items() if run is not None),
            "clients_without_lists": sorted(client for client, run in latest.items() if run is None),
        }
    )


cross_client_warehouse = dg.define_asset_job(
    "cross_client_warehouse",
    selection=[clients_warehouse],
    description="Rebuild the cross-client warehouse over every client's latest published run.",
)


# Each client's night that publishes changes what the cross-client warehouse shows: rebuild it after each one.
@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_scrub],
    request_job=cross_client_warehouse,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def clients_warehouse_sensor(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    """Rebuild the cross-client warehouse once a client's nightly run has succeeded."""
    return dg.RunRequest(run_key=context.dagster_run.run_id)
