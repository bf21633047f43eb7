"""`scrubline normalize`: one file's phone column to E.164, written as CSV or Parquet by the output's name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import phonenumbers
import polars as pl

from pipelines.errors import ScrublineError
from pipelines.inputs.records import LINEAGE_COLUMNS, QUARANTINE_COLUMNS, quarantined, read_records
from pipelines.parquet_files import write_parquet
from pipelines.phones.e164 import normalise_phones

# Rows with no region of their own, under --region-column, are read as written with a country code only.
UNKNOWN_REGION = "ZZ"
# Large files go through the engine in chunks of this many rows, each reported to the progress callback.
CHUNK_ROWS = 1_000_000
_WRITERS: dict[str, Callable[[pl.DataFrame, Path], None]] = {
    ".csv": lambda frame, path: frame.write_csv(path),
    ".parquet": write_parquet,
}


class UsageError(ScrublineError):
    """A command was asked for something it cannot do: the message says what to change."""


class Normalised(NamedTuple):
    count_rows: int
    count_valid: int


def normalize_file(
    source: Path,
    output: Path,
    *,
    column: str,
    region: str | None,
    region_column: str | None,
    progress: Callable[[int, int], None],
    chunk_rows: int = CHUNK_ROWS,
) -> Normalised:
    """Read `source`, add the E.164 columns of `column`, write `output` (.csv or .parquet).

    `progress(rows done, rows in all)` is called after each chunk of a file longer than `chunk_rows`.
    Refuses to overwrite `source`, an unknown region and an output of another type; a file with
    unreadable rows is refused, naming the first.
    """
    _check_arguments(source, output, region)
    records = read_records(source, data_dir=source.parent, required_columns=[column, *filter(None, [region_column])])
    unreadable = quarantined(records)
    if unreadable.height:
        first = unreadable.row(0, named=True)
        raise UsageError(
            f"{source}: {unreadable.height} unreadable row(s), first at row {first['source_row']} "
            f"({first['quarantine_reason']}); fix them and rerun"
        )
    chunks = []
    for chunk in records.iter_slices(chunk_rows):
        chunks.append(normalise_phones(chunk, column, region=region or UNKNOWN_REGION, region_column=region_column))
        if records.height > chunk_rows:
            progress(min(len(chunks) * chunk_rows, records.height), records.height)
    normalised = pl.concat(chunks).drop(*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS)
    _WRITERS[output.suffix.lower()](normalised, output)
    return Normalised(normalised.height, int(normalised.get_column(f"{column}_valid").sum()))


def _check_arguments(source: Path, output: Path, region: str | None) -> None:
    if output.suffix.lower() not in _WRITERS:
        raise UsageError(f"--output {output}: name a .csv or .parquet file; the extension chooses the format")
    if output.resolve() == source.resolve():
        raise UsageError(f"--output {output} is the input file; write the result to another file")
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"--region {region}: not an ISO 3166 alpha-2 region phonenumbers supports (e.g. US, GB, DE)")
