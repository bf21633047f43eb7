"""Where and when a number may be called: its time zones, its jurisdictions, and a day's calling window in UTC.

Time zones are phonenumbers' answer (`time_zones_for_number`): for US and Canadian numbers by area
code, or by exchange where phonenumbers knows better (Idaho's 208 is split). A number with no zone
of its own (toll-free, non-geographic, some mobiles: phonenumbers knows only its country code, or
nothing) is given every zone of its country, the safe side. A number's jurisdictions are its
country's rule and its state's or province's (`pipelines.calling.rules`); the subdivision comes from
the area code, as phonenumbers' geocoder describes it (Oklahoma presumes a resident from an Oklahoma
area code, and so does this), and a number with none obeys every subdivision rule of its country.
A day's window is the local hours all its jurisdictions allow on that local date, legal in every
zone at once (the latest start and the earliest end, in UTC), and none when they do not overlap or a
rule closes the day. Start is inclusive, end exclusive. Zones are looked up once per distinct
(time-zone prefix, number type, region), which decides phonenumbers' answer, subdivisions once per
area code, and windows once per distinct (zones, jurisdictions, day), never per row.
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

from pipelines.calling.rules import CLOSED, CallingRule, applicable_jurisdictions
from pipelines.phones.e164 import result_column
from pipelines.registries.us_states import SUBDIVISIONS

WINDOW_SCHEMA = {"window_start_utc": pl.Datetime("us", "UTC"), "window_end_utc": pl.Datetime("us", "UTC")}
_PREFIXES_BY_LENGTH = {
    length: sorted(prefix for prefix in TIMEZONE_DATA if len(prefix) == length)
    for length in range(1, TIMEZONE_LONGEST_PREFIX + 1)
}
_KEY = "_zones_and_rules"
# The geocoder's own spellings where they differ from the state's name.
_GEOCODER_NAMES = {"Washington State": "WA", "Washington D.C.": "DC"}
_CITY_SUBDIVISION = re.compile(r", ([A-Z]{2})$")
_EXCHANGES = range(200, 1000)
_NANP = "1"
_NANP_EXAMPLE_LINE = "2345678"  # completes an area code or exchange prefix into a number region lookup accepts


def located(frame: pl.DataFrame, column: str, *, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Add `<column>_time_zones`, `<column>_subdivision`, `<column>_jurisdictions` and `max_calls_per_24h`: where
    the number is called and how often it may be; null for a row without a valid number. Each distinct number is
    located once, however many rows hold it."""
    e164, number_type, region = (
        result_column(column, "e164"),
        result_column(column, "type"),
        result_column(column, "region"),
    )
    numbers = frame.select(e164, number_type, region).unique(e164).drop_nulls(e164)
    placed = with_jurisdictions(with_subdivision(with_time_zones(numbers, column), column), column, rules=rules)
    placed = with_call_limit(placed, column, rules=rules)
    return frame.join(placed.drop(number_type, region), on=e164, how="left", maintain_order="left")


def with_time_zones(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add `<column>_time_zones`: the number's IANA zones, sorted (its country's when it has none of its own);
    null when not a valid number."""
    e164, zones = result_column(column, "e164"), f"{column}_time_zones"
    keys = ["_time_zone_prefix", result_column(column, "type"), result_column(column, "region")]
    numbers = (
        frame.select(e164, *keys[1:])
        .unique()
        .drop_nulls(e164)
        .with_columns(_time_zone_prefix=_time_zone_prefix(pl.col(e164)))
    )
    representatives = numbers.group_by(keys).agg(pl.col(e164).first())
    lookup = pl.DataFrame(
        [(*key, time_zones(number, region=key[2])) for *key, number in representatives.iter_rows()],
        schema={**numbers.select(keys).schema, zones: pl.List(pl.String)},
        orient="row",
    )
    number_zones = numbers.join(lookup, on=keys, how="left", nulls_equal=True).select(e164, zones)
    return frame.join(number_zones, on=e164, how="left", maintain_order="left")


def with_subdivision(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add `<column>_subdivision`: a US or Canadian number's state or province (`US-FL`, `CA-ON`) by area code."""
    region = pl.col(result_column(column, "region"))
    area_code = pl.when(region.is_in(list(SUBDIVISIONS))).then(
        pl.concat_str(region, pl.lit(":"), pl.col(result_column(column, "e164")).str.slice(2, 3))
    )
    keys = frame.select(area_code.unique().drop_nulls()).to_series().to_list()
    subdivisions = {key: subdivision_for_area_code(*key.split(":")) for key in keys}
    return frame.with_columns(
        area_code.replace_strict(subdivisions, default=None, return_dtype=pl.String).alias(f"{column}_subdivision")
    )


