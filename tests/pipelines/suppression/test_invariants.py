"""The scrub's invariants: rows reconcile per campaign, and a clean row on the suppression list is found."""

import polars as pl

from pipelines.suppression.invariants import clean_rows_flagged, leaked_numbers, reconciliation
from pipelines.suppression.scrub import scrub_leads
from tests.pipelines.suppression.scrub_frames import LEADS, SUPPRESSION


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
