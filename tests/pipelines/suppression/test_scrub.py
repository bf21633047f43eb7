"""Every lead lands in exactly one outcome, with a reason; suppression lists every matching source."""

from datetime import UTC, date, datetime

import polars as pl

from pipelines.suppression.scrub import (
    SCRUB_COLUMNS,
    clean_rows_flagged,
    leaked_numbers,
    number_outcomes,
    reconciliation,
    scrub_leads,
)

LEAD_SCHEMA = {
    "campaign": pl.String, "seller": pl.String, "lead_id": pl.String, "phone_raw": pl.String, "phone_e164": pl.String,
    "phone_valid": pl.Boolean, "phone_type": pl.String, "phone_region": pl.String, "phone_reason": pl.String,
    "source_file": pl.String, "source_row": pl.Int64, "source_sha256": pl.String, "quarantine_reason": pl.String,
    "raw_record": pl.String,
}  # fmt: skip


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
    schema=LEAD_SCHEMA,
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
    schema_overrides={
        "requested_at": pl.Datetime("us", "UTC"),
        "seller_scope": pl.String,
        "exemption": pl.String,
        "ebr_contact_id": pl.String,
        "ebr_date": pl.Date,
    },
)


def test_each_lead_gets_one_outcome_and_reason() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION)
    assert scrubbed.select("lead_id", "outcome", "reason").rows() == [
        ("a-1", "clean", None),
        ("a-2", "suppressed", "area_blocks,crm_do_not_call,litigators"),
        ("a-3", "invalid", "too_short"),
        ("a-4", "suppressed", "duplicate_in_campaign"),
        ("a-5", "quarantined", "too many columns"),
        ("b-1", "clean", None),
    ]
    assert scrubbed.select(SCRUB_COLUMNS).equals(LEADS)


def test_suppressed_rows_carry_every_source_with_its_file_checksum_date_and_block() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION)
    sources = scrubbed.filter(pl.col("lead_id") == "a-2").get_column("suppression_sources").item()
    assert sources.to_list() == [
        {"source_name": "area_blocks", "source_file": "blocks.txt", "source_sha256": "s4", "downloaded_on": None,
         "block_prefix": "+1212", "requested_at": None, "seller_scope": None},
        {"source_name": "crm_do_not_call", "source_file": "crm.csv", "source_sha256": "s2", "downloaded_on": None,
         "block_prefix": None, "requested_at": None, "seller_scope": None},
        {"source_name": "litigators", "source_file": "lit.txt", "source_sha256": "s1", "downloaded_on": None,
         "block_prefix": None, "requested_at": None, "seller_scope": None},
    ]  # fmt: skip


def test_reconciliation_counts_rows_in_against_each_outcome() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION)
    assert reconciliation(LEADS, scrubbed).rows() == [("a", 5, 1, 2, 1, 1, 0, 5), ("b", 1, 1, 0, 0, 0, 0, 1)]


def test_reconciliation_counts_deferred_rows_as_the_fifth_outcome() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION).with_columns(
        outcome=pl.when(pl.col("campaign") == "b").then(pl.lit("deferred")).otherwise("outcome")
    )
    counts = reconciliation(LEADS, scrubbed)
    assert counts.columns == [
        "campaign", "count_rows_in", "count_clean", "count_suppressed", "count_invalid", "count_quarantined",
        "count_deferred", "count_rows_out",
    ]  # fmt: skip
    assert counts.rows() == [("a", 5, 1, 2, 1, 1, 0, 5), ("b", 1, 0, 0, 0, 0, 1, 1)]


def test_reconciliation_exposes_a_lost_row() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION).filter(pl.col("lead_id") != "a-3")
    (campaign_a,) = reconciliation(LEADS, scrubbed).filter(pl.col("campaign") == "a").rows()
    assert campaign_a[1] == 5 and campaign_a[-1] == 4


def test_leak_detection_finds_a_clean_row_on_the_list() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION)
    assert leaked_numbers(scrubbed, SUPPRESSION).height == 0
    tampered = scrubbed.with_columns(outcome=pl.lit("clean"))
    assert leaked_numbers(tampered, SUPPRESSION).rows() == [("a", "a-2", "+12125550142")]


def test_each_clean_row_says_whether_a_binding_entry_lists_its_number() -> None:
    scrubbed = scrub_leads(LEADS, SUPPRESSION)
    assert clean_rows_flagged(scrubbed, SUPPRESSION).select("lead_id", "is_on_suppression_list").rows() == [
        ("a-1", False),
        ("b-1", False),
    ]
    tampered = scrubbed.with_columns(outcome=pl.lit("clean"))
    assert clean_rows_flagged(tampered, SUPPRESSION).filter("is_on_suppression_list").get_column(
        "lead_id"
    ).to_list() == ["a-2"]


