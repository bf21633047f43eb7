"""Calling time in the clean lists and the call audit, from the one rule table (`pipelines.calling.rules`).

The list's day is the UTC date of the run's clock: a clean row carries that day's legal window for
its number (`window_start_utc`, `window_end_utc`) and, when a call limit is already reached,
`not_before_utc`: the instant the oldest call that counts leaves the 24 hours. A clean row whose
number has no legal window left in the list's day, or whose limit lasts until the window ends, is
`deferred` with the reason. In the audit, a call breaks a limit when the number already had as many
calls as its limit allows in the 24 hours up to it (a call at the same instant counts as earlier).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import polars as pl

from pipelines.calling.rules import CallingRule
from pipelines.calling.windows import calling_windows, located

DEFERRED = "deferred"
NO_CALLING_RULE = "no_calling_rule"
NO_CALLING_WINDOW = "no_calling_window"
CALL_LIMIT_REACHED = "call_limit_reached"
DEFERRED_REASONS = (NO_CALLING_RULE, NO_CALLING_WINDOW, CALL_LIMIT_REACHED)
TIMING_COLUMNS = ("window_start_utc", "window_end_utc", "not_before_utc")
_LIMIT_PERIOD = timedelta(hours=24)


def number_windows(
    leads: pl.DataFrame | pl.LazyFrame, calls: pl.DataFrame, *, rules: Mapping[str, CallingRule], as_of: datetime
) -> pl.DataFrame:
    """One row per valid number of `leads`: where it is called, the list day's window, its call limit and calls in
    the 24 hours up to `as_of`, `not_before_utc`, and `deferred_reason` (null when it may be called that day)."""
    return placed_windows(located(lead_numbers(leads), "phone", rules=rules), calls, rules=rules, as_of=as_of)


def lead_numbers(leads: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Each valid number of `leads` once, in order of first appearance: `phone_e164`, `phone_type`, `phone_region`."""
    return (
        leads.lazy()
        .select("phone_e164", "phone_type", "phone_region", "phone_valid")
        .filter(pl.col("phone_valid"))
        .unique("phone_e164", maintain_order=True)
        .drop("phone_valid")
        .collect()
    )


def placed_windows(
    placed: pl.DataFrame, calls: pl.DataFrame, *, rules: Mapping[str, CallingRule], as_of: datetime
) -> pl.DataFrame:
    """`number_windows` of numbers already placed (`lead_numbers`, `windows.located` as `phone`): where a number is
    called depends on the number alone, its window and recent calls on the day."""
    windows = calling_windows(placed, "phone", day=as_of.date(), rules=rules)
    limited = windows.join(_recent_calls(calls, as_of=as_of), on="phone_e164", how="left", maintain_order="left")
    limit = pl.col("max_calls_per_24h")
    return limited.select(
        pl.exclude("phone_type", "phone_region", "_recent_calls"),
        count_calls_24h=pl.col("_recent_calls").list.len().fill_null(0).cast(pl.Int64),
        not_before_utc=pl.col("_recent_calls").list.get(limit - 1, null_on_oob=True) + _LIMIT_PERIOD,
    ).with_columns(deferred_reason=_deferred_reason(as_of))


def listed_rows(scrubbed: pl.DataFrame) -> pl.DataFrame:
    """The clean and deferred rows of `scrubbed`: campaign, lead id, number and outcome."""
    return scrubbed.filter(pl.col("outcome").is_in(["clean", DEFERRED])).select(
        "campaign", "lead_id", "phone_e164", "outcome"
    )


def lead_windows(listed: pl.DataFrame, windows: pl.DataFrame) -> pl.DataFrame:
    """One row per `listed_rows` row: its number's calling time from `windows`, the `number_windows` of the rows
    that were clean before `defer_uncallable` (the same numbers)."""
    return listed.join(windows, on="phone_e164", how="left", maintain_order="left")


