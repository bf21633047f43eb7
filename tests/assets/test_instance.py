"""What the UI runs on: the shipped instance settings, the workspace and the job's executor."""

import shutil
from pathlib import Path

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.load import location_origins_from_yaml_paths

from assets.constants import NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions

REPOSITORY = Path(__file__).parents[2]


def test_the_shipped_instance_queues_one_run_at_a_time_without_telemetry_or_first_run_pop_up(tmp_path: Path) -> None:
    shutil.copy(REPOSITORY / "dagster_home/dagster.yaml", tmp_path)
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    assert not instance.telemetry_enabled
    assert not instance.nux_enabled


def test_the_ui_loads_one_code_location_named_scrubline() -> None:
    (origin,) = location_origins_from_yaml_paths([str(REPOSITORY / "workspace.yaml")])
    assert origin.location_name == "scrubline"


def test_the_nightly_job_runs_every_step_in_one_process(data_dir: Path) -> None:
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    assert job.executor_def is dg.in_process_executor
