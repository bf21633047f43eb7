"""Calling time in the clean lists: each clean number's window for the list's day, the instant its call limit
lets it be called again, and the rows deferred because the day has no legal window for them; and, in the audit,
the calls that broke a number's call limit. Every instant below is worked out by hand."""

from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.calling.deferral import call_limit_breaches, defer_uncallable, limited_calls, number_windows
from pipelines.calling.rules import DEFAULT_CALLING_RULES, CallingRule, CallingWindow
from pipelines.inputs.calls import normalise_call_records
from pipelines.phones.e164 import normalise_phones
from tests.call_log import call_records

# Friday 27 November 2026, 02:00Z: Thursday evening in the Americas. The list is for the UTC date, the 27th:
# 08:00–21:00 EST is 13:00Z to 02:00Z on the 28th, Florida's 08:00–20:00 ends at 01:00Z, London's 08:00–21:00
# GMT is 08:00Z to 21:00Z. The last 24 hours are those after 26 November 02:00Z.
AS_OF = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NJ, LONDON, PARIS = "+12015550123", "+442079460018", "+33142685300"
FL_WAITS, FL_DEFERRED, FL_FOURTH, FL_EDGE, OK = (
    "+13055550101", "+13055550102", "+13055550103", "+13055550104", "+14055550123",
)  # fmt: skip
CLI = "201-555-0199"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(dialled: str, started_at: str) -> tuple[str, str, str, str, str, None]:
    return (CLI, dialled, started_at, "20", "no_answer", None)


CALLS = normalise_call_records(
    call_records(
        # Three calls in the last 24 hours, Florida's limit: the first leaves them at 14:00Z, inside the window.
        call(FL_WAITS, "2026-11-26T14:00:00Z"),
        call(FL_WAITS, "2026-11-26T15:00:00Z"),
        call(FL_WAITS, "2026-11-26T16:00:00Z"),
        # Three calls late last night: the first leaves the 24 hours at 01:10Z on the 28th, after the window.
        call(FL_DEFERRED, "2026-11-27T01:10:00Z"),
        call(FL_DEFERRED, "2026-11-27T01:20:00Z"),
        call(FL_DEFERRED, "2026-11-27T01:30:00Z"),
        # Four calls: the fourth broke the limit; the third latest (10:00Z) leaves at 10:00Z, before the window.
        call(FL_FOURTH, "2026-11-26T03:00:00Z"),
        call(FL_FOURTH, "2026-11-26T10:00:00Z"),
        call(FL_FOURTH, "2026-11-26T12:00:00Z"),
        call(FL_FOURTH, "2026-11-26T20:00:00Z"),
        # Exactly 24 hours old: out of the last 24 hours, so only two count.
        call(FL_EDGE, "2026-11-26T02:00:00Z"),
        call(FL_EDGE, "2026-11-26T05:00:00Z"),
        call(FL_EDGE, "2026-11-26T06:00:00Z"),
        # Oklahoma: two calls, under its limit. New Jersey: four, and no limit.
        call(OK, "2026-11-26T15:00:00Z"),
        call(OK, "2026-11-26T16:00:00Z"),
        *(call(NJ, f"2026-11-26T1{hour}:00:00Z") for hour in range(4)),
        # After as_of: not history yet.
        call(FL_EDGE, "2026-11-27T03:00:00Z"),
    ),
    default_region="US",
)


def leads(*phones: str) -> pl.DataFrame:
    return normalise_phones(pl.DataFrame({"phone": list(phones)}), "phone", region="US").select(
        phone_e164="phone_e164", phone_valid="phone_valid", phone_type="phone_type", phone_region="phone_region"
    )


