"""Every lead lands in exactly one outcome, with a reason; suppression lists every matching source."""

from datetime import UTC, datetime

import polars as pl

from pipelines.suppression.invariants import clean_rows_flagged, leaked_numbers
from pipelines.suppression.scrub import SCRUB_COLUMNS, SCRUB_SCHEMA, scrub_leads
from tests.pipelines.suppression.scrub_frames import LEADS, SUPPRESSION, lead


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


def opted_out_of(seller: str) -> pl.DataFrame:
    """An opt-out of +12015550123, dated, binding one seller."""
    return SUPPRESSION.head(1).with_columns(
        phone_e164=pl.lit("+12015550123"),
        source_name=pl.lit("optouts"),
        requested_at=pl.lit(datetime(2026, 10, 1, tzinfo=UTC)),
        seller_scope=pl.lit(seller),
    )


def test_an_opt_out_binds_every_campaign_of_its_seller_and_no_other_seller() -> None:
    leads = pl.concat([LEADS, pl.DataFrame([lead("c", 1, "+12015550123")], schema=SCRUB_SCHEMA)])
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
        schema=SCRUB_SCHEMA,
    )
    scrubbed = scrub_leads(leads, SUPPRESSION)
    assert scrubbed.select("source_row", "outcome").rows() == [(None, "clean"), (2, "suppressed"), (3, "invalid")]
