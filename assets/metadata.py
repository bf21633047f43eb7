"""Metadata the Dagster UI shows for a frame: row count, column schema, rates and a masked preview."""

import dagster as dg
import polars as pl

from pipelines.phones.masking import masked_e164
from pipelines.publishing.descriptions import column_description

PREVIEW_ROWS = 5
# Rates are shown to four decimal places (0.1234 = 12.34%): enough to read, and still numbers the UI plots.
RATE_DECIMALS = 4


def table_metadata(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, object]:
    """Row count and column schema (`dagster/row_count`, `dagster/column_schema`), each column described in the
    same words as the warehouse's comments (`pipelines.publishing.descriptions`); a lazy frame (a scan of
    Parquet files) is counted, not read."""
    return {
        "dagster/row_count": _height(frame),
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name, str(dtype), description=column_description(name))
                for name, dtype in frame.collect_schema().items()
            ]
        ),
    }


def frame_metadata(frame: pl.DataFrame | pl.LazyFrame, *, preview_columns: list[str]) -> dict[str, object]:
    """Row count and a small preview whose phone numbers are masked; a lazy frame (a scan of Parquet) is counted
    and its first rows read, no more."""
    preview = (
        frame.lazy()
        .head(PREVIEW_ROWS)
        .select(preview_columns)
        .with_columns(masked_e164(pl.col(name)).alias(name) for name in preview_columns if name.endswith("e164"))
        .collect()
    )
    return {
        "dagster/row_count": _height(frame),
        "preview": dg.MetadataValue.table(
            records=[dg.TableRecord(_plain(row)) for row in preview.iter_rows(named=True)],
            schema=dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in preview.schema.items()]),
        ),
    }


def rate(count: int, total: int) -> float:
    """A share as a float rounded for reading, so the UI plots it across runs; zero for an empty total."""
    return round(count / total, RATE_DECIMALS) if total else 0.0


def _height(frame: pl.DataFrame | pl.LazyFrame) -> int:
    return frame.height if isinstance(frame, pl.DataFrame) else frame.select(pl.len()).collect().item()


def _plain(row: dict[str, object]) -> dict[str, str | int | float | bool | None]:
    return {
        key: value if isinstance(value, str | int | float | bool) or value is None else str(value)
        for key, value in row.items()
    }
