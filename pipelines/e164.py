"""Normalising phone values to E.164, giving exactly phonenumbers' (libphonenumber's) answer.

For a phone column `col` the normaliser adds five columns:
`col_e164` (`+…`, null unless valid), `col_valid`, `col_type` (`mobile`, `fixed_line`, …),
`col_region` (ISO 3166 alpha-2) and `col_reason` (null when valid, else a short code).

Pre-cleaning, applied before parsing (each rule undoes something spreadsheets do to numbers):
- surrounding whitespace and quotes, and a leading apostrophe (Excel's text marker), are removed;
- a number stored as a float (`2015550123.0`) loses its `.0`;
- Excel's scientific notation (`2.01555E+09`) has lost digits: reason `excel_mangled`, never a guess.
After pre-cleaning, the result is `phonenumbers.parse` + `is_valid_number` + `format_number(E164)`.
Each distinct (cleaned value, region) is parsed once, however many rows carry it.
"""

from __future__ import annotations

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

RESULT_SUFFIXES = ("e164", "valid", "type", "region", "reason")

_PARSE_ERROR_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_POSSIBILITY_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "invalid_length",
}
_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}
_PARSED_SCHEMA = {
    "_cleaned": pl.String,
    "_parse_region": pl.String,
    "e164": pl.String,
    "valid": pl.Boolean,
    "type": pl.String,
    "region": pl.String,
    "reason": pl.String,
}
_EXCEL_SCIENTIFIC = r"^[0-9](?:\.[0-9]+)?[eE]\+[0-9]+$"


def normalise_phones(
    frame: pl.DataFrame,
    column: str,
    *,
    region: str,
    region_column: str | None = None,
) -> pl.DataFrame:
    """Add the five `<column>_*` E.164 columns; `region_column` overrides `region` row by row."""
    keyed = frame.with_columns(
        _cleaned=cleaned_phone(pl.col(column)),
        _parse_region=_row_region(region, region_column),
    )
    parsed = _parse_distinct(keyed.filter(~pl.col("_cleaned").str.contains(_EXCEL_SCIENTIFIC)))
    results = keyed.join(parsed, on=["_cleaned", "_parse_region"], how="left", nulls_equal=True, maintain_order="left")
    return (
        results.with_columns(
            valid=pl.col("valid").fill_null(False),
            reason=pl.when(pl.col("_cleaned").is_null())
            .then(pl.lit("empty"))
            .when(pl.col("_cleaned").str.contains(_EXCEL_SCIENTIFIC))
            .then(pl.lit("excel_mangled"))
            .otherwise(pl.col("reason")),
        )
        .rename({suffix: f"{column}_{suffix}" for suffix in RESULT_SUFFIXES})
        .drop("_cleaned", "_parse_region")
    )


def cleaned_phone(raw: pl.Expr) -> pl.Expr:
    """The raw value after pre-cleaning; null when nothing is left."""
    cleaned = raw.str.strip_chars().str.strip_chars("\"'").str.strip_chars().str.replace(r"^([0-9]+)\.0+$", "$1")
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def _row_region(region: str, region_column: str | None) -> pl.Expr:
    if region_column is None:
        return pl.lit(region)
    row_region = pl.col(region_column).str.strip_chars().str.to_uppercase()
    return pl.when(row_region.str.len_chars() > 0).then(row_region).otherwise(pl.lit(region))


def _parse_distinct(keyed: pl.DataFrame) -> pl.DataFrame:
    """Parse every distinct non-empty (value, region) pair once with phonenumbers."""
    pairs = keyed.select("_cleaned", "_parse_region").unique().drop_nulls("_cleaned")
    rows = [(value, region, *parse_phone(value, region)) for value, region in pairs.iter_rows()]
    return pl.DataFrame(rows, schema=_PARSED_SCHEMA, orient="row")


def parse_phone(value: str, region: str) -> tuple[str | None, bool, str | None, str | None, str | None]:
    """phonenumbers' answer for one value: (e164, valid, type, region, reason)."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException as error:
        return None, False, None, None, _PARSE_ERROR_REASONS[error.error_type]
    if not phonenumbers.is_valid_number(number):
        possibility = phonenumbers.is_possible_number_with_reason(number)
        return None, False, None, None, _POSSIBILITY_REASONS.get(possibility, "invalid_number")
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        True,
        _TYPE_NAMES[phonenumbers.number_type(number)],
        phonenumbers.region_code_for_number(number),
        None,
    )
