"""Metadata the Dagster UI shows for a frame: row count, rates and a masked preview."""

import dagster as dg
import polars as pl

from pipelines.phones.masking import masked_e164

PREVIEW_ROWS = 5


def frame_metadata(frame: pl.DataFrame, *, preview_columns: list[str]) -> dict[str, object]:
    """Row count and a small preview whose phone numbers are masked."""
    preview = (
        frame.head(PREVIEW_ROWS)
        .select(preview_columns)
        .with_columns(masked_e164(pl.col(name)).alias(name) for name in preview_columns if name.endswith("e164"))
    )
    return {
        "dagster/row_count": frame.height,
        "preview": dg.MetadataValue.table(
            records=[dg.TableRecord(_plain(row)) for row in preview.iter_rows(named=True)],
            schema=dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in preview.schema.items()]),
        ),
    }


def rate(count: int, total: int) -> float:
    """A share as a float, so the UI plots it across runs; zero for an empty total."""
    return count / total if total else 0.0


def _plain(row: dict[str, object]) -> dict[str, str | int | float | bool | None]:
    return {
        key: value if isinstance(value, str | int | float | bool) or value is None else str(value)
        for key, value in row.items()
    }
