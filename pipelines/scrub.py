"""Scrubbing dialler lists against the suppression list.

Every dialler record gets exactly one `outcome`: `clean`, `suppressed`, `invalid` or `quarantined`,
with a `reason` for every outcome but clean. Suppressed rows list every matching source (name, file,
checksum, download date and, for a wildcard, the block that covers the number); a number
repeated within a campaign is dialled once and its later rows are suppressed as duplicates.
"""

from __future__ import annotations

import polars as pl

from pipelines.duck import query_frames

OUTCOMES = ("clean", "suppressed", "invalid", "quarantined")
DUPLICATE_IN_CAMPAIGN = "duplicate_in_campaign"
SCRUB_COLUMNS = (
    "campaign", "lead_id", "phone_raw", "phone_e164", "phone_valid", "phone_type", "phone_region", "phone_reason",
    "source_file", "source_row", "source_sha256", "quarantine_reason", "raw_record",
)  # fmt: skip

_SCRUB = """
with matches as (
    select phone_e164,
           list(struct_pack(source_name, source_file, source_sha256, downloaded_on, block_prefix)
                order by source_name, source_file) as suppression_sources,
           string_agg(distinct source_name, ',' order by source_name) as source_names
    from suppression_list
    group by phone_e164
),

ranked as (
    select leads.*,
           matches.suppression_sources,
           matches.source_names,
           row_number() over (partition by leads.campaign, leads.phone_e164
                              order by leads.source_file, leads.source_row) as nth_in_campaign
    from leads
    left join matches using (phone_e164)
),

classified as (
    select *,
           case
               when quarantine_reason is not null then 'quarantined'
               when not phone_valid then 'invalid'
               when suppression_sources is not null or nth_in_campaign > 1 then 'suppressed'
               else 'clean'
           end as outcome,
           case
               when quarantine_reason is not null then quarantine_reason
               when not phone_valid then phone_reason
               when suppression_sources is not null then source_names
               when nth_in_campaign > 1 then $duplicate
           end as reason
    from ranked
)

select * exclude (nth_in_campaign, source_names)
from classified
order by campaign, source_file, source_row
"""

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
           count(*) filter (outcome = 'quarantined') as count_quarantined
    from scrubbed
    group by campaign
)

select campaign,
       coalesce(count_rows_in, 0) as count_rows_in,
       coalesce(count_clean, 0) as count_clean,
       coalesce(count_suppressed, 0) as count_suppressed,
       coalesce(count_invalid, 0) as count_invalid,
       coalesce(count_quarantined, 0) as count_quarantined,
       coalesce(count_clean + count_suppressed + count_invalid + count_quarantined, 0) as count_rows_out
from rows_in
full join rows_out using (campaign)
order by campaign
"""


def canonical_leads(dialler: pl.DataFrame, *, id_column: str, phone_column: str) -> pl.DataFrame:
    """Dialler records under Scrubline's own column names, whatever the export called them."""
    return dialler.select(
        campaign="campaign",
        lead_id=pl.col(id_column),
        phone_raw=pl.col(phone_column),
        **{
            f"phone_{suffix}": pl.col(f"{phone_column}_{suffix}")
            for suffix in ("e164", "valid", "type", "region", "reason")
        },
        source_file="source_file",
        source_row="source_row",
        source_sha256="source_sha256",
        quarantine_reason="quarantine_reason",
        raw_record="raw_record",
    )


def scrub_leads(leads: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """Classify every canonical lead row; one output row per input row, in input order."""
    return query_frames(
        _SCRUB,
        params={"duplicate": DUPLICATE_IN_CAMPAIGN},
        leads=leads.select(SCRUB_COLUMNS),
        suppression_list=suppression_list,
    )


def reconciliation(dialler_records: pl.DataFrame, scrubbed: pl.DataFrame) -> pl.DataFrame:
    """One row per campaign: records read, rows in each outcome, and rows out (which must equal rows in)."""
    return query_frames(_RECONCILIATION, dialler_records=dialler_records.select("campaign"), scrubbed=scrubbed)


_LEAKED = """
select campaign, lead_id, phone_e164
from scrubbed
where outcome = 'clean'
  and phone_e164 in (select phone_e164 from suppression_list)
order by campaign, lead_id
"""


def leaked_numbers(scrubbed: pl.DataFrame, suppression_list: pl.DataFrame) -> pl.DataFrame:
    """Clean rows whose number is on the suppression list: must always be empty."""
    return query_frames(_LEAKED, scrubbed=scrubbed, suppression_list=suppression_list.select("phone_e164"))


def suppressed_among_leads(scrubbed: pl.DataFrame, suppression_list: pl.DataFrame) -> list[str]:
    """The suppressed numbers that appear in the dialler lists: all a clean list could wrongly hold."""
    numbers = scrubbed.get_column("phone_e164").drop_nulls().unique()
    return (
        suppression_list.filter(pl.col("phone_e164").is_in(numbers.implode()))
        .get_column("phone_e164")
        .unique()
        .sort()
        .to_list()
    )
