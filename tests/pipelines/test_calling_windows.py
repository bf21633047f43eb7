"""Calling windows: the recipient's time zones and state from the number, and the day's legal window in UTC,
across daylight-saving changes, stricter state hours and a number in two time zones."""

from datetime import UTC, date, datetime, time

import phonenumbers
import polars as pl
import pytest
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from polars.testing import assert_frame_equal

from pipelines.calling_windows import (
    calling_windows,
    state_for_area_code,
    with_outside_hours,
    with_time_zones,
    with_us_state,
)
from pipelines.config import DEFAULT_STATE_RULES, FEDERAL_CALLING_HOURS
from pipelines.e164 import normalise_phones

NJ, FL, OK, IDAHO = "+12015550123", "+13055550123", "+14055550123", "+12085550123"
LONDON, TOLL_FREE = "+442079460018", "+18005550123"
NEW_YORK, CHICAGO, BOISE, LOS_ANGELES = "America/New_York", "America/Chicago", "America/Boise", "America/Los_Angeles"
TOLL_FREE_ZONES = sorted(time_zones_for_number(phonenumbers.parse(TOLL_FREE)))  # Pacific/Guam … Pacific/Honolulu


def located(phones: list[str]) -> pl.DataFrame:
    numbers = normalise_phones(pl.DataFrame({"phone": phones}), "phone", region="US")
    return with_us_state(with_time_zones(numbers, "phone"), "phone")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 7 March 2026: EST (UTC-5), CST (-6), MST (-7), PST (-8), GMT. 8 March: clocks go forward, each an hour less.
# Florida and Oklahoma end at 20:00; Idaho's window is the one legal in Boise and Los Angeles both: from
# 08:00 in Los Angeles to 21:00 in Boise. A toll-free number spans Guam to Hawaii: no hour is legal in all.
WINDOWS = {
    date(2026, 3, 7): [
        (utc("2026-03-07T13:00"), utc("2026-03-08T02:00")),
        (utc("2026-03-07T13:00"), utc("2026-03-08T01:00")),
        (utc("2026-03-07T14:00"), utc("2026-03-08T02:00")),
        (utc("2026-03-07T16:00"), utc("2026-03-08T04:00")),
        (utc("2026-03-07T08:00"), utc("2026-03-07T21:00")),
        (None, None),
        (None, None),
    ],
    date(2026, 3, 8): [
        (utc("2026-03-08T12:00"), utc("2026-03-09T01:00")),
        (utc("2026-03-08T12:00"), utc("2026-03-09T00:00")),
        (utc("2026-03-08T13:00"), utc("2026-03-09T01:00")),
        (utc("2026-03-08T15:00"), utc("2026-03-09T03:00")),
        (utc("2026-03-08T08:00"), utc("2026-03-08T21:00")),
        (None, None),
        (None, None),
    ],
}


@pytest.mark.parametrize("day", list(WINDOWS))
def test_each_number_gets_the_days_window_legal_in_all_its_zones(day: date) -> None:
    numbers = located([NJ, FL, OK, IDAHO, LONDON, TOLL_FREE, "12345"]).select(
        "phone_e164", "phone_type", "phone_region", "phone_time_zones", "phone_state"
    )
    windows = calling_windows(numbers, "phone", as_of=day, hours=FEDERAL_CALLING_HOURS, states=DEFAULT_STATE_RULES)
    expected = pl.DataFrame(
        [
            (e164, zones, state, day, start, end)
            for (e164, zones, state), (start, end) in zip(
                [
                    (NJ, [NEW_YORK], "NJ"),
                    (FL, [NEW_YORK], "FL"),
                    (OK, [CHICAGO], "OK"),
                    (IDAHO, [BOISE, LOS_ANGELES], "ID"),
                    (LONDON, ["Europe/London"], None),
                    (TOLL_FREE, TOLL_FREE_ZONES, None),
                    (None, None, None),
                ],
                WINDOWS[day],
                strict=True,
            )
        ],
        schema={
            "phone_e164": pl.String, "phone_time_zones": pl.List(pl.String), "phone_state": pl.String,
            "window_date": pl.Date, "window_start_utc": pl.Datetime("us", "UTC"),
            "window_end_utc": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(windows.drop("phone_type", "phone_region"), expected)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 10, 31), utc("2026-10-31T12:00"), utc("2026-11-01T01:00")),
        (date(2026, 11, 1), utc("2026-11-01T13:00"), utc("2026-11-02T02:00")),
    ],
)
def test_windows_follow_the_autumn_change_too(day: date, start: datetime, end: datetime) -> None:
    windows = calling_windows(located([NJ]), "phone", as_of=day, hours=FEDERAL_CALLING_HOURS, states={})
    assert windows.select("window_start_utc", "window_end_utc").rows() == [(start, end)]


