"""US National DNC downloads straight to sorted E.164-integer snapshots: full lists and change lists.

A full list (~250 million lines, `NPA,NXXXXXX` or ten digits) is parsed by DuckDB to 64-bit integers
and spilled to disk beyond `MEMORY_LIMIT`, never held as strings. It keeps exactly the numbers the
E.164 engine calls valid and places in the registry's jurisdiction, without asking it about each:
for a ten-digit national number starting with a digit that needs no prefix handling, validity and
region depend only on its first `decisive_width("1")` digits (7), the engine's own rule, so the
engine judges one representative per such prefix present; the rare line starting 0 or 1 goes
through the engine whole.

A change list holds `NPA,NXXXXXX,A` (added since the last download) and `NPA,NXXXXXX,D` (deleted)
lines; applied to the parent snapshot it gives the next one. A number both added and deleted in one
change list stays suppressed (fail closed). Any line out of layout fails the download, naming the
file and line, never the number.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipelines.e164 import normalise_phones
from pipelines.errors import RegistryError
from pipelines.phone_metadata import decisive_width, direct_national_starts
from pipelines.registry_formats import RECORD_LAYOUTS, ZIP_MEMBER_SUFFIX, ZIP_SUFFIX, registry_zip

US_REGION = "US"
US_COUNTRY_CODE = "1"
US_NATIONAL_DIGITS = 10
# DuckDB spills to the scratch folder beyond this, so a 250-million-line download stays within 4 GB.
MEMORY_LIMIT = "2GB"
SNAPSHOT_COMPRESSION = "zstd"
FULL_LIST = r"[0-9]{3},?[0-9]{7}"
CHANGE_LIST = r"([0-9]{3}),?([0-9]{7}),([AD])"
CHANGE_LAYOUT = "a US DNC change-list record (NPA,NXXXXXX,A to add or NPA,NXXXXXX,D to delete, e.g. 201,5550123,A)"
_NO_SEPARATOR = "\x1f"
_E164_OFFSET = 10**US_NATIONAL_DIGITS  # +1 before ten national digits

_LOAD_NATIONALS = """
create table records as
with lines as (
    select trim(record, E' \\t\\r') as record
    from read_csv($files, columns = {'record': 'VARCHAR'}, delim = $no_separator, quote = '', escape = '',
                  header = false, auto_detect = false, strict_mode = false)
)
select
    regexp_full_match(record, $layout) as is_record,
    try_cast(replace(record, ',', '') as bigint) as national
