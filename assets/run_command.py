"""`scrubline run`: the nightly job in-process under the data directory's lock, its progress by stage and
a summary of what it published. Dagster's own event stream is shown only with `--verbose`."""

import argparse
import logging
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import polars as pl

from assets.constants import CLIENTS_PARTITIONS, NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions
from assets.run_clock import AS_OF_TAG, parse_as_of
from pipelines.clients import CLIENTS, client_home, load_config_for
from pipelines.errors import ConfigError, ScrublineError
from pipelines.operations.preflight import check_inputs
from pipelines.operations.run_lock import DataDirectoryBusyError, hold_data_dir, hold_object_lock
from pipelines.publishing.latest import LATEST_POINTER, latest_run_folder
from pipelines.publishing.publish import LATEST, MANIFEST
from pipelines.publishing.signing import private_key
from pipelines.publishing.staging import is_sent, stage, staging_dir
from pipelines.records import Latest, Manifest
from pipelines.storage import ObjectStorage, is_object_storage
from pipelines.suppression.scrub import OUTCOMES

# Exit code of `scrubline run` when another run holds the data directory (0 published, 1 failed, 2 config error).
EXIT_BUSY = 3
# Steps `scrubline run` names as the slowest of its run.
SLOWEST = 10


def run(arguments: argparse.Namespace) -> int:
    """Run the nightly scrub job on a data directory, as the UI would, and print what it did."""
    if is_object_storage(arguments.data_dir):
        return _run_on_object_storage(arguments)
    data_dir = Path(arguments.data_dir).resolve()
    client = arguments.client
    # A configuration error stops here, exit 2, before any run exists; so does a data directory of clients without
    # --client.
    _check_before_run(data_dir, client)
    tags = _clock_tags(arguments.as_of)
    home = client_home(data_dir, client)
    run_id = str(uuid.uuid4())
    try:
        with hold_data_dir(home, run_id=run_id, wait=arguments.wait, on_wait=_say_waiting):
            result = _execute(arguments, str(data_dir), run_id=run_id, tags=tags)
    except DataDirectoryBusyError as busy:
        print(f"scrubline: {busy}", file=sys.stderr)
        return EXIT_BUSY
    if _failed(result):
        return 1
    _print_summary(home, run_id=result.run_id)
    return 0


def _run_on_object_storage(arguments: argparse.Namespace) -> int:
    """`scrubline run` on a data directory on object storage: the lock object is taken and the data directory staged
    (`pipelines.publishing.staging`) before the job starts, so that the configuration is checked as on a local one;
    the run's publish step sends its publish back, and its IO manager the rest when it ends (`RunWorkspace`)."""
    storage = ObjectStorage(arguments.data_dir)
    client = arguments.client
    tags = _clock_tags(arguments.as_of)
    run_id = str(uuid.uuid4())
    local = staging_dir(storage.url, run_id)
    try:
        with hold_object_lock(storage, run_id=run_id, wait=arguments.wait, on_wait=_say_waiting):
            try:
                _check_before_run(stage(storage, local), client)
            except ConfigError as error:
                shutil.rmtree(local, ignore_errors=True)
                # Named where the user keeps the file, not where this run staged it.
                raise ConfigError(str(error).replace(str(local), storage.url)) from error
            except ScrublineError:
                shutil.rmtree(local, ignore_errors=True)
                raise
            result = _execute(arguments, storage.url, run_id=run_id, tags=tags)
    except DataDirectoryBusyError as busy:
        print(f"scrubline: {busy}", file=sys.stderr)
        return EXIT_BUSY
    if _failed(result):
        return 1
    if not is_sent(local):
        print(
            f"scrubline: run {result.run_id} could not send what it published back to {storage.url}: nothing new is "
            f"pointed at; its staging folder stays at {local} (the run's log says why)",
            file=sys.stderr,
        )
        return 1
    _print_remote_summary(storage, client=client, run_id=result.run_id)
    return 0


def _check_before_run(data_dir: Path, client: str | None) -> None:
    """Read and check the configuration, the files it names and the signing key, before any run exists."""
    config = load_config_for(data_dir, client)
    check_inputs(config, data_dir=data_dir)
    if config.signing is not None:
        private_key(config.signing, data_dir=data_dir)


