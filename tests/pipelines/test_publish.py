"""Publishing is atomic: `latest` moves only to a complete run; the warehouse is swapped whole."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.expiry import EXPIRED, list_status, withdraw_if_expired
from pipelines.publish import build_warehouse, publish_run, write_quarantine

MANIFEST = {"run_id": "r1", "valid_through": "2026-12-19T00:00:00+00:00"}
GOOD = {
    "clean/a.parquet": pl.DataFrame({"phone_e164": ["+12015550123"]}),
    "clean/a.csv": pl.DataFrame({"phone_e164": ["+12015550123"]}),
}


def test_a_complete_run_becomes_latest_and_its_date(tmp_path: Path) -> None:
    run_dir = publish_run(
        GOOD, published_dir=tmp_path, run_id="r1", run_date=date(2026, 11, 27), manifest={"run_id": "r1"}
    )
    assert run_dir == tmp_path / "runs/r1"
    assert (tmp_path / "latest").resolve() == run_dir
    assert (tmp_path / "2026-11-27").resolve() == run_dir
    manifest = json.loads((tmp_path / "latest/manifest.json").read_text())
    assert manifest["run_id"] == "r1"
    assert {path: output["rows"] for path, output in manifest["outputs"].items()} == {
        "clean/a.parquet": 1,
        "clean/a.csv": 1,
    }
    assert (tmp_path / "latest/clean/a.csv").read_text() == "phone_e164\n+12015550123\n"


def test_a_run_that_fails_midway_leaves_latest_on_the_previous_run(tmp_path: Path) -> None:
    publish_run(GOOD, published_dir=tmp_path, run_id="r1", run_date=date(2026, 11, 27), manifest={})
    # A nested column cannot be written as CSV: the write fails after the Parquet files are down.
    broken = {**GOOD, "clean/b.csv": pl.DataFrame({"sources": [["x"]]})}
    with pytest.raises(pl.exceptions.ComputeError):
        publish_run(broken, published_dir=tmp_path, run_id="r2", run_date=date(2026, 11, 28), manifest={})
    assert (tmp_path / "latest").resolve() == tmp_path / "runs/r1"
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == ["r1"]
    assert not (tmp_path / "2026-11-28").exists()


def test_a_second_run_on_the_same_date_replaces_the_date_link(tmp_path: Path) -> None:
    for run_id in ("r1", "r2"):
        publish_run(GOOD, published_dir=tmp_path, run_id=run_id, run_date=date(2026, 11, 27), manifest={})
    assert (tmp_path / "2026-11-27").resolve() == tmp_path / "runs/r2"
    assert (tmp_path / "latest").resolve() == tmp_path / "runs/r2"


def test_the_warehouse_is_swapped_in_while_a_reader_holds_the_old_one(tmp_path: Path) -> None:
    views = {
        "clean/a.parquet": pl.DataFrame({"phone_e164": ["+12015550123"]}),
        "suppressed/a.parquet": pl.DataFrame({"x": [1]}),
        "invalid/a.parquet": pl.DataFrame({"x": [1]}),
        "deferred/a.parquet": pl.DataFrame({"x": [1]}),
        "analytics/numbers.parquet": pl.DataFrame({"x": [1]}),
        "crm/contacts.parquet": pl.DataFrame({"x": [1]}),
        "suppression/suppression_list.parquet": pl.DataFrame({"x": [1]}),
    }
    first = publish_run(
        views, published_dir=tmp_path / "published", run_id="r1", run_date=date(2026, 11, 27), manifest=MANIFEST
    )
    warehouse = tmp_path / "warehouse.duckdb"
    build_warehouse(warehouse, run_dir=first, status=list_status(first))
    with duckdb.connect(str(warehouse), read_only=True) as analyst:
        second_views = {**views, "clean/a.parquet": pl.DataFrame({"phone_e164": ["+1", "+2"]})}
        second = publish_run(
            second_views,
            published_dir=tmp_path / "published",
            run_id="r2",
            run_date=date(2026, 11, 28),
            manifest={**MANIFEST, "run_id": "r2"},
        )
        build_warehouse(warehouse, run_dir=second, status=list_status(second))
        assert analyst.execute("select count(*) from clean_call_lists").fetchone() == (1,)
    with duckdb.connect(str(warehouse), read_only=True) as analyst:
        assert analyst.execute("select count(*) from clean_call_lists").fetchone() == (2,)
        assert analyst.execute("select run_id, status from list_status").fetchall() == [("r2", "current")]


def test_publishing_a_new_run_clears_an_expired_marker(tmp_path: Path) -> None:
    publish_run(GOOD, published_dir=tmp_path, run_id="r1", run_date=date(2026, 11, 27), manifest=MANIFEST)
    assert withdraw_if_expired(tmp_path, now=datetime(2026, 12, 20, tzinfo=UTC)) is not None
    publish_run(GOOD, published_dir=tmp_path, run_id="r2", run_date=date(2026, 12, 20), manifest=MANIFEST)
    assert (tmp_path / "latest").resolve() == tmp_path / "runs/r2"
    assert not (tmp_path / EXPIRED).exists()


def test_quarantine_is_written_only_when_there_is_something_in_it(tmp_path: Path) -> None:
    assert write_quarantine(pl.DataFrame({"source_row": []}), quarantine_dir=tmp_path, name="crm") is None
    path = write_quarantine(pl.DataFrame({"source_row": [3]}), quarantine_dir=tmp_path, name="crm")
    assert path == tmp_path / "crm.parquet"
    assert pl.read_parquet(path).rows() == [(3,)]
