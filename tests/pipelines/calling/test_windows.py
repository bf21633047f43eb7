"""Calling windows: the recipient's time zones and jurisdictions from the number, and the day's legal window in
UTC, at the edges of every rule: 08:00 in and 21:00 out, Florida, Oklahoma and Washington ending at 20:00,
Canada's weekend hours, both daylight-saving changes, a number in two zones and a toll-free number."""

from datetime import UTC, date, datetime, time

import phonenumbers
import polars as pl
import pytest
from phonenumbers.timezone import TIMEZONE_DATA, UNKNOWN_TIMEZONE, time_zones_for_number
from polars.testing import assert_frame_equal

from pipelines.calling.rules import DEFAULT_CALLING_RULES, CallingRule, CallingWindow
from pipelines.calling.windows import (
    calling_windows,
    country_time_zones,
    located,
    subdivision_for_area_code,
    with_outside_hours,
)
from pipelines.phones.e164 import normalise_phones

NJ, FL, OK, WA, IDAHO = "+12015550123", "+13055550123", "+14055550123", "+12065550123", "+12085550123"
TORONTO, LONDON, TOLL_FREE = "+14165550123", "+442079460018", "+18005550123"
NEW_YORK, CHICAGO, BOISE, LOS_ANGELES = "America/New_York", "America/Chicago", "America/Boise", "America/Los_Angeles"
US_ZONES = [
    "America/Adak", "America/Anchorage", "America/Boise", "America/Chicago", "America/Denver", "America/Juneau",
    "America/Los_Angeles", "America/New_York", "America/North_Dakota/Center", "America/Phoenix", "Pacific/Honolulu",
]  # fmt: skip


def placed(phones: list[str], rules: dict[str, CallingRule] = DEFAULT_CALLING_RULES) -> pl.DataFrame:
    numbers = normalise_phones(pl.DataFrame({"phone": phones}), "phone", region="US")
    return located(numbers, "phone", rules=rules)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_toll_free_number_has_no_zone_of_its_own_so_it_gets_every_zone_of_its_country() -> None:
    # phonenumbers gives +1 800 every zone of the NANP, Guam to Bermuda; the United States' own are these.
    assert len(time_zones_for_number(phonenumbers.parse(TOLL_FREE))) == 42
    assert list(country_time_zones("US")) == US_ZONES
    assert placed([TOLL_FREE]).get_column("phone_time_zones").to_list() == [US_ZONES]


# Saturday 7 March 2026: EST (UTC-5), CST (-6), MST (-7), PST (-8), HST (-10), GMT. Sunday 8 March: North
# America's clocks go forward, each zone an hour less, Hawaii's excepted. Florida and Oklahoma end at 20:00;
# Idaho's window is the one legal in Boise and Los Angeles both: from 08:00 in Los Angeles to 21:00 in Boise.
# A toll-free number obeys every state's rule in every US zone: from 08:00 in Hawaii to 20:00 in New York.
# Toronto at the weekend: 10:00 to 18:00.
WINDOWS = {
    date(2026, 3, 7): [
        (utc("2026-03-07T13:00"), utc("2026-03-08T02:00")),
        (utc("2026-03-07T13:00"), utc("2026-03-08T01:00")),
        (utc("2026-03-07T14:00"), utc("2026-03-08T02:00")),
        (utc("2026-03-07T16:00"), utc("2026-03-08T04:00")),
        (utc("2026-03-07T08:00"), utc("2026-03-07T21:00")),
        (utc("2026-03-07T18:00"), utc("2026-03-08T01:00")),
        (utc("2026-03-07T15:00"), utc("2026-03-07T23:00")),
        (None, None),
    ],
    date(2026, 3, 8): [
        (utc("2026-03-08T12:00"), utc("2026-03-09T01:00")),
        (utc("2026-03-08T12:00"), utc("2026-03-09T00:00")),
        (utc("2026-03-08T13:00"), utc("2026-03-09T01:00")),
        (utc("2026-03-08T15:00"), utc("2026-03-09T03:00")),
        (utc("2026-03-08T08:00"), utc("2026-03-08T21:00")),
        (utc("2026-03-08T18:00"), utc("2026-03-09T00:00")),
        (utc("2026-03-08T14:00"), utc("2026-03-08T22:00")),
        (None, None),
    ],
}


