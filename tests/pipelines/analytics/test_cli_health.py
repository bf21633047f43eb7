"""CLI health on a hand-made call log: a CLI over the cap, a short-call spike, a daylight-saving change,
a recipient in two time zones and a spam label; every figure below is worked out by hand."""

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.analytics.cli_health import HealthStatus, cli_days, cli_health, pool_capacity
from pipelines.calling.deferral import limited_calls
from pipelines.calling.rules import DEFAULT_CALLING_RULES
from pipelines.config import HealthThresholds
from pipelines.inputs.calls import normalise_call_records, normalise_number_estate
from tests.call_log import Call, call_records, estate

A, B, C, D, X = "+12015550101", "+12015550102", "+12015550103", "+12015550104", "+12015550109"
NY, NY2, NY3 = "+12125550142", "+12125550143", "+12125550144"
IDAHO = "+12085550123"  # phonenumbers: America/Boise and America/Los_Angeles
LONDON = "+442079460018"

DAILY_CAP = 20
SHORT_CALL_S = 10
# Recent: 8 and 9 March; trailing: 3 to 7 March. Four calls are enough to judge a rate here.
THRESHOLDS = HealthThresholds(recent_days=2, trailing_days=5, min_calls=4)
AS_OF = date(2026, 3, 10)


def burst(cli: str, day: str, count: int) -> list[Call]:
    """`count` calls 10 minutes apart from 13:00 UTC (09:00 EDT) to three New York numbers in turn;
    every third call from the first is answered (60 s), the others are not (25 s)."""
    start = datetime.fromisoformat(f"{day}T13:00:00+00:00")
    return [
        (
            cli,
            (NY, NY2, NY3)[i % 3],
            (start + timedelta(minutes=10 * i)).isoformat(),
            "60" if i % 3 == 0 else "25",
            "answered" if i % 3 == 0 else "no_answer",
            None,
        )
        for i in range(count)
    ]


LOG = call_records(
    # A, 7 March (EST, UTC-5): 12:30Z is 07:30 in New York, before hours. One answer in four.
    (A, NY, "2026-03-07T12:30:00Z", "25", "no_answer", None),
    (A, NY, "2026-03-07T13:30:00Z", "60", "answered", None),
    (A, NY, "2026-03-07T14:30:00Z", "25", "no_answer", None),
    (A, NY, "2026-03-07T15:30:00Z", "25", "no_answer", None),
    # A, UTC day 8 March: 02:30Z is 21:30 EST on the 7th, after hours; clocks go forward at 07:00Z,
    # so 12:30Z is 08:30 EDT, in hours (it would be 07:30 without the change). 2 + 19 = 21 calls: over the cap.
    (A, NY, "2026-03-08T02:30:00Z", "25", "no_answer", None),
    (A, NY, "2026-03-08 12:30:00", "25", "no_answer", None),
    *burst(A, "2026-03-08", 19),
    *burst(A, "2026-03-09", 19),
    # B, 6 March: four long answered calls to Idaho at 10:00 MST / 09:00 PST.
    *[(B, IDAHO, f"2026-03-06T17:{minute}0:00Z", "60", "answered", None) for minute in range(4)],
    # B, 9 March: a short-call spike. 14:30Z is 08:30 in Boise but 07:30 in Los Angeles: outside hours.
    (B, IDAHO, "2026-03-09T14:30:00Z", "90", "answered", None),
    (B, IDAHO, "2026-03-09T16:00:00Z", "5", "answered", "yes"),
    (B, IDAHO, "2026-03-09T16:10:00Z", "3", "answered", None),
    (B, IDAHO, "2026-03-09T16:20:00Z", "30", "no_answer", None),
    (B, IDAHO, "2026-03-09T16:30:00Z", "2", "busy", None),
    (B, IDAHO, "2026-03-09T16:40:00Z", "30", "no_answer", None),
    (B, IDAHO, "2026-03-09T16:50:00Z", "4", "hung up", None),  # unknown disposition: left out
    # C, labelled spam_likely on 5 March; 22:00Z on the 6th is 22:00 in London, after hours.
    (C, LONDON, "2026-03-04T10:00:00Z", "20", "no_answer", None),
    (C, LONDON, "2026-03-04T11:00:00Z", "20", "no_answer", None),
    (C, LONDON, "2026-03-06T10:00:00Z", "40", "answered", None),
    (C, LONDON, "2026-03-06T22:00:00Z", "20", "no_answer", None),
    # X is not in the estate.
    (X, NY, "2026-03-09T15:00:00Z", "120", "answered", None),
)
ESTATE = estate(
    ("201-555-0101", "east", "A", None, None),
    ("(201) 555-0102", "east", "b", None, None),
    ("2015550103", "west", "C", "spam_likely", "2026-03-05"),
    ("+1 201 555 0104", "west", "A", "", ""),
)