def opted_out_of(seller: str) -> pl.DataFrame:
    """An opt-out of +12015550123, dated, binding one seller."""
    return SUPPRESSION.head(1).with_columns(
        phone_e164=pl.lit("+12015550123"),
        source_name=pl.lit("optouts"),
        requested_at=pl.lit(datetime(2026, 10, 1, tzinfo=UTC)),
        seller_scope=pl.lit(seller),
    )


def test_an_opt_out_binds_every_campaign_of_its_seller_and_no_other_seller() -> None:
    leads = pl.concat([LEADS, pl.DataFrame([lead("c", 1, "+12015550123")], schema=LEAD_SCHEMA)])
    scrubbed = scrub_leads(leads, opted_out_of("acme"))
    assert scrubbed.filter(pl.col("phone_e164") == "+12015550123").select("lead_id", "outcome", "reason").rows() == [
        ("a-1", "suppressed", "optouts"),
        ("a-4", "suppressed", "optouts"),
        ("b-1", "clean", None),
        ("c-1", "suppressed", "optouts"),
    ]


def test_leak_detection_and_validation_respect_the_seller_scope() -> None:
    scoped = opted_out_of("bolt")
    scrubbed = scrub_leads(LEADS, scoped)
    assert scrubbed.filter(pl.col("lead_id") == "b-1").select("outcome", "reason").row(0) == ("suppressed", "optouts")
    assert leaked_numbers(scrubbed, scoped).height == 0
    assert leaked_numbers(scrubbed.with_columns(outcome=pl.lit("clean")), scoped).get_column("lead_id").to_list() == [
        "b-1"
    ]
    assert clean_rows_flagged(scrubbed, scoped).get_column("is_on_suppression_list").to_list() == [False, False]


def test_rows_out_of_order_are_sorted_by_campaign_file_and_row_even_with_a_row_number_missing() -> None:
    leads = pl.DataFrame(
        [lead("a", 2, "+12015550123"), {**lead("a", 9, "+12015550123"), "source_row": None}, lead("a", 3, None)],
        schema=LEAD_SCHEMA,
    )
    scrubbed = scrub_leads(leads, SUPPRESSION)
    assert scrubbed.select("source_row", "outcome").rows() == [(None, "clean"), (2, "suppressed"), (3, "invalid")]


def test_number_outcomes_keep_each_campaign_numbers_first_row_in_file_order() -> None:
    scrubbed = pl.DataFrame(
        {
            "campaign": ["b", "a", "a", "a", "a"],
            "phone_e164": ["+12015550123", "+12015550199", "+12015550123", None, "+12015550123"],
            "lead_id": ["b1", "a1", "a3", "a4", "a2"],
            "source_file": ["b.csv", "a.csv", "a.csv", "a.csv", "a.csv"],
            "source_row": [1, 1, 3, 4, 2],
            "outcome": ["clean", "clean", "suppressed", "invalid", "suppressed"],
            "reason": [None, None, "duplicate_in_campaign", "too_short", "us_dnc"],
            "suppression_sources": [None, None, None, None, [{"source_name": "us_dnc"}]],
            "exemptions": [None, None, None, None, None],
            "exemption_reason": [None, None, None, None, None],
        },
        schema_overrides={"exemptions": pl.List(pl.Struct({"source_name": pl.String})), "exemption_reason": pl.String},
    )
    started, created = datetime(2026, 12, 7, 2, tzinfo=UTC), datetime(2026, 12, 7, 1, 59, tzinfo=UTC)
    outcomes = number_outcomes(scrubbed, run_id="r1", run_started_at=started, run_created_at=created)
    assert outcomes.columns == [
        "run_date", "run_id", "run_started_at", "run_created_at", "campaign", "phone_e164", "first_lead_id",
        "count_rows", "outcome", "reason", "suppression_sources", "exemptions", "exemption_reason",
    ]  # fmt: skip
    assert outcomes.select("campaign", "phone_e164", "first_lead_id", "count_rows", "outcome", "reason").rows() == [
        ("a", "+12015550123", "a2", 2, "suppressed", "us_dnc"),
        ("a", "+12015550199", "a1", 1, "clean", None),
        ("b", "+12015550123", "b1", 1, "clean", None),
    ]
    assert outcomes.get_column("suppression_sources").to_list() == [[{"source_name": "us_dnc"}], None, None]
    assert outcomes.select("run_date", "run_id", "run_started_at").unique().rows() == [
        (date(2026, 12, 7), "r1", started)
    ]
