"""US National DNC downloads straight to sorted E.164-integer snapshots: full lists and change lists.

A full list (~250 million lines, `NPA,NXXXXXX` or ten digits) is read by polars' streaming engine into
one 64-bit integer per line, never held as strings. It keeps exactly the numbers the E.164 engine
calls valid and places in the registry's jurisdiction, without asking it about each: for a ten-digit
national number starting with a digit that needs no prefix handling, validity and region depend
only on its first `decisive_width("1")` digits (7), the engine's own rule, so the engine judges one
representative per such prefix present; the rare number starting 0 or 1 goes through it whole and
is kept only if the engine reads it as +1 and those ten digits.

A number the engine does not keep is left out of the snapshot but counted: the ingest returns how many
distinct numbers the download held and how many of them were unusable, so a mostly unusable download
fails the run's `max_invalid_share` check like a registry read row by row.

The snapshot is written one leading digit at a time, each part sorted and de-duplicated, so no sort
spans the whole list and memory stays near the list's own 8 bytes a line.

A change list holds `NPA,NXXXXXX,A` (added since the last download) and `NPA,NXXXXXX,D` (deleted)
lines; applied to the parent snapshot it gives the next one. A number both added and deleted in one
change list stays suppressed (fail closed). Any line out of layout fails the download, naming the
file and line, never the number.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import RegistryError
from pipelines.phones.e164 import normalise_phones
from pipelines.phones.region_rules import decisive_width, direct_national_starts
from pipelines.registries.formats import (
    NO_SEPARATOR,
    RECORD_LAYOUTS,
    ZIP_MEMBER_SUFFIX,
    ZIP_SUFFIX,
    is_blank,
    read_lines,
    registry_zip,
)

US_REGION = "US"
US_COUNTRY_CODE = "1"
US_NATIONAL_DIGITS = 10
# Sorted integers differ by little: delta-encoded, then zstd, the file is half the size of plain values
# and DuckDB scans it about four times faster.
SNAPSHOT_ENCODING = {
    "compression": "zstd",
    "use_dictionary": False,
    "column_encoding": {"e164_int": "DELTA_BINARY_PACKED"},
}
# Whitespace around a record is allowed and blank lines hold none, as in the row-by-row reader.
FULL_LIST = r"\s*[0-9]{3},?[0-9]{7}\s*"
CHANGE_LIST = r"\s*([0-9]{3}),?([0-9]{7}),([AD])\s*"
CHANGE_LAYOUT = "a US DNC change-list record (NPA,NXXXXXX,A to add or NPA,NXXXXXX,D to delete, e.g. 201,5550123,A)"
_E164_OFFSET = 10**US_NATIONAL_DIGITS  # +1 before ten national digits
_LEADING_UNIT = 10 ** (US_NATIONAL_DIGITS - 1)  # national // _LEADING_UNIT is its first digit
_SNAPSHOT_SCHEMA = pa.schema([("e164_int", pa.int64())])


class Ingested(NamedTuple):
    """What one download made: the snapshot's numbers, and the download's own distinct numbers (a change list's
    additions) with how many of them are unusable, no valid number in the jurisdiction, and left out."""

    count_numbers: int
    count_read: int
    count_unusable: int


def ingest_us_download(files: Sequence[Path], *, snapshot: Path, regions: Sequence[str]) -> Ingested:
    """Write the sorted snapshot of a full-list download's valid numbers in `regions`."""
    with _scratch(snapshot) as scratch:
        nationals = read_nationals(flat_texts(files, scratch=scratch))
        read_per_part: list[int] = []

        def part(digit: int) -> pl.Series:
            numbers = _sorted_distinct(nationals.filter(_has_leading_digit(nationals, digit)))
            read_per_part.append(numbers.len())
            return _E164_OFFSET + valid_nationals(numbers, regions=regions)

        count = _write_parts(part, snapshot=snapshot, scratch=scratch)
        return Ingested(count, count_read=sum(read_per_part), count_unusable=sum(read_per_part) - count)


