"""Registry files in the layouts their operators ship, read into one row per record.

A reader returns `member` (the `.txt` inside a zip, else null), `source_row` (1-based line),
`raw_record`, `is_unterminated` (true on the last line of a file that does not end in a line break:
a download cut short) and the record's entry: `phone` for number lists or `block_prefix` (an E.164
prefix) for wildcard blocks; both are null when the record is not in the format's layout. Blank lines
hold no entry and are skipped. Any line-based registry may come zipped: a `.zip` of one or more `.txt`.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import polars as pl

from pipelines.errors import RegistryError

ZIP_SUFFIX = ".zip"
ZIP_MEMBER_SUFFIX = ".txt"
TPS_RECORD_CHARS = 12
# A character no registry line holds, so each line is read whole as one field.
NO_SEPARATOR = "\x1f"
_US_DNC = r"^[0-9]{3},?[0-9]{7}$"
_DNCL = r"^[0-9]{3},[0-9]{7}$"
_TPS_DIALLING_CODE = r"^0[0-9]{2,4} *$"
_TPS_REMAINDER = r"^ *[0-9]{6,7}$"
_TPS_WITHOUT_SPACES = r"^0[0-9]{9,10} *$"
_E164_PREFIX = r"^\+[1-9][0-9]{0,14}$"
_DIALLER_WILDCARD = r"^([0-9]+)[Xx]+$"


@dataclass(frozen=True)
class NationalFormat:
    """What a national registry's format implies: its numbers' region, the regions it covers, its maximum age."""

    region: str
    jurisdiction: tuple[str, ...]
    max_age_days: int


# TPS covers every region dialled as +44 (GB and the Crown Dependencies): its files hold +44 national numbers.
NATIONAL_FORMATS = {
    # The National DNC Registry covers the US and its territories, each its own region in phonenumbers.
    "us_dnc": NationalFormat(region="US", jurisdiction=("US", "PR", "VI", "GU", "AS", "MP"), max_age_days=31),
    "dncl": NationalFormat(region="CA", jurisdiction=("CA",), max_age_days=31),
    "tps": NationalFormat(
        region="GB", jurisdiction=tuple(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[44]), max_age_days=28
    ),
}


def read_line_registry(path: Path, *, registry_format: str, region: str) -> pl.DataFrame:
    """One row per non-blank record of a line-based registry file, or of each `.txt` in a zipped one."""
    frames = [
        read_lines(source, where=f"{path}{'!' + member if member else ''}").with_columns(
            member=pl.lit(member, pl.String), is_unterminated=is_cut_last_line(source)
        )
        for member, source in _sources(path)
    ]
    records = pl.concat(frames).filter(~is_blank(pl.col("raw_record")))
    if records.height == 0:
        raise RegistryError(f"{path}: file holds no records; download it again or remove it from the inbox")
    record = pl.col("raw_record")
    if registry_format == "wildcard":
        return records.with_columns(phone=pl.lit(None, pl.String), block_prefix=wildcard_prefix(record, region=region))
    return records.with_columns(phone=_PHONE_READERS[registry_format](record), block_prefix=pl.lit(None, pl.String))


def ends_in_line_break(source: Path | bytes) -> bool:
    """Whether a file (or zip member's bytes) ends with a line break, as a complete download does; an empty one does."""
    if isinstance(source, bytes):
        return source[-1:] in (b"", b"\n", b"\r")
    with source.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) in (b"\n", b"\r")


def is_cut_last_line(source: Path | bytes) -> pl.Expr:
    """True on a file's last line when the file does not end in a line break: that line may be cut short."""
    return pl.col("source_row") == pl.col("source_row").max() if not ends_in_line_break(source) else pl.lit(False)


def is_blank(record: pl.Expr) -> pl.Expr:
    """An empty or all-whitespace line: no entry, so skipped rather than malformed."""
    return record.is_null() | (record.str.strip_chars() == "")


def us_dnc_phone(record: pl.Expr) -> pl.Expr:
    """US National DNC full list: `NPA,NXXXXXX` or ten bare digits, as ten national digits."""
    trimmed = record.str.strip_chars()
    return pl.when(trimmed.str.contains(_US_DNC)).then(trimmed.str.replace(",", "", literal=True))


