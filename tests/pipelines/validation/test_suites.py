"""Validating a frame hands Great Expectations only the columns its suite reads, and the same answers."""

import polars as pl

from pipelines.validation.suites import _suite_columns, validate_frame

SCRUBBED = pl.DataFrame(
    {
        "source_file": ["a.csv", "a.csv"],
        "source_row": [1, 2],
        "source_sha256": ["s", "s"],
        "outcome": ["clean", "suppressed"],
        "reason": [None, "us_dnc"],
        # A column no expectation reads, of the nested kind GX can only fingerprint by pickling.
        "suppression_sources": [None, [{"source_name": "us_dnc"}]],
    }
)


def test_a_suite_reads_the_columns_its_expectations_and_row_conditions_name() -> None:
    assert _suite_columns("scrubbed_leads") == {"source_file", "source_row", "source_sha256", "outcome", "reason"}


def test_a_suite_with_a_table_expectation_reads_every_column() -> None:
    assert _suite_columns("scrub_reconciliation") is None


def test_columns_no_expectation_reads_change_no_answer() -> None:
    parameters = {"deferred_reasons": ["no_calling_rule"]}
    passing = validate_frame(SCRUBBED, "scrubbed_leads", parameters=parameters)
    failing = validate_frame(
        SCRUBBED.with_columns(reason=pl.lit(None, pl.String)), "scrubbed_leads", parameters=parameters
    )
    assert passing.success
    assert not failing.success
    assert failing.failures == ("expect_column_values_to_not_be_null(column=reason): 1 unexpected",)