def apply_us_changes(parent: Path, changes: Path, *, snapshot: Path, regions: Sequence[str]) -> Ingested:
    """Write the snapshot `parent` becomes under a change list; what was read is its additions."""
    with _scratch(snapshot) as scratch:
        records = change_records(flat_texts([changes], scratch=scratch))
        deleted = records.filter(pl.col("change") == "D").get_column("national").implode()
        additions = _sorted_distinct(records.filter(pl.col("change") == "A").get_column("national"))
        added = valid_nationals(additions, regions=regions)
        stored = pl.scan_parquet(parent).select(national=pl.col("e164_int") - _E164_OFFSET)

        def part(digit: int) -> pl.Series:
            kept = stored.filter(_has_leading_digit(pl.col("national"), digit)).collect().get_column("national")
            numbers = pl.concat([kept.filter(~kept.is_in(deleted)), added.filter(_has_leading_digit(added, digit))])
            return _E164_OFFSET + _sorted_distinct(numbers)

        count = _write_parts(part, snapshot=snapshot, scratch=scratch)
        return Ingested(count, count_read=additions.len(), count_unusable=additions.len() - added.len())


def read_nationals(texts: Sequence[tuple[str, Path]]) -> pl.Series:
    """Every line of a full list as its ten-digit national number, null for a blank one.

    A line out of layout, or a file without records, fails the download. Nulls are kept rather than
    dropped: a copy of 250 million numbers would double the memory, and no leading digit selects them.
    """
    for name, path in texts:
        if _scan_lines([path]).filter(~is_blank(pl.col("record"))).head(1).collect().height == 0:
            raise RegistryError(_no_records(name))
    record = pl.col("record")
    is_record = record.str.contains(f"^{FULL_LIST}$")
    national = record.str.replace(",", "", literal=True).str.strip_chars().cast(pl.Int64)
    lines = _scan_lines([path for _, path in texts]).select(
        national=pl.when(is_record).then(national), is_malformed=~is_record & ~is_blank(record)
    )
    try:
        nationals = lines.collect(engine="streaming")
    except pl.exceptions.PolarsError as error:
        names = ", ".join(name for name, _ in texts)
        raise RegistryError(f"{names}: cannot be read as one record per line ({error})") from error
    # Only a download holding a bad line is read again, line by line, to say where.
    if nationals.get_column("is_malformed").any():
        raise RegistryError(_malformed(texts, FULL_LIST, RECORD_LAYOUTS["us_dnc"]))
    return nationals.get_column("national")


def _scan_lines(paths: Sequence[Path]) -> pl.LazyFrame:
    """Flat texts as one `record` a line, lazily: polars' streaming CSV reader with no separator or quotes."""
    return pl.scan_csv(
        list(paths),
        has_header=False,
        separator=NO_SEPARATOR,
        quote_char=None,
        schema={"record": pl.String},
        encoding="utf8-lossy",
    )


def change_records(texts: Sequence[tuple[str, Path]]) -> pl.DataFrame:
    """A change list's records: `national` (ten digits as an integer) and `change` (A or D)."""
    parts = pl.col("record").str.extract_groups(f"^{CHANGE_LIST}$")
    records = pl.concat([_records(name, path) for name, path in texts]).select(
        national=pl.concat_str(parts.struct.field("1"), parts.struct.field("2")).cast(pl.Int64),
        change=parts.struct.field("3"),
    )
    if records.get_column("change").null_count():
        raise RegistryError(_malformed(texts, CHANGE_LIST, CHANGE_LAYOUT))
    return records


def flat_texts(files: Sequence[Path], *, scratch: Path) -> list[tuple[str, Path]]:
    """(name, flat-text path) per file: the file itself, or each `.txt` of a zip extracted into `scratch`."""
    texts = []
    for path in files:
        if path.suffix.lower() != ZIP_SUFFIX:
            texts.append((str(path), path))
            continue
        with registry_zip(path) as (archive, names):
            for name in names:
                # Numbered across every zip, so members of two downloads never collide.
                target = scratch / f"{len(texts)}{ZIP_MEMBER_SUFFIX}"
                with archive.open(name) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 24)
                texts.append((f"{path}!{name}", target))
    return texts


