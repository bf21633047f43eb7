"""Number history: one row per (campaign, number) a run decided, kept with the run so any date can be audited."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from pipelines.duck import query_frames

_NUMBER_OUTCOMES = """
with ranked as (
    select campaign, phone_e164, lead_id, outcome, reason, suppression_sources, exemptions, exemption_reason,
           row_number() over rows_of_number as nth_in_campaign,
           count(*) over (partition by campaign, phone_e164) as count_rows
    from scrubbed
    where phone_e164 is not null
    window rows_of_number as (partition by campaign, phone_e164 order by source_file, source_row)
)

select $run_date::date as run_date, $run_id as run_id, $run_started_at::timestamptz as run_started_at,
       $run_created_at::timestamptz as run_created_at, campaign, phone_e164, lead_id as first_lead_id, count_rows,
       outcome, reason, suppression_sources, exemptions, exemption_reason
from ranked
where nth_in_campaign = 1
order by campaign, phone_e164
"""


def number_outcomes(
    scrubbed: pl.DataFrame, *, run_id: str, run_started_at: datetime, run_created_at: datetime
) -> pl.DataFrame:
    """One row per (campaign, valid number): the run, and the outcome of the number's first row with its reasons.

    A later row of the same number in the campaign is a duplicate of that first one, so the first decides.
    `run_started_at` is the run's clock (its date is the run date); `run_created_at` orders runs of one date.
    """
    return query_frames(
        _NUMBER_OUTCOMES,
        params={
            "run_date": run_started_at.date(),
            "run_id": run_id,
            "run_started_at": run_started_at,
            "run_created_at": run_created_at,
        },
        scrubbed=scrubbed,
    )