def with_jurisdictions(frame: pl.DataFrame, column: str, *, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Add `<column>_jurisdictions`: the rules the number obeys (`[US, US-FL]`); empty when its country has none."""
    region, subdivision = result_column(column, "region"), f"{column}_subdivision"
    keys = frame.select(region, subdivision).unique()
    jurisdictions = pl.DataFrame(
        [(*key, applicable_jurisdictions(rules, *key)) for key in keys.iter_rows()],
        schema={**keys.schema, f"{column}_jurisdictions": pl.List(pl.String)},
        orient="row",
    )
    return frame.join(jurisdictions, on=[region, subdivision], how="left", nulls_equal=True, maintain_order="left")


def with_call_limit(frame: pl.DataFrame, column: str, *, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Add `max_calls_per_24h`: the lowest call limit of the number's jurisdictions; null when none has one."""
    jurisdictions = f"{column}_jurisdictions"
    keys = frame.select(pl.col(jurisdictions).unique().drop_nulls()).to_series().to_list()
    limits = pl.DataFrame(
        [(key, lowest_limit(key, rules)) for key in keys],
        schema={jurisdictions: pl.List(pl.String), "max_calls_per_24h": pl.Int64},
        orient="row",
    )
    return frame.join(limits, on=jurisdictions, how="left", maintain_order="left")


@functools.cache
def subdivision_for_area_code(region: str, area_code: str) -> str | None:
    """The state or province a NANP area code serves (`US-FL`): the geocoder's description of it, else the one
    its exchanges agree on.

    A handful of area codes (203, 310, 713, 718) have no description of their own, only of their
    exchanges; an area code whose exchanges name more than one subdivision, or none, has none.
    """
    subdivision = _named_in(region, _description(area_code))
    if subdivision is None:
        named = {_named_in(region, _description(f"{area_code}{exchange}")) for exchange in _EXCHANGES} - {None}
        subdivision = named.pop() if len(named) == 1 else None
    return None if subdivision is None else f"{region}-{subdivision}"


@functools.cache
def country_time_zones(region: str) -> tuple[str, ...]:
    """Every zone phonenumbers gives any number of `region`, sorted: the zones of a number with none of its own.

    NANP countries share +1, so there a prefix counts only for the region phonenumbers places its area code in.
    """
    country_code = str(phonenumbers.country_code_for_region(region))
    prefixes = [prefix for prefix in TIMEZONE_DATA if prefix.startswith(country_code)]
    if country_code == _NANP:
        prefixes = [prefix for prefix in prefixes if prefix != _NANP and _nanp_region(prefix) == region]
    zones = {zone for prefix in prefixes for zone in TIMEZONE_DATA[prefix]}
    return tuple(sorted(zones - {UNKNOWN_TIMEZONE}))


def calling_windows(frame: pl.DataFrame, column: str, *, day: date, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Add `window_date` and the UTC `window_start_utc`/`window_end_utc` of that day's legal calling window.

    `frame` has the columns `located` adds; the window is null when no hour of `day` is legal.
    """
    zones, jurisdictions = f"{column}_time_zones", f"{column}_jurisdictions"
    keys = frame.select(zones, jurisdictions).unique()
    windows = pl.DataFrame(
        [(*key, *window_utc(*key, day, rules)) for key in keys.iter_rows()],
        schema={**keys.schema, **WINDOW_SCHEMA},
        orient="row",
    )
    return frame.with_columns(window_date=pl.lit(day, pl.Date)).join(
        windows, on=[zones, jurisdictions], how="left", nulls_equal=True, maintain_order="left"
    )


def with_outside_hours(calls: pl.DataFrame, column: str, *, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Add `is_outside_hours`: the call started outside the legal window of the recipient's local day.

    `calls` has the columns `located` adds. Rows come back in `started_at` order: each call is matched
    to the latest window starting before it.
    """
    zones, jurisdictions = f"{column}_time_zones", f"{column}_jurisdictions"
    keyed = calls.with_columns(
        pl.concat_str(pl.col(zones).list.join("|"), pl.col(jurisdictions).list.join("|"), separator="/").alias(_KEY)
    )
    windows = _daily_windows(keyed, zones, jurisdictions, rules=rules)
    matched = keyed.sort("started_at").join_asof(
        windows,
        left_on="started_at",
        right_on="window_start_utc",
        by=_KEY,
        check_sortedness=False,  # both sides are sorted on the join key just above
    )
    is_inside = (pl.col("started_at") < pl.col("window_end_utc")).fill_null(False)
    return matched.with_columns(is_outside_hours=~is_inside).drop(_KEY, *WINDOW_SCHEMA)


def _daily_windows(
    keyed: pl.DataFrame, zones: str, jurisdictions: str, *, rules: Mapping[str, CallingRule]
) -> pl.DataFrame:
    """The window of every (zones, rules) on each local day a call may fall on: its UTC day and the days either side."""
    utc_days = keyed.select(zones, jurisdictions, _KEY, day=pl.col("started_at").dt.date()).unique()
    days = pl.concat(utc_days.with_columns(pl.col("day") + timedelta(days=offset)) for offset in (-1, 0, 1)).unique()
    windows = pl.DataFrame(
        [
            (key, *window_utc(number_zones, number_rules, day, rules))
            for number_zones, number_rules, key, day in days.iter_rows()
        ],
        schema={_KEY: pl.String, **WINDOW_SCHEMA},
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


def time_zones(e164: str, *, region: str | None) -> list[str]:
    """phonenumbers' zones for the number; its country's when phonenumbers knows only its country code's, or none."""
    number = phonenumbers.parse(e164)
    answer = time_zones_for_number(number)
    zones = sorted(zone for zone in answer if zone != UNKNOWN_TIMEZONE)
    if (zones and answer != TIMEZONE_DATA.get(str(number.country_code))) or region is None:
        return zones
    return list(country_time_zones(region))


def _nanp_region(prefix: str) -> str | None:
    """The region phonenumbers places a +1 time-zone prefix's numbers in (`1416` → CA)."""
    national = (prefix[1:] + _NANP_EXAMPLE_LINE)[:10]
    return phonenumbers.region_code_for_number(PhoneNumber(country_code=1, national_number=int(national)))


def _local_hours(jurisdictions: Sequence[str], day: date, rules: Mapping[str, CallingRule]) -> tuple[time, time] | None:
    """The local hours every rule allows on `day`: the latest start and the earliest end; None when a rule closes
    the day or no rule gives hours."""
    hours = [rules[name].hours_on(day) for name in jurisdictions]
    if CLOSED in hours:
        return None
    windows = [window for window in hours if window is not None and window != CLOSED]
    if not windows:
        return None
    return max(window.start for window in windows), min(window.end for window in windows)


def window_utc(
    zones: Sequence[str] | None, jurisdictions: Sequence[str] | None, day: date, rules: Mapping[str, CallingRule]
) -> tuple[datetime | None, datetime | None]:
    """The UTC interval in which `day`'s legal local hours hold in every zone; (None, None) when there is none."""
    hours = _local_hours(jurisdictions or [], day, rules)
    if not zones or hours is None:
        return None, None
    start, end = hours
    latest_start = max(datetime.combine(day, start, tzinfo=ZoneInfo(zone)).astimezone(UTC) for zone in zones)
    earliest_end = min(datetime.combine(day, end, tzinfo=ZoneInfo(zone)).astimezone(UTC) for zone in zones)
    return (latest_start, earliest_end) if latest_start < earliest_end else (None, None)


def _description(national_prefix: str) -> str:
    """The geocoder's English description of the longest +1 prefix it knows within `national_prefix`."""
    return geocoder.description_for_valid_number(
        PhoneNumber(country_code=1, national_number=int(national_prefix)), "en"
    )


def _named_in(region: str, description: str) -> str | None:
    """`Florida` → FL, `Chicago, IL` → IL, `Ontario` → ON; None for anything that names no subdivision of `region`."""
    names = SUBDIVISIONS[region]
    if description in names:
        return names[description]
    if region == "US" and description in _GEOCODER_NAMES:
        return _GEOCODER_NAMES[description]
    match = _CITY_SUBDIVISION.search(description)
    return match.group(1) if match and match.group(1) in names.values() else None


def lowest_limit(jurisdictions: list[str], rules: Mapping[str, CallingRule]) -> int | None:
    limits = [rules[name].max_calls_per_24h for name in jurisdictions if rules[name].max_calls_per_24h is not None]
    return min(limits, default=None)
