"""Clients as partitions: in a data directory of clients, every asset is one client's, partitioned by client, but
the national registries and their stored snapshots, which every client's run reads as they are.

The partitions are applied here, in one place, to the assets the stage modules define, so that each asset is
written once and a data directory that is one client keeps its unpartitioned graph.
"""

from collections.abc import Iterator, Sequence

import dagster as dg

from assets.constants import CLIENTS_PARTITIONS, NATIONAL_REGISTRY_ASSETS

clients = dg.DynamicPartitionsDefinition(name=CLIENTS_PARTITIONS)


def by_client(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets, each partitioned by client except the national registries'."""
    return [asset.map_asset_specs(_client_spec) for asset in assets]


def _client_spec(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.key.to_user_string() in NATIONAL_REGISTRY_ASSETS:
        return spec
    return spec.replace_attributes(partitions_def=clients)


def for_every_client(schedule: dg.ScheduleDefinition) -> dg.ScheduleDefinition:
    """The schedule, requesting a run of each client at every tick (run key: client and tick)."""

    def each_client(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time.isoformat()
        for client in context.instance.get_dynamic_partitions(clients.name):
            yield dg.RunRequest(run_key=f"{client}:{tick}", partition_key=client)

    return dg.ScheduleDefinition(
        name=schedule.name,
        job=schedule.job,
        cron_schedule=schedule.cron_schedule,
        execution_timezone=schedule.execution_timezone,
        default_status=schedule.default_status,
        execution_fn=each_client,
    )
