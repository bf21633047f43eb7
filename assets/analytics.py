"""Analytics: per-number facts for analysts."""

import dagster as dg
import polars as pl

from assets.constants import ANALYTICS
from assets.metadata import frame_metadata, rate
from assets.resources import ScrublineData
from pipelines.analytics import number_analytics as build_number_analytics
from pipelines.sources import crm_numbers


@dg.asset(group_name=ANALYTICS, kinds={"duckdb", "polars"})
def number_analytics(
    scrubline: ScrublineData,
    normalised_crm_contacts: pl.DataFrame,
    scrubbed_leads: pl.DataFrame,
    suppression_list: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per E.164 number in the CRM or a dialler list: where it appears and whether it is suppressed."""
    numbers = crm_numbers(normalised_crm_contacts, scrubline.config().crm)
    analytics = build_number_analytics(numbers, scrubbed_leads, suppression_list)
    count_suppressed = analytics.filter(pl.col("is_suppressed")).height
    return dg.Output(
        analytics,
        metadata={
            **frame_metadata(
                analytics, preview_columns=["phone_e164", "count_crm_contacts", "count_dialler_rows", "is_suppressed"]
            ),
            "suppressed_number_rate": rate(count_suppressed, analytics.height),
        },
    )
