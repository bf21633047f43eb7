"""Every record read keeps its lineage; unreadable records are kept with a reason, never dropped."""

import hashlib
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.errors import InputFileError
from pipelines.inputs.records import quarantined, read_many, read_records


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_records_carry_file_row_and_checksum(tmp_path: Path) -> None:
    content = b'lead_id,phone\nL1,2015550123\nL2,"(212) 555-0142"\n'
    path = write(tmp_path / "leads.csv", content)
    records = read_records(path, data_dir=tmp_path, required_columns=["phone"])
    expected = pl.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "phone": ["2015550123", "(212) 555-0142"],
            "source_row": [1, 2],
            "quarantine_reason": [None, None],
            "raw_record": [None, None],
            "source_file": ["leads.csv"] * 2,
            "source_sha256": [hashlib.sha256(content).hexdigest()] * 2,
        },
        schema_overrides={"quarantine_reason": pl.String, "raw_record": pl.String},
    )
    assert_frame_equal(records, expected)


def test_malformed_and_badly_encoded_records_are_quarantined_in_place(tmp_path: Path) -> None:
    path = write(
        tmp_path / "leads.csv",
        b'lead_id,phone\nL1,2015550123\nL2,1,2\nL3,"multi\nline"\nL4,\xff\xfe\nL5\nL6,2125550142\n',
    )
    records = read_records(path, data_dir=tmp_path, required_columns=["phone"])
    assert records.select("source_row", "lead_id", "quarantine_reason").rows() == [
        (1, "L1", None),
        (2, None, "too many columns"),
        (3, "L3", None),
        (4, None, "invalid encoding"),
        (5, None, "missing columns"),
        (6, "L6", None),
    ]
    assert quarantined(records).select("source_row", "raw_record").rows() == [(2, "L2,1,2"), (4, "L4,??"), (5, "L5")]


def test_parquet_files_are_read_as_strings_with_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    pl.DataFrame({"lead_id": [7, 8], "phone": ["2015550123", None]}).write_parquet(path)
    records = read_records(path, data_dir=tmp_path, required_columns=["phone"])
    assert records.select("lead_id", "phone", "source_row", "source_file").rows() == [
        ("7", "2015550123", 1, "leads.parquet"),
        ("8", None, 2, "leads.parquet"),
    ]


def test_one_number_per_line_files_read_without_a_header(tmp_path: Path) -> None:
    path = write(tmp_path / "dnc.txt", b"2015550123\n2125550142\n")
    records = read_records(path, data_dir=tmp_path, required_columns=["phone"], has_header=False)
    assert records.select("phone", "source_row").rows() == [("2015550123", 1), ("2125550142", 2)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("header.csv", b"lead_id,phone\n", "file has no data rows"),
        ("wrong.csv", b"id,telephone\n1,2\n", r"missing column\(s\) phone \(the file has: id, telephone\)"),
        ("broken.parquet", b"PAR1 not really", "not a readable Parquet file"),
    ],
)
def test_unusable_files_are_errors_naming_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(InputFileError, match=f"{path}: {message}"):
        read_records(path, data_dir=tmp_path, required_columns=["phone"])


def test_many_files_concatenate_with_columns_a_file_lacks_as_null(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", b"phone,country\n2015550123,US\n")
    second = write(tmp_path / "b.csv", b"phone\n2125550142\n")
    records = read_many([first, second], data_dir=tmp_path, required_columns=["phone"])
    assert records.select("source_file", "phone", "country").rows() == [
        ("a.csv", "2015550123", "US"),
        ("b.csv", "2125550142", None),
    ]


HUGE = b"9" * (10 << 20)


@pytest.mark.parametrize(
    ("bad_record", "reason", "shown"),
    [
        (b"L2," + HUGE + b",US", "record too long (10,485,766 bytes; at most 1,048,576)", "L2,999"),
        (b'L2,"2015550124,US', "unterminated quote", 'L2,"2015550124,US'),
        (b"L2,2015550124,US,extra\r", "too many columns", "L2,2015550124,US,extra"),
    ],
)
def test_a_record_duckdb_gives_up_on_is_quarantined_and_the_others_are_read(
    tmp_path: Path, bad_record: bytes, reason: str, shown: str
) -> None:
    # Mixed line ends as a spreadsheet's edit leaves them: CRLF above the bad record, LF below.
    content = b"lead_id,phone,country\r\nL1,2015550123,US\r\n" + bad_record + b"\nL3,2015550125,US\n"
    records = read_records(write(tmp_path / "leads.csv", content), data_dir=tmp_path, required_columns=["phone"])
    assert records.select("source_row", "lead_id", "phone", "quarantine_reason").rows() == [
        (1, "L1", "2015550123", None),
        (2, None, None, reason),
        (3, "L3", "2015550125", None),
    ]
    raw_record = records.get_column("raw_record")[1]
    assert raw_record.startswith(shown)
    assert len(raw_record) < 1100


def test_mixed_line_ends_alone_lose_no_record(tmp_path: Path) -> None:
    content = b"lead_id,phone\r\nL1,2015550123\nL2,2015550124\r\nL3,\n"
    records = read_records(write(tmp_path / "leads.csv", content), data_dir=tmp_path, required_columns=["phone"])
    assert records.select("source_row", "lead_id", "phone", "quarantine_reason").rows() == [
        (1, "L1", "2015550123", None),
        (2, "L2", "2015550124", None),
        (3, "L3", None, None),
    ]
