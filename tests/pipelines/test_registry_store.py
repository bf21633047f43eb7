"""A registry version's valid numbers are kept as sorted E.164 integers in zstd Parquet, written atomically."""

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from polars.testing import assert_frame_equal

from pipelines.registry_store import e164_as_int, registry_snapshot, snapshot_path, write_snapshot

ENTRIES = pl.DataFrame(
    {
        "registry": ["dnc"] * 5,
        "phone_e164": ["+14165550134", "+12015550123", None, "+12015550123", "+447911123456"],
        "phone_valid": [True, True, False, True, True],
    }
)


def test_a_snapshot_holds_each_valid_number_once_as_a_sorted_integer() -> None:
    expected = pl.DataFrame({"e164_int": [12015550123, 14165550134, 447911123456]})
    assert_frame_equal(registry_snapshot(ENTRIES), expected)


def test_an_e164_integer_gives_the_number_back_even_at_fifteen_digits() -> None:
    numbers = pl.Series(["+12015550123", "+999999999999999", "+8001"])
    integers = pl.select(e164_as_int(pl.lit(numbers))).to_series()
    assert integers.to_list() == [12015550123, 999_999_999_999_999, 8001]
    assert integers.dtype == pl.Int64
    assert ("+" + integers.cast(pl.String)).to_list() == numbers.to_list()


def test_a_snapshot_is_kept_per_registry_and_version_under_the_data_directory(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path, registry="us_national_dnc", version="8d1e")
    assert path == tmp_path / "registries" / "us_national_dnc" / "8d1e.parquet"


def test_a_snapshot_is_zstd_parquet_renamed_into_place_leaving_no_temporary_file(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path, registry="dnc", version="v1")
    write_snapshot(registry_snapshot(ENTRIES), path)
    write_snapshot(registry_snapshot(ENTRIES.head(2)), path)
    assert_frame_equal(pl.read_parquet(path), pl.DataFrame({"e164_int": [12015550123, 14165550134]}))
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert sorted(child.name for child in path.parent.iterdir()) == ["v1.parquet"]