def _execute(
    arguments: argparse.Namespace, data_dir: str, *, run_id: str, tags: Mapping[str, str]
) -> dg.ExecuteInProcessResult:
    """The nightly job on `data_dir` (a folder or an `s3://` URL) in-process, with the progress logger."""
    client = arguments.client
    defs = build_definitions(data_dir)
    loggers = {"progress": _progress_logger(_stage_of_step(defs))}
    # A run uses the loggers its config names; naming none would mean Dagster's DEBUG console stream.
    logger_config: dict[str, dict] = {"progress": {}}
    if arguments.verbose:
        loggers["console"] = dg.colored_console_logger
        logger_config["console"] = {"config": {"log_level": "DEBUG"}}
    job = defs.resolve_job_def(NIGHTLY_SCRUB_JOB).with_logger_defs(loggers)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    if client is not None and not instance.has_dynamic_partition(CLIENTS_PARTITIONS, client):
        instance.add_dynamic_partitions(CLIENTS_PARTITIONS, [client])
    result = execute_without_capture(
        job,
        run_config={"loggers": logger_config},
        instance=instance,
        run_id=run_id,
        partition_key=client,
        tags=tags,
    )
    _print_slowest_steps(instance, run_id=run_id)
    return result


def _clock_tags(as_of: str | None) -> dict[str, str]:
    """The run's tags for `--as-of`: its instant as the `scrubline/as_of` tag, which only an ephemeral instance
    honours (`assets.run_clock`), so it is refused before any run exists when `DAGSTER_HOME` is set."""
    if as_of is None:
        return {}
    if os.environ.get("DAGSTER_HOME"):
        raise ConfigError(
            "--as-of is for tests and benchmarks, on an ephemeral instance: unset DAGSTER_HOME, or drop --as-of to "
            "scrub as of now"
        )
    return {AS_OF_TAG: parse_as_of(as_of).isoformat()}


