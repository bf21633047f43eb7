"""The Kubernetes deployment in `deploy/`: its run config, its Helm values and its image agree with the code."""

import re
import tomllib
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.execution.api import create_execution_plan
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_k8s import k8s_job_executor

from assets.constants import NIGHTLY_SCRUB_JOB, REGISTRY_INGEST_POOL
from assets.definitions import build_definitions
from assets.executors import EXECUTOR_VARIABLE, executor_from_environment, executor_named
from pipelines.config import DATA_DIR_VARIABLE
from pipelines.errors import ConfigError

REPOSITORY = Path(__file__).parents[2]
DEPLOY = REPOSITORY / "deploy"


def _yaml(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def _nightly_job_on_kubernetes(data_dir: Path) -> dg.JobDefinition:
    return build_definitions(str(data_dir), executor_named("k8s")).resolve_job_def(NIGHTLY_SCRUB_JOB)


def _code_location() -> dict[str, Any]:
    (deployment,) = _yaml("helm-values.yaml")["dagster-user-deployments"]["deployments"]
    return deployment


def _env(deployment: dict[str, Any]) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in deployment["env"]}


def test_the_nightly_job_runs_each_step_as_a_kubernetes_job(data_dir: Path) -> None:
    assert _nightly_job_on_kubernetes(data_dir).executor_def is k8s_job_executor


def test_the_code_location_runs_on_the_executor_its_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXECUTOR_VARIABLE, "k8s")
    assert executor_from_environment() is k8s_job_executor
    monkeypatch.setenv(EXECUTOR_VARIABLE, "multiprocess")
    assert executor_from_environment() is dg.multiprocess_executor
    monkeypatch.delenv(EXECUTOR_VARIABLE)
    assert executor_from_environment() is dg.in_process_executor


def test_the_kubernetes_run_config_is_valid_for_the_nightly_job(data_dir: Path) -> None:
    job = _nightly_job_on_kubernetes(data_dir)
    run_config = _yaml("run-config.yaml")
    dg.validate_run_config(job, run_config)
    # dagster-k8s matches a step's override by its op's name: a shard step's is the same whatever its shard.
    op_names = {step.node_handle.name for step in create_execution_plan(job).steps}
    assert set(run_config["execution"]["config"]["per_step_k8s_config"]) <= op_names


def test_a_misspelt_kubernetes_setting_is_refused(data_dir: Path) -> None:
    run_config = _yaml("run-config.yaml")
    run_config["execution"]["config"]["max_concurent"] = run_config["execution"]["config"].pop("max_concurrent")
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurent"):
        dg.validate_run_config(_nightly_job_on_kubernetes(data_dir), run_config)


def test_an_unknown_executor_is_refused_naming_the_variable_and_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"SCRUBLINE_EXECUTOR='celery'.*in_process.*multiprocess.*k8s"):
        executor_named("celery")


def test_no_step_runs_beside_publish(data_dir: Path) -> None:
    """Every other step is upstream of publish, so no executor runs one while `latest` moves."""
    plan = create_execution_plan(_nightly_job_on_kubernetes(data_dir))
    deps = plan.get_all_step_deps()
    upstream, frontier = set(), {"publish"}
    while frontier:
        upstream |= frontier
        frontier = set().union(*(deps[key] for key in frontier)) - upstream
    assert upstream == set(deps)


def test_stored_registries_are_ingested_one_run_at_a_time(data_dir: Path) -> None:
    plan = create_execution_plan(_nightly_job_on_kubernetes(data_dir))
    assert {step.key for step in plan.steps if step.pool == REGISTRY_INGEST_POOL} == {"registry_snapshots"}


def test_the_cluster_queues_one_run_at_a_time() -> None:
    queue = _yaml("helm-values.yaml")["dagsterDaemon"]["runCoordinator"]
    assert queue["type"] == "QueuedRunCoordinator"
    config = {_snake_case(key): value for key, value in queue["config"]["queuedRunCoordinator"].items()}
    assert validate_config(QueuedRunCoordinator.config_type(), config).success
    assert config["max_concurrent_runs"] == 1


def _snake_case(helm_key: str) -> str:
    """The Dagster instance's name of a Helm value: `maxConcurrentRuns` -> `max_concurrent_runs`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", helm_key).lower()


def test_the_code_location_loads_scrubline_on_kubernetes_from_the_data_volume() -> None:
    deployment = _code_location()
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    assert deployment["dagsterApiGrpcArgs"] == ["-m", pyproject["tool"]["dagster"]["module_name"], "-a", "defs"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"], "runs and their steps need the same env and mounts"
    assert deployment["image"]["tag"] not in (None, "latest"), "every step of a run must run the run's code"
    env = _env(deployment)
    assert env["SCRUBLINE_EXECUTOR"] == "k8s"
    (mount,) = (mount for mount in deployment["volumeMounts"] if mount["mountPath"] == env[DATA_DIR_VARIABLE])
    (volume,) = (volume for volume in deployment["volumes"] if volume["name"] == mount["name"])
    claim = _yaml("data-volume.yaml")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "step pods on different nodes share the data directory"


def test_the_image_holds_every_package_and_the_cluster_extra() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert {f"COPY {package} {package}" for package in packages} <= set(dockerfile.splitlines())
    assert 'pip install --no-cache-dir ".[cluster]"' in dockerfile
    assert "cluster" in pyproject["project"]["optional-dependencies"]