from lines
where record <> ''
"""
_COUNT_MALFORMED = "select count(*) from records where not is_record"
_DIRECT_PREFIXES = """
select distinct national // $tail as prefix
from records
where is_record and list_contains($starts, national // $leading)
"""
_OTHER_NATIONALS = """
select distinct lpad(national::varchar, $digits, '0') as phone
from records
where is_record and not list_contains($starts, national // $leading)
"""
_WRITE_FULL_LIST = """
copy (
    with direct as (
        select $offset + national as e164_int
        from records
        where is_record and national // $tail in (select prefix from valid_prefixes)
    ),
    numbers as (
        select e164_int from direct
        union
        select e164_int from other_valid
    )
    select e164_int from numbers order by e164_int
) to '{path}' (format parquet, compression {compression})
"""
_WRITE_CHANGED = """
copy (
    with kept as (
        select e164_int from read_parquet($parent)
        anti join deleted using (e164_int)
    ),
    numbers as (
        select e164_int from kept
        union
        select e164_int from added
    )
    select e164_int from numbers order by e164_int
) to '{path}' (format parquet, compression {compression})
"""


def ingest_us_download(files: Sequence[Path], *, snapshot: Path, regions: Sequence[str]) -> int:
    """Write the sorted snapshot of a full-list download's valid numbers in `regions`; return how many it holds."""
    with _scratch(snapshot) as scratch, duckdb.connect(config=_spilling(scratch)) as connection:
        texts = flat_texts(files, scratch=scratch)
        _load_nationals(connection, texts)
        connection.register("valid_prefixes", valid_direct_prefixes(_direct_prefixes(connection), regions=regions))
        connection.register("other_valid", valid_numbers(_other_nationals(connection), regions=regions))
        params = {"offset": _E164_OFFSET, "tail": _tail()}
        return _copy_snapshot(connection, _WRITE_FULL_LIST, params, snapshot=snapshot, scratch=scratch)


def apply_us_changes(parent: Path, changes: Path, *, snapshot: Path, regions: Sequence[str]) -> int:
    """Write the snapshot `parent` becomes under a change list; return how many numbers it holds."""
    with _scratch(snapshot) as scratch, duckdb.connect(config=_spilling(scratch)) as connection:
        records = change_records(flat_texts([changes], scratch=scratch))
        deleted = records.filter(pl.col("change") == "D").select(e164_int=pl.col("national") + _E164_OFFSET)
        additions = records.filter(pl.col("change") == "A").select(
            phone=pl.col("national").cast(pl.String).str.zfill(US_NATIONAL_DIGITS)
        )
        connection.register("deleted", deleted)
        connection.register("added", valid_numbers(additions.unique(), regions=regions))
        return _copy_snapshot(connection, _WRITE_CHANGED, {"parent": str(parent)}, snapshot=snapshot, scratch=scratch)


def change_records(texts: Sequence[tuple[str, Path]]) -> pl.DataFrame:
    """A change list's records: `national` (ten digits as an integer) and `change` (A or D)."""
    parts = pl.col("record").str.extract_groups(f"^{CHANGE_LIST}$")
    records = pl.concat([_lines(path) for _, path in texts]).select(
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


def valid_direct_prefixes(prefixes: pl.DataFrame, *, regions: Sequence[str]) -> pl.DataFrame:
    """The `prefix`es whose ten-digit numbers the engine calls valid in `regions`, judged on one representative each."""
    representatives = prefixes.with_columns(
        phone=(pl.col("prefix") * _tail()).cast(pl.String).str.zfill(US_NATIONAL_DIGITS)
    )
    return _in_regions(normalise_phones(representatives, "phone", region=US_REGION), regions).select("prefix")


def valid_numbers(phones: pl.DataFrame, *, regions: Sequence[str]) -> pl.DataFrame:
    """The engine's valid numbers in `regions` among ten-digit `phone` strings, as E.164 integers."""
    judged = _in_regions(normalise_phones(phones, "phone", region=US_REGION), regions)
    return judged.select(e164_int=pl.col("phone_e164").str.strip_prefix("+").cast(pl.Int64))


def _in_regions(judged: pl.DataFrame, regions: Sequence[str]) -> pl.DataFrame:
    return judged.filter(pl.col("phone_valid") & pl.col("phone_region").is_in(list(regions)))


def _load_nationals(connection: duckdb.DuckDBPyConnection, texts: Sequence[tuple[str, Path]]) -> None:
    """Every non-blank line as its ten-digit national number, and whether it is in the full-list layout."""
    files = [str(path) for _, path in texts]
    try:
        connection.execute(_LOAD_NATIONALS, {"files": files, "no_separator": _NO_SEPARATOR, "layout": FULL_LIST})
    except duckdb.Error as error:
        raise RegistryError(
            f"{', '.join(name for name, _ in texts)}: cannot be read as one record per line ({error})"
        ) from error
    [(count_malformed,)] = connection.execute(_COUNT_MALFORMED).fetchall()
    if count_malformed:
        raise RegistryError(_malformed(texts, FULL_LIST, RECORD_LAYOUTS["us_dnc"]))


def _malformed(texts: Sequence[tuple[str, Path]], layout: str, description: str) -> str:
    """Where the first line out of `layout` is, and how many there are: file and line, never the number."""
    found = [
        (name, lines.filter(~pl.col("record").str.contains(f"^{layout}$")))
        for name, lines in ((name, _lines(path)) for name, path in texts)
    ]
    bad = [(name, rows) for name, rows in found if rows.height]
    name, rows = bad[0]
    count = sum(rows.height for _, rows in bad)
    return (
        f"{count} unreadable record(s), first in {name} row {rows.item(0, 'source_row')} (not {description}); "
        "nothing is published until the registry file is fixed or replaced"
    )


def _lines(path: Path) -> pl.DataFrame:
    """A flat text's non-blank lines, trimmed, with their 1-based line numbers."""
    lines = pl.read_csv(
        path,
        has_header=False,
        separator=_NO_SEPARATOR,
        quote_char=None,
        schema={"record": pl.String},
        encoding="utf8-lossy",
        row_index_name="source_row",
        row_index_offset=1,
    )
    return lines.with_columns(pl.col("record").str.strip_chars()).filter(pl.col("record").fill_null("") != "")


def _direct_prefixes(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The distinct decisive prefixes of numbers whose first digit needs no prefix handling."""
    return connection.sql(_DIRECT_PREFIXES, params={**_leading_params(), "tail": _tail()}).pl()


def _other_nationals(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Distinct lines starting with a digit the engine must parse in full (0 or 1), as ten-digit strings."""
    return connection.sql(_OTHER_NATIONALS, params={**_leading_params(), "digits": US_NATIONAL_DIGITS}).pl()


def _copy_snapshot(
    connection: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], *, snapshot: Path, scratch: Path
) -> int:
    """Run a `copy (…) to` statement into `scratch` (beside `snapshot`), then rename the file into place."""
    staging = scratch / snapshot.name
    # COPY takes no bound target: the path is our own scratch file, quoted as a literal.
    target = str(staging).replace("'", "''")
    [(count,)] = connection.execute(sql.format(path=target, compression=SNAPSHOT_COMPRESSION), params).fetchall()
    os.replace(staging, snapshot)
    return count


@contextmanager
def _scratch(snapshot: Path) -> Iterator[Path]:
    """A private folder beside the snapshot for spills and staging, removed afterwards."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=snapshot.parent, prefix=".ingest-") as scratch:
        yield Path(scratch)


def _spilling(scratch: Path) -> dict[str, str]:
    """DuckDB settings that cap its memory and spill the rest into `scratch`."""
    return {"memory_limit": MEMORY_LIMIT, "temp_directory": str(scratch)}


def _leading_params() -> dict[str, object]:
    return {
        "leading": 10 ** (US_NATIONAL_DIGITS - 1),
        "starts": [int(digit) for digit in sorted(direct_national_starts(US_REGION))],
    }


def _tail() -> int:
    """10 to the power of the digits after the decisive prefix: `national // _tail()` is the prefix."""
    width = decisive_width(US_COUNTRY_CODE)
    if width is None:
        raise RegistryError("the +1 metadata no longer bounds its decisive digits; the US registry cannot be ingested")
    return 10 ** (US_NATIONAL_DIGITS - width)