def test_a_state_rule_only_narrows_the_calling_hours() -> None:
    lenient = DEFAULT_STATE_RULES["FL"].model_copy(update={"start": None, "end": time(22)})
    windows = calling_windows(
        located([FL]), "phone", as_of=date(2026, 3, 8), hours=FEDERAL_CALLING_HOURS, states={"FL": lenient}
    )
    assert windows.select("window_start_utc", "window_end_utc").rows() == [
        (utc("2026-03-08T12:00"), utc("2026-03-09T01:00"))
    ]


def test_calls_outside_hours_on_the_recipients_local_day() -> None:
    calls = located([NJ, NJ, NJ, IDAHO, IDAHO, TOLL_FREE]).with_columns(
        started_at=pl.Series(
            [
                utc("2026-03-07T12:30"),  # 07:30 EST: before hours
                utc("2026-03-08T12:30"),  # 08:30 EDT, after the change: in hours
                utc("2026-03-08T02:30"),  # 21:30 EST on the 7th: after hours
                utc("2026-03-08T14:30"),  # 08:30 MDT in Boise, 07:30 PDT in Los Angeles: not legal in both
                utc("2026-03-08T15:30"),  # 09:30 and 08:30: in hours in both
                utc("2026-03-08T18:00"),  # no hour is legal across all the toll-free zones
            ]
        )
    )
    timed = with_outside_hours(calls, "phone", hours=FEDERAL_CALLING_HOURS)
    assert timed.sort("phone_e164", "started_at").select("phone_e164", "is_outside_hours").rows() == [
        (NJ, True),
        (NJ, True),
        (NJ, False),
        (IDAHO, True),
        (IDAHO, False),
        (TOLL_FREE, True),
    ]


@pytest.mark.parametrize(
    ("area_code", "state"),
    [
        ("201", "NJ"),  # "New Jersey"
        ("305", "FL"),
        ("850", "FL"),
        ("405", "OK"),
        ("918", "OK"),
        ("206", "WA"),  # "Washington State"
        ("202", "DC"),  # "Washington D.C."
        ("312", "IL"),  # "Chicago, IL"
        ("718", "NY"),  # no description of its own: every exchange says New York
        ("713", "TX"),
        ("800", None),  # toll-free: no place
        ("416", None),  # Toronto: not a US state
    ],
)
def test_the_state_comes_from_the_area_codes_geocoder_description(area_code: str, state: str | None) -> None:
    assert state_for_area_code(area_code) == state


def test_only_us_numbers_get_a_state() -> None:
    states = located(["+14165550123", "+12015550123", "+442079460018"]).get_column("phone_state").to_list()
    assert states == [None, "NJ", None]


def test_time_zones_are_exactly_phonenumbers_answer_for_every_example_and_a_split_area_code() -> None:
    examples = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for number_type in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                            phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP)
        if (number := phonenumbers.example_number_for_type(region, number_type)) is not None
    ]  # fmt: skip
    idaho = [f"+1208{exchange}5555" for exchange in range(200, 1000, 7)]
    numbers = located(examples + idaho).filter(pl.col("phone_valid"))
    expected = [
        sorted(zone for zone in time_zones_for_number(phonenumbers.parse(e164)) if zone != UNKNOWN_TIMEZONE)
        for e164 in numbers.get_column("phone_e164")
    ]
    assert numbers.height > 500
    assert numbers.get_column("phone_time_zones").to_list() == expected
