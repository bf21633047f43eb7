"""What must hold of every scrub: the rows reconcile per campaign, and no clean row's number is suppressed.

Both are computed in DuckDB as data (counts, a flag per clean row), so the checks that hold them cost the same
whatever the size of the suppression list.
"""

from __future__ import annotations

import polars as pl

from pipelines.duck import query_frames

_RECONCILIATION = """
with rows_in as (
    select campaign, count(*) as count_rows_in
    from dialler_records
    group by campaign
),

rows_out as (
    select campaign,
           count(*) filter (outcome = 'clean') as count_clean,
           count(*) filter (outcome = 'suppressed') as count_suppressed,
           count(*) filter (outcome = 'invalid') as count_invalid,
           count(*) filter (outcome = 'quarantined') as count_quarantined,
           count(*) filter (outcome = 'deferred') as count_deferred
    from scrubbed
    group by campaign
)

select campaign,
       coalesce(count_rows_in, 0) as count_rows_in,
       coalesce(count_clean, 0) as count_clean,
       coalesce(count_suppressed, 0) as count_suppressed,
       coalesce(count_invalid, 0) as count_invalid,
       coalesce(count_quarantined, 0) as count_quarantined,
       coalesce(count_deferred, 0) as count_deferred,
       coalesce(count_clean + count_suppressed + count_invalid + count_quarantined + count_deferred, 0)
           as count_rows_out
from rows_in
full join rows_out using (campaign)
order by campaign
"""


def reconciliation(dialler_records: pl.DataFrame, scrubbed: pl.DataFrame) -> pl.DataFrame:
    """One row per campaign: records read, rows in each outcome, and rows out (which must equal rows in)."""
    return query_frames(_RECONCILIATION, dialler_records=dialler_records.select("campaign"), scrubbed=scrubbed)


_CLEAN_FLAGGED = """
with clean as (
    select campaign, seller, lead_id, phone_e164
    from scrubbed
    where outcome = 'clean'
),

binding as (
    select phone_e164, seller_scope
    from suppression_list
    where exemption is null
)

select clean.*,
       exists (
           select 1
           from binding
           where binding.phone_e164 = clean.phone_e164
             and (binding.seller_scope is null or binding.seller_scope = clean.seller)
       ) as is_on_suppression_list
from clean
order by campaign, lead_id
"""


def clean_rows_flagged(scrubbed: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """The clean rows (campaign, seller, lead, number), each with `is_on_suppression_list`: whether a binding
    entry suppresses its number for its seller. Membership as data, joined in DuckDB, so validating it costs
    the same whatever the size of the suppression list; it must be false on every row."""
    return query_frames(
        _CLEAN_FLAGGED,
        scrubbed=scrubbed.select("campaign", "seller", "lead_id", "phone_e164", "outcome"),
        suppression_list=suppression_list.select("phone_e164", "seller_scope", "exemption"),
    )


def leaked_numbers(scrubbed: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """Clean rows whose number a binding (not exempt) entry suppresses for their seller: must always be empty."""
    return (
        clean_rows_flagged(scrubbed, suppression_list)
        .filter("is_on_suppression_list")
        .select("campaign", "lead_id", "phone_e164")
    )
