"""Call records and the number estate: read under Scrubline's names, numbers in E.164, every unusable call
kept with its reason, and an estate row that is not a valid, unique, pooled CLI set aside with its reason."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import CallRecordsSource, NumberEstateSource
from pipelines.inputs.calls import (
    no_call_records,
    no_number_estate,
    normalise_call_records,
    normalise_number_estate,
    read_call_records,
    read_number_estate,
)
from tests.call_log import call_records, estate


def test_each_call_record_is_typed_and_unusable_ones_say_why() -> None:
    records = call_records(
        ("201-555-0101", "(212) 555-0142", "2026-03-08T12:30:00Z", "45", "Answered", "yes"),
        ("201-555-0101", "212-555-0142", "2026-03-08 12:31:00", "3.0", "busy", "no"),
        ("201-555-0101", "212-555-0142", "2026-03-08T08:32:00-04:00", "0", "voicemail", None),
        ("201-555-0101", "212-555-0142", "08/03/2026 12:33", "30", "no_answer", ""),
        ("n/a", "212-555-0142", "2026-03-08T12:34:00Z", "30", "no_answer", "complaint"),
        ("201-555-0101", "12345", "2026-03-08T12:35:00Z", "30", "no_answer", None),
        ("201-555-0101", "212-555-0142", "2026-03-08T12:36:00Z", "-1", "no_answer", None),
        ("201-555-0101", "212-555-0142", "2026-03-08T12:37:00Z", "30", "dropped", None),
    ).with_columns(pl.when(pl.col("source_row") == 2).then(pl.lit("c1")).otherwise("call_id").alias("call_id"))
    calls = normalise_call_records(records, default_region="US")
    expected = pl.DataFrame(
        [
            ("c1", "+12015550101", "+12125550142", datetime(2026, 3, 8, 12, 30, tzinfo=UTC), 45, "answered", True,
             True, None),
            ("c1", "+12015550101", "+12125550142", datetime(2026, 3, 8, 12, 31, tzinfo=UTC), 3, "busy", False,
             False, "repeated_call_id"),
            ("c3", "+12015550101", "+12125550142", datetime(2026, 3, 8, 12, 32, tzinfo=UTC), 0, "voicemail", False,
             True, None),
            ("c4", "+12015550101", "+12125550142", None, 30, "no_answer", False, False, "invalid_started_at"),
            ("c5", None, "+12125550142", datetime(2026, 3, 8, 12, 34, tzinfo=UTC), 30, "no_answer", True, True,
             "cli_not_a_number"),
            ("c6", "+12015550101", None, datetime(2026, 3, 8, 12, 35, tzinfo=UTC), 30, "no_answer", False, False,
             "dialled_too_short"),
            ("c7", "+12015550101", "+12125550142", datetime(2026, 3, 8, 12, 36, tzinfo=UTC), None, "no_answer",
             False, True, "invalid_duration"),
            ("c8", "+12015550101", "+12125550142", datetime(2026, 3, 8, 12, 37, tzinfo=UTC), 30, None, False, True,
             "unknown_disposition"),
        ],
        schema={
            "call_id": pl.String, "cli_e164": pl.String, "dialled_e164": pl.String,
            "started_at": pl.Datetime("us", "UTC"), "duration_s": pl.Int64, "disposition": pl.String,
            "is_complaint": pl.Boolean, "is_attempt": pl.Boolean, "call_reason": pl.String,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(calls.select(expected.columns), expected)


def test_call_records_are_read_under_the_configured_column_names(tmp_path: Path) -> None:
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls/log.csv").write_text(
        "id,from,to,at,secs,outcome,extra\nk1,2015550101,2125550142,2026-03-08T12:30:00Z,45,answered,x\n"
        "k2,2015550101,2125550142,2026-03-08T12:40:00Z,45,answered,x,y\n"
    )
    source = CallRecordsSource(
        path="calls/*.csv",
        call_id_column="id",
        cli_column="from",
        dialled_column="to",
        started_at_column="at",
        duration_column="secs",
        disposition_column="outcome",
    )
    records = read_call_records(source, data_dir=tmp_path)
    assert records.columns == no_call_records().columns
    assert records.select("call_id", "cli", "complaint", "source_file", "source_row", "quarantine_reason").rows() == [
        ("k1", "2015550101", None, "calls/log.csv", 1, None),
        (None, None, None, "calls/log.csv", 2, "too many columns"),
    ]
    calls = normalise_call_records(records, default_region="US")
    assert calls.select("call_id", "is_attempt", "call_reason").rows() == [
        ("k1", True, None),
        (None, False, "too many columns"),
    ]


def test_no_call_records_normalise_to_no_calls() -> None:
    assert normalise_call_records(no_call_records(), default_region="US").height == 0
    usable, set_aside = normalise_number_estate(no_number_estate(), default_region="US")
    assert (usable.height, set_aside.height) == (0, 0)


def test_the_estate_is_one_row_per_cli_in_e164() -> None:
    clis, _ = normalise_number_estate(
        estate(
            (" 201-555-0102 ", " east ", "b", "Spam Likely", "2026-03-05"),
            ("2015550101", "west", "A", None, None),
        ),
        default_region="US",
    )
    expected = pl.DataFrame(
        [
            ("+12015550101", "west", "acme", "A", None, None, "inbox/estate/clis.csv", 2, "sha"),
            ("+12015550102", "east", "acme", "B", "Spam Likely", date(2026, 3, 5), "inbox/estate/clis.csv", 1, "sha"),
        ],
        schema={
            "cli_e164": pl.String, "pool": pl.String, "carrier": pl.String, "attestation": pl.String,
            "reputation_label": pl.String, "reputation_checked_on": pl.Date, "source_file": pl.String,
            "source_row": pl.Int64, "source_sha256": pl.String,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(clis, expected)


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        (("2015550", "east", "A", None, None), r"CLI is not a valid number: \w+"),
        (("2015550102", " ", "A", None, None), "no pool"),
        (("2015550102", "east", "D", None, None), "attestation is not A, B or C"),
        (("2015550102", "east", "A", "spam", "5 March"), "reputation check date is not YYYY-MM-DD"),
        (("2015550102", "east", "A", "spam", None), "a reputation label without its check date"),
        (("+1 201 555 0101", "east", "A", None, None), "the CLI is listed more than once"),
    ],
)
def test_an_unusable_estate_row_is_set_aside_with_its_reason(second: tuple, problem: str) -> None:
    usable, set_aside = normalise_number_estate(
        estate(("2015550101", "east", "A", None, None), second), default_region="US"
    )
    assert usable.get_column("cli_e164").to_list() == ["+12015550101"]
    ((source_file, source_row, reason),) = set_aside.select("source_file", "source_row", "quarantine_reason").rows()
    assert (source_file, source_row) == ("inbox/estate/clis.csv", 2)
    assert re.fullmatch(problem, reason)


def test_an_unreadable_estate_record_is_set_aside_and_the_rest_used(tmp_path: Path) -> None:
    (tmp_path / "clis.csv").write_text("cli,pool,carrier,attestation\n2015550101,east,acme,A\n2015550102,east\n")
    records = read_number_estate(NumberEstateSource(path="*.csv"), data_dir=tmp_path)
    usable, set_aside = normalise_number_estate(records, default_region="US")
    assert usable.get_column("cli_e164").to_list() == ["+12015550101"]
    assert set_aside.rows() == [
        ("clis.csv", 2, records.get_column("source_sha256")[0], "missing columns", "2015550102,east")
    ]