def test_each_number_gets_its_window_its_limit_and_the_instant_the_limit_lets_it_be_called() -> None:
    windows = number_windows(
        leads(NJ, FL_WAITS, FL_DEFERRED, FL_FOURTH, FL_EDGE, OK, LONDON, PARIS, "12345"),
        CALLS,
        rules=DEFAULT_CALLING_RULES,
        as_of=AS_OF,
    )
    us_day, florida_day, london_day = (
        (at("2026-11-27T13:00"), at("2026-11-28T02:00")),
        (at("2026-11-27T13:00"), at("2026-11-28T01:00")),
        (at("2026-11-27T08:00"), at("2026-11-27T21:00")),
    )
    expected = pl.DataFrame(
        [
            (NJ, *us_day, None, 4, None, None),
            (FL_WAITS, *florida_day, 3, 3, at("2026-11-27T14:00"), None),
            (FL_DEFERRED, *florida_day, 3, 3, at("2026-11-28T01:10"), "call_limit_reached"),
            (FL_FOURTH, *florida_day, 3, 4, at("2026-11-27T10:00"), None),
            (FL_EDGE, *florida_day, 3, 2, None, None),
            (OK, at("2026-11-27T14:00"), at("2026-11-28T02:00"), 3, 2, None, None),
            (LONDON, *london_day, None, 0, None, None),
            (PARIS, None, None, None, 0, None, "no_calling_rule"),
        ],
        schema={
            "phone_e164": pl.String, "window_start_utc": pl.Datetime("us", "UTC"),
            "window_end_utc": pl.Datetime("us", "UTC"), "max_calls_per_24h": pl.Int64, "count_calls_24h": pl.Int64,
            "not_before_utc": pl.Datetime("us", "UTC"), "deferred_reason": pl.String,
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(windows.select(expected.columns), expected)
    assert windows.get_column("window_date").unique().to_list() == [date(2026, 11, 27)]


def test_a_number_whose_window_is_closed_or_over_has_no_calling_window_in_the_lists_day() -> None:
    friday_closed = {**DEFAULT_CALLING_RULES, "GB": CallingRule(hours=CallingWindow(start="08:00", end="21:00"),
                                                               days={"friday": "closed"})}  # fmt: skip
    closed = number_windows(leads(LONDON, NJ), CALLS, rules=friday_closed, as_of=AS_OF)
    late = number_windows(leads(LONDON, NJ), CALLS, rules=DEFAULT_CALLING_RULES, as_of=at("2026-11-27T21:00"))
    assert closed.select("phone_e164", "window_start_utc", "deferred_reason").rows() == [
        (LONDON, None, "no_calling_window"),
        (NJ, at("2026-11-27T13:00"), None),
    ]
    assert late.select("phone_e164", "window_end_utc", "deferred_reason").rows() == [
        (LONDON, at("2026-11-27T21:00"), "no_calling_window"),  # ended as the run began
        (NJ, at("2026-11-28T02:00"), None),
    ]


SCRUBBED = pl.DataFrame(
    {
        "campaign": ["autumn", "autumn", "autumn", "autumn", "winter", "winter"],
        "lead_id": ["A1", "A2", "A3", "A4", "W1", "W2"],
        "phone_e164": [NJ, FL_DEFERRED, PARIS, None, FL_DEFERRED, FL_WAITS],
        "outcome": ["clean", "clean", "clean", "invalid", "suppressed", "clean"],
        "reason": [None, None, None, "empty", "internal_optouts", None],
    }
)


def test_clean_rows_without_a_legal_window_are_deferred_and_every_other_row_keeps_its_outcome() -> None:
    windows = number_windows(leads(NJ, FL_DEFERRED, PARIS, FL_WAITS), CALLS, rules=DEFAULT_CALLING_RULES, as_of=AS_OF)
    timed = defer_uncallable(SCRUBBED, windows)
    expected = SCRUBBED.with_columns(
        outcome=pl.Series(["clean", "deferred", "deferred", "invalid", "suppressed", "clean"]),
        reason=pl.Series([None, "call_limit_reached", "no_calling_rule", "empty", "internal_optouts", None]),
        window_start_utc=pl.Series(
            [at("2026-11-27T13:00"), at("2026-11-27T13:00"), None, None, None, at("2026-11-27T13:00")]
        ),
        window_end_utc=pl.Series(
            [at("2026-11-28T02:00"), at("2026-11-28T01:00"), None, None, None, at("2026-11-28T01:00")]
        ),
        not_before_utc=pl.Series([None, at("2026-11-28T01:10"), None, None, None, at("2026-11-27T14:00")]),
    )
    assert_frame_equal(timed, expected)


def test_a_clean_row_whose_number_has_no_computed_window_is_deferred_not_dialled_blind() -> None:
    windows = number_windows(leads(NJ), CALLS, rules=DEFAULT_CALLING_RULES, as_of=AS_OF)
    timed = defer_uncallable(SCRUBBED.filter(pl.col("lead_id").is_in(["A1", "W2"])), windows)
    assert timed.select("lead_id", "outcome", "reason", "window_start_utc").rows() == [
        ("A1", "clean", None, at("2026-11-27T13:00")),
        ("W2", "deferred", "no_calling_window", None),
    ]


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        # Florida: the fourth call within 24 hours broke the limit, and so did the fifth (three calls in the
        # 24 hours before it: 15:00, 16:00 and 13:59); by 16:30 the 9 March calls have left the 24 hours.
        (FL_WAITS, [False, False, False, True, True, False]),
        (NJ, [False] * 6),  # no limit in New Jersey
    ],
)
def test_a_call_breaks_the_limit_when_the_24_hours_before_it_already_hold_the_limit(
    dialled: str, expected: list[bool]
) -> None:
    starts = ["2026-03-09T14:00", "2026-03-09T15:00", "2026-03-09T16:00", "2026-03-10T13:59", "2026-03-10T14:00",
              "2026-03-10T16:30"]  # fmt: skip
    calls = normalise_call_records(
        call_records(*(call(dialled, f"{start}:00Z") for start in starts)), default_region="US"
    )
    limited = limited_calls(calls, rules=DEFAULT_CALLING_RULES)
    assert limited.get_column("is_over_call_limit").to_list() == expected


def test_each_call_that_broke_a_limit_is_listed_with_its_cli_and_the_calls_before_it() -> None:
    breaches = call_limit_breaches(limited_calls(CALLS, rules=DEFAULT_CALLING_RULES))
    assert breaches.select(
        "call_id", "cli_e164", "dialled_e164", "dialled_subdivision", "started_at", "max_calls_per_24h",
        "count_calls_before_24h",
    ).rows() == [("c10", "+12015550199", FL_FOURTH, "US-FL", at("2026-11-26T20:00"), 3, 3)]  # fmt: skip
