"""Clients as partitions: a data directory of clients gives a graph partitioned by client around the shared
national registries, and a backfill of two clients, run by a real Dagster daemon, publishes each client only its
own data."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_origin import RemotePartitionSetOrigin, RemoteRepositoryOrigin
from dagster._core.workspace.load import location_origins_from_yaml_paths

from assets.constants import CLIENTS_PARTITIONS, NATIONAL_REGISTRY_ASSETS, NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions
from assets.resources import ScrublineData
from assets.sensors import inbox_sensor
from pipelines.publishing.certificate import verify_certificate
from pipelines.publishing.latest import latest_run_folder
from pipelines.publishing.warehouse import open_warehouse
from tests.handmade import (
    CLIENT_INBOXES,
    CLIENT_YAML,
    RUN_AS_OF,
    RUN_TAGS,
    SHARED_YAML,
    write_clients_data_dir,
    write_data_dir,
)

REPOSITORY = Path(__file__).parents[2]
DAEMON = Path(sys.executable).with_name("dagster-daemon")
# Two runs at a time, so two clients' runs may overlap; the stored registries' pool one at a time.
INSTANCE_YAML = """\
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""
# The inbox sensor waits an hour for files to settle: in this test only the backfill starts runs.
QUIET_SHARED_YAML = SHARED_YAML + "inbox:\n  settle_seconds: 3600\n"
# Each client's dialler records by id; north's L6, an unreadable record, is quarantined without one.
LEADS = {"north": {"L1", "L2", "L3", "L4", "L5", "L7", "L8", "W1", "W2", "N1", None}, "south": {"S1", "S2", "S3", "S4"}}
COUNT_RECORDS = {"north": 11, "south": 4}
CAMPAIGNS = {"north": {"spring", "winback", "summer"}, "south": {"autumn"}}
OUTCOME_FOLDERS = ("clean", "suppressed", "invalid", "quarantined", "deferred")
BACKFILL_TIMEOUT_S = 240  # a bound for a loaded machine: the test takes 65-100 s
SHARED_CONFIG = "scrubline.yaml"


def test_a_data_directory_of_clients_partitions_every_asset_by_client_but_the_national_registries(
    tmp_path: Path,
) -> None:
    graph = build_definitions(str(write_clients_data_dir(tmp_path / "data"))).resolve_asset_graph()
    partitioned = {
        key.to_user_string(): graph.get(key).partitions_def
        for key in graph.get_all_asset_keys()
        if graph.get(key).partitions_def is not None
    }
    unpartitioned = {key.to_user_string() for key in graph.get_all_asset_keys()} - set(partitioned)
    assert unpartitioned == {*NATIONAL_REGISTRY_ASSETS, "clients_warehouse"}
    assert {definition.name for definition in partitioned.values()} == {CLIENTS_PARTITIONS}
    assert {"scrubbed_leads", "suppression_list", "published_run", "warehouse"} <= set(partitioned)


def test_a_data_directory_that_is_one_client_keeps_its_unpartitioned_graph(data_dir: Path) -> None:
    defs = build_definitions(str(data_dir))
    graph = defs.resolve_asset_graph()
    assert all(graph.get(key).partitions_def is None for key in graph.get_all_asset_keys())
    assert defs.resolve_job_def(NIGHTLY_SCRUB_JOB).partitions_def is None


@pytest.mark.parametrize("schedule_name", ["nightly_scrub_schedule", "withdraw_expired_lists_schedule"])
def test_each_schedule_requests_a_run_of_every_client(tmp_path: Path, schedule_name: str) -> None:
    defs = build_definitions(str(write_clients_data_dir(tmp_path / "data")))
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        instance.add_dynamic_partitions(CLIENTS_PARTITIONS, ["north", "south"])
        with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=RUN_AS_OF, repository_def=defs.get_repository_def()
        ) as context:
            tick = defs.resolve_schedule_def(schedule_name).evaluate_tick(context)
    assert [(request.partition_key, request.run_key) for request in tick.run_requests] == [
        ("north", f"north:{RUN_AS_OF.isoformat()}"),
        ("south", f"south:{RUN_AS_OF.isoformat()}"),
    ]


