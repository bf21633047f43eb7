"""Call analytics through the nightly job: published under `analytics/`, in the warehouse, and in the UI's metadata.

The analytics describe the moment the run starts, so this call log is dated yesterday; the exact
figures are specified in tests/pipelines, this checks the wiring.
"""

from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.publishing.warehouse import open_warehouse
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import CALLS_YAML, INBOX, RUN_DATE, SCRUBLINE_YAML, write_data_dir

CALL_ANALYTICS = ("cli_days", "cli_health", "pool_capacity", "dialled_numbers", "call_limit_breaches")


def call_inbox(day: str) -> dict[str, str]:
    """CLI ...0101 calls twice (one answer), ...0102 (labelled spam_likely) once; the fourth record is unreadable."""
    return {
        "estate/clis.csv": (
            "cli,pool,carrier,attestation,reputation_label,reputation_checked_on\n"
            "201-555-0101,east,acme,A,,\n"
            "201-555-0102,east,acme,C,spam_likely,2026-01-05\n"
        ),
        "calls/log.csv": (
            "call_id,cli,dialled,started_at,duration_s,disposition,complaint\n"
            f"k1,201-555-0101,212-555-0142,{day}T14:00:00Z,60,answered,no\n"
            f"k2,201-555-0101,201-555-0123,{day}T14:10:00Z,5,no_answer,no\n"
            f"k3,201-555-0102,201-555-0123,{day}T14:20:00Z,30,answered,yes\n"
            f"k4,201-555-0101,201-555-0123,{day}T14:30:00Z,30,answered,no,extra\n"
        ),
    }


@pytest.fixture
def calls_run(tmp_path: Path) -> tuple[Path, dg.ExecuteInProcessResult]:
    yesterday = (RUN_DATE - timedelta(days=1)).isoformat()
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, **call_inbox(yesterday)}, SCRUBLINE_YAML + CALLS_YAML)
    result = run_nightly(data_dir)
    assert result.success
    return data_dir, result


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def test_call_analytics_are_published_and_in_the_warehouse(calls_run: tuple[Path, dg.ExecuteInProcessResult]) -> None:
    data_dir, _ = calls_run
    published = data_dir / "published/latest"
    counts = {name: pl.read_parquet(published / f"analytics/{name}.parquet").height for name in CALL_ANALYTICS}
    assert counts == {
        "cli_days": 2, "cli_health": 2, "pool_capacity": 1, "dialled_numbers": 2, "call_limit_breaches": 0,
    }  # fmt: skip
    assert pl.read_parquet(published / "analytics/dialled_numbers.parquet").select(
        "dialled_e164", "suppression_status"
    ).rows() == [("+12015550123", "callable"), ("+12125550142", "suppressed")]
    with open_warehouse(data_dir / "warehouse.duckdb") as connection:
        statuses = connection.execute(
            "select health_status, count(*) from cli_health group by all order by 1"
        ).fetchall()
        windows = connection.execute("select count(*), count(window_start_utc) from calling_windows").fetchone()
    assert statuses == [("healthy", 1), ("retire", 1)]
    assert windows == (4, 4)
    (quarantine_file,) = (data_dir / "quarantine").glob("*/calls.parquet")
    assert pl.read_parquet(quarantine_file).select("source_row", "quarantine_reason").rows() == [
        (4, "too many columns")
    ]


def test_cli_health_metadata_counts_statuses_names_the_worst_and_plots_answer_rates(
    calls_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    _, result = calls_run
    health = metadata(result, "cli_health")
    assert {key: value for key, value in health.items() if key.startswith("count_clis/")} == {
        "count_clis/healthy": 1,
        "count_clis/watch": 0,
        "count_clis/rest": 0,
        "count_clis/retire": 1,
    }
    assert {key: value for key, value in health.items() if key.startswith("answer_rate/")} == {
        "answer_rate/+1******0101": 0.5,
        "answer_rate/+1******0102": 1.0,
    }
    (worst,) = health["worst_clis"].records
    assert worst.data == {
        "cli": "+1******0102",
        "pool": "east",
        "health_status": "retire",
        "reason": "labelled spam_likely by the reputation check of 2026-01-05",
    }


def test_without_a_call_log_only_calling_windows_are_published(data_dir: Path) -> None:
    assert run_nightly(data_dir).success
    analytics = sorted(path.name for path in (data_dir / "published/latest/analytics").iterdir())
    assert analytics == ["calling_windows.parquet", "numbers.parquet"]
    with open_warehouse(data_dir / "warehouse.duckdb") as connection:
        views = {
            name for (name,) in connection.execute("select view_name from duckdb_views() where not internal").fetchall()
        }
    assert "calling_windows" in views
    assert not views & set(CALL_ANALYTICS)