def execute_without_capture(
    job: dg.JobDefinition,
    *,
    run_config: Mapping[str, object],
    instance: dg.DagsterInstance,
    run_id: str,
    partition_key: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process(..., raise_on_error=False)` without its output capture; of one client (partition) in
    a data directory of clients.

    `execute_in_process` keeps every step's returned value in memory until the run ends, for
    `result.output_for_node`; the nightly job's frames live in the IO manager's Parquet, so holding them
    all as well made the process grow step by step to its peak in `publish` (4.4 GB at 1M leads).
    """
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import core_execute_in_process, merge_run_tags

    return core_execute_in_process(
        job=InMemoryJob(job_def=job.as_ephemeral_job(resource_defs={}, input_values={})),
        run_config=run_config,
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=False,
        run_tags=merge_run_tags(
            job_def=job,
            partition_key=partition_key,
            tags=tags,
            asset_selection=None,
            instance=instance,
            run_config=run_config,
        ),
        run_id=run_id,
    )


def _say_waiting(busy: str) -> None:
    print(f"scrubline: waiting: {busy}", file=sys.stderr)


def _stage_of_step(defs: dg.Definitions) -> dict[str, str]:
    """The last step of each asset or check of the job, and the stage (asset group) it belongs to.

    A graph-backed asset's other steps (the scrub's shards, as many as the run plans) are not counted.
    """
    graph = defs.resolve_asset_graph()
    return {
        _last_step(assets_def.node_def): graph.get(
            next(iter(assets_def.keys or {c.asset_key for c in assets_def.check_keys}))
        ).group_name
        for assets_def in graph.assets_defs
    }


def _last_step(node: dg.OpDefinition | dg.GraphDefinition) -> str:
    """The key of the step that gives a node's outputs: the op's own, or that of the op a graph's outputs map from."""
    if isinstance(node, dg.GraphDefinition):
        (last,) = {output.maps_from.node_name for output in node.output_mappings}
        return f"{node.name}.{last}"
    return node.name


def _progress_logger(stage_of_step: Mapping[str, str]) -> dg.LoggerDefinition:
    """A Dagster logger that prints a line as each stage's steps have all succeeded, and the run's warnings."""

    @dg.logger
    def progress(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("scrubline.progress", level=logging.DEBUG)  # step events are DEBUG records
        logger.addHandler(_StageHandler(stage_of_step))
        return logger

    return progress


class _StageHandler(logging.Handler):
    def __init__(self, stage_of_step: Mapping[str, str]) -> None:
        super().__init__()
        self._stage_of_step = stage_of_step
        self._remaining = Counter(stage_of_step.values())
        self._started = time.monotonic()

    def _step_done(self, stage: str) -> None:
        """Counts one of `stage`'s steps done; prints the stage's line when it was the last."""
        self._remaining[stage] -= 1
        if not self._remaining[stage]:
            steps = sum(1 for step_stage in self._stage_of_step.values() if step_stage == stage)
            print(f"{stage:>10} done: {steps} steps, {time.monotonic() - self._started:.1f} s", flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        if event is not None and event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            stage = self._stage_of_step.get(event.step_key)  # None: a step before a graph-backed asset's last
            if stage is not None:
                self._step_done(stage)
        elif event is None and record.levelno == logging.WARNING:  # the run's own warnings; errors come after
            print(f"  warning ({meta.get('step_key') or 'run'}): {meta.get('orig_message')}", file=sys.stderr)


def _print_slowest_steps(instance: dg.DagsterInstance, *, run_id: str) -> None:
    """The run's ten slowest steps, checks included, with their seconds: where a night's time went."""
    steps = sorted(
        (stats.end_time - stats.start_time, stats.step_key)
        for stats in instance.get_run_step_stats(run_id)
        if stats.start_time is not None and stats.end_time is not None
    )
    print("slowest steps: " + ", ".join(f"{key} {seconds:.1f} s" for seconds, key in reversed(steps[-SLOWEST:])))


def _failed(result: dg.ExecuteInProcessResult) -> bool:
    """Whether the run failed; if it did, what failed and that nothing new was published, said on stderr."""
    _print_failures(result)
    if not result.success:
        print(f"scrubline: run {result.run_id} failed; nothing new was published", file=sys.stderr)
    return not result.success


def _print_failures(result: dg.ExecuteInProcessResult) -> None:
    """Each failed check once with its message, and each step that failed of an error of its own."""
    failed_checks: dict[str, str] = {}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not event.event_specific_data.passed:
            check = event.event_specific_data
            failed_checks.setdefault(check.asset_check_key.to_user_string(), check.description or "")
    for key, description in failed_checks.items():
        print(f"CHECK FAILED {key}: {description}", file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error.cls_name != "DagsterAssetCheckFailedError":
                print(f"FAILED {event.step_key}: {(error.cause or error).message.strip()}", file=sys.stderr)


def _with_rate(outcome: str) -> pl.Expr:
    """`count_<outcome>` of `count_rows_in` as `12 (37.5%)`."""
    count, total = pl.col(f"count_{outcome}"), pl.col("count_rows_in")
    percent = pl.when(total > 0).then(count / total * 100).otherwise(0.0).round(1)
    return pl.format("{} ({}%)", count, percent).alias(outcome)


def _print_summary(data_dir: Path, *, run_id: str) -> None:
    """Per campaign the rows in and each outcome with its rate; where the lists and the warehouse are."""
    latest = latest_run_folder(data_dir / "published")
    if latest is None or latest.name != run_id:
        stays = "withdrawn" if latest is None else latest.name
        print(f"run {run_id} published {data_dir / 'published/runs' / run_id}; latest stays on {stays}")
    else:
        print(f"run {run_id} published {latest}")
    _print_counts(Manifest.read(data_dir / "published/runs" / run_id / MANIFEST))
    print(f"clean lists: {data_dir / 'published' / LATEST / 'clean'}/<campaign>.csv and .parquet")
    print(f"warehouse:   {data_dir / 'warehouse.duckdb'}")


def _print_remote_summary(storage: ObjectStorage, *, client: str | None, run_id: str) -> None:
    """`_print_summary` for a data directory on object storage, read back from the bucket."""
    home = "" if client is None else f"{CLIENTS}/{client}/"
    run_dir = f"{home}published/runs/{run_id}"
    pointer = storage.read(f"{home}published/{LATEST_POINTER}")
    latest = None if pointer is None else Latest.parse(pointer.data)
    if latest is None or latest.run_id != run_id or latest.withdrawn is not None:
        print(f"run {run_id} published {storage.where(run_dir)}; latest stays on {latest.run_id if latest else None}")
    else:
        pointer_url = storage.where(f"{home}published/{LATEST_POINTER}")
        print(f"run {run_id} published {storage.where(run_dir)}, now latest ({pointer_url})")
    manifest = storage.read(f"{run_dir}/{MANIFEST}")
    if manifest is not None:
        _print_counts(Manifest.parse(manifest.data))
    print(f"clean lists: {storage.where(run_dir)}/clean/<campaign>.csv and .parquet")
    print(f"warehouse:   {storage.where(home + 'warehouse.duckdb')} (views over paths relative to its folder)")


def _print_counts(manifest: Manifest) -> None:
    """Per campaign the rows in and each outcome with its rate."""
    counts = pl.DataFrame([row.model_dump() for row in manifest.reconciliation])
    table = counts.select(
        "campaign", pl.col("count_rows_in").alias("rows in"), *(_with_rate(outcome) for outcome in OUTCOMES)
    )
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=-1, tbl_width_chars=120):
        print(table)