@pytest.fixture
def daemon_instance(tmp_path: Path) -> Iterator[tuple[dg.DagsterInstance, Path, Path]]:
    """A real Dagster instance in a temporary DAGSTER_HOME, a data directory of two clients that the code location
    reads, and a `dagster-daemon run` over the repository's workspace, stopped at the end."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    data_dir = write_clients_data_dir(tmp_path / "data", QUIET_SHARED_YAML)
    with dg.DagsterInstance.from_config(str(home)) as instance:  # creates the storage before the daemon opens it
        environment = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DAGSTER_", "SCRUBLINE_"))},
            "DAGSTER_HOME": str(home),
            "SCRUBLINE_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(REPOSITORY),  # this worktree's code, not an installed copy
        }
        log = tmp_path / "daemon.log"
        instance_ready = (instance, data_dir, log)
        with log.open("w") as output:
            daemon = subprocess.Popen(
                [str(DAEMON), "run", "-w", str(REPOSITORY / "workspace.yaml")],
                cwd=REPOSITORY,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its code server and runs in its process group, stopped with it
            )
            try:
                yield instance_ready
            finally:
                os.killpg(daemon.pid, signal.SIGTERM)
                daemon.wait(timeout=30)


def request_backfill(instance: dg.DagsterInstance, clients: list[str]) -> str:
    """Ask for a backfill of the nightly scrub for `clients`, as the UI does: the daemon launches its runs."""
    (location,) = location_origins_from_yaml_paths([str(REPOSITORY / "workspace.yaml")])
    repository = RemoteRepositoryOrigin(code_location_origin=location, repository_name="__repository__")
    backfill_id = "clients-backfill"
    instance.add_backfill(
        PartitionBackfill(
            backfill_id=backfill_id,
            partition_set_origin=RemotePartitionSetOrigin(
                repository_origin=repository,
                partition_set_name=f"{NIGHTLY_SCRUB_JOB}_partition_set",
            ),
            status=BulkActionStatus.REQUESTED,
            partition_names=clients,
            from_failure=False,
            reexecution_steps=None,
            tags={},
            backfill_timestamp=time.time(),
        )
    )
    return backfill_id


def finished_runs(instance: dg.DagsterInstance, backfill_id: str, count: int, log: Path) -> list[dg.DagsterRun]:
    """The backfill's runs once `count` of them have finished."""
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id))
        if len(runs) == count and all(run.is_finished for run in runs):
            return runs
        time.sleep(1)
    raise AssertionError(f"the backfill did not finish in {BACKFILL_TIMEOUT_S} s; daemon log:\n{log.read_text()}")


def published(data_dir: Path, client: str) -> Path:
    """The run folder the client's `published/latest.json` names."""
    run_dir = latest_run_folder(data_dir / "clients" / client / "published")
    assert run_dir is not None
    return run_dir


def outcomes(run_dir: Path) -> pl.DataFrame:
    """Every dialler record of the run with its outcome (the folder it is published in): its lists and audits."""
    return pl.concat(
        pl.read_parquet(path, columns=["campaign", "lead_id"]).with_columns(outcome=pl.lit(outcome))
        for outcome in OUTCOME_FOLDERS
        for path in sorted((run_dir / outcome).glob("*.parquet"))
    )


def warehouse_clients(data_dir: Path, log: Path) -> set[str]:
    """The clients of the cross-client warehouse's clean lists, once it shows two."""
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    clients: set[str] = set()
    while time.monotonic() < deadline and len(clients) < 2:
        time.sleep(1)
        if (data_dir / "warehouse.duckdb").is_file():
            with open_warehouse(data_dir / "warehouse.duckdb") as warehouse:
                clients = {
                    client for (client,) in warehouse.execute("select distinct client from clean_call_lists").fetchall()
                }
    assert clients, f"no cross-client warehouse in {BACKFILL_TIMEOUT_S} s; daemon log:\n{log.read_text()}"
    return clients


def outcome_of(run_dir: Path, lead_id: str) -> str:
    (outcome,) = outcomes(run_dir).filter(pl.col("lead_id") == lead_id).get_column("outcome")
    return outcome


def test_a_backfill_of_two_clients_through_the_daemon_publishes_each_client_only_its_own_data(
    daemon_instance: tuple[dg.DagsterInstance, Path, Path],
) -> None:
    instance, data_dir, log = daemon_instance
    instance.add_dynamic_partitions(CLIENTS_PARTITIONS, ["north", "south"])
    backfill_id = request_backfill(instance, ["north", "south"])

    runs = finished_runs(instance, backfill_id, count=2, log=log)

    assert {run.tags["dagster/partition"]: run.status for run in runs} == {
        "north": dg.DagsterRunStatus.SUCCESS,
        "south": dg.DagsterRunStatus.SUCCESS,
    }
    for client in ("north", "south"):
        run_dir = published(data_dir, client)
        records = outcomes(run_dir)
        assert (set(records.get_column("lead_id")), records.height) == (LEADS[client], COUNT_RECORDS[client])
        certificates = {path.name.removesuffix(".certificate.json"): json.loads(path.read_text())
                        for path in (run_dir / "clean").glob("*.certificate.json")}  # fmt: skip
        assert set(certificates) == CAMPAIGNS[client]
        assert sum(certificate["counts"]["count_rows_in"] for certificate in certificates.values()) == len(records)
        inputs = json.loads((run_dir / "manifest.json").read_text())["inputs"]
        assert all(path.startswith((f"clients/{client}/", "inbox/registries/")) for path in inputs)
    # 415-555-0111 is on south's CRM do-not-call list: that binds south, not north.
    assert outcome_of(published(data_dir, "south"), "S4") == "suppressed"
    assert outcome_of(published(data_dir, "north"), "N1") in {"clean", "deferred"}
    # Once both have published, the daemon's run status sensor rebuilds the cross-client warehouse over both.
    assert warehouse_clients(data_dir, log) == {"north", "south"}
    # Nothing of a client's run lands outside its folder but the registry copies its certificates name.
    top = ["clients", "inbox", "registry_archive", SHARED_CONFIG, "warehouse.duckdb"]
    assert sorted(path.name for path in data_dir.iterdir()) == top


