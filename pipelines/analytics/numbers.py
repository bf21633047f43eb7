"""Per-number analytics: where each number appears and whether it is suppressed."""

from __future__ import annotations

import polars as pl

from pipelines.duck import query_frames

_NUMBER_ANALYTICS = """
with crm_counts as (
    select phone_e164, count(distinct contact_id) as count_crm_contacts
    from crm_numbers
    group by phone_e164
),

dialler_counts as (
    select phone_e164,
           count(*) as count_dialler_rows,
           list(distinct campaign order by campaign) as campaigns
    from scrubbed_leads
    where phone_valid
    group by phone_e164
),

suppression as (
    select phone_e164, list(distinct source_name order by source_name) as suppression_sources
    from suppression_list
    group by phone_e164
),

numbers as (
    select phone_e164 from crm_counts
    union
    select phone_e164 from dialler_counts
)

select numbers.phone_e164,
       coalesce(crm_counts.count_crm_contacts, 0) as count_crm_contacts,
       coalesce(dialler_counts.count_dialler_rows, 0) as count_dialler_rows,
       coalesce(dialler_counts.campaigns, []) as campaigns,
       suppression.phone_e164 is not null as is_suppressed,
       coalesce(suppression.suppression_sources, []) as suppression_sources
from numbers
left join crm_counts using (phone_e164)
left join dialler_counts using (phone_e164)
left join suppression using (phone_e164)
order by numbers.phone_e164
"""


def number_analytics(
    crm_numbers: pl.DataFrame, scrubbed_leads: pl.DataFrame, suppression_list: pl.DataFrame
) -> pl.DataFrame:
    """One row per valid E.164 number found in the CRM or a dialler list."""
    return query_frames(
        _NUMBER_ANALYTICS,
        crm_numbers=crm_numbers,
        scrubbed_leads=scrubbed_leads,
        suppression_list=suppression_list,
    )
