"""Where and when a number may be called: its time zones, its US state, and a day's calling window in UTC.

Time zones are phonenumbers' answer (`time_zones_for_number`): for US and Canadian numbers by area
code, or by exchange where phonenumbers knows better (Idaho's 208 is split). A day's window is the
calling hours in local time, narrowed by the state's rule; a number in several zones gets the window
legal in all of them (the latest start and the earliest end, in UTC), and none when they do not
overlap. Start is inclusive, end exclusive. A US number's state is its area code's, as phonenumbers'
geocoder describes it (Oklahoma presumes a resident from an Oklahoma area code, and so does this).
Zones are looked up once per distinct (time-zone prefix, number type, region), which decides
phonenumbers' answer, states once per area code, and windows once per distinct (zones, state, day),
never per row.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumber, geocoder
from phonenumbers.timezone import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX, UNKNOWN_TIMEZONE, time_zones_for_number

from pipelines.config import CallingWindow, StateRule
from pipelines.us_states import US_STATE_CODES, US_STATES

WINDOW_SCHEMA = {"window_start_utc": pl.Datetime("us", "UTC"), "window_end_utc": pl.Datetime("us", "UTC")}
_PREFIXES_BY_LENGTH = {
    length: sorted(prefix for prefix in TIMEZONE_DATA if len(prefix) == length)
    for length in range(1, TIMEZONE_LONGEST_PREFIX + 1)
}
_ZONES_KEY = "_zones_key"
# The geocoder's own spellings where they differ from the state's name.
_GEOCODER_NAMES = {"Washington State": "WA", "Washington D.C.": "DC"}
_CITY_STATE = re.compile(r", ([A-Z]{2})$")
_EXCHANGES = range(200, 1000)


def with_time_zones(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add `<column>_time_zones`: the number's IANA zones, sorted; empty when unknown, null when not a valid number."""
    e164, zones = f"{column}_e164", f"{column}_time_zones"
    keys = ["_time_zone_prefix", f"{column}_type", f"{column}_region"]
    numbers = (
        frame.select(e164, *keys[1:])
        .unique()
        .drop_nulls(e164)
        .with_columns(_time_zone_prefix=_time_zone_prefix(pl.col(e164)))
    )
    representatives = numbers.group_by(keys).agg(pl.col(e164).first())
    lookup = pl.DataFrame(
        [(*key, _time_zones(number)) for *key, number in representatives.iter_rows()],
        schema={**numbers.select(keys).schema, zones: pl.List(pl.String)},
        orient="row",
    )
    number_zones = numbers.join(lookup, on=keys, how="left", nulls_equal=True).select(e164, zones)
    return frame.join(number_zones, on=e164, how="left", maintain_order="left")


