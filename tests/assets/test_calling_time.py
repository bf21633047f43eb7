"""Calling time through the nightly job on the real Definitions: a clean row carries the list day's window in
its Parquet and its CSV, a row that cannot be called that day is deferred with its reason and reconciled as the
fifth outcome, and the audit counts the calls outside the hours and over the limit of the same rule table.

The run is as of Friday 27 November 2026, 02:00Z (tests.handmade); this configuration closes Fridays in the UK.
"""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.publishing.warehouse import open_warehouse
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import CALLS_YAML, INBOX, SCRUBLINE_YAML, write_data_dir

CALLING_TIME_YAML = """\
calling_time:
  jurisdictions:
    GB:
      hours: {start: "08:00", end: "21:00"}
      days: {friday: closed}
"""
CALLING_INBOX = {
    # A1 waits for Florida's limit until 14:00Z; A2's limit lasts past Florida's 20:00 (01:00Z); France has no
    # rule; the UK is closed on Fridays; A5 is in New Jersey.
    "dialler/autumn.csv": (
        "lead_id,phone,country\n"
        "A1,305-555-0101,US\n"
        "A2,305-555-0102,US\n"
        "A3,+33 1 42 68 53 00,FR\n"
        "A4,020 7946 0019,GB\n"
        "A5,201-555-0123,US\n"
    ),
    "estate/clis.csv": (
        "cli,pool,carrier,attestation,reputation_label,reputation_checked_on\n201-555-0101,east,acme,A,,\n"
    ),
    "calls/log.csv": (
        "call_id,cli,dialled,started_at,duration_s,disposition,complaint\n"
        "k1,201-555-0101,305-555-0101,2026-11-26T14:00:00Z,30,no_answer,no\n"
        "k2,201-555-0101,305-555-0101,2026-11-26T15:00:00Z,30,no_answer,no\n"
        "k3,201-555-0101,305-555-0101,2026-11-26T16:00:00Z,30,no_answer,no\n"
        # 20:10, 20:20 and 20:30 in Florida on the 26th: each after Florida's hours.
        "k4,201-555-0101,305-555-0102,2026-11-27T01:10:00Z,30,no_answer,no\n"
        "k5,201-555-0101,305-555-0102,2026-11-27T01:20:00Z,30,no_answer,no\n"
        "k6,201-555-0101,305-555-0102,2026-11-27T01:30:00Z,30,no_answer,no\n"
        # Four calls in an afternoon to another Florida number: the fourth broke the limit.
        "k7,201-555-0101,305-555-0103,2026-11-26T17:00:00Z,30,no_answer,no\n"
        "k8,201-555-0101,305-555-0103,2026-11-26T17:10:00Z,30,no_answer,no\n"
        "k9,201-555-0101,305-555-0103,2026-11-26T17:20:00Z,30,no_answer,no\n"
        "k10,201-555-0101,305-555-0103,2026-11-26T17:30:00Z,30,answered,no\n"
    ),
}


@pytest.fixture(scope="module")
def calling_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dg.ExecuteInProcessResult]:
    config = SCRUBLINE_YAML + CALLS_YAML + CALLING_TIME_YAML
    data_dir = write_data_dir(tmp_path_factory.mktemp("calling") / "data", {**INBOX, **CALLING_INBOX}, config)
    result = run_nightly(data_dir)
    assert result.success
    return data_dir, result


