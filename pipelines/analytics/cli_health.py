"""Caller-ID (CLI) health: per-CLI daily call statistics, a health status per CLI, and pool sizing.

Days are UTC days. Health judges the `recent_days` before `as_of` against the CLI's own
`trailing_days` before those, with the thresholds in `calls.health`:
- retire: the latest reputation label checked on or before `as_of` is one of `retire_labels`;
- rest, or watch: the answer rate fell below `rest_answer_rate_ratio` (or `watch_…`) times the
  trailing answer rate; the share of calls under `short_call_s` reached `rest_short_call_share`
  (or `watch_…`); the CLI went over the daily cap on `rest_cap_breach_days` (or `watch_…`) days.
Rates are judged only on at least `min_calls` calls in each window. The worst status wins, and the
reason names every threshold crossed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import polars as pl

from pipelines.calling.rules import CallingRule
from pipelines.calling.windows import with_outside_hours
from pipelines.config import HealthThresholds
from pipelines.inputs.calls import ANSWERED
from pipelines.phones.masking import masked_e164

HEALTH_STATUSES = ("healthy", "watch", "rest", "retire")
HealthStatus = pl.Enum(HEALTH_STATUSES)
HEALTHY, WATCH, REST, RETIRE = range(len(HEALTH_STATUSES))
USABLE_STATUSES = ("healthy", "watch")


def cli_days(
    attempts: pl.DataFrame,
    estate: pl.DataFrame,
    *,
    daily_cap: int,
    short_call_s: int,
    rules: Mapping[str, CallingRule],
) -> pl.DataFrame:
    """One row per CLI per UTC day of usable call attempts (`deferral.limited_calls`): volume, answers, short calls,
    calls outside the legal hours and over a number's call limit (the calling-time rule table), complaints, cap."""
    usable = attempts.filter(pl.col("call_reason").is_null())
    timed = with_outside_hours(usable, "dialled", rules=rules)
    days = timed.group_by("cli_e164", day_utc=pl.col("started_at").dt.date()).agg(
        count_calls=pl.len(),
        count_recipients=pl.col("dialled_e164").n_unique(),
        count_answered=(pl.col("disposition") == ANSWERED).sum(),
        count_short_calls=(pl.col("duration_s") < short_call_s).sum(),
        count_outside_hours=pl.col("is_outside_hours").sum(),
        count_over_call_limit=pl.col("is_over_call_limit").sum(),
        count_complaints=pl.col("is_complaint").sum(),
    )
    counts = [name for name in days.columns if name.startswith("count_")]
    return (
        days.with_columns(pl.col(counts).cast(pl.Int64))
        .join(estate, on="cli_e164", how="left")
        .select(
            "cli_e164",
            "day_utc",
            "pool",
            "attestation",
            reputation_label=pl.when(pl.col("reputation_checked_on") <= pl.col("day_utc")).then("reputation_label"),
            count_calls="count_calls",
            count_recipients="count_recipients",
            count_answered="count_answered",
            answer_rate=pl.col("count_answered") / pl.col("count_calls"),
            count_short_calls="count_short_calls",
            short_call_share=pl.col("count_short_calls") / pl.col("count_calls"),
            count_outside_hours="count_outside_hours",
            count_over_call_limit="count_over_call_limit",
            count_complaints="count_complaints",
            is_over_cap=pl.col("count_calls") > daily_cap,
        )
        .sort("cli_e164", "day_utc")
    )


def cli_health(
    days: pl.DataFrame,
    estate: pl.DataFrame,
    *,
    thresholds: HealthThresholds,
    daily_cap: int,
    short_call_s: int,
    as_of: date,
) -> pl.DataFrame:
    """One row per CLI in the estate or the call log: recent and trailing rates, health status and the reason."""
    recent_from = as_of - timedelta(days=thresholds.recent_days)
    trailing_from = recent_from - timedelta(days=thresholds.trailing_days)
    activity = _window_totals(days, recent_from=recent_from, trailing_from=trailing_from, as_of=as_of)
    is_known = pl.col("reputation_checked_on") <= as_of
    clis = (
        estate.select(
            "cli_e164",
            "pool",
            "attestation",
            reputation_label=pl.when(is_known).then("reputation_label"),
            reputation_checked_on=pl.when(is_known).then("reputation_checked_on"),
        )
        .join(activity, on="cli_e164", how="full", coalesce=True)
        .with_columns(pl.col(activity.columns[1:]).fill_null(0))
    )
    findings = _findings(thresholds, daily_cap=daily_cap, short_call_s=short_call_s)
    return (
        clis.with_columns(**_rates())
        .select(
            "cli_e164",
            "pool",
            "attestation",
            "reputation_label",
            "count_calls_recent",
            "answer_rate_recent",
            "answer_rate_trailing",
            "short_call_share_recent",
            "count_cap_breach_days",
            health_status=pl.max_horizontal(*(severity for severity, _ in findings.values()))
            .fill_null(HEALTHY)
            .replace_strict(dict(enumerate(HEALTH_STATUSES)), return_dtype=HealthStatus),
            health_reason=pl.concat_str(
                [reason for _, reason in findings.values()], separator="; ", ignore_nulls=True
            ).replace("", "within every threshold"),
        )
        .sort("cli_e164")
    )