@pytest.mark.parametrize("day", list(WINDOWS))
def test_each_number_gets_the_days_window_legal_in_all_its_zones_under_all_its_rules(day: date) -> None:
    numbers = placed([NJ, FL, OK, IDAHO, LONDON, TOLL_FREE, TORONTO, "12345"]).select(
        "phone_e164", "phone_time_zones", "phone_subdivision", "phone_jurisdictions"
    )
    windows = calling_windows(numbers, "phone", day=day, rules=DEFAULT_CALLING_RULES)
    every_state = ["US", "US-FL", "US-OK", "US-WA"]
    expected = pl.DataFrame(
        [
            (e164, zones, subdivision, jurisdictions, day, start, end)
            for (e164, zones, subdivision, jurisdictions), (start, end) in zip(
                [
                    (NJ, [NEW_YORK], "US-NJ", ["US"]),
                    (FL, [NEW_YORK], "US-FL", ["US", "US-FL"]),
                    (OK, [CHICAGO], "US-OK", ["US", "US-OK"]),
                    (IDAHO, [BOISE, LOS_ANGELES], "US-ID", ["US"]),
                    (LONDON, ["Europe/London"], None, ["GB"]),
                    (TOLL_FREE, US_ZONES, None, every_state),
                    (TORONTO, ["America/Toronto"], "CA-ON", ["CA"]),
                    (None, None, None, None),
                ],
                WINDOWS[day],
                strict=True,
            )
        ],
        schema={
            "phone_e164": pl.String, "phone_time_zones": pl.List(pl.String), "phone_subdivision": pl.String,
            "phone_jurisdictions": pl.List(pl.String), "window_date": pl.Date,
            "window_start_utc": pl.Datetime("us", "UTC"), "window_end_utc": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )  # fmt: skip
    assert_frame_equal(windows, expected)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 10, 31), utc("2026-10-31T12:00"), utc("2026-11-01T01:00")),
        (date(2026, 11, 1), utc("2026-11-01T13:00"), utc("2026-11-02T02:00")),
    ],
)
def test_windows_follow_the_autumn_change_too(day: date, start: datetime, end: datetime) -> None:
    windows = calling_windows(placed([NJ]), "phone", day=day, rules=DEFAULT_CALLING_RULES)
    assert windows.select("window_start_utc", "window_end_utc").rows() == [(start, end)]


def test_a_subdivision_rule_can_only_narrow_its_countrys_hours() -> None:
    lenient = CallingRule(hours=CallingWindow(start=time(6), end=time(22)))
    rules = {**DEFAULT_CALLING_RULES, "US-FL": lenient}
    windows = calling_windows(placed([FL], rules), "phone", day=date(2026, 3, 9), rules=rules)
    assert windows.select("window_start_utc", "window_end_utc").rows() == [
        (utc("2026-03-09T12:00"), utc("2026-03-10T01:00"))
    ]


def test_a_closed_day_or_a_holiday_has_no_window() -> None:
    rules = {**DEFAULT_CALLING_RULES, "US-NJ": CallingRule(days={"sunday": "closed"}, holidays=[date(2026, 12, 25)])}
    numbers = placed([NJ, FL], rules)
    windows = {
        day: calling_windows(numbers, "phone", day=day, rules=rules).get_column("window_start_utc").to_list()
        for day in (date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 25))
    }
    assert windows == {
        date(2026, 12, 6): [None, utc("2026-12-06T13:00")],  # Sunday: closed in New Jersey only
        date(2026, 12, 7): [utc("2026-12-07T13:00"), utc("2026-12-07T13:00")],
        date(2026, 12, 25): [None, utc("2026-12-25T13:00")],
    }