def test_rows_that_cannot_be_called_in_the_lists_day_are_deferred_with_their_reason(
    calling_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    data_dir, _ = calling_run
    deferred = pl.read_parquet(data_dir / "published/latest/deferred/autumn.parquet")
    assert deferred.select("lead_id", "outcome", "reason", "window_end_utc", "not_before_utc").rows() == [
        ("A2", "deferred", "call_limit_reached", datetime(2026, 11, 28, 1, tzinfo=UTC),
         datetime(2026, 11, 28, 1, 10, tzinfo=UTC)),
        ("A3", "deferred", "no_calling_rule", None, None),
        ("A4", "deferred", "no_calling_window", None, None),
    ]  # fmt: skip
    spring = pl.read_parquet(data_dir / "published/latest/deferred/spring.parquet")
    assert spring.select("lead_id", "reason").rows() == [("L2", "no_calling_window")]


def test_the_reconciliation_counts_five_outcomes_and_the_certificate_the_deferred_rows(
    calling_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    data_dir, result = calling_run
    published = data_dir / "published/latest"
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["reconciliation"] == [
        {"campaign": "autumn", "count_rows_in": 5, "count_clean": 2, "count_suppressed": 0, "count_invalid": 0,
         "count_quarantined": 0, "count_deferred": 3, "count_rows_out": 5},
        {"campaign": "spring", "count_rows_in": 8, "count_clean": 1, "count_suppressed": 3, "count_invalid": 2,
         "count_quarantined": 1, "count_deferred": 1, "count_rows_out": 8},
        {"campaign": "winback", "count_rows_in": 2, "count_clean": 1, "count_suppressed": 0, "count_invalid": 0,
         "count_quarantined": 0, "count_deferred": 1, "count_rows_out": 2},
    ]  # fmt: skip
    certificate = json.loads((published / "clean/autumn.certificate.json").read_text())
    assert certificate["counts"]["count_deferred"] == 3
    assert certificate["rules"]["calling_time"]["GB"]["days"] == {"friday": "closed"}
    assert "Rows: 5 read, 2 clean, 0 suppressed, 0 invalid, 0 quarantined, 3 deferred\n" in (
        (published / "clean/autumn.certificate.txt").read_text()
    )
    (scrubbed,) = [
        materialization
        for materialization in result.asset_materializations_for_node("scrubbed_leads")
        if materialization.asset_key == dg.AssetKey("scrubbed_leads")
    ]
    assert scrubbed.metadata["count_deferred"].value == 5
    with open_warehouse(data_dir / "warehouse.duckdb") as analyst:
        assert analyst.execute("select count(*) from deferred").fetchone() == (5,)


def test_a_dialler_reading_only_the_csv_gets_each_rows_window_and_when_it_may_call(
    calling_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    data_dir, _ = calling_run
    assert (data_dir / "published/latest/clean/autumn.csv").read_text() == (
        "campaign,lead_id,phone_e164,phone_type,phone_region,exemption_reason,"
        "window_start_utc,window_end_utc,not_before_utc\n"
        "autumn,A1,+13055550101,fixed_line_or_mobile,US,,"
        "2026-11-27T13:00:00Z,2026-11-28T01:00:00Z,2026-11-27T14:00:00Z\n"
        "autumn,A5,+12015550123,fixed_line_or_mobile,US,,"
        "2026-11-27T13:00:00Z,2026-11-28T02:00:00Z,\n"
    )


def test_the_audit_counts_calls_outside_the_rule_tables_hours_and_over_a_limit_by_cli_and_by_number(
    calling_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    data_dir, _ = calling_run
    analytics = data_dir / "published/latest/analytics"
    days = pl.read_parquet(analytics / "cli_days.parquet")
    assert days.select("day_utc", "count_calls", "count_outside_hours", "count_over_call_limit").rows() == [
        (date(2026, 11, 26), 7, 0, 1),
        (date(2026, 11, 27), 3, 3, 0),
    ]
    breaches = pl.read_parquet(analytics / "call_limit_breaches.parquet")
    assert breaches.select("call_id", "cli_e164", "dialled_e164", "count_calls_before_24h").rows() == [
        ("k10", "+12015550101", "+13055550103", 3)
    ]
    numbers = pl.read_parquet(analytics / "dialled_numbers.parquet")
    assert numbers.select("dialled_e164", "dialled_subdivision", "count_over_call_limit_30d").rows() == [
        ("+13055550101", "US-FL", 0),
        ("+13055550102", "US-FL", 0),
        ("+13055550103", "US-FL", 1),
    ]
    windows = pl.read_parquet(analytics / "calling_windows.parquet")
    assert windows.filter(pl.col("campaign") == "autumn").select(
        "lead_id", "outcome", "phone_jurisdictions", "deferred_reason"
    ).rows() == [
        ("A1", "clean", ["US", "US-FL"], None),
        ("A2", "deferred", ["US", "US-FL"], "call_limit_reached"),
        ("A3", "deferred", [], "no_calling_rule"),
        ("A4", "deferred", ["GB"], "no_calling_window"),
        ("A5", "clean", ["US"], None),
    ]
