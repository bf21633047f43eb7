"""Reading input files into string-typed polars frames with row lineage.

Every record of a file becomes one row carrying `source_file`, `source_row` (1-based data record,
header excluded) and `source_sha256`. Records that cannot be read are kept too, with their raw
text and a `quarantine_reason`, so nothing is dropped on the way in.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.errors import InputFileError
from pipelines.phones.masking import masked_text

LINEAGE_COLUMNS = ("source_file", "source_row", "source_sha256")
# A record longer than this is quarantined, not read; quarantine keeps at most MAX_SHOWN_CHARS of it.
MAX_RECORD_BYTES = 1 << 20
MAX_SHOWN_CHARS = 1000
QUARANTINE_COLUMNS = ("quarantine_reason", "raw_record")

# Pinned dialect: sniffing a delimiter from a few rows is a guess, and a wrong guess reads garbage.
_CSV_WITH_HEADER = """
    select * from read_csv($path, header = true, all_varchar = true, delim = ',', quote = '"',
                           escape = '"', store_rejects = true)
"""
_LINES_WITHOUT_HEADER = """
    select * from read_csv($path, header = false, columns = {'phone': 'VARCHAR'}, delim = '\t',
                           quote = '', escape = '', store_rejects = true)
"""
_REJECTED_RECORDS = """
    select line - $header_lines as source_row,
           lower(any_value(error_type order by column_idx)::varchar) as quarantine_reason,
           trim(any_value(csv_line order by column_idx), e'\r\n') as raw_record
    from reject_errors
    group by line
    order by line