def test_the_cross_client_warehouse_shows_every_clients_latest_lists_each_row_with_its_client(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data")
    defs = build_definitions(str(data_dir))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(CLIENTS_PARTITIONS, ["north", "south"])
    for client in ("north", "south"):
        scrub = defs.resolve_job_def(NIGHTLY_SCRUB_JOB)
        assert scrub.execute_in_process(instance=instance, partition_key=client, tags=RUN_TAGS).success
    assert defs.resolve_job_def("cross_client_warehouse").execute_in_process(instance=instance).success

    with open_warehouse(data_dir / "warehouse.duckdb") as warehouse:
        clean = warehouse.execute("select client, lead_id from clean_call_lists order by lead_id").fetchall()
        suppressed = warehouse.execute("select client, lead_id from suppressed order by lead_id").fetchall()
        clients = warehouse.execute("select client, run_dir from clients order by client").fetchall()
    assert clean == [
        ("north", "L1"),
        ("north", "L2"),
        ("north", "N1"),
        ("south", "S1"),
        ("north", "W1"),
        ("north", "W2"),
    ]
    assert suppressed == [
        ("north", "L3"), ("north", "L5"), ("north", "L7"), ("south", "S2"), ("south", "S3"), ("south", "S4")
    ]  # fmt: skip
    assert [(client, run_dir.split("/runs/")[0]) for client, run_dir in clients] == [
        ("north", "clients/north/published"),
        ("south", "clients/south/published"),
    ]
    # A client's certificate names the shared registry files and archived copies, found at the top.
    certificate = data_dir / "clients/south/published/latest/clean/autumn.certificate.json"
    registries = [
        check for check in verify_certificate(certificate, public_key=None) if check[0].startswith("registry")
    ]
    assert [status for _, status, _ in registries] == ["ok"] * 4


def client_tick(instance: dg.DagsterInstance, data_dir: Path, cursor: str | None) -> dg.SensorResult:
    """One tick of the inbox sensor; the partitions it adds are added to `instance`, as the daemon does."""
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"scrubline": ScrublineData(data_dir=str(data_dir))}
    )
    result = inbox_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_the_inbox_sensor_adds_each_client_as_a_partition_and_starts_a_run_per_client_whose_inbox_changed(
    tmp_path: Path,
) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data", SHARED_YAML + "inbox:\n  settle_seconds: 0\n")
    instance = dg.DagsterInstance.ephemeral()

    first = client_tick(instance, data_dir, cursor=None)
    (added,) = first.dynamic_partitions_requests
    assert (added.partitions_def_name, list(added.partition_keys)) == (CLIENTS_PARTITIONS, ["north", "south"])
    assert not first.run_requests  # a first look: the inboxes must hold still until the next tick
    second = client_tick(instance, data_dir, first.cursor)
    assert not second.dynamic_partitions_requests
    assert {request.partition_key: request.run_key.split(":")[0] for request in second.run_requests} == {
        "north": "north",
        "south": "south",
    }

    (data_dir / "clients/south/inbox/dialler/winter.csv").write_text("lead_id,phone,country\nS9,4155550177,US\n")
    write_data_dir(data_dir / "clients/east", CLIENT_INBOXES["south"], CLIENT_YAML)
    third = client_tick(instance, data_dir, second.cursor)
    assert [list(request.partition_keys) for request in third.dynamic_partitions_requests] == [["east"]]
    fourth = client_tick(instance, data_dir, third.cursor)
    assert sorted(request.partition_key for request in fourth.run_requests) == ["east", "south"]
    assert not client_tick(instance, data_dir, fourth.cursor).run_requests


def test_a_client_whose_configuration_is_broken_is_named_and_the_others_still_run(tmp_path: Path) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data", SHARED_YAML + "inbox:\n  settle_seconds: 0\n")
    (data_dir / "clients/north/scrubline.yaml").write_text("crm: [\n")
    instance = dg.DagsterInstance.ephemeral()
    first = client_tick(instance, data_dir, cursor=None)
    second = client_tick(instance, data_dir, first.cursor)
    assert [request.partition_key for request in second.run_requests] == ["south"]
    assert "north" in json.dumps(first.dynamic_partitions_requests[0].partition_keys)