@pytest.fixture(scope="module")
def calls() -> pl.DataFrame:
    return normalise_call_records(LOG, default_region="US")


@pytest.fixture(scope="module")
def clis() -> pl.DataFrame:
    usable, _ = normalise_number_estate(ESTATE, default_region="US")
    return usable


@pytest.fixture(scope="module")
def days(calls: pl.DataFrame, clis: pl.DataFrame) -> pl.DataFrame:
    attempts = limited_calls(calls, rules=DEFAULT_CALLING_RULES)
    return cli_days(attempts, clis, daily_cap=DAILY_CAP, short_call_s=SHORT_CALL_S, rules=DEFAULT_CALLING_RULES)


def judge(days: pl.DataFrame, clis: pl.DataFrame, *, thresholds: HealthThresholds, as_of: date) -> pl.DataFrame:
    return cli_health(days, clis, thresholds=thresholds, daily_cap=DAILY_CAP, short_call_s=SHORT_CALL_S, as_of=as_of)


def test_each_cli_day_counts_calls_answers_short_calls_hours_and_the_cap(days: pl.DataFrame) -> None:
    expected = pl.DataFrame(
        [
            (A, date(2026, 3, 7), "east", "A", None, 4, 1, 1, 1 / 4, 0, 0.0, 1, 0, 0, False),
            (A, date(2026, 3, 8), "east", "A", None, 21, 3, 7, 7 / 21, 0, 0.0, 1, 0, 0, True),
            (A, date(2026, 3, 9), "east", "A", None, 19, 3, 7, 7 / 19, 0, 0.0, 0, 0, 0, False),
            (B, date(2026, 3, 6), "east", "B", None, 4, 1, 4, 1.0, 0, 0.0, 0, 0, 0, False),
            (B, date(2026, 3, 9), "east", "B", None, 6, 1, 3, 3 / 6, 3, 3 / 6, 1, 0, 1, False),
            (C, date(2026, 3, 4), "west", "C", None, 2, 1, 0, 0.0, 0, 0.0, 0, 0, 0, False),
            (C, date(2026, 3, 6), "west", "C", "spam_likely", 2, 1, 1, 1 / 2, 0, 0.0, 1, 0, 0, False),
            (X, date(2026, 3, 9), None, None, None, 1, 1, 1, 1.0, 0, 0.0, 0, 0, 0, False),
        ],
        schema={
            "cli_e164": pl.String, "day_utc": pl.Date, "pool": pl.String, "attestation": pl.String,
            "reputation_label": pl.String, "count_calls": pl.Int64, "count_recipients": pl.Int64,
            "count_answered": pl.Int64, "answer_rate": pl.Float64, "count_short_calls": pl.Int64,
            "short_call_share": pl.Float64, "count_outside_hours": pl.Int64, "count_over_call_limit": pl.Int64,
            "count_complaints": pl.Int64,
            "is_over_cap": pl.Boolean,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(days, expected)


def test_health_judges_recent_days_against_the_clis_own_trailing_days(days: pl.DataFrame, clis: pl.DataFrame) -> None:
    # A: 40 calls, 14 answered on 8–9 March (35%) against 1 in 4 (25%) before: fine; over the cap once: watch.
    # B: 3 of 6 answered (50%) against 4 of 4 (100%): half, not below half, so watch; 3 of 6 under 10 s: rest.
    # C: labelled spam_likely: retire. D made no calls. X made one: too few to judge.
    expected = pl.DataFrame(
        [
            (A, "east", "A", None, 40, 14 / 40, 1 / 4, 0.0, 1, "watch",
             "over the 20-call daily cap on 1 of the last 2 days"),
            (B, "east", "B", None, 6, 3 / 6, 1.0, 3 / 6, 0, "rest",
             "answer rate fell to 50% over the last 2 days from 100% over the 5 days before; "
             "50% of calls under 10 s over the last 2 days"),
            (C, "west", "C", "spam_likely", 0, None, 1 / 4, None, 0, "retire",
             "labelled spam_likely by the reputation check of 2026-03-05"),
            (D, "west", "A", None, 0, None, None, None, 0, "healthy", "within every threshold"),
            (X, None, None, None, 1, 1.0, None, 0.0, 0, "healthy", "within every threshold"),
        ],
        schema={
            "cli_e164": pl.String, "pool": pl.String, "attestation": pl.String, "reputation_label": pl.String,
            "count_calls_recent": pl.Int64, "answer_rate_recent": pl.Float64, "answer_rate_trailing": pl.Float64,
            "short_call_share_recent": pl.Float64, "count_cap_breach_days": pl.Int64,
            "health_status": HealthStatus, "health_reason": pl.String,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(judge(days, clis, thresholds=THRESHOLDS, as_of=AS_OF), expected)


def test_a_label_checked_after_as_of_is_not_known_yet(days: pl.DataFrame, clis: pl.DataFrame) -> None:
    health = judge(days, clis, thresholds=THRESHOLDS, as_of=date(2026, 3, 4))
    assert health.filter(pl.col("cli_e164") == C).select("reputation_label", "health_status").rows() == [
        (None, "healthy")
    ]


def test_rates_on_fewer_than_min_calls_are_not_judged(days: pl.DataFrame, clis: pl.DataFrame) -> None:
    thresholds = THRESHOLDS.model_copy(update={"min_calls": 7})
    health = judge(days, clis, thresholds=thresholds, as_of=AS_OF)
    assert health.filter(pl.col("cli_e164") == B).select("health_status", "health_reason").rows() == [
        ("healthy", "within every threshold")
    ]


def test_a_cli_over_the_cap_on_enough_recent_days_is_rested(days: pl.DataFrame, clis: pl.DataFrame) -> None:
    thresholds = THRESHOLDS.model_copy(update={"rest_cap_breach_days": 1})
    health = judge(days, clis, thresholds=thresholds, as_of=AS_OF)
    assert health.filter(pl.col("cli_e164") == A).get_column("health_status").to_list() == ["rest"]


def test_pools_need_their_recent_daily_volume_at_the_cap(days: pl.DataFrame, clis: pl.DataFrame) -> None:
    # east: (40 + 6) calls over 2 days = 23 a day, so 2 CLIs at 20 a day; only A is usable (B rests): 1 short.
    # west: C retired, D usable and idle.
    expected = pl.DataFrame(
        {
            "pool": ["east", "west"],
            "count_clis": [2, 2],
            "count_clis_usable": [1, 1],
            "calls_per_day": [23.0, 0.0],
            "count_clis_needed": [2, 0],
            "count_clis_short": [1, 0],
        }
    )
    health = judge(days, clis, thresholds=THRESHOLDS, as_of=AS_OF)
    assert_frame_equal(pool_capacity(health, daily_cap=DAILY_CAP, recent_days=THRESHOLDS.recent_days), expected)