# (number, call start in UTC, local time, whether outside hours)
CALLS = [
    (NJ, "2026-03-06T13:00", "08:00 EST: the first legal minute", False),
    (NJ, "2026-03-07T01:59", "20:59 EST", False),
    (NJ, "2026-03-07T02:00", "21:00 EST: the window has ended", True),
    (NJ, "2026-03-07T12:30", "07:30 EST: before hours", True),
    (NJ, "2026-03-08T12:30", "08:30 EDT, after the spring change: in hours", False),
    (NJ, "2026-03-08T02:30", "21:30 EST on the 7th: after hours", True),
    (NJ, "2026-11-01T12:30", "07:30 EST, after the autumn change (08:30 EDT the day before): before hours", True),
    (NJ, "2026-03-07T01:30", "20:30 EST in New Jersey: in hours", False),
    (FL, "2026-03-07T01:30", "20:30 EST in Florida: after its hours", True),
    (OK, "2026-03-07T02:30", "20:30 CST in Oklahoma: after its hours", True),
    (WA, "2026-03-07T04:30", "20:30 PST in Washington: after its hours", True),
    (WA, "2026-03-07T03:59", "19:59 PST in Washington", False),
    (TORONTO, "2026-03-07T23:30", "Saturday 18:30 EST in Toronto: after its weekend hours", True),
    (TORONTO, "2026-03-07T22:30", "Saturday 17:30 EST in Toronto", False),
    (TORONTO, "2026-03-07T02:00", "Friday 21:00 EST in Toronto: in its weekday hours", False),
    (TORONTO, "2026-03-07T02:30", "Friday 21:30 EST in Toronto: after them", True),
    (IDAHO, "2026-03-08T14:30", "08:30 MDT in Boise, 07:30 PDT in Los Angeles: not legal in both", True),
    (IDAHO, "2026-03-08T15:30", "09:30 and 08:30: in hours in both", False),
    (TOLL_FREE, "2026-03-09T17:30", "13:30 EDT but 07:30 HST: not legal in every US zone", True),
    (TOLL_FREE, "2026-03-09T18:30", "08:30 HST and 14:30 EDT: legal everywhere", False),
    (TOLL_FREE, "2026-03-10T00:30", "20:30 EDT: after Florida's hours, which a number of unknown state obeys", True),
    ("+33142685300", "2026-03-09T12:00", "13:00 in Paris: no rule for France, so never inside hours", True),
]


def test_calls_outside_hours_on_the_recipients_local_day() -> None:
    calls = placed([number for number, *_ in CALLS]).with_columns(
        started_at=pl.Series([utc(started) for _, started, *_ in CALLS]), call=pl.int_range(pl.len())
    )
    timed = with_outside_hours(calls, "phone", rules=DEFAULT_CALLING_RULES).sort("call")
    assert list(zip(timed.get_column("is_outside_hours"), (local for *_, local, _ in CALLS), strict=True)) == [
        (is_outside, local) for *_, local, is_outside in CALLS
    ]


@pytest.mark.parametrize(
    ("region", "area_code", "subdivision"),
    [
        ("US", "201", "US-NJ"),  # "New Jersey"
        ("US", "305", "US-FL"),
        ("US", "850", "US-FL"),
        ("US", "405", "US-OK"),
        ("US", "918", "US-OK"),
        ("US", "206", "US-WA"),  # "Washington State"
        ("US", "202", "US-DC"),  # "Washington D.C."
        ("US", "312", "US-IL"),  # "Chicago, IL"
        ("US", "718", "US-NY"),  # no description of its own: every exchange says New York
        ("US", "713", "US-TX"),
        ("US", "800", None),  # toll-free: no place
        ("US", "416", None),  # Toronto: not a US state
        ("CA", "416", "CA-ON"),
        ("CA", "514", "CA-QC"),
        ("CA", "902", None),  # Nova Scotia and Prince Edward Island share it
    ],
)
def test_the_subdivision_comes_from_the_area_codes_geocoder_description(
    region: str, area_code: str, subdivision: str | None
) -> None:
    assert subdivision_for_area_code(region, area_code) == subdivision


def test_only_us_and_canadian_numbers_get_a_subdivision() -> None:
    subdivisions = placed([TORONTO, NJ, LONDON]).get_column("phone_subdivision").to_list()
    assert subdivisions == ["CA-ON", "US-NJ", None]


def test_time_zones_are_phonenumbers_answer_or_the_countrys_for_every_example_and_a_split_area_code() -> None:
    examples = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for number_type in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                            phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP)
        if (number := phonenumbers.example_number_for_type(region, number_type)) is not None
    ]  # fmt: skip
    idaho = [f"+1208{exchange}5555" for exchange in range(200, 1000, 7)]
    numbers = placed(examples + idaho).filter(pl.col("phone_valid"))
    expected = [
        own_zones(e164) or list(country_time_zones(region))
        for e164, region in numbers.select("phone_e164", "phone_region").iter_rows()
    ]
    assert numbers.height > 500
    assert numbers.get_column("phone_time_zones").to_list() == expected


def own_zones(e164: str) -> list[str]:
    """phonenumbers' zones for the number, unless they are only its country code's (or unknown)."""
    number = phonenumbers.parse(e164)
    zones = time_zones_for_number(number)
    if zones == TIMEZONE_DATA.get(str(number.country_code)):
        return []
    return sorted(zone for zone in zones if zone != UNKNOWN_TIMEZONE)