def valid_nationals(numbers: pl.Series, *, regions: Sequence[str]) -> pl.Series:
    """The ten-digit national numbers (sorted, distinct) the engine calls valid in `regions`, in order.

    A number whose first digit needs no prefix handling is judged by its decisive prefix's representative.
    """
    is_direct = (numbers // _LEADING_UNIT).is_in(_direct_starts())
    prefixes = numbers // _tail()
    representatives = pl.DataFrame({"national": prefixes.filter(is_direct).unique() * _tail()})
    whole = pl.DataFrame({"national": numbers.filter(~is_direct)})
    valid_prefixes = _valid(representatives, regions) // _tail()
    valid_whole = _valid(whole, regions)
    return numbers.filter((is_direct & prefixes.is_in(valid_prefixes.implode())) | numbers.is_in(valid_whole.implode()))


def _valid(numbers: pl.DataFrame, regions: Sequence[str]) -> pl.Series:
    """The `national` numbers the engine calls valid, in `regions`, written as ten digits in the US."""
    phones = numbers.with_columns(phone=pl.col("national").cast(pl.String).str.zfill(US_NATIONAL_DIGITS))
    judged = normalise_phones(phones, "phone", region=US_REGION)
    # A line is the number +1 and its ten digits; one the engine reads otherwise (e.g. dialled via 011) is not.
    is_itself = pl.col("phone_e164") == pl.concat_str(pl.lit(f"+{US_COUNTRY_CODE}"), "phone")
    in_scope = pl.col("phone_valid") & pl.col("phone_region").is_in(list(regions)) & is_itself
    return judged.filter(in_scope).get_column("national")


def _has_leading_digit(nationals: pl.Series | pl.Expr, digit: int) -> pl.Series | pl.Expr:
    """Whether ten-digit national numbers start with `digit`: two comparisons, no 8-byte temporary per number."""
    return (nationals >= digit * _LEADING_UNIT) & (nationals < (digit + 1) * _LEADING_UNIT)


def _sorted_distinct(numbers: pl.Series) -> pl.Series:
    return numbers.unique().sort()


def _write_parts(part: Callable[[int], pl.Series], *, snapshot: Path, scratch: Path) -> int:
    """Write the snapshot from `part(digit)` for each leading national digit in order; return its rows.

    Each part is sorted and distinct and covers its own range, so the file is sorted and distinct.
    It is written in `scratch` (beside `snapshot`) and renamed into place.
    """
    staging = scratch / snapshot.name
    count = 0
    with pq.ParquetWriter(staging, _SNAPSHOT_SCHEMA, **SNAPSHOT_ENCODING) as writer:
        for digit in range(10):
            numbers = part(digit)
            writer.write_table(pa.table({"e164_int": numbers.to_arrow()}, schema=_SNAPSHOT_SCHEMA))
            count += numbers.len()
    os.replace(staging, snapshot)
    return count


def _malformed(texts: Sequence[tuple[str, Path]], layout: str, description: str) -> str:
    """Where the first line out of `layout` is, and how many there are: file and line, never the number."""
    found = [(name, _records(name, path).filter(~pl.col("record").str.contains(f"^{layout}$"))) for name, path in texts]
    bad = [(name, rows) for name, rows in found if rows.height]
    name, rows = bad[0]
    return (
        f"{sum(rows.height for _, rows in bad)} unreadable record(s), first in {name} row "
        f"{rows.item(0, 'source_row')} (not {description}); "
        "nothing is published until the registry file is fixed or replaced"
    )


def _records(name: str, path: Path) -> pl.DataFrame:
    """A flat text's non-blank lines as `record`, with their 1-based `source_row`; a file with none is an error.

    An empty file among several is a partial download: the list would silently lack its numbers.
    """
    lines = read_lines(path, where=name).filter(~is_blank(pl.col("raw_record")))
    if lines.height == 0:
        raise RegistryError(_no_records(name))
    return lines.select("source_row", record=pl.col("raw_record").str.strip_chars())


def _no_records(name: str) -> str:
    """The error for a file without records: a partial download, which would silently lack its numbers."""
    return f"{name}: file holds no records; download it again or remove it from the inbox"


@contextmanager
def _scratch(snapshot: Path) -> Iterator[Path]:
    """A private folder beside the snapshot for extracted zips and staging, removed afterwards."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=snapshot.parent, prefix=".ingest-") as scratch:
        yield Path(scratch)


def _direct_starts() -> list[int]:
    """The first digits of national numbers that need no prefix handling in the US (the engine's direct lane)."""
    return [int(digit) for digit in sorted(direct_national_starts(US_REGION))]


def _tail() -> int:
    """10 to the power of the digits after the decisive prefix: `national // _tail()` is the prefix."""
    width = decisive_width(US_COUNTRY_CODE)
    if width is None:
        raise RegistryError("the +1 metadata no longer bounds its decisive digits; the US registry cannot be ingested")
    return 10 ** (US_NATIONAL_DIGITS - width)
