"""Asset metadata never shows a whole phone number."""

import polars as pl

from assets.metadata import frame_metadata


def test_previews_mask_every_e164_column_in_place() -> None:
    frame = pl.DataFrame({"lead_id": ["L1"], "phone_e164": ["+12015550123"], "mobile_e164": ["+447400123456"]})
    preview = frame_metadata(frame, preview_columns=["lead_id", "phone_e164", "mobile_e164"])["preview"]
    assert [column.name for column in preview.schema.columns] == ["lead_id", "phone_e164", "mobile_e164"]
    assert [record.data for record in preview.records] == [
        {"lead_id": "L1", "phone_e164": "+1******0123", "mobile_e164": "+44******3456"}
    ]
    assert frame_metadata(frame, preview_columns=["lead_id"])["dagster/row_count"] == 1