"""


def read_records(
    path: Path,
    *,
    data_dir: Path,
    required_columns: Sequence[str],
    has_header: bool = True,
) -> pl.DataFrame:
    """Read one CSV, Parquet or one-number-per-line file; all value columns as strings."""
    if not path.is_file():
        raise InputFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty; re-export it or remove it from the inbox")
    if path.suffix.lower() == ".parquet":
        records = _read_parquet(path)
    else:
        records = _read_delimited(path, has_header=has_header)
    _require_columns(records, path, required_columns)
    if records.height == 0:
        raise InputFileError(f"{path}: file has no data rows; re-export it or remove it from the inbox")
    return records.with_columns(
        source_file=pl.lit(lineage_path(path, data_dir)),
        source_sha256=pl.lit(file_sha256(path)),
    )


def read_many(
    paths: Sequence[Path], *, data_dir: Path, required_columns: Sequence[str], has_header: bool = True
) -> pl.DataFrame:
    """Read several files of one kind into one frame; columns a file lacks are null."""
    frames = [
        read_records(path, data_dir=data_dir, required_columns=required_columns, has_header=has_header)
        for path in paths
    ]
    return pl.concat(frames, how="diagonal_relaxed")


def quarantined(records: pl.DataFrame) -> pl.DataFrame:
    """The records that could not be read, with lineage and reason."""
    return records.filter(pl.col("quarantine_reason").is_not_null()).select(*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS)


def lineage_path(path: Path, data_dir: Path) -> str:
    """How lineage names a file: relative to the data directory when it is under it, else as given."""
    return path.relative_to(data_dir).as_posix() if path.is_relative_to(data_dir) else str(path)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes: the version stamp recorded in lineage and manifests."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.ComputeError, OSError) as error:
        raise InputFileError(f"{path}: not a readable Parquet file ({error})") from error
    return frame.select(pl.all().cast(pl.String)).with_columns(
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        quarantine_reason=pl.lit(None, pl.String),
        raw_record=pl.lit(None, pl.String),
    )


def _read_delimited(path: Path, *, has_header: bool) -> pl.DataFrame:
    """Read with DuckDB's CSV reader, which sets most malformed records aside instead of failing.

    Some it cannot set aside (a record longer than its line limit, an unterminated quote, mixed CRLF and
    LF line ends) and gives up on the whole file: such a file is read record by record instead, so each
    bad record is quarantined with its reason and the others are read. DuckDB's error is not passed on:
    it quotes a line of the file, phone numbers included.
    """
    connection = duckdb.connect()
    try:
        query = _CSV_WITH_HEADER if has_header else _LINES_WITHOUT_HEADER
        good = connection.sql(query, params={"path": str(path)}).pl()
        rejected = connection.sql(_REJECTED_RECORDS, params={"header_lines": int(has_header)}).pl()
    except duckdb.Error:
        return _read_record_by_record(path, has_header=has_header)
    finally:
        connection.close()
    rejected = rejected.with_columns(pl.col("source_row").cast(pl.Int64))
    return pl.concat([_number_good_records(good, rejected), rejected], how="diagonal_relaxed").sort("source_row")


def _read_record_by_record(path: Path, *, has_header: bool) -> pl.DataFrame:
    """The slow path for a file DuckDB gives up on: one record per line (CRLF or LF), each parsed on its own.

    A Python loop over lines, taken only for broken files; a quoted field spanning lines is quarantined.
    """
    lines = path.read_bytes().removesuffix(b"\n").split(b"\n")
    dialect = {"delimiter": ","} if has_header else {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    if has_header:
        header, reason = _parse_line(lines.pop(0), dialect=dialect)
        if header is None:
            raise InputFileError(f"{path}: the header line cannot be read ({reason}); re-export the file")
    else:
        header = ["phone"]
    good, rejected = [], []
    for number, line in enumerate(lines, start=1):
        fields, reason = _parse_line(line, dialect=dialect)
        if reason is None and len(fields) != len(header):
            reason = "too many columns" if len(fields) > len(header) else "missing columns"
        if reason is None:
            good.append([number, *(field or None for field in fields)])
        elif line.strip():
            rejected.append((number, reason, _shown(line)))
    return (
        pl.concat(
            [
                pl.DataFrame(good, schema=["source_row", *header], orient="row").cast(dict.fromkeys(header, pl.String)),
                pl.DataFrame(rejected, schema=["source_row", *QUARANTINE_COLUMNS], orient="row"),
            ],
            how="diagonal_relaxed",
        )
        .with_columns(pl.col("source_row").cast(pl.Int64))
        .sort("source_row")
    )


def _parse_line(line: bytes, *, dialect: dict[str, object]) -> tuple[list[str] | None, str | None]:
    """A line's fields, or None and why it cannot be read."""
    line = line.removesuffix(b"\r")
    if len(line) > MAX_RECORD_BYTES:
        return None, f"record too long ({len(line):,} bytes; at most {MAX_RECORD_BYTES:,})"
    try:
        (fields,) = csv.reader([line.decode("utf-8")], strict=True, **dialect)
    except UnicodeDecodeError:
        return None, "invalid unicode"
    except csv.Error:
        return None, "unterminated quote"
    return fields, None


def _shown(line: bytes) -> str:
    """A rejected line as quarantine keeps it: decoded as far as it can be, cut to a readable length."""
    text = line.removesuffix(b"\r").decode("utf-8", errors="replace")
    return text if len(text) <= MAX_SHOWN_CHARS else f"{text[:MAX_SHOWN_CHARS]}… ({len(line):,} bytes)"


def _number_good_records(good: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """Give readable records their record numbers: the ones the rejected records did not take."""
    total = good.height + rejected.height
    numbers = pl.int_range(1, total + 1, dtype=pl.Int64, eager=True)
    numbers = numbers.filter(~numbers.is_in(rejected["source_row"].implode()))
    return good.with_columns(
        source_row=numbers,
        quarantine_reason=pl.lit(None, pl.String),
        raw_record=pl.lit(None, pl.String),
    )


def _require_columns(records: pl.DataFrame, path: Path, required: Sequence[str]) -> None:
    missing = [column for column in required if column not in records.columns]
    if missing:
        present = ", ".join(c for c in records.columns if c not in LINEAGE_COLUMNS + QUARANTINE_COLUMNS)
        # A file without its header row shows a record here: its numbers are masked.
        raise InputFileError(
            f"{path}: missing column(s) {', '.join(missing)} (the file has: {masked_text(present)}); "
            "fix the export or the column names in scrubline.yaml"
        )


def optional_columns(*columns: str | None) -> list[str]:
    """The configured ones of a source's optional columns (those not set are `None`)."""
    return [column for column in columns if column]
