"""The nightly job on a data directory on object storage (`s3://bucket/prefix`, through its staging folder:
`pipelines.publishing.staging`) publishes, row for row, what it publishes on a local folder, and by the same
atomic contract: a run killed while it sends its publish back leaves `latest.json` on the previous complete run."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.cli import main
from assets.constants import CLIENTS_PARTITIONS, NIGHTLY_SCRUB_JOB, WITHDRAW_EXPIRED_LISTS_JOB
from assets.definitions import build_definitions
from assets.memo import REUSED
from assets.run_clock import AS_OF_TAG
from assets.run_command import EXIT_BUSY
from data.generate import COMMITTED_AS_OF, generate
from pipelines.errors import ConfigError
from pipelines.operations.run_lock import hold_object_lock
from pipelines.publishing.staging import STAGING_VARIABLE
from pipelines.publishing.warehouse import open_warehouse
from pipelines.storage import ObjectStorage
from tests.assets.test_nightly_scrub import run_nightly, step_failure
from tests.assets.test_runs_never_mix import REPOSITORY, scrubline, subprocess_environment
from tests.handmade import RUN_AS_OF, RUN_TAGS, write_clients_data_dir
from tests.object_storage import S3Server


@pytest.fixture
def on_s3(s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A prefix of the test server's bucket for a data directory, reached by the standard AWS variables, and a
    staging folder under the test's own folder."""
    for name, value in s3.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(STAGING_VARIABLE, str(tmp_path / "staging"))
    return f"s3://scrubline/{tmp_path.name}/data"


def upload(local: Path, url: str) -> ObjectStorage:
    """Every file under `local` into the data directory at `url`."""
    storage = ObjectStorage(url)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            storage.upload(path, path.relative_to(local).as_posix())
    return storage


def download(storage: ObjectStorage, local: Path) -> Path:
    """Every object of the data directory `storage` into `local`, as a reader of the bucket would see it."""
    for path, _ in storage.list():
        storage.download(path, local / path)
    return local


def run_on(url: str) -> dg.ExecuteInProcessResult:
    """The nightly job on the data directory at `url`, in-process, as of the suite's clock."""
    job = build_definitions(url).resolve_job_def(NIGHTLY_SCRUB_JOB)
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=RUN_TAGS)


def latest_run_id(published: Path) -> str:
    return json.loads((published / "latest.json").read_text())["run_id"]


