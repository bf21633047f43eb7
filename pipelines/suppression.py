"""The suppression list: every number that must not be dialled, and which source says so."""

from __future__ import annotations

import polars as pl

from pipelines.duck import query_frames

CRM_DO_NOT_CALL = "crm_do_not_call"

_SUPPRESSION_LIST = """
with registry_numbers as (
    select phone_e164, registry as source_name, source_file, source_sha256
    from registry_entries
    where phone_valid
),

crm_flags as (
    select phone_e164, $crm_source as source_name, source_file, source_sha256
    from crm_numbers
    where is_do_not_call
),

entries as (
    select * from registry_numbers
    union all
    select * from crm_flags
)

select phone_e164, source_name, source_file, source_sha256, count(*) as count_entries
from entries
group by all
order by phone_e164, source_name, source_file
"""


def build_suppression_list(registry_entries: pl.DataFrame, crm_numbers: pl.DataFrame) -> pl.DataFrame:
    """One row per (number, source, source file): registry entries plus CRM do-not-call flags."""
    return query_frames(
        _SUPPRESSION_LIST,
        params={"crm_source": CRM_DO_NOT_CALL},
        registry_entries=registry_entries,
        crm_numbers=crm_numbers,
    )