def defer_uncallable(scrubbed: pl.DataFrame, windows: pl.DataFrame) -> pl.DataFrame:
    """`scrubbed` with its clean rows' windows and `not_before_utc`, and the clean rows that cannot be called in the
    list's day moved to `deferred` with the reason; every other row as it was, with null timing columns.

    A clean row whose number `windows` does not hold has no known window, so it is deferred too (fail closed).
    """
    timing = scrubbed.select("phone_e164", "outcome").join(
        windows.select("phone_e164", *TIMING_COLUMNS, "deferred_reason"),
        on="phone_e164",
        how="left",
        maintain_order="left",
    )
    is_clean = pl.col("outcome") == "clean"
    why = pl.coalesce("deferred_reason", pl.when(pl.col("window_start_utc").is_null()).then(pl.lit(NO_CALLING_WINDOW)))
    is_deferred = is_clean & why.is_not_null()
    decided = timing.select(
        outcome=pl.when(is_deferred).then(pl.lit(DEFERRED)).otherwise("outcome"),
        _deferred_reason=pl.when(is_deferred).then(why),
        **{column: pl.when(is_clean).then(column) for column in TIMING_COLUMNS},
    )
    return scrubbed.with_columns(
        outcome=decided.get_column("outcome"),
        reason=pl.coalesce(decided.get_column("_deferred_reason"), pl.col("reason")),
    ).hstack(decided.select(TIMING_COLUMNS))


def limited_calls(calls: pl.DataFrame, *, rules: Mapping[str, CallingRule]) -> pl.DataFrame:
    """Call attempts with the recipient located (with its call limit), `count_calls_before_24h` (the number's calls in
    the 24 hours before each; null without a limit) and `is_over_call_limit`."""
    attempts = located(calls.filter(pl.col("is_attempt")), "dialled", rules=rules)
    indexed = attempts.with_row_index("_call")
    # Counted only where there is a limit: most numbers have none, and the rolling count is the costly part.
    calls_so_far = pl.col("is_attempt").cast(pl.Int64).rolling_sum_by("started_at", _LIMIT_PERIOD, closed="right")
    counted = (
        indexed.filter(pl.col("max_calls_per_24h").is_not_null())
        .sort("started_at")
        .select("_call", count_calls_before_24h=calls_so_far.over("dialled_e164") - 1)
    )
    return (
        indexed.join(counted, on="_call", how="left", maintain_order="left")
        .drop("_call")
        .with_columns(
            is_over_call_limit=(pl.col("count_calls_before_24h") >= pl.col("max_calls_per_24h")).fill_null(False)
        )
    )


def call_limit_breaches(attempts: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per call attempt made when its number's call limit was already reached: the call, its CLI and
    number, the limit and the calls before it in 24 hours; in number and time order. `attempts` are
    `limited_calls`."""
    return (
        attempts.lazy()
        .filter("is_over_call_limit")
        .select(
            "call_id",
            "cli_e164",
            "dialled_e164",
            "dialled_subdivision",
            "started_at",
            "max_calls_per_24h",
            "count_calls_before_24h",
            "source_file",
            "source_row",
        )  # fmt: skip
        .sort("dialled_e164", "started_at")
        .collect()
    )


def _recent_calls(calls: pl.DataFrame, *, as_of: datetime) -> pl.DataFrame:
    """Per dialled number, its attempts in the 24 hours up to `as_of`, latest first."""
    is_recent = pl.col("started_at").is_between(as_of - _LIMIT_PERIOD, as_of, closed="right")
    return (
        calls.filter(pl.col("is_attempt"), is_recent)
        .group_by(phone_e164="dialled_e164")
        .agg(_recent_calls=pl.col("started_at").sort(descending=True))
    )


def _deferred_reason(as_of: datetime) -> pl.Expr:
    """Why the number cannot be called in the list's day: no rule for its country, no window (or none left), or a
    call limit that lasts past the window's end; null when it can."""
    return (
        pl.when(pl.col("phone_jurisdictions").list.len() == 0)
        .then(pl.lit(NO_CALLING_RULE))
        .when(pl.col("window_end_utc").is_null() | (pl.col("window_end_utc") <= as_of))
        .then(pl.lit(NO_CALLING_WINDOW))
        .when(pl.col("not_before_utc") >= pl.col("window_end_utc"))
        .then(pl.lit(CALL_LIMIT_REACHED))
    )