def with_us_state(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add `<column>_state`: the US state of a US number's area code (postal code), looked up once per area code."""
    area_code = pl.when(pl.col(f"{column}_region") == "US").then(pl.col(f"{column}_e164").str.slice(2, 3))
    area_codes = frame.select(area_code.unique().drop_nulls()).to_series().to_list()
    states = {code: state_for_area_code(code) for code in area_codes}
    return frame.with_columns(
        area_code.replace_strict(states, default=None, return_dtype=pl.String).alias(f"{column}_state")
    )


@functools.cache
def state_for_area_code(area_code: str) -> str | None:
    """The state a US area code serves: the geocoder's description of it, else the one state its exchanges agree on.

    A handful of area codes (203, 310, 713, 718) have no description of their own, only of their
    exchanges; an area code whose exchanges name more than one state, or none, has no state.
    """
    state = _state_named_in(_description(area_code))
    if state is not None:
        return state
    states = {_state_named_in(_description(f"{area_code}{exchange}")) for exchange in _EXCHANGES} - {None}
    return states.pop() if len(states) == 1 else None


def calling_windows(
    frame: pl.DataFrame,
    column: str,
    *,
    as_of: date,
    hours: CallingWindow,
    states: Mapping[str, StateRule],
) -> pl.DataFrame:
    """Add `window_date` and the UTC `window_start_utc`/`window_end_utc` of that day's legal calling window."""
    zones, state = f"{column}_time_zones", f"{column}_state"
    keys = frame.select(zones, state).unique()
    windows = pl.DataFrame(
        [
            (
                number_zones,
                number_state,
                *_window_utc(number_zones, as_of, _local_hours(hours, states.get(number_state))),
            )
            for number_zones, number_state in keys.iter_rows()
        ],
        schema={**keys.schema, **WINDOW_SCHEMA},
        orient="row",
    )
    return frame.with_columns(window_date=pl.lit(as_of, pl.Date)).join(
        windows, on=[zones, state], how="left", nulls_equal=True, maintain_order="left"
    )


def with_outside_hours(calls: pl.DataFrame, column: str, *, hours: CallingWindow) -> pl.DataFrame:
    """Add `is_outside_hours`: the call started outside `hours` on the recipient's local day; null for unknown zones.

    Rows come back in `started_at` order: each call is matched to the latest window starting before it.
    """
    zones = f"{column}_time_zones"
    keyed = calls.with_columns(pl.col(zones).list.join("|").alias(_ZONES_KEY))
    windows = _daily_windows(keyed, zones, hours=hours)
    matched = keyed.sort("started_at").join_asof(
        windows,
        left_on="started_at",
        right_on="window_start_utc",
        by=_ZONES_KEY,
        check_sortedness=False,  # both sides are sorted on the join key just above
    )
    is_inside = (pl.col("started_at") < pl.col("window_end_utc")).fill_null(False)
    return matched.with_columns(
        is_outside_hours=pl.when(pl.col(zones).list.len() > 0).then(~is_inside),
    ).drop(_ZONES_KEY, *WINDOW_SCHEMA)


def _daily_windows(keyed: pl.DataFrame, zones: str, *, hours: CallingWindow) -> pl.DataFrame:
    """The window of every zone set on each local day a call may fall on: its UTC day and the days either side."""
    utc_days = keyed.select(zones, _ZONES_KEY, day=pl.col("started_at").dt.date()).unique()
    days = pl.concat(utc_days.with_columns(pl.col("day") + timedelta(days=offset)) for offset in (-1, 0, 1)).unique()
    windows = pl.DataFrame(
        [
            (key, *_window_utc(number_zones, day, (hours.start, hours.end)))
            for number_zones, key, day in days.iter_rows()
        ],
        schema={_ZONES_KEY: pl.String, **WINDOW_SCHEMA},
        orient="row",
    )
    return windows.drop_nulls("window_start_utc").sort("window_start_utc")


def _time_zone_prefix(e164: pl.Expr) -> pl.Expr:
    """The longest prefix of the number that phonenumbers' time-zone data lists, as its own lookup does."""
    digits = e164.str.strip_prefix("+")
    prefix = pl.lit(None, pl.String)
    for length, prefixes in _PREFIXES_BY_LENGTH.items():
        candidate = digits.str.slice(0, length)
        prefix = pl.when(candidate.is_in(prefixes)).then(candidate).otherwise(prefix)
    return prefix


def _time_zones(e164: str) -> list[str]:
    zones = time_zones_for_number(phonenumbers.parse(e164))
    return sorted(zone for zone in zones if zone != UNKNOWN_TIMEZONE)


def _local_hours(hours: CallingWindow, rule: StateRule | None) -> tuple[time, time]:
    """The calling hours narrowed by a state's rule; a state can only make them stricter."""
    if rule is None:
        return hours.start, hours.end
    return max(hours.start, rule.start or hours.start), min(hours.end, rule.end or hours.end)


def _window_utc(zones: Sequence[str], day: date, hours: tuple[time, time]) -> tuple[datetime | None, datetime | None]:
    """The UTC interval in which `day`'s local `hours` hold in every zone; (None, None) when there is none."""
    start, end = hours
    if not zones or start >= end:
        return None, None
    latest_start = max(datetime.combine(day, start, tzinfo=ZoneInfo(zone)).astimezone(UTC) for zone in zones)
    earliest_end = min(datetime.combine(day, end, tzinfo=ZoneInfo(zone)).astimezone(UTC) for zone in zones)
    return (latest_start, earliest_end) if latest_start < earliest_end else (None, None)


def _description(national_prefix: str) -> str:
    """The geocoder's English description of the longest +1 prefix it knows within `national_prefix`."""
    return geocoder.description_for_valid_number(
        PhoneNumber(country_code=1, national_number=int(national_prefix)), "en"
    )


def _state_named_in(description: str) -> str | None:
    """`Florida` → FL, `Chicago, IL` → IL; None for anything that does not name a US state."""
    if description in US_STATES:
        return US_STATES[description]
    if description in _GEOCODER_NAMES:
        return _GEOCODER_NAMES[description]
    match = _CITY_STATE.search(description)
    return match.group(1) if match and match.group(1) in US_STATE_CODES else None
