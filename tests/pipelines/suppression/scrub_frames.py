"""Leads of two sellers and a suppression list whose every outcome the scrub tests work out by hand."""

from datetime import date

import polars as pl

from pipelines.suppression.scrub import SCRUB_SCHEMA
from pipelines.suppression.suppression_list import SUPPRESSION_LIST_SCHEMA

# Campaigns a and b belong to two sellers; c is acme's second campaign.
SELLERS = {"a": "acme", "b": "bolt", "c": "acme"}


def lead(
    campaign: str, row: int, e164: str | None, *, reason: str | None = None, quarantine: str | None = None
) -> dict:
    return {
        "campaign": campaign, "seller": SELLERS[campaign], "lead_id": f"{campaign}-{row}", "phone_raw": e164,
        "phone_e164": e164, "phone_valid": e164 is not None, "phone_type": None, "phone_region": None,
        "phone_reason": reason,
        "source_file": f"{campaign}.csv", "source_row": row, "source_sha256": "sha", "quarantine_reason": quarantine,
        "raw_record": None,
    }  # fmt: skip


LEADS = pl.DataFrame(
    [
        lead("a", 1, "+12015550123"),
        lead("a", 2, "+12125550142"),
        lead("a", 3, None, reason="too_short"),
        lead("a", 4, "+12015550123"),
        lead("a", 5, None, quarantine="too many columns"),
        lead("b", 1, "+12015550123"),
    ],
    schema=SCRUB_SCHEMA,
)
SUPPRESSION = pl.DataFrame(
    {
        "phone_e164": ["+12125550142", "+12125550142", "+12125550142", "+19999999999"],
        "source_name": ["litigators", "crm_do_not_call", "area_blocks", "national"],
        "source_file": ["lit.txt", "crm.csv", "blocks.txt", "dnc.txt"],
        "source_sha256": ["s1", "s2", "s4", "s3"],
        "downloaded_on": [None, None, None, date(2026, 11, 20)],
        "block_prefix": [None, None, "+1212", None],
        "requested_at": [None] * 4,
        "seller_scope": [None] * 4,
        "count_entries": [1, 1, 1, 1],
        "exemption": [None] * 4,
        "ebr_contact_id": [None] * 4,
        "ebr_date": [None] * 4,
    },
    schema=SUPPRESSION_LIST_SCHEMA,
)
