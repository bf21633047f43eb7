"""Normalising phone values to E.164, giving exactly phonenumbers' (libphonenumber's) answer.

For a phone column `col` the normaliser adds six columns (`result_column`): `col_e164` (`+…`, null unless
valid), `col_valid`, `col_type` (`mobile`, `fixed_line`, …), `col_region` (ISO 3166 alpha-2, `001` for
non-geographic numbers), `col_reason` (null when valid, else a short code) and `col_extension`. After the
pre-cleaning rules, the answer is `phonenumbers.parse` + `is_valid_number` + `format_number(E164)`.

The rules, and how the engine reaches that answer at columnar speed (distinct values once, canonical keys,
the vectorised port in `pipelines.phones.parse`), are in docs/e164.md.
"""

from __future__ import annotations

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from pipelines.phones.parse import is_direct_national, parse_canonical, validate_direct_national

RESULT_SUFFIXES = ("e164", "valid", "type", "region", "reason", "extension")

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
# phonenumbers' own cache of compiled patterns (9.0.42+): a broad mix of regions no longer thrashes `re`'s cache.
phonenumbers.enable_pattern_cache()
_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}
_RESULT_SCHEMA = {
    "_raw": pl.String,
    "_parse_region": pl.String,
    "e164": pl.String,
    "valid": pl.Boolean,
    "type": pl.String,
    "region": pl.String,
    "reason": pl.String,
    "extension": pl.String,
}
EXCEL_SCIENTIFIC = r"^[0-9](?:\.[0-9]+)?[eE]\+[0-9]+$"
# A whole value that is a float with nothing after the point but zeros: a number a spreadsheet stored as a float.
WHOLE_FLOAT = r"^[+\-]?[0-9]+\.0+$"
# Punctuated digits: `~`, the wait for a dial tone, is how phonenumbers writes some IDDs (`8~10` from RU,
# `0~0` from UA); a `+` may follow a `(` (`(+44) 20 …`), as phonenumbers reads from the first `+` or digit.
_PUNCTUATED = r"(?:\(?\+)?[0-9 ().\-/~]*[0-9]"
# A plain number, then optionally an extension phonenumbers reads the same way (1-9 digits after
# `x` or `ext`, or RFC 3966's `;ext=`), ending in a digit so no other extension rule can apply.
_PLAIN_NUMBER = rf"^(?P<number>{_PUNCTUATED})(?:(?:;ext=|[ \t,]*(?i:ext|x)[:.]?[ \t,\-]*)(?P<extension>[0-9]{{1,9}}))?$"
# Whitespace, quotes and Excel's leading apostrophe, in any mix, around a value.
SURROUNDING = " \t\r\n\u00a0\"'"
# The common plain number: punctuated digits and nothing else, so the number is the whole value.
_PUNCTUATED_DIGITS = f"^{_PUNCTUATED}$"
_LEADING_PLUS = r"^\(?\+"
# The characters besides digits that a plain number may hold: removed in one pass, not by a regex.
_PLAIN_PUNCTUATION = {character: "" for character in " ().-/~+"}
NANPA_REGIONS = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
_SUPPORTED_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_LONGEST_PLAIN_VALUE = 64
_RFC3966_PREFIX = "tel:"
_DIRECT_SAMPLE_ROWS = 1000


def normalise_phones(
    frame: pl.DataFrame,
    column: str,
    *,
    region: str,
    region_column: str | None = None,
) -> pl.DataFrame:
    """Add the six `<column>_*` E.164 columns; `region_column` overrides `region` row by row.

    Only the value and its region go through the engine; the answers are set beside the frame's own
    columns, which are never copied and may have any names.
    """
    keyed = frame.select(_raw=pl.col(column), _parse_region=_row_regions(frame, region, region_column))
    regions = [region] if region_column is None else keyed.get_column("_parse_region").unique().to_list()
    if len(regions) == 1 and _all_direct_national(keyed, regions[0]):
        answered = validate_direct_national(keyed, region=regions[0])
    else:
        answered = _answer_each_distinct_value(keyed)
    return frame.hstack(
        answered.select(pl.col(suffix).alias(result_column(column, suffix)) for suffix in RESULT_SUFFIXES)
    )


def result_column(column: str, suffix: str) -> str:
    """The name of `normalise_phones`' answer `suffix` (one of `RESULT_SUFFIXES`) for `column`: `phone_e164`."""
    return f"{column}_{suffix}"


