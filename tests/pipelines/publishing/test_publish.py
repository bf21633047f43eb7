"""Publishing is atomic: `latest` moves only to a complete run; the warehouse is swapped whole."""

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.parquet_files import FrameFile, write_parquet
from pipelines.publishing.expiry import withdraw_if_expired
from pipelines.publishing.latest import AlreadyPublishedError
from pipelines.publishing.links import EXPIRED
from pipelines.publishing.publish import (
    NUMBER_OUTCOMES,
    PublishedRun,
    archive_old_runs,
    clear_unfinished_publishing,
    publish_run,
    write_quarantine,
)
from pipelines.publishing.warehouse import open_warehouse
from pipelines.records import Manifest


def clean(*phones: str) -> pl.DataFrame:
    """A clean list of `phones`, with the columns the warehouse's `outcomes` reads."""
    return pl.DataFrame(
        {"campaign": "a", "lead_id": "L1", "phone_e164": list(phones), "source_file": "a", "source_row": 1,
         "exemption_reason": None},
        schema={"campaign": pl.String, "lead_id": pl.String, "phone_e164": pl.String, "source_file": pl.String,
                "source_row": pl.Int64, "exemption_reason": pl.String},
    )  # fmt: skip


# One file behind each warehouse view, with the columns the views over them read, so the warehouse builds.
ROW = {"campaign": ["a"], "lead_id": ["L1"], "phone_e164": ["+12015550123"], "source_file": ["a"], "source_row": [1]}
SOURCES = pl.List(pl.Struct({"source_name": pl.String, "source_file": pl.String, "downloaded_on": pl.Date,
                             "block_prefix": pl.String, "requested_at": pl.Datetime("us", "UTC")}))  # fmt: skip
GOOD = {
    "clean/a.parquet": clean("+12015550123"),
    "clean/a.csv": pl.DataFrame({"phone_e164": ["+12015550123"]}),
    "suppressed/a.parquet": pl.DataFrame(
        {**ROW, "outcome": ["suppressed"], "reason": ["x"], "exemption_reason": [None], "suppression_sources": [None]},
        schema_overrides={"exemption_reason": pl.String, "suppression_sources": SOURCES},
    ),
    "invalid/a.parquet": pl.DataFrame({**ROW, "outcome": ["invalid"], "reason": ["empty"]}),
    "deferred/a.parquet": pl.DataFrame(
        {**ROW, "outcome": ["deferred"], "reason": ["x"], "exemption_reason": [None]},
        schema_overrides={"exemption_reason": pl.String},
    ),
    "analytics/numbers.parquet": pl.DataFrame({"x": [1]}),
    "crm/contacts.parquet": pl.DataFrame({"x": [1]}),
    "suppression/suppression_list.parquet": pl.DataFrame({"x": [1]}),
}
CREATED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def publish(
    tmp_path: Path,
    run_id: str,
    *,
    outputs: Mapping[str, pl.DataFrame] = GOOD,
    run_date: date = date(2026, 11, 27),
    created_after_minutes: int = 0,
) -> PublishedRun:
    return publish_run(
        outputs,
        published_dir=tmp_path / "published",
        warehouse=tmp_path / "warehouse.duckdb",
        run_id=run_id,
        run_date=run_date,
        run_created_at=CREATED + timedelta(minutes=created_after_minutes),
        manifest=Manifest(
            run_id=run_id,
            run_started_at=datetime.combine(run_date, time(2), tzinfo=UTC),
            valid_through=datetime(2026, 12, 19, tzinfo=UTC),
            published_at=CREATED,
        ),
    )


def latest(tmp_path: Path) -> str:
    return (tmp_path / "published/latest").resolve().name


def count_clean(warehouse: Path) -> int:
    with open_warehouse(warehouse) as reader:
        return reader.execute("select count(*) from clean_call_lists").fetchone()[0]


