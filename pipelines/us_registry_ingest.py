"""The whole US National DNC download (~250 million lines) read straight to its sorted snapshot.

The row-by-row path (`read_registry` then `normalise_phones`) holds every record as strings;
this one has DuckDB parse each `NPA,NXXXXXX` or ten-digit line to a 64-bit integer and keeps
exactly the numbers the E.164 engine calls valid, without asking it about each one. Whether a
ten-digit national number starting with a digit that needs no prefix handling is valid depends
only on its first `decisive_width("1")` digits (7), the engine's own rule, so the engine judges one
representative per such prefix present; the rare line starting 0 or 1 goes through the engine whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.e164 import normalise_phones
from pipelines.errors import RegistryError
from pipelines.phone_metadata import decisive_width, direct_national_starts
from pipelines.registry_formats import RECORD_LAYOUTS, ZIP_MEMBER_SUFFIX, ZIP_SUFFIX, registry_zip
from pipelines.registry_store import SNAPSHOT_COLUMN, SNAPSHOT_COMPRESSION, e164_as_int, staging_path

US_REGION = "US"
US_COUNTRY_CODE = "1"
US_NATIONAL_DIGITS = 10
# DuckDB spills to the scratch folder beyond this, so a 250-million-line download stays within 4 GB.
MEMORY_LIMIT = "2GB"

_LOAD_NATIONALS = """
create table records as
with lines as (
    select trim(record, E' \\t\\r') as record
    from read_csv($files, columns = {'record': 'VARCHAR'}, delim = $no_separator, quote = '', escape = '',
                  header = false, auto_detect = false, strict_mode = false)
),
records as (
    select record from lines where record <> ''
)
select
    regexp_full_match(record, '[0-9]{3},?[0-9]{7}') as is_record,
    try_cast(replace(record, ',', '') as bigint) as national
from records
"""
_COUNT_MALFORMED = "select count(*) as count_malformed from records where not is_record"
_DIRECT_PREFIXES = """
with direct as (
    select national // $tail as prefix from records where is_record and list_contains($starts, national // $leading)
)
select distinct prefix from direct
"""
_OTHER_NATIONALS = """
select distinct lpad(national::varchar, $digits, '0') as phone
from records
where is_record and not list_contains($starts, national // $leading)
"""
_WRITE_SNAPSHOT = """
copy (
    with direct as (
        select $country_number + national as e164_int
        from records
        where is_record and national // $tail in (select prefix from valid_prefixes)
    ),
    others as (
        select e164_int from other_valid
    ),
    numbers as (
        select e164_int from direct
        union
        select e164_int from others
    )
    select e164_int from numbers order by e164_int
) to '{path}' (format parquet, compression {compression})
"""


def ingest_us_download(files: Sequence[Path], *, snapshot: Path) -> int:
    """Write the sorted snapshot of a US full-list download's valid numbers; return how many it holds.

    A line out of layout fails the whole download (fail closed), as in `read_registry`.
    """
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(snapshot)
    with tempfile.TemporaryDirectory(dir=snapshot.parent, prefix=".ingest-") as scratch:
        texts = flat_texts(files, scratch=Path(scratch))
        connection = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": scratch})
        try:
            _load_nationals(connection, texts)
            connection.register("valid_prefixes", valid_direct_prefixes(_direct_prefixes(connection)))
            connection.register("other_valid", valid_numbers(_other_nationals(connection)))
            # COPY takes no bound target: the path is our own staging file, quoted as a literal.
            target = str(staging).replace("'", "''")
            [(count,)] = connection.execute(
                _WRITE_SNAPSHOT.format(path=target, compression=SNAPSHOT_COMPRESSION),
                {"country_number": 10**US_NATIONAL_DIGITS, "tail": _tail()},
            ).fetchall()
            os.replace(staging, snapshot)
        finally:
            connection.close()
            staging.unlink(missing_ok=True)
    return count


def flat_texts(files: Sequence[Path], *, scratch: Path) -> list[Path]:
    """The download's flat-text files: each file itself, or each `.txt` of a zip extracted into `scratch`."""
    texts = []
    for path in files:
        if path.suffix.lower() != ZIP_SUFFIX:
            texts.append(path)
            continue
        with registry_zip(path) as (archive, names):
            for name in names:
                # Numbered across every zip, so members of two downloads never collide.
                target = scratch / f"{len(texts)}{ZIP_MEMBER_SUFFIX}"
                with archive.open(name) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 24)
                texts.append(target)
    return texts


def valid_direct_prefixes(prefixes: pl.DataFrame) -> pl.DataFrame:
    """The `prefix`es whose ten-digit numbers the engine calls valid, judged on one representative each."""
    representatives = prefixes.with_columns(
        phone=(pl.col("prefix") * _tail()).cast(pl.String).str.zfill(US_NATIONAL_DIGITS)
    )
    judged = normalise_phones(representatives, "phone", region=US_REGION)
    return judged.filter(pl.col("phone_valid")).select("prefix")


def valid_numbers(phones: pl.DataFrame) -> pl.DataFrame:
    """The engine's valid numbers among `phone` strings, as E.164 integers."""
    judged = normalise_phones(phones, "phone", region=US_REGION)
    return judged.filter(pl.col("phone_valid")).select(e164_as_int(pl.col("phone_e164")).alias(SNAPSHOT_COLUMN))


def _load_nationals(connection: duckdb.DuckDBPyConnection, texts: Sequence[Path]) -> None:
    """Every non-blank line as its ten-digit national number, and whether it is in the US layout at all."""
    try:
        connection.execute(_LOAD_NATIONALS, {"files": [str(path) for path in texts], "no_separator": "\x1f"})
    except duckdb.Error as error:
        raise RegistryError(f"{', '.join(map(str, texts))}: cannot be read as one record per line ({error})") from error
    [(count_malformed,)] = connection.execute(_COUNT_MALFORMED).fetchall()
    if count_malformed:
        raise RegistryError(
            f"{count_malformed} record(s) not {RECORD_LAYOUTS['us_dnc']}; "
            "nothing is published until the registry file is fixed or replaced"
        )


def _direct_prefixes(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The distinct decisive prefixes of numbers whose first digit needs no prefix handling."""
    return connection.sql(_DIRECT_PREFIXES, params={**_leading_params(), "tail": _tail()}).pl()


def _other_nationals(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Distinct lines starting with a digit the engine must parse in full (0 or 1), as ten-digit strings."""
    return connection.sql(_OTHER_NATIONALS, params={**_leading_params(), "digits": US_NATIONAL_DIGITS}).pl()


def _leading_params() -> dict[str, object]:
    return {
        "leading": 10 ** (US_NATIONAL_DIGITS - 1),
        "starts": [int(digit) for digit in sorted(direct_national_starts(US_REGION))],
    }


def _tail() -> int:
    """10 to the power of the digits after the decisive prefix: `national // _tail()` is the prefix."""
    width = decisive_width(US_COUNTRY_CODE)
    if width is None:
        raise RegistryError("the +1 metadata no longer bounds its decisive digits; use the row-by-row registry path")
    return 10 ** (US_NATIONAL_DIGITS - width)
