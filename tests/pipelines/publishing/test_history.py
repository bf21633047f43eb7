"""Number history keeps, per (campaign, number), the run and the decision of the number's first row."""

from datetime import UTC, date, datetime

import polars as pl

from pipelines.publishing.history import number_outcomes


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
    outcomes = number_outcomes(scrubbed, run_id="r1", run_started_at=started, run_created_at=created).collect()
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