def dncl_phone(record: pl.Expr) -> pl.Expr:
    """Canada's National DNCL: `416,1234567`, as ten national digits."""
    trimmed = record.str.strip_chars()
    return pl.when(trimmed.str.contains(_DNCL)).then(trimmed.str.replace(",", "", literal=True))


def tps_phone(record: pl.Expr) -> pl.Expr:
    """UK TPS/CTPS: a 12-character record, "with spaces" or "without", as national digits with the leading 0."""
    is_with_spaces = record.str.slice(0, 5).str.contains(_TPS_DIALLING_CODE) & record.str.slice(5).str.contains(
        _TPS_REMAINDER
    )
    is_without_spaces = record.str.contains(_TPS_WITHOUT_SPACES)
    is_record = (record.str.len_chars() == TPS_RECORD_CHARS) & (is_with_spaces | is_without_spaces)
    return pl.when(is_record).then(record.str.replace_all(" ", "", literal=True))


def wildcard_prefix(record: pl.Expr, *, region: str) -> pl.Expr:
    """A block as an E.164 prefix: `+1201` as written, or dialler-style `201XXXXXXX` in `region`."""
    trimmed = record.str.strip_chars()
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_digits = trimmed.str.extract(_DIALLER_WILDCARD, 1)
    if metadata.national_prefix:
        national_digits = national_digits.str.strip_prefix(metadata.national_prefix)
    return (
        pl.when(trimmed.str.contains(_E164_PREFIX))
        .then(trimmed)
        .when(national_digits.is_not_null())
        .then(pl.concat_str(pl.lit(f"+{metadata.country_code}"), national_digits))
    )


RECORD_LAYOUTS = {
    "us_dnc": "a US DNC record (NPA,NXXXXXX or ten digits, e.g. 201,5550123)",
    "dncl": "a DNCL record (NPA,NXXXXXX, e.g. 416,1234567)",
    "tps": "a 12-character TPS record (e.g. '0207 3787244', '01635 506160' or '02073787244 ')",
    "wildcard": "a wildcard block (an E.164 prefix such as +1201, or dialler-style 201XXXXXXX)",
}
_PHONE_READERS = {"us_dnc": us_dnc_phone, "dncl": dncl_phone, "tps": tps_phone}


def _sources(path: Path) -> list[tuple[str | None, Path | bytes]]:
    """The file itself, or each `.txt` member of a zip with its bytes."""
    if path.suffix.lower() != ZIP_SUFFIX:
        return [(None, path)]
    with registry_zip(path) as (archive, names):
        return [(name, archive.read(name)) for name in names]


def read_lines(source: Path | bytes, *, where: str) -> pl.DataFrame:
    """Every line of a file as `raw_record`, numbered from 1; CR/LF or LF line ends."""
    try:
        lines = pl.read_csv(
            source,
            has_header=False,
            separator=NO_SEPARATOR,
            quote_char=None,
            schema={"raw_record": pl.String},
            encoding="utf8-lossy",
            row_index_name="source_row",
            row_index_offset=1,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError) as error:
        raise RegistryError(f"{where}: cannot be read as one record per line ({error})") from error
    return lines.with_columns(pl.col("source_row").cast(pl.Int64))


@contextmanager
def registry_zip(path: Path) -> Iterator[tuple[zipfile.ZipFile, list[str]]]:
    """A zipped registry and its `.txt` members, sorted; a bad zip or any other member is an error."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise RegistryError(f"{path}: not a readable zip file ({error}); download it again") from error
    with archive:
        names = sorted(info.filename for info in archive.infolist() if not info.is_dir())
        unexpected = [name for name in names if not name.lower().endswith(ZIP_MEMBER_SUFFIX)]
        if unexpected or not names:
            raise RegistryError(
                f"{path}: a zipped registry holds only {ZIP_MEMBER_SUFFIX} files; found "
                f"{', '.join(unexpected) or 'no files'}; download the flat-text list"
            )
        try:
            yield archive, names
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise RegistryError(f"{path}: a member is corrupted ({error}); download it again") from error
