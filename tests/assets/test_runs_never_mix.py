"""Runs never mix: each run has its own intermediates, one run at a time holds a data directory, `latest`
moves only forward and only to a complete run, and a run killed at any stage harms no later one."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.cli import main
from assets.constants import NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions
from assets.run_clock import AS_OF_TAG
from assets.run_command import EXIT_BUSY
from pipelines.operations.run_lock import hold_data_dir
from pipelines.publishing.warehouse import open_warehouse
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import INBOX, RUN_AS_OF, RUN_TAGS, SCRUBLINE_YAML, write_data_dir

REPOSITORY = Path(__file__).parents[2]


def latest_run(data_dir: Path) -> str:
    """The run `latest.json` names, which the local `latest` link repeats."""
    run_id = json.loads((data_dir / "published/latest.json").read_text())["run_id"]
    assert (data_dir / "published/latest").resolve().name == run_id
    return run_id


def scrubline(*arguments: str, stop_at: str | None = None) -> list[str]:
    """The command line of a `scrubline` subprocess running this worktree's code (optionally stopping at a stage)."""
    module = (
        ["-m", "tests.stop_at", stop_at]
        if stop_at
        else ["-c", "import sys; from assets.cli import main; sys.exit(main())"]
    )
    return [sys.executable, *module, *arguments]


def subprocess_environment(**variables: str) -> dict[str, str]:
    return {**{key: value for key, value in os.environ.items() if key != "DAGSTER_HOME"}, **variables}


def test_each_run_keeps_its_intermediates_in_its_own_folder_until_it_publishes(tmp_path: Path) -> None:
    # A litigator list with no number in its jurisdiction fails a check on the suppression list, after it is made.
    inbox = {**INBOX, "registries/litigators/litigators.txt": "+44 20 7946 0018\n"}
    failing = write_data_dir(tmp_path / "data", inbox, SCRUBLINE_YAML + "    jurisdiction: [US]\n")
    failed = run_nightly(failing)
    assert not failed.success
    failed_work = failing / "work" / failed.run_id
    assert (failed_work / "dialler_leads.parquet").is_file()

    write_data_dir(failing)  # the litigator list fixed
    recent = failing / "work/recent-failure"
    recent.mkdir()
    for folder, age in ((failed_work, timedelta(days=7, minutes=1)), (recent, timedelta(days=6))):
        os.utime(folder, times=((RUN_AS_OF - age).timestamp(),) * 2)
    published = run_nightly(failing)

    assert published.success
    assert sorted(path.name for path in (failing / "work").iterdir()) == ["recent-failure"]
    (materialization,) = published.asset_materializations_for_node("publish")[:1]
    assert materialization.metadata["pruned_work_dirs"].value == [failed.run_id]


def test_retention_archives_old_runs_and_prunes_old_quarantine_but_history_keeps_every_run(tmp_path: Path) -> None:
    config = SCRUBLINE_YAML + "retention:\n  run_days: 1\n  quarantine_days: 30\n"
    data_dir = write_data_dir(tmp_path / "data", INBOX, config)
    old, latest = (run_nightly(data_dir, tags={AS_OF_TAG: (RUN_AS_OF - timedelta(days=days)).isoformat()})
                   for days in (3, 2))  # fmt: skip
    assert old.success
    assert latest.success
    os.utime(data_dir / "quarantine" / old.run_id, times=((RUN_AS_OF - timedelta(days=31)).timestamp(),) * 2)

    new = run_nightly(data_dir)

    assert new.success
    (materialization,) = new.asset_materializations_for_node("publish")[:1]
    assert materialization.metadata["archived_runs"].value == [old.run_id]
    assert materialization.metadata["pruned_quarantine"].value == [old.run_id]
    # The run latest pointed at when the new one started is kept, however old.
    assert sorted(path.name for path in (data_dir / "published/runs").iterdir()) == sorted([latest.run_id, new.run_id])
    assert sorted(path.name for path in (data_dir / "quarantine").iterdir()) == sorted([latest.run_id, new.run_id])
    assert (data_dir / "published/archive" / old.run_id / "clean/spring.certificate.json").is_file()
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        runs = analyst.execute("select distinct run_id from number_history order by run_id").fetchall()
    assert sorted(runs) == sorted([(old.run_id,), (latest.run_id,), (new.run_id,)])


def test_a_job_run_waits_for_the_run_holding_the_data_directory(data_dir: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    run_id = str(uuid.uuid4())

    def messages() -> list[str]:
        return [entry.user_message for entry in instance.all_logs(run_id)]

    def hold_until_waited_for() -> None:
        """Another run's lock, released once the job says it waits for it (or after two minutes)."""
        with hold_data_dir(data_dir, run_id="run-started-by-the-command-line", wait=False):
            held.set()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any("waiting:" in message for message in messages()):
                time.sleep(0.2)

    held = threading.Event()
    holder = threading.Thread(target=hold_until_waited_for)
    holder.start()
    held.wait()
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)

    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=RUN_TAGS, run_id=run_id)

    holder.join()
    assert result.success
    assert any("waiting:" in message and "run run-started-by-the-command-line" in message for message in messages())