def e164_as_int(phone_e164: pl.Expr) -> pl.Expr:
    """`+12015550123` as 12015550123: the digits after the plus, as a signed 64-bit integer."""
    return phone_e164.str.strip_prefix("+").cast(pl.Int64)


def cleaned_phone(raw: pl.Expr, region: pl.Expr) -> pl.Expr:
    """The raw value after the pre-cleaning rules; null when nothing is left."""
    stripped = raw.str.strip_chars(SURROUNDING)
    cleaned = pl.when(stripped.str.contains(WHOLE_FLOAT)).then(stripped.str.replace(r"\.0+$", "")).otherwise(stripped)
    european = region.is_in(NANPA_REGIONS) & cleaned.str.starts_with("00")
    international = pl.when(european).then(pl.concat_str(pl.lit("+"), cleaned.str.slice(2))).otherwise(cleaned)
    return pl.when(cleaned.str.len_bytes() > 0).then(international)


def parse_values(values: pl.DataFrame) -> pl.DataFrame:
    """phonenumbers' answer for each distinct (`_raw`, `_parse_region`) pair, pre-cleaning included."""
    cleaned = (
        values.lazy()
        .with_columns(_cleaned=cleaned_phone(pl.col("_raw"), pl.col("_parse_region")))
        .with_columns(_unparsable=_unparsable_reason(pl.col("_cleaned")))
        .collect()
    )
    keyed = _canonical_keys(cleaned.filter(pl.col("_unparsable").is_null()))
    answered = parse_canonical(
        keyed.filter("_is_plain").select("_raw", "_parse_region", "_cleaned", "_plus", "_digits", "extension")
    )
    nothing = pl.lit(None, pl.String)
    unparsable = cleaned.filter(pl.col("_unparsable").is_not_null()).select(
        "_raw", "_parse_region", e164=nothing, valid=pl.lit(False), type=nothing, region=nothing,
        reason="_unparsable", extension=nothing,
    )  # fmt: skip
    return pl.concat(
        [
            unparsable,
            answered.filter("_decided").select(list(_RESULT_SCHEMA)),
            _parse_with_phonenumbers(
                pl.concat(
                    [keyed.filter(~pl.col("_is_plain")), answered.filter(~pl.col("_decided"))], how="diagonal_relaxed"
                )
            ),
        ],
        # In one piece, rows are found again by index rather than by (chunk, index).
        rechunk=True,
    )