def test_a_complete_run_becomes_latest_and_its_date(tmp_path: Path) -> None:
    published = publish(tmp_path, "r1")
    assert published == PublishedRun(tmp_path / "published/runs/r1", ["2026-11-27", "latest"], None)
    assert (tmp_path / "published/2026-11-27").resolve() == published.run_dir
    manifest = json.loads((tmp_path / "published/latest/manifest.json").read_text())
    assert (manifest["run_id"], manifest["run_created_at"]) == ("r1", "2026-11-27T02:00:00+00:00")
    assert manifest["outputs"]["clean/a.parquet"]["rows"] == 1
    assert (tmp_path / "published/latest/clean/a.csv").read_text() == "phone_e164\n+12015550123\n"
    assert count_clean(tmp_path / "warehouse.duckdb") == 1
    pointer = json.loads((tmp_path / "published/latest.json").read_text())
    assert (pointer["run_id"], pointer["manifest"]) == ("r1", "runs/r1/manifest.json")


def test_a_run_that_fails_midway_leaves_latest_on_the_previous_run(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    # A nested column cannot be written as CSV: the write fails after the Parquet files are down.
    broken = {**GOOD, "clean/b.csv": pl.DataFrame({"sources": [["x"]]})}
    with pytest.raises(pl.exceptions.ComputeError):
        publish(tmp_path, "r2", outputs=broken, run_date=date(2026, 11, 28), created_after_minutes=1)
    assert latest(tmp_path) == "r1"
    assert sorted(path.name for path in (tmp_path / "published/runs").iterdir()) == ["r1"]
    assert not (tmp_path / "published/2026-11-28").exists()


def test_a_run_whose_warehouse_fails_to_build_moves_no_link_and_leaves_no_run(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    without_suppressed = {path: frame for path, frame in GOOD.items() if not path.startswith("suppressed/")}
    with pytest.raises(duckdb.IOException, match="suppressed"):
        publish(tmp_path, "r2", outputs=without_suppressed, created_after_minutes=1)
    assert latest(tmp_path) == "r1"
    assert (tmp_path / "published/2026-11-27").resolve().name == "r1"
    assert sorted(path.name for path in (tmp_path / "published/runs").iterdir()) == ["r1"]
    assert count_clean(tmp_path / "warehouse.duckdb") == 1


def test_a_later_run_on_the_same_date_moves_the_date_link(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    publish(tmp_path, "r2", created_after_minutes=1)
    assert (tmp_path / "published/2026-11-27").resolve().name == "r2"
    assert latest(tmp_path) == "r2"


def test_a_run_that_started_earlier_but_finished_later_moves_no_link(tmp_path: Path) -> None:
    publish(tmp_path, "later", created_after_minutes=1)
    earlier = publish(tmp_path, "earlier", outputs={**GOOD, "clean/a.parquet": clean()})
    assert earlier == PublishedRun(tmp_path / "published/runs/earlier", [], None)
    assert latest(tmp_path) == "later"
    assert (tmp_path / "published/2026-11-27").resolve().name == "later"
    assert count_clean(tmp_path / "warehouse.duckdb") == 1
    assert not list(tmp_path.glob(".warehouse.duckdb.building*"))


def outcome(run_id: str, minute: int, day: date = date(2026, 11, 27)) -> pl.DataFrame:
    """A run's number outcomes: one number's, on `day`."""
    return pl.DataFrame(
        {
            "run_date": [day],
            "run_id": [run_id],
            "run_started_at": [CREATED],
            "run_created_at": [CREATED + timedelta(minutes=minute)],
            "campaign": ["a"],
            "phone_e164": ["+12015550123"],
        }
    )


def test_a_dead_runs_folder_without_manifest_is_never_read_and_is_cleared(tmp_path: Path) -> None:
    publish(tmp_path, "r1", outputs={**GOOD, NUMBER_OUTCOMES: outcome("r1", 0)})
    dead = tmp_path / "published/runs/dead" / NUMBER_OUTCOMES
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"PAR1 truncated by kill -9")
    (tmp_path / ".warehouse.duckdb.building").write_bytes(b"half")

    publish(tmp_path, "r2", outputs={**GOOD, NUMBER_OUTCOMES: outcome("r2", 1)}, created_after_minutes=1)
    with open_warehouse(tmp_path / "warehouse.duckdb") as reader:
        assert reader.execute("select run_id from number_history").fetchall() == [("r2",)]

    cleared = clear_unfinished_publishing(tmp_path / "published", warehouse=tmp_path / "warehouse.duckdb")
    assert cleared == [tmp_path / "published/runs/dead"]
    assert not (tmp_path / "published/runs/dead").exists()


def test_a_run_killed_after_its_manifest_but_before_latest_moved_is_cleared_and_never_in_history(
    tmp_path: Path,
) -> None:
    publish(tmp_path, "r1", outputs={**GOOD, NUMBER_OUTCOMES: outcome("r1", 0)})
    pointer = (tmp_path / "published/latest.json").read_bytes()
    next_day = date(2026, 11, 28)
    publish(
        tmp_path, "dead", outputs={**GOOD, NUMBER_OUTCOMES: outcome("dead", 1, next_day)}, run_date=next_day,
        created_after_minutes=1,
    )  # fmt: skip
    # Killed between its create-only manifest and its swap: the pointer still names r1.
    (tmp_path / "published/latest.json").write_bytes(pointer)

    cleared = clear_unfinished_publishing(tmp_path / "published", warehouse=tmp_path / "warehouse.duckdb")
    assert cleared == [tmp_path / "published/runs/dead"]
    assert latest(tmp_path) == "r1"
    day_after = date(2026, 11, 29)
    publish(
        tmp_path, "r2", outputs={**GOOD, NUMBER_OUTCOMES: outcome("r2", 2, day_after)}, run_date=day_after,
        created_after_minutes=2,
    )  # fmt: skip
    with open_warehouse(tmp_path / "warehouse.duckdb") as reader:
        assert reader.execute("select distinct run_id from number_history order by 1").fetchall() == [("r1",), ("r2",)]


def test_the_warehouse_is_swapped_in_while_a_reader_holds_the_old_one(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    with open_warehouse(tmp_path / "warehouse.duckdb") as analyst:
        publish(tmp_path, "r2", outputs={**GOOD, "clean/a.parquet": clean("+1", "+2")},
                created_after_minutes=1)  # fmt: skip
        assert analyst.execute("select count(*) from clean_call_lists").fetchone() == (1,)
    assert count_clean(tmp_path / "warehouse.duckdb") == 2
    with open_warehouse(tmp_path / "warehouse.duckdb") as analyst:
        assert analyst.execute("select run_id, status from list_status").fetchall() == [("r2", "current")]


def test_publishing_a_new_run_clears_an_expired_marker(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    assert withdraw_if_expired(tmp_path / "published", now=datetime(2026, 12, 20, tzinfo=UTC)) is not None
    publish(tmp_path, "r2", run_date=date(2026, 12, 20), created_after_minutes=1)
    assert latest(tmp_path) == "r2"
    assert not (tmp_path / "published" / EXPIRED).exists()


def test_a_latest_link_made_before_latest_json_existed_is_adopted_by_the_next_run(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    pointer = (tmp_path / "published/latest.json").read_text()
    (tmp_path / "published/latest.json").unlink()
    clear_unfinished_publishing(tmp_path / "published", warehouse=tmp_path / "warehouse.duckdb")
    assert (tmp_path / "published/latest.json").read_text() == pointer


def test_a_withdrawn_list_made_before_latest_json_existed_stays_withdrawn(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    withdrawal = withdraw_if_expired(tmp_path / "published", now=datetime(2026, 12, 20, tzinfo=UTC))
    # Before latest.json, a withdrawn list was the marker and no link, as now on a local folder.
    (tmp_path / "published/latest.json").unlink()
    clear_unfinished_publishing(tmp_path / "published", warehouse=tmp_path / "warehouse.duckdb")
    assert json.loads((tmp_path / "published/latest.json").read_text())["withdrawn"] == withdrawal
    assert not (tmp_path / "published/latest").exists()


def test_a_run_killed_between_latest_json_and_its_link_has_the_link_repaired(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    publish(tmp_path, "r2", created_after_minutes=1)
    (tmp_path / "published/latest").unlink()
    (tmp_path / "published/latest").symlink_to("runs/r1")
    clear_unfinished_publishing(tmp_path / "published", warehouse=tmp_path / "warehouse.duckdb")
    assert latest(tmp_path) == "r2"


@contextmanager
def analyst(script: str) -> Iterator[subprocess.Popen[str]]:
    """Another process running DuckDB `script` (Python, `duckdb` imported), paused after it prints `ready`
    until a line arrives on its stdin; it ends when the block does."""
    command = [sys.executable, "-c", f"import duckdb, sys\n{script}"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as session:
        try:
            assert session.stdout.readline() == "ready\n"
            yield session
        finally:
            session.kill()


def writing_into(warehouse: Path, *, then: str = "") -> str:
    """An analyst's session that opens the warehouse in write mode, creates a table, says `ready`, waits for a
    line, then runs `then`."""
    return f"""
connection = duckdb.connect({str(warehouse)!r})
connection.execute("create table mine as select 42 as answer")
print("ready", flush=True)
sys.stdin.readline()
{then}
"""


def test_an_analyst_writing_into_the_warehouse_loses_nothing_and_locks_no_one_out(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    warehouse = tmp_path / "warehouse.duckdb"
    more = 'connection.execute("create table mine_too as select 43 as answer")\nconnection.close()\nprint("closed")'
    with analyst(writing_into(warehouse, then=more)) as session:
        published = publish(tmp_path, "r2", created_after_minutes=1)
        assert published.analyst_work_kept == tmp_path / "warehouse.analyst-r2.duckdb"
        assert count_clean(warehouse) == 1  # the new warehouse opens while the analyst is still at work
        session.stdin.write("go on\n")
        session.stdin.flush()
        assert session.stdout.readline() == "closed\n"
    with duckdb.connect(str(published.analyst_work_kept), read_only=True) as kept:
        assert kept.execute("select * from mine, mine_too").fetchall() == [(42, 43)]
    publish(tmp_path, "r3", created_after_minutes=2)
    assert count_clean(warehouse) == 1
    assert not (tmp_path / "warehouse.duckdb.wal").exists()


def test_an_analyst_killed_while_writing_leaves_no_log_beside_the_new_warehouse(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    warehouse = tmp_path / "warehouse.duckdb"
    with analyst(writing_into(warehouse)):
        pass  # killed with its write-ahead log on disk
    assert (tmp_path / "warehouse.duckdb.wal").exists()
    published = publish(tmp_path, "r2", created_after_minutes=1)
    assert not (tmp_path / "warehouse.duckdb.wal").exists()
    assert count_clean(warehouse) == 1
    with duckdb.connect(str(published.analyst_work_kept), read_only=True) as kept:
        assert kept.execute("select * from mine").fetchall() == [(42,)]


def test_an_analyst_database_attaching_the_warehouse_read_only_keeps_its_tables_across_runs(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    warehouse = tmp_path / "warehouse.duckdb"
    own = f"""
connection = duckdb.connect({str(tmp_path / "analyst.duckdb")!r})
connection.execute("set file_search_path = '{tmp_path}'")  # the warehouse's folder: its views read from there
connection.execute("attach '{warehouse}' as warehouse (read_only)")
connection.execute("create table mine as select count(*) as clean from warehouse.clean_call_lists")
print("ready", flush=True)
sys.stdin.readline()
connection.execute("detach warehouse")
connection.execute("attach '{warehouse}' as warehouse (read_only)")
connection.execute("insert into mine select count(*) from warehouse.clean_call_lists")
print(connection.execute("select clean from mine").fetchall(), flush=True)
"""
    with analyst(own) as session:
        two = {**GOOD, "clean/a.parquet": clean("+1", "+2")}
        assert publish(tmp_path, "r2", outputs=two, created_after_minutes=1).analyst_work_kept is None
        session.stdin.write("go on\n")
        session.stdin.flush()
        assert session.stdout.readline() == "[(1,), (2,)]\n"


def test_csv_cells_a_spreadsheet_would_execute_are_neutralised_and_phone_numbers_kept(tmp_path: Path) -> None:
    lead_ids = ['=HYPERLINK("http://x.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "L7"]
    leads = clean(*["+12015550123"] * len(lead_ids)).with_columns(lead_id=pl.Series(lead_ids))
    published = publish(tmp_path, "r1", outputs={**GOOD, "clean/a.csv": leads, "clean/a.parquet": leads})
    written = pl.read_csv(published.run_dir / "clean/a.csv", infer_schema=False)
    assert written.get_column("lead_id").to_list() == [f"'{lead_id}" for lead_id in lead_ids[:-1]] + ["L7"]
    assert written.get_column("phone_e164").to_list() == ["+12015550123"] * len(lead_ids)
    assert pl.read_parquet(published.run_dir / "clean/a.parquet").equals(leads)


def test_a_run_past_its_retention_keeps_only_its_manifest_certificates_and_outcomes_which_history_still_reads(
    tmp_path: Path,
) -> None:
    def publish_on(run_id: str, day: date, minute: int) -> PublishedRun:
        outputs = {**GOOD, NUMBER_OUTCOMES: outcome(run_id, minute, day)}
        return publish(tmp_path, run_id, outputs=outputs, run_date=day, created_after_minutes=minute)

    old = publish_on("old", date(2026, 10, 1), 0)
    (old.run_dir / "clean/a.certificate.json").write_text("{}")
    publish_on("kept", date(2026, 11, 1), 1)

    archived = archive_old_runs(tmp_path / "published", started_before=datetime(2026, 10, 2, tzinfo=UTC))

    assert archived == ["old"]
    assert sorted(path.name for path in (tmp_path / "published/runs").iterdir()) == ["kept"]
    archive = tmp_path / "published/archive/old"
    kept = sorted(str(path.relative_to(archive)) for path in archive.rglob("*") if path.is_file())
    assert kept == ["clean/a.certificate.json", "history/number_outcomes.parquet", "manifest.json"]
    assert not (tmp_path / "published/2026-10-01").is_symlink()
    assert latest(tmp_path) == "kept"
    publish_on("next", date(2026, 11, 2), 2)
    with open_warehouse(tmp_path / "warehouse.duckdb") as analyst:
        history = analyst.execute("select run_id from number_history order by run_created_at").fetchall()
    assert history == [("old",), ("kept",), ("next",)]


def test_quarantine_is_written_only_when_there_is_something_in_it(tmp_path: Path) -> None:
    assert write_quarantine(pl.DataFrame({"source_row": []}), quarantine_dir=tmp_path, name="crm") is None
    path = write_quarantine(pl.DataFrame({"source_row": [3]}), quarantine_dir=tmp_path, name="crm")
    assert path == tmp_path / "crm.parquet"
    assert pl.read_parquet(path).rows() == [(3,)]


def test_publishing_a_run_id_again_is_refused_and_leaves_the_published_run_whole(tmp_path: Path) -> None:
    publish(tmp_path, "r1")
    with pytest.raises(AlreadyPublishedError, match="run r1 is already published"):
        publish(tmp_path, "r1", outputs={**GOOD, "clean/a.parquet": clean()}, created_after_minutes=1)
    assert Manifest.read(tmp_path / "published/runs/r1/manifest.json").outputs["clean/a.parquet"].rows == 1
    assert count_clean(tmp_path / "warehouse.duckdb") == 1


def test_a_frame_handed_over_as_its_parquet_file_is_published_byte_for_byte_with_its_rows(tmp_path: Path) -> None:
    contacts = pl.DataFrame({"contact_id": ["C1", "C2", "C3"], "phone_e164": ["+12015550123", None, "+442079460018"]})
    written = tmp_path / "work/normalised_crm_contacts.parquet"
    written.parent.mkdir()
    write_parquet(contacts, written)
    published = publish(tmp_path, "r1", outputs={**GOOD, "crm/contacts.parquet": FrameFile(written)})
    assert (published.run_dir / "crm/contacts.parquet").read_bytes() == written.read_bytes()
    listed = Manifest.read(published.run_dir / "manifest.json").outputs["crm/contacts.parquet"]
    assert (listed.rows, listed.sha256) == (3, hashlib.sha256(written.read_bytes()).hexdigest())
