"""The warehouse explains itself: every view and column commented, movable with its data directory, and the
five worked queries of docs/outputs.md answered from its views on the hand-made run."""

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.publishing.descriptions import TABLES, column_description
from pipelines.publishing.warehouse import open_warehouse
from tests.assets.test_call_analytics import call_inbox
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import CALLS_YAML, INBOX, RUN_DATE, SCRUBLINE_YAML, write_data_dir

DOCS = Path(__file__).resolve().parents[2] / "docs/outputs.md"
QUERIES = dict(re.findall(r"<!-- query: (\w+) -->\n```sql\n(.*?)```", DOCS.read_text(), flags=re.DOTALL))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    yesterday = (RUN_DATE - timedelta(days=1)).isoformat()
    inbox = {**INBOX, **call_inbox(yesterday)}
    data_dir = write_data_dir(tmp_path_factory.mktemp("warehouse") / "data", inbox, SCRUBLINE_YAML + CALLS_YAML)
    assert run_nightly(data_dir).success
    return data_dir


def answer(data_dir: Path, query: str) -> list[tuple]:
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        return analyst.execute(QUERIES[query]).fetchall()


def test_every_view_table_and_column_carries_its_description(data_dir: Path) -> None:
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        views = analyst.execute("select view_name, comment from duckdb_views() where not internal").fetchall()
        tables = analyst.execute("select table_name, comment from duckdb_tables() where not internal").fetchall()
        columns = analyst.execute(
            "select table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    assert {name for name, _ in views} >= {"outcomes", "suppression_reasons", "number_history", "cli_health"}
    assert {name for name, _ in tables} == {"list_status", "runs"}
    assert [(name, comment) for name, comment in views + tables if comment != TABLES[name]] == []
    assert [(table, column) for table, column, comment in columns if comment != column_description(column)] == []
    assert len(columns) > 150


def test_the_warehouse_answers_after_its_data_directory_is_moved(data_dir: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere/data"
    shutil.copytree(data_dir, moved, symlinks=True)
    with open_warehouse(data_dir / "warehouse.duckdb") as original:
        expected = original.execute("select count(*) from outcomes").fetchone()
    hidden = data_dir.with_name("hidden")
    data_dir.rename(hidden)  # nothing may still point at the old place
    try:
        with open_warehouse(moved / "warehouse.duckdb") as analyst:
            assert analyst.execute("select count(*) from outcomes").fetchone() == expected == (10,)
            # One row per campaign and valid number: spring's four, winback's two.
            assert analyst.execute("select count(*) from number_history").fetchone() == (6,)
            sql = " ".join(text for (text,) in analyst.execute("select sql from duckdb_views()").fetchall())
    finally:
        hidden.rename(data_dir)
    assert str(data_dir) not in sql
    assert str(tmp_path) not in sql


def test_the_five_worked_queries_are_in_the_docs() -> None:
    assert sorted(QUERIES) == ["invalid_by_reason", "per_registry", "rates", "riskiest_clis", "why_on_a_date"]


def test_rate_by_campaign_and_reason_counts_every_dialler_row_quarantined_included(data_dir: Path) -> None:
    # spring: L1, L2 clean; L3 opted out; L4 garbage; L5 repeats L1; L6 unreadable; L7 on two lists; L8 blank.
    assert answer(data_dir, "rates") == [
        ("spring", "clean", None, 2, 0.25),
        ("spring", "invalid", "empty", 1, 0.125),
        ("spring", "invalid", "not_a_number", 1, 0.125),
        ("spring", "quarantined", "too many columns", 1, 0.125),
        ("spring", "suppressed", "crm_do_not_call,litigators", 1, 0.125),
        ("spring", "suppressed", "duplicate_in_campaign", 1, 0.125),
        ("spring", "suppressed", "internal_optouts", 1, 0.125),
        ("winback", "clean", None, 2, 1.0),
    ]


def test_numbers_suppressed_per_registry_count_a_number_for_each_source_listing_it(data_dir: Path) -> None:
    assert answer(data_dir, "per_registry") == [
        ("crm_do_not_call", 1, 1),
        ("internal_optouts", 1, 1),
        ("litigators", 1, 1),
    ]


def test_the_riskiest_cli_comes_first(data_dir: Path) -> None:
    (riskiest, safest) = answer(data_dir, "riskiest_clis")
    assert (riskiest[0], riskiest[1]) == ("+12015550102", "retire")
    assert (safest[0], safest[1]) == ("+12015550101", "healthy")


def test_why_a_number_was_suppressed_on_a_date_names_each_source_and_file(data_dir: Path) -> None:
    reason = "crm_do_not_call,litigators"
    assert answer(data_dir, "why_on_a_date") == [
        ("spring", "suppressed", reason, "crm_do_not_call", "inbox/crm/contacts.csv", None),
        ("spring", "suppressed", reason, "litigators", "inbox/registries/litigators/litigators.txt", None),
    ]


def test_invalid_numbers_by_reason(data_dir: Path) -> None:
    assert answer(data_dir, "invalid_by_reason") == [("spring", "empty", 1), ("spring", "not_a_number", 1)]


def test_the_runs_table_holds_each_run_s_counts_validity_and_registry_versions(data_dir: Path) -> None:
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        runs = analyst.execute(
            "select campaign, count_rows_in, count_clean, count_quarantined, valid_through::date,"
            " [version.registry for version in registry_versions] from runs order by campaign"
        ).fetchall()
    assert runs == [
        ("spring", 8, 2, 1, date(2026, 12, 8), ["internal_optouts", "litigators"]),
        ("winback", 2, 2, 0, date(2026, 12, 8), ["internal_optouts", "litigators"]),
    ]