def parse_phone(value: str, region: str) -> tuple[str | None, bool, str | None, str | None, str | None, str | None]:
    """phonenumbers' answer for one value: (e164, valid, type, region, reason, extension)."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException as error:
        return None, False, None, None, _PARSE_ERROR_REASONS[error.error_type], None
    extension = number.extension or None
    if not phonenumbers.is_valid_number(number):
        possibility = phonenumbers.is_possible_number_with_reason(number)
        return None, False, None, None, _POSSIBILITY_REASONS.get(possibility, "invalid_number"), extension
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        True,
        _TYPE_NAMES[phonenumbers.number_type(number)],
        phonenumbers.region_code_for_number(number),
        None,
        extension,
    )


def _row_regions(frame: pl.DataFrame, region: str, region_column: str | None) -> pl.Expr:
    """Each row's region: its own, trimmed and upper-cased, or `region` where it has none.

    Worked out once per distinct value of `region_column`: a column holds few regions.
    """
    if region_column is None:
        return pl.lit(region)
    distinct = frame.get_column(region_column).unique()
    own = pl.lit(distinct).str.strip_chars().str.to_uppercase()
    regions = pl.select(pl.when(own.str.len_chars() > 0).then(own).otherwise(pl.lit(region))).to_series()
    return pl.col(region_column).replace_strict(distinct, regions)


def _answer_each_distinct_value(keyed: pl.DataFrame) -> pl.DataFrame:
    """Rows with the answer of their (`_raw`, `_parse_region`) pair, each distinct pair parsed once.

    Pairs are told apart and met again by a 64-bit hash of the pair, far cheaper than by the
    strings; each row's answer is checked to be its own pair's, and a hash collision, should one
    ever occur, falls back to matching on the strings themselves.
    """
    pair = ["_raw", "_parse_region"]
    hashed = keyed.lazy().with_columns(_hash=pl.struct(pair).hash()).collect()
    answers = parse_values(hashed.lazy().filter(pl.col("_hash").is_first_distinct()).select(pair).collect())
    # The in-memory engine keeps the rows' order at about the cost of an unordered join.
    answered = (
        hashed.lazy()
        .join(
            answers.lazy().with_columns(_hash=pl.struct(pair).hash()), on="_hash", how="left", suffix="_answer",
            maintain_order="left",
        )
        .collect(engine="in-memory")
    )  # fmt: skip
    own = pl.col("_raw").eq_missing(pl.col("_raw_answer")) & pl.col("_parse_region").eq_missing(
        pl.col("_parse_region_answer")
    )
    if answered.select(own.all()).item():
        return answered
    exact = parse_values(keyed.select(pair).unique())
    return keyed.join(exact, on=pair, how="left", nulls_equal=True, maintain_order="left")


def _all_direct_national(keyed: pl.DataFrame, region: str) -> bool:
    """Whether every value is a bare national number: a first handful rules most other frames out cheaply."""
    is_direct = is_direct_national(pl.col("_raw"), pl.col("_parse_region"), regions=[region]).all()
    return bool(keyed.height) and all(
        frame.lazy().select(is_direct).collect().item() for frame in (keyed.head(_DIRECT_SAMPLE_ROWS), keyed)
    )


def _unparsable_reason(cleaned: pl.Expr) -> pl.Expr:
    """The pre-cleaning rules' own answers: nothing left (`empty`) or Excel's lost digits."""
    return (
        pl.when(cleaned.is_null())
        .then(pl.lit("empty"))
        .when(cleaned.str.contains(EXCEL_SCIENTIFIC))
        .then(pl.lit("excel_mangled"))
    )


def _canonical_keys(cleaned: pl.DataFrame) -> pl.DataFrame:
    """(region, leading plus, digits) and extension of plainly punctuated values; `_is_plain` marks them.

    With three or more digits such a value is always viable, and its parse depends only on the key.
    Other values get no key, so they can never pick up a plain value's answer. Values that are
    punctuated digits and nothing else, the most common, skip the full pattern's extraction. A `tel:`
    URI whose rest is plain (no parameters but `;ext=`) keys as its rest: phonenumbers reads it so.
    """
    # An RFC 3966 URI without parameters (`tel:+1-201-555-0123`) is read by phonenumbers as the number after it.
    value = pl.col("_cleaned").str.strip_prefix(_RFC3966_PREFIX)
    parts = pl.when(~pl.col("_punctuated")).then(value).str.extract_groups(_PLAIN_NUMBER)
    number = pl.col("_number")
    is_plain = (
        number.is_not_null()
        & (pl.col("_digits").str.len_bytes() >= 3)
        & (value.str.len_chars() <= _LONGEST_PLAIN_VALUE)
        & pl.col("_parse_region").is_in(_SUPPORTED_REGIONS)
    )
    return (
        cleaned.lazy()
        .with_columns(_punctuated=value.str.contains(_PUNCTUATED_DIGITS))
        .with_columns(_parts=parts)
        .with_columns(
            _number=pl.when("_punctuated").then(value).otherwise(pl.col("_parts").struct.field("number")),
            extension=pl.col("_parts").struct.field("extension"),
        )
        .with_columns(_digits=number.str.replace_many(_PLAIN_PUNCTUATION))
        .with_columns(_is_plain=is_plain)
        .with_columns(
            _plus=pl.when("_is_plain").then(number.str.contains(_LEADING_PLUS)),
            _digits=pl.when("_is_plain").then("_digits"),
        )
        .drop("_punctuated", "_parts", "_number")
        .collect()
    )


def _parse_with_phonenumbers(values: pl.DataFrame) -> pl.DataFrame:
    """The fallback: phonenumbers itself, one call per distinct cleaned value."""
    # Region by region, so each region's patterns stay in Python's regex cache while its values are parsed.
    distinct = values.select("_cleaned", "_parse_region").unique().sort("_parse_region", "_cleaned")
    rows = [(value, region, *parse_phone(value, region)) for value, region in distinct.iter_rows()]
    schema = {"_cleaned": pl.String} | {name: dtype for name, dtype in _RESULT_SCHEMA.items() if name != "_raw"}
    answers = pl.DataFrame(rows, schema=schema, orient="row")
    return (
        values.select("_raw", "_cleaned", "_parse_region")
        .join(answers, on=["_cleaned", "_parse_region"])
        .select(list(_RESULT_SCHEMA))
    )