def worst_clis(health: pl.DataFrame, *, count: int) -> pl.DataFrame:
    """The `count` least healthy CLIs (worst status, then lowest recent answer rate), numbers masked for display."""
    return (
        health.filter(pl.col("health_status") != "healthy")
        .sort("health_status", "answer_rate_recent", descending=[True, False], nulls_last=True)
        .head(count)
        .select(cli=masked_e164(pl.col("cli_e164")), pool="pool", health_status="health_status", reason="health_reason")
    )


def pool_capacity(health: pl.DataFrame, *, daily_cap: int, recent_days: int) -> pl.DataFrame:
    """One row per estate pool: CLIs owned and usable today against the CLIs its recent volume needs at the cap."""
    return (
        health.filter(pl.col("pool").is_not_null())
        .group_by("pool")
        .agg(
            count_clis=pl.len().cast(pl.Int64),
            count_clis_usable=pl.col("health_status").is_in(USABLE_STATUSES).sum().cast(pl.Int64),
            calls_per_day=pl.col("count_calls_recent").sum() / recent_days,
        )
        .with_columns(count_clis_needed=(pl.col("calls_per_day") / daily_cap).ceil().cast(pl.Int64))
        .with_columns(count_clis_short=(pl.col("count_clis_needed") - pl.col("count_clis_usable")).clip(lower_bound=0))
        .sort("pool")
    )


def _window_totals(days: pl.DataFrame, *, recent_from: date, trailing_from: date, as_of: date) -> pl.DataFrame:
    """Per CLI: calls, answers, short calls and cap breaches in the recent window; calls and answers before it."""
    is_recent = pl.col("day_utc").is_between(recent_from, as_of, closed="left")
    is_trailing = pl.col("day_utc").is_between(trailing_from, recent_from, closed="left")
    return days.group_by("cli_e164").agg(
        count_calls_recent=pl.col("count_calls").filter(is_recent).sum(),
        count_answered_recent=pl.col("count_answered").filter(is_recent).sum(),
        count_short_calls_recent=pl.col("count_short_calls").filter(is_recent).sum(),
        count_cap_breach_days=pl.col("is_over_cap").filter(is_recent).sum().cast(pl.Int64),
        count_calls_trailing=pl.col("count_calls").filter(is_trailing).sum(),
        count_answered_trailing=pl.col("count_answered").filter(is_trailing).sum(),
    )


def _rates() -> dict[str, pl.Expr]:
    def share(part: str, whole: str) -> pl.Expr:
        return pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole))

    return {
        "answer_rate_recent": share("count_answered_recent", "count_calls_recent"),
        "answer_rate_trailing": share("count_answered_trailing", "count_calls_trailing"),
        "short_call_share_recent": share("count_short_calls_recent", "count_calls_recent"),
    }


def _findings(thresholds: HealthThresholds, *, daily_cap: int, short_call_s: int) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Each rule as (severity, reason in words); both null where the rule finds nothing."""
    recent = f"the last {thresholds.recent_days} days"
    is_labelled = pl.col("reputation_label").str.to_lowercase().is_in(thresholds.retire_labels).fill_null(False)
    has_calls = (pl.col("count_calls_recent") >= thresholds.min_calls) & (
        pl.col("count_calls_trailing") >= thresholds.min_calls
    )
    answer_ratio = pl.col("answer_rate_recent") / pl.col("answer_rate_trailing")
    short_share = pl.col("short_call_share_recent")
    breaches = pl.col("count_cap_breach_days")
    rules = {
        "label": (
            pl.when(is_labelled).then(RETIRE),
            pl.concat_str(
                pl.lit("labelled "),
                pl.col("reputation_label"),
                pl.lit(" by the reputation check of "),
                pl.col("reputation_checked_on"),
            ),
        ),
        "answer_rate": (
            pl.when(has_calls & (answer_ratio < thresholds.rest_answer_rate_ratio))
            .then(REST)
            .when(has_calls & (answer_ratio < thresholds.watch_answer_rate_ratio))
            .then(WATCH),
            pl.concat_str(
                pl.lit("answer rate fell to "),
                _percent(pl.col("answer_rate_recent")),
                pl.lit(f" over {recent} from "),
                _percent(pl.col("answer_rate_trailing")),
                pl.lit(f" over the {thresholds.trailing_days} days before"),
            ),
        ),
        "short_calls": (
            pl.when(has_calls & (short_share >= thresholds.rest_short_call_share))
            .then(REST)
            .when(has_calls & (short_share >= thresholds.watch_short_call_share))
            .then(WATCH),
            pl.concat_str(_percent(short_share), pl.lit(f" of calls under {short_call_s} s over {recent}")),
        ),
        "cap_breaches": (
            pl.when(breaches >= thresholds.rest_cap_breach_days)
            .then(REST)
            .when(breaches >= thresholds.watch_cap_breach_days)
            .then(WATCH),
            pl.concat_str(
                pl.lit(f"over the {daily_cap}-call daily cap on "), breaches.cast(pl.String), pl.lit(f" of {recent}")
            ),
        ),
    }
    return {
        name: (severity, pl.when(severity.is_not_null()).then(reason)) for name, (severity, reason) in rules.items()
    }


def _percent(share: pl.Expr) -> pl.Expr:
    return pl.concat_str((share * 100).round(0).cast(pl.Int64).cast(pl.String), pl.lit("%"))
