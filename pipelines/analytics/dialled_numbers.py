"""Per dialled number: its call history up to `as_of`, the calls that broke its call limit, and whether it may be
called today.

Attempts count in the 24 hours, 7 and 30 days up to `as_of`. A number's call limit is the lowest of
its jurisdictions' in the calling-time rule table (Florida and Oklahoma: three in 24 hours). A
number is `suppressed` when it is on the suppression list, `call_limit_reached` when the last 24
hours reached its limit, and `callable` otherwise; `count_over_call_limit_30d` counts the calls in
the last 30 days that were made when the limit was already reached.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from pipelines.duck import query_frames
from pipelines.inputs.calls import ANSWERED

SUPPRESSION_STATUSES = ("callable", "suppressed", "call_limit_reached")

_HISTORY = """
with attempts as (
    select dialled_e164, dialled_subdivision, max_calls_per_24h, is_over_call_limit, started_at, disposition,
           source_file, source_row
    from calls
    where is_attempt and started_at <= $as_of
),

history as (
    select dialled_e164,
           any_value(dialled_subdivision) as dialled_subdivision,
           any_value(max_calls_per_24h) as max_calls_per_24h,
           count(*) filter (started_at > $since_24h) as count_attempts_24h,
           count(*) filter (started_at > $since_7d) as count_attempts_7d,
           count(*) filter (started_at > $since_30d) as count_attempts_30d,
           count(*) filter (started_at > $since_30d and disposition = $answered) as count_answered_30d,
           count(*) filter (started_at > $since_30d and is_over_call_limit) as count_over_call_limit_30d,
           max(started_at) as last_called_at,
           arg_max(disposition, struct_pack(started_at, source_file, source_row)) as last_disposition
    from attempts
    group by dialled_e164
),

suppressed as (
    select distinct phone_e164 as dialled_e164
    from suppression_list
),

judged as (
    select history.*,
           suppressed.dialled_e164 is not null as is_on_suppression_list,
           coalesce(history.count_attempts_24h >= history.max_calls_per_24h, false) as is_call_limit_reached
    from history
    left join suppressed using (dialled_e164)
)

select dialled_e164,
       dialled_subdivision,
       count_attempts_24h,
       count_attempts_7d,
       count_attempts_30d,
       last_called_at,
       last_disposition,
       count_answered_30d / nullif(count_attempts_30d, 0) as contact_rate_30d,
       max_calls_per_24h,
       count_over_call_limit_30d,
       is_on_suppression_list,
       is_call_limit_reached,
       case
           when is_on_suppression_list then 'suppressed'
           when is_call_limit_reached then 'call_limit_reached'
           else 'callable'
       end as suppression_status
from judged
order by dialled_e164
"""


def dialled_numbers(attempts: pl.DataFrame, suppression_list: pl.DataFrame, *, as_of: datetime) -> pl.DataFrame:
    """One row per number dialled up to `as_of`: attempts (`deferral.limited_calls`), last call, contact rate, calls
    over its limit and suppression status today."""
    if as_of.utcoffset() is None:
        raise ValueError(f"as_of must be a time-zone-aware instant, not the naive {as_of.isoformat()}")
    history = query_frames(
        _HISTORY,
        params={
            "as_of": as_of,
            "since_24h": as_of - timedelta(hours=24),
            "since_7d": as_of - timedelta(days=7),
            "since_30d": as_of - timedelta(days=30),
            "answered": ANSWERED,
        },
        calls=attempts.select(
            "dialled_e164",
            "dialled_subdivision",
            "max_calls_per_24h",
            "is_over_call_limit",
            "started_at",
            "disposition",
            "source_file",
            "source_row",
            "is_attempt",
        ),  # fmt: skip
        suppression_list=suppression_list.select("phone_e164"),
    )
    # DuckDB hands instants back in its session's time zone; the same instants, labelled UTC like every other.
    return history.with_columns(pl.col("last_called_at").dt.convert_time_zone("UTC"))
