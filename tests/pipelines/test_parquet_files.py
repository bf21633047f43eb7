"""Frames go to Parquet through the writer that is faster for their shape, and come back equal."""

from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.parquet_files import write_parquet

FLAT = pl.DataFrame({"phone_e164": ["+12015550123", None], "downloaded_on": [date(2026, 11, 20), None]})
NESTED = FLAT.with_columns(
    suppression_sources=pl.Series(
        [[{"source_name": "us_dnc", "source_file": "a.parquet"}], None],
        dtype=pl.List(pl.Struct({"source_name": pl.String, "source_file": pl.String})),
    )
)


@pytest.mark.parametrize(("frame", "writer"), [(FLAT, "Polars"), (NESTED, "parquet-cpp-arrow")], ids=["flat", "nested"])
def test_a_frame_is_written_by_the_faster_writer_for_its_shape_and_reads_back_equal(
    tmp_path: Path, frame: pl.DataFrame, writer: str
) -> None:
    path = tmp_path / "frame.parquet"
    write_parquet(frame, path)
    metadata = pq.ParquetFile(path).metadata
    assert writer in metadata.created_by
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert pl.read_parquet(path).equals(frame)


def test_a_nested_frame_is_written_a_row_group_at_a_time_and_reads_back_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipelines.parquet_files._PYARROW_ROW_GROUP", 1)
    path = tmp_path / "frame.parquet"
    write_parquet(NESTED, path)
    assert pq.ParquetFile(path).metadata.num_row_groups == NESTED.height
    assert pl.read_parquet(path).equals(NESTED)
