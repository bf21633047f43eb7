"""Per dialled number: attempts in the last 24 hours, 7 and 30 days, the last call, and whether it may be
called today; Florida's three calls in 24 hours make a number wait, New Jersey has no such limit."""

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.analytics.dialled_numbers import dialled_numbers
from pipelines.calling.deferral import limited_calls
from pipelines.calling.rules import DEFAULT_CALLING_RULES
from pipelines.inputs.calls import normalise_call_records
from tests.call_log import call_records

NJ, NY, FL, OK, LONDON = "+12015550123", "+12125550142", "+13055550123", "+14055550123", "+442079460018"
AS_OF = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # last 24 h: after 9 March 14:00Z; 7 days: after 3 March 14:00Z

LOG = call_records(
    # Florida: the 1 February call is older than 30 days; 9 March 14:00Z is exactly 24 hours old, so
    # out of the last 24 h; three calls remain in it, Florida's limit, so the number waits. The call of
    # 10 March 13:00Z broke the limit: three calls in the 24 hours before it.
    ("201-555-0101", "305-555-0123", "2026-02-01T15:00:00Z", "20", "no_answer", None),
    ("201-555-0101", "305-555-0123", "2026-03-09T14:00:00Z", "20", "no_answer", None),
    ("201-555-0101", "305-555-0123", "2026-03-09T15:00:00Z", "3", "busy", None),
    ("201-555-0101", "305-555-0123", "2026-03-09T18:00:00Z", "20", "no_answer", None),
    ("201-555-0101", "305-555-0123", "2026-03-10T13:00:00Z", "75", "answered", None),
    ("201-555-0101", "305-555-0123", "not a time", "75", "answered", None),  # says not when: no attempt
    # Oklahoma: two calls in 24 hours, under its limit of three; a call after as_of is not history yet.
    ("201-555-0101", "405-555-0123", "2026-03-10T10:00:00Z", "40", "voicemail", None),
    ("201-555-0101", "405-555-0123", "2026-03-10T11:00:00Z", "20", "no_answer", None),
    ("201-555-0101", "405-555-0123", "2026-03-10T15:00:00Z", "60", "answered", None),
    # New Jersey: four calls in 24 hours and no state limit; the one from an unreadable CLI still counts.
    ("201-555-0101", "201-555-0123", "2026-03-10T12:00:00Z", "20", "no_answer", None),
    ("n/a", "201-555-0123", "2026-03-10T12:10:00Z", "20", "no_answer", None),
    ("201-555-0101", "201-555-0123", "2026-03-10T12:20:00Z", "20", "busy", None),
    ("201-555-0101", "201-555-0123", "2026-03-10T12:30:00Z", "65", "answered", None),
    # New York: answered on 1 March; on the suppression list since.
    ("201-555-0101", "212-555-0142", "2026-03-01T15:00:00Z", "90", "answered", None),
    # London: no US state, no limit.
    ("201-555-0101", "+44 20 7946 0018", "2026-03-05T10:00:00Z", "20", "no_answer", None),
    # Not a number: not history of any number.
    ("201-555-0101", "12345", "2026-03-10T12:00:00Z", "20", "no_answer", None),
)
SUPPRESSION_LIST = pl.DataFrame({"phone_e164": [NY, NY, "+19999999999"]})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def numbers() -> pl.DataFrame:
    calls = normalise_call_records(LOG, default_region="US")
    return dialled_numbers(limited_calls(calls, rules=DEFAULT_CALLING_RULES), SUPPRESSION_LIST, as_of=AS_OF)


def test_each_dialled_number_has_its_history_and_status_today(numbers: pl.DataFrame) -> None:
    expected = pl.DataFrame(
        [
            (NJ, "US-NJ", 4, 4, 4, at("2026-03-10T12:30"), "answered", 1 / 4, None, 0, False, False, "callable"),
            (NY, "US-NY", 0, 0, 1, at("2026-03-01T15:00"), "answered", 1.0, None, 0, True, False, "suppressed"),
            (FL, "US-FL", 3, 4, 4, at("2026-03-10T13:00"), "answered", 1 / 4, 3, 1, False, True,
             "call_limit_reached"),
            (OK, "US-OK", 2, 2, 2, at("2026-03-10T11:00"), "no_answer", 0.0, 3, 0, False, False, "callable"),
            (LONDON, None, 0, 1, 1, at("2026-03-05T10:00"), "no_answer", 0.0, None, 0, False, False, "callable"),
        ],
        schema={
            "dialled_e164": pl.String, "dialled_subdivision": pl.String, "count_attempts_24h": pl.Int64,
            "count_attempts_7d": pl.Int64, "count_attempts_30d": pl.Int64,
            "last_called_at": pl.Datetime("us", "UTC"), "last_disposition": pl.String, "contact_rate_30d": pl.Float64,
            "max_calls_per_24h": pl.Int64, "count_over_call_limit_30d": pl.Int64,
            "is_on_suppression_list": pl.Boolean, "is_call_limit_reached": pl.Boolean,
            "suppression_status": pl.String,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(numbers, expected)


def test_a_lower_configured_limit_applies_and_a_state_without_one_has_none() -> None:
    calls = normalise_call_records(LOG, default_region="US")
    rules = {
        **DEFAULT_CALLING_RULES,
        "US-OK": DEFAULT_CALLING_RULES["US-OK"].model_copy(update={"max_calls_per_24h": 2}),
    }
    numbers = dialled_numbers(limited_calls(calls, rules=rules), SUPPRESSION_LIST, as_of=AS_OF)
    assert numbers.select(
        "dialled_e164", "max_calls_per_24h", "count_over_call_limit_30d", "suppression_status"
    ).filter(pl.col("dialled_e164").is_in([NJ, OK])).rows() == [
        (NJ, None, 0, "callable"),
        (OK, 2, 0, "call_limit_reached"),
    ]


def test_as_of_must_be_an_instant_with_a_time_zone() -> None:
    calls = normalise_call_records(LOG, default_region="US")
    with pytest.raises(ValueError, match="time-zone-aware"):
        attempts = limited_calls(calls, rules=DEFAULT_CALLING_RULES)
        dialled_numbers(attempts, SUPPRESSION_LIST, as_of=datetime(2026, 3, 10, 14))