def test_scrubline_run_without_wait_exits_when_another_run_holds_the_data_directory(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with hold_data_dir(data_dir, run_id="the-other-run", wait=False):
        code = main(["run", "--data-dir", str(data_dir)])
    assert code == EXIT_BUSY
    err = capsys.readouterr().err
    assert f"scrubline: {data_dir} is in use by run the-other-run (pid {os.getpid()}" in err
    assert "scrubline run --wait" in err
    assert not (data_dir / "published").exists()


def test_two_runs_started_together_run_one_after_the_other_and_the_later_one_sees_a_new_opt_out(
    data_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The instance's storage exists before the runs, as under a running UI (two processes creating it race).
    instance = dg.DagsterInstance.from_config(str(home))
    run = scrubline("run", "--wait", "--data-dir", str(data_dir))
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with ExitStack() as stack:
        runs = [
            stack.enter_context(
                subprocess.Popen(run, cwd=REPOSITORY, env=subprocess_environment(DAGSTER_HOME=str(home)), stderr=log)
            )
            for log in (stack.enter_context(path.open("w")) for path in logs)
        ]
        # An opt-out for L1's number arrives while the first run holds the data directory.
        lock = data_dir / ".scrubline.lock"
        while not lock.is_file() or not lock.read_text():
            assert all(process.poll() is None for process in runs), [path.read_text() for path in logs]
        optouts = data_dir / "inbox/registries/internal/optouts.csv"
        optouts.write_text(optouts.read_text() + "2015550123,2026-11-26\n")
        assert [process.wait() for process in runs] == [0, 0], [path.read_text() for path in logs]
    assert sum("scrubline: waiting:" in path.read_text() for path in logs) == 1

    (_, first_end, first_id), (second_start, _, second_id) = sorted(
        (record.start_time, record.end_time, record.dagster_run.run_id) for record in instance.get_run_records()
    )
    assert first_end <= second_start
    assert latest_run(data_dir) == second_id
    for run_id in (first_id, second_id):
        published = data_dir / "published/runs" / run_id
        clean = pl.read_parquet(published / "clean/*.parquet")
        suppression = pl.read_parquet(published / "suppression/suppression_list.parquet")
        assert clean.join(suppression, on="phone_e164", how="semi").height == 0
    later_clean = pl.read_parquet(data_dir / "published/latest/clean/*.parquet")
    assert "+12015550123" not in later_clean.get_column("phone_e164").to_list()
    assert not any((data_dir / "work").iterdir())


def kill_at(stage: str, data_dir: Path) -> None:
    """Run `scrubline run` in a subprocess and kill it with SIGKILL where it stops itself at `stage`."""
    command = scrubline("run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat(), stop_at=stage)
    with subprocess.Popen(
        command, cwd=REPOSITORY, env=subprocess_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"scrubline ended before the {stage} stage"
        process.kill()


def test_a_run_killed_at_any_stage_leaves_latest_on_a_complete_run_and_the_next_run_succeeds(data_dir: Path) -> None:
    assert run_nightly(data_dir).success
    complete = latest_run(data_dir)

    kill_at("scrub", data_dir)
    assert latest_run(data_dir) == complete

    kill_at("publish", data_dir)
    assert latest_run(data_dir) == complete
    (truncated,) = (
        path
        for path in (data_dir / "published/runs").glob("*/history/number_outcomes.parquet")
        if not (path.parents[1] / "manifest.json").exists()
    )

    kill_at("warehouse", data_dir)
    assert latest_run(data_dir) == complete
    assert list(data_dir.glob(".warehouse.duckdb.building"))
    (never_pointed_at,) = (
        path.parent
        for path in (data_dir / "published/runs").glob("*/manifest.json")
        if path.parent.name != complete and path.parent != truncated.parents[1]
    )

    result = run_nightly(data_dir)

    assert result.success
    assert latest_run(data_dir) == result.run_id
    assert json.loads((data_dir / "published/latest/manifest.json").read_text())["run_id"] == result.run_id
    assert not truncated.exists()
    assert not never_pointed_at.exists()
    assert not list(data_dir.glob(".warehouse.duckdb.building"))
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        on_the_run_date = "select distinct run_id from number_history where run_date = ?"
        assert analyst.execute(on_the_run_date, [RUN_AS_OF.date()]).fetchall() == [(result.run_id,)]
