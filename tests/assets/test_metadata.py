"""Asset metadata: never a whole phone number; row counts, described column schemas and numbers that plot."""

from datetime import timedelta
from pathlib import Path

import polars as pl

from assets.metadata import frame_metadata, rate
from pipelines.publishing.descriptions import column_description
from tests.assets.test_nightly_scrub import run_nightly, with_tps
from tests.handmade import RUN_DATE, write_data_dir


def test_previews_mask_every_e164_column_in_place() -> None:
    frame = pl.DataFrame({"lead_id": ["L1"], "phone_e164": ["+12015550123"], "mobile_e164": ["+447400123456"]})
    preview = frame_metadata(frame, preview_columns=["lead_id", "phone_e164", "mobile_e164"])["preview"]
    assert [column.name for column in preview.schema.columns] == ["lead_id", "phone_e164", "mobile_e164"]
    assert [record.data for record in preview.records] == [
        {"lead_id": "L1", "phone_e164": "+1******0123", "mobile_e164": "+44******3456"}
    ]
    assert frame_metadata(frame, preview_columns=["lead_id"])["dagster/row_count"] == 1


def test_every_frame_asset_declares_its_rows_and_described_columns_and_the_run_plots_per_campaign_numbers(
    tmp_path: Path,
) -> None:
    data_dir = write_data_dir(tmp_path / "data", *with_tps(RUN_DATE - timedelta(days=3)))
    result = run_nightly(data_dir)
    assert result.success
    materialized = {event.asset_key.to_user_string(): event.materialization.metadata
                    for event in result.get_asset_materialization_events()}  # fmt: skip
    scrubbed = materialized["scrubbed_leads"]
    assert scrubbed["dagster/row_count"].value == 10  # every dialler record, the unreadable one included
    columns = {column.name: column for column in scrubbed["dagster/column_schema"].value.columns}
    assert columns["phone_e164"].type == "String"
    assert columns["phone_e164"].description == column_description("phone_e164")
    frames = [key for key, metadata in materialized.items() if "dagster/row_count" in metadata]
    assert [key for key in frames if "dagster/column_schema" not in materialized[key]] == []
    assert len(frames) > 15

    published = {key: entry.value for key, entry in materialized["published_run"].items()}
    assert (published["count_clean/spring"], published["count_suppressed/spring"]) == (1, 4)
    assert published["rate_clean/spring"] == 0.125  # L1 only: L2's London number is on the TPS
    assert published["rate_suppressed/winback"] == 0.0
    assert published["age_days/uk_tps"] == 3
    assert isinstance(published["age_days/uk_tps"], int)
    assert published["dagster/row_count"] == 3  # the clean lists' rows


def test_rates_are_rounded_for_reading_and_zero_over_nothing() -> None:
    assert (rate(1, 9), rate(2, 3), rate(0, 0)) == (0.1111, 0.6667, 0.0)
