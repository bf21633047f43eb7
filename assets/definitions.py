"""The code location: every asset, check, job, schedule, sensor and resource, for one data directory (of one
client, or of several: then partitioned by client)."""

from pathlib import Path

import dagster as dg

from assets import analytics, cross_client, ingest, normalise, publish, suppress
from assets.constants import ANALYTICS, CROSS_CLIENT, INGEST, NORMALISE, PUBLISH, SUPPRESS
from assets.executors import EXECUTOR_VARIABLE, IN_PROCESS, executor_from_environment
from assets.jobs import nightly_scrub, withdraw_expired_lists
from assets.partitions import by_client, for_every_client
from assets.resources import RunWorkspace, ScrublineData
from assets.schedules import nightly_scrub_schedule, withdraw_expired_lists_schedule
from assets.scrub_shards import SHARD_IO_MANAGER, ShardWorkspace
from assets.sensors import inbox_sensor
from pipelines.clients import has_clients
from pipelines.config import data_dir_from_environment
from pipelines.errors import ConfigError
from pipelines.publishing.staging import has_clients_remote
from pipelines.storage import ObjectStorage, is_object_storage

# Each stage's module; its assets form the stage's group.
_STAGES = {INGEST: ingest, NORMALISE: normalise, SUPPRESS: suppress, ANALYTICS: analytics, PUBLISH: publish}


def build_definitions(data_dir: str, executor: dg.ExecutorDefinition = dg.in_process_executor) -> dg.Definitions:
    """Definitions reading and writing the data directory `data_dir`, their jobs run by `executor`; partitioned by
    client when it holds clients (`assets/partitions.py`).

    A data directory on object storage is staged by each run in its own process (`pipelines.publishing.staging`),
    so its runs execute in-process: a process or pod per step would stage and send back each on its own."""
    if is_object_storage(data_dir) and executor is not dg.in_process_executor:
        raise ConfigError(
            f"{data_dir}: a data directory on object storage runs each run in one process, which stages it and sends "
            f"back what it published; set {EXECUTOR_VARIABLE}={IN_PROCESS} (one pod per run on Kubernetes, see "
            "docs/kubernetes.md), or use a shared volume for the data directory"
        )
    assets = [
        asset for stage, module in _STAGES.items() for asset in dg.load_assets_from_modules([module], group_name=stage)
    ]
    jobs = [nightly_scrub, withdraw_expired_lists]
    schedules = [nightly_scrub_schedule, withdraw_expired_lists_schedule]
    sensors = [inbox_sensor]
    if _has_clients(data_dir):
        assets = [*by_client(assets), *dg.load_assets_from_modules([cross_client], group_name=CROSS_CLIENT)]
        jobs.append(cross_client.cross_client_warehouse)
        schedules = [for_every_client(schedule) for schedule in schedules]
        sensors.append(cross_client.clients_warehouse_sensor)
    return dg.Definitions(
        assets=assets,
        asset_checks=dg.load_asset_checks_from_modules(list(_STAGES.values())),
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        executor=executor,
        resources={
            "scrubline": ScrublineData(data_dir=data_dir),
            "io_manager": RunWorkspace(data_dir=data_dir),
            SHARD_IO_MANAGER: ShardWorkspace(data_dir=data_dir),
        },
    )


def _has_clients(data_dir: str) -> bool:
    """Whether the data directory, a folder or on object storage, holds clients."""
    if is_object_storage(data_dir):
        return has_clients_remote(ObjectStorage(data_dir))
    return has_clients(Path(data_dir))


defs = build_definitions(data_dir_from_environment(), executor_from_environment())