def published_frames(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Every Parquet file of the latest published run, by path, its run id written `<run>` wherever it appears."""
    run_id = latest_run_id(data_dir / "published")
    run_dir = data_dir / "published/runs" / run_id
    return {
        path.relative_to(run_dir).as_posix(): without_run_id(pl.read_parquet(path), run_id)
        for path in sorted(run_dir.rglob("*.parquet"))
    }


def without_run_id(frame: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """`frame` with the run id in its text columns written `<run>`, and without when the run was created and
    published (the wall clock, not the run's): two runs of the same inputs on the same clock differ in nothing else."""
    return frame.with_columns(pl.col(pl.String).str.replace_all(run_id, "<run>", literal=True)).drop(
        "run_created_at", "published_at", strict=False
    )


def certificates(data_dir: Path) -> dict[str, dict]:
    """Each clean list's certificate and validity of the latest run, without what names the run or when it ran."""
    run_id = latest_run_id(data_dir / "published")
    run_dir = data_dir / "published/runs" / run_id
    made = {}
    for path in sorted((run_dir / "clean").glob("*.json")):
        record = json.loads(path.read_text().replace(run_id, "<run>"))
        made[path.name] = {key: value for key, value in record.items() if key not in {"issued_at", "published_at"}}
    return made


def warehouse_tables(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Every table and view of the warehouse, as the analyst reads it beside its data directory; in the order of
    its flat columns, since a view without `order by` gives its rows in the order DuckDB's threads read them."""
    run_id = latest_run_id(data_dir / "published")
    with open_warehouse(data_dir / "warehouse.duckdb") as warehouse:
        names = [name for (name,) in warehouse.execute("select table_name from information_schema.tables").fetchall()]
        return {
            name: in_order(without_run_id(warehouse.sql(f'select * from "{name}"').pl(), run_id))
            for name in sorted(names)
        }


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    flat = [name for name, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(flat, nulls_last=True) if flat else frame


def test_the_nightly_job_on_s3_publishes_row_for_row_what_it_publishes_on_a_local_folder(
    on_s3: str, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    generate(local, as_of=COMMITTED_AS_OF)
    storage = upload(local, on_s3)

    assert run_nightly(local).success
    on_bucket = run_on(on_s3)

    assert on_bucket.success
    sent = download(storage, tmp_path / "from_s3")
    assert latest_run_id(sent / "published") == on_bucket.run_id
    frames, frames_on_s3 = published_frames(local), published_frames(sent)
    assert frames_on_s3.keys() == frames.keys()
    assert {"clean/spring_promo.parquet", "suppressed/spring_promo.parquet", "history/number_outcomes.parquet"} <= set(
        frames
    )
    for path, frame in frames.items():
        assert frames_on_s3[path].equals(frame), path
    assert certificates(sent) == certificates(local)
    tables, tables_on_s3 = warehouse_tables(local), warehouse_tables(sent)
    assert tables_on_s3.keys() == tables.keys()
    assert {"clean_call_lists", "suppressed", "suppression_reasons", "number_history", "runs"} <= set(tables)
    for name, table in tables.items():
        assert tables_on_s3[name].equals(table), name
    # Its staging folder went with its intermediates; nothing but the published data is left of the run.
    assert not (tmp_path / "staging").exists() or not any((tmp_path / "staging").rglob("work"))
    assert next(iter(storage.list("work")), None) is None
    assert storage.read(".scrubline.lock") is None


def scrubline_on(url: str, *arguments: str, stop_at: str | None = None) -> subprocess.Popen:
    """`scrubline run` on the data directory at `url` in a subprocess (optionally stopping itself at a stage), as of
    the suite's clock, with the test's AWS variables and staging folder."""
    command = scrubline("run", "--data-dir", url, "--as-of", RUN_AS_OF.isoformat(), *arguments, stop_at=stop_at)
    return subprocess.Popen(command, cwd=REPOSITORY, env=subprocess_environment(), stderr=subprocess.PIPE, text=True)


def kill_at(stage: str, url: str) -> None:
    """Run `scrubline run` on `url` in a subprocess and kill it with SIGKILL where it stops itself at `stage`."""
    with scrubline_on(url, stop_at=stage) as process:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"scrubline ended before the {stage} stage: {process.stderr.read()}"
        process.kill()


def objects(storage: ObjectStorage, prefix: str) -> set[str]:
    return {path for path, _ in storage.list(prefix)}


@pytest.mark.parametrize("stage", ["send", "swap"])
def test_a_run_killed_while_it_sends_its_publish_to_s3_leaves_latest_on_the_previous_complete_run(
    stage: str, on_s3: str, data_dir: Path
) -> None:
    storage = upload(data_dir, on_s3)
    first = run_on(on_s3)
    assert first.success
    complete = objects(storage, "published/runs")

    kill_at(stage, on_s3)

    pointer = storage.read("published/latest.json")
    assert pointer is not None and json.loads(pointer.data)["run_id"] == first.run_id
    left = objects(storage, "published/runs") - complete
    assert left  # the dead run's files: a reader following latest.json never reaches them
    assert any(path.endswith("/manifest.json") for path in left) == (stage == "swap")
    # Nothing releases the lock of a dead run on object storage: the next run is told whose it is and what to do.
    with scrubline_on(on_s3) as refused:
        _, err = refused.communicate()
    assert refused.returncode == EXIT_BUSY
    (dead_run,) = {path.split("/")[2] for path in left}
    assert f"{on_s3} is in use by run {dead_run}" in err
    assert f"remove {on_s3}/.scrubline.lock" in err

    storage.delete([".scrubline.lock"])  # the stale-lock recovery of docs/operations.md
    later = run_on(on_s3)

    assert later.success
    pointer = storage.read("published/latest.json")
    assert pointer is not None and json.loads(pointer.data)["run_id"] == later.run_id
    runs = {path.split("/")[2] for path in objects(storage, "published/runs")}
    assert runs == {first.run_id, later.run_id}  # the dead run's leftovers removed from the bucket too


def test_scrubline_run_on_a_taken_data_directory_exits_3_naming_the_holder(
    on_s3: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with hold_object_lock(ObjectStorage(on_s3), run_id="nightly-run", wait=False):
        assert main(["run", "--data-dir", on_s3]) == EXIT_BUSY
    assert f"{on_s3} is in use by run nightly-run" in capsys.readouterr().err


def test_an_unreachable_endpoint_is_named_with_the_settings_to_check(
    on_s3: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: nothing listens

    assert main(["run", "--data-dir", on_s3]) == 2

    err = capsys.readouterr().err
    assert f"scrubline: {on_s3}/.scrubline.lock: cannot reach it" in err
    assert "check AWS_ENDPOINT_URL" in err
    assert "Debug source" not in err  # obstore's page of HTTP client internals is left out


def test_scrubline_run_on_s3_publishes_there_and_says_where(
    on_s3: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = upload(data_dir, on_s3)

    assert main(["run", "--data-dir", on_s3, "--as-of", RUN_AS_OF.isoformat()]) == 0

    pointer = storage.read("published/latest.json")
    assert pointer is not None
    run_id = json.loads(pointer.data)["run_id"]
    out = capsys.readouterr().out
    assert f"run {run_id} published {on_s3}/published/runs/{run_id}, now latest ({on_s3}/published/latest.json)" in out
    assert f"warehouse:   {on_s3}/warehouse.duckdb" in out
    assert storage.read(f"published/runs/{run_id}/manifest.json") is not None
    assert storage.read(".scrubline.lock") is None
    assert not any((tmp_path / "staging").rglob(run_id))  # it published: its staging folder went


def test_a_configuration_error_on_s3_exits_2_before_any_run_and_leaves_no_lock(
    on_s3: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "scrubline.yaml").write_text("campaigns: [\n", encoding="utf-8")
    storage = upload(data_dir, on_s3)

    assert main(["run", "--data-dir", on_s3]) == 2

    assert f"scrubline: {on_s3}/scrubline.yaml" in capsys.readouterr().err
    assert storage.read(".scrubline.lock") is None
    assert not any(path.is_file() for path in (tmp_path / "staging").rglob("*"))


def test_a_data_directory_on_s3_is_refused_with_a_process_per_step(on_s3: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^{on_s3}: a data directory on object storage runs each run in one process"
    ):
        build_definitions(on_s3, dg.multiprocess_executor)


def test_each_client_s_run_on_s3_publishes_in_its_own_folder(on_s3: str, tmp_path: Path) -> None:
    storage = upload(write_clients_data_dir(tmp_path / "data"), on_s3)
    defs = build_definitions(on_s3)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(CLIENTS_PARTITIONS, ["north", "south"])
    scrub = defs.resolve_job_def(NIGHTLY_SCRUB_JOB)

    north = scrub.execute_in_process(instance=instance, partition_key="north", tags=RUN_TAGS)

    assert north.success
    assert json.loads(storage.read("clients/north/published/latest.json").data)["run_id"] == north.run_id
    assert storage.read("clients/south/published/latest.json") is None
    assert storage.read("published/latest.json") is None
    south = scrub.execute_in_process(instance=instance, partition_key="south", tags=RUN_TAGS)
    assert south.success
    assert json.loads(storage.read("clients/south/published/latest.json").data)["run_id"] == south.run_id
    assert json.loads(storage.read("clients/north/published/latest.json").data)["run_id"] == north.run_id


def test_a_run_on_s3_that_loses_the_race_for_latest_fails_its_publish_and_moves_nothing(
    on_s3: str, data_dir: Path, tmp_path: Path
) -> None:
    storage = upload(data_dir, on_s3)
    first = run_on(on_s3)
    assert first.success
    theirs = b'{"run_id": "another-publisher"}'

    def publish_meanwhile() -> None:
        """Another publisher moves latest.json once the run has staged (read) it, long before it publishes."""
        deadline = time.monotonic() + 60
        while not any((tmp_path / "staging").rglob(".staged.json")) and time.monotonic() < deadline:
            time.sleep(0.01)
        storage.put("published/latest.json", theirs)

    assert not any((tmp_path / "staging").rglob(".staged.json"))  # the first run's staging folder went with it
    other = threading.Thread(target=publish_meanwhile)
    other.start()
    lost = run_on(on_s3)
    other.join()

    assert not lost.success
    step, message = step_failure(lost)
    assert step == "publish"
    assert f"{on_s3}/published/latest.json changed since this run read it" in message
    assert storage.read("published/latest.json").data == theirs
    assert storage.read(".scrubline.lock") is None


def test_the_hourly_job_on_s3_withdraws_the_latest_list_in_the_bucket(on_s3: str, data_dir: Path) -> None:
    storage = upload(data_dir, on_s3)
    published = run_on(on_s3)
    assert published.success
    valid_through = json.loads(storage.read(f"published/runs/{published.run_id}/manifest.json").data)["valid_through"]
    withdraw = build_definitions(on_s3).resolve_job_def(WITHDRAW_EXPIRED_LISTS_JOB)

    at_expiry = withdraw.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags={AS_OF_TAG: valid_through})

    assert at_expiry.success
    latest = json.loads(storage.read("published/latest.json").data)
    assert latest["run_id"] == published.run_id
    assert latest["withdrawn"] is not None
    assert storage.read("published/EXPIRED") is None  # a local folder's marker; readers of S3 follow latest.json
    assert storage.read(".scrubline.lock") is None


def test_a_run_on_s3_reuses_the_frames_an_earlier_run_remembered_fetching_only_those(
    on_s3: str, data_dir: Path
) -> None:
    storage = upload(data_dir, on_s3)
    first = run_on(on_s3)
    assert first.success
    remembered = objects(storage, "memo")
    assert remembered

    again = run_on(on_s3)

    assert again.success
    (materialization,) = again.asset_materializations_for_node("dialler_leads")
    assert materialization.metadata[REUSED].value is True
    assert objects(storage, "memo") == remembered  # the same frames, kept, none sent again under a new name
    first_clean, again_clean = (
        pl.read_parquet(storage.read(f"published/runs/{run.run_id}/clean/spring.parquet").data)
        for run in (first, again)
    )
    assert again_clean.equals(first_clean)
