"""Normalising phone values to E.164, giving exactly phonenumbers' (libphonenumber's) answer.

For a phone column `col` the normaliser adds six columns: `col_e164` (`+…`, null unless valid),
`col_valid`, `col_type` (`mobile`, `fixed_line`, …), `col_region` (ISO 3166 alpha-2, `001` for
non-geographic numbers), `col_reason` (null when valid, else a short code) and `col_extension`.

Pre-cleaning, applied before parsing (each rule undoes something spreadsheets and CRMs do):
- surrounding whitespace and quotes, and a leading apostrophe (Excel's text marker), are removed;
- a number stored as a float (`2015550123.0`) loses its `.0`;
- Excel's scientific notation (`2.01555E+09`) has lost digits: reason `excel_mangled`, never a guess;
- in +1 (NANPA) regions, whose national numbers never start with 0, a leading `00` is a European-style
  international prefix and becomes `+` (`0044 20 7946 0958` → `+44 20 7946 0958`).
Everything else phonenumbers handles itself: `tel:` URIs, `011`/`00` prefixes of the region, `(0)`
in international form, extensions, fullwidth and other Unicode digits, vanity letters.
After pre-cleaning, the answer is `phonenumbers.parse` + `is_valid_number` + `format_number(E164)`.

How it is fast: each distinct (value, region) is handled once; plainly punctuated values (digits with
spaces, `-`, `.`, `(`, `)`, `/`, and an optional leading `+`) reduce to a canonical key of
(region, leading plus, digits), whose parse depends on nothing else, and go through a vectorised
port of libphonenumber's parse and validation (`pipelines.phone_metadata`). The few shapes and
branches the port does not cover go to `phonenumbers` itself, one call per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from pipelines.phone_metadata import (
    COUNTRY_CODES,
    MAX_LENGTH_FOR_NSN,
    MIN_LENGTH_FOR_NSN,
    region_rules,
    regions_of,
)

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
# `_test_number_length` results (as named by RegionRules.length_check) that make a number invalid.
_LENGTH_REASONS = {"too_short": "too_short", "too_long": "too_long", "invalid_length": "invalid_length"}
_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}
_RESULT_SCHEMA = {
    "_cleaned": pl.String,
    "_parse_region": pl.String,
    "e164": pl.String,
    "valid": pl.Boolean,
    "type": pl.String,
    "region": pl.String,
    "reason": pl.String,
    "extension": pl.String,
}
_EXCEL_SCIENTIFIC = r"^[0-9](?:\.[0-9]+)?[eE]\+[0-9]+$"
_PLAIN_SHAPE = r"^\+?[0-9 ().\-/]+$"
_NANPA_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
_LONGEST_PLAIN_VALUE = 64
_EMPTY_GROUP = {"_parse_region": "US", "_main_region": "US", "_cc": "1"}


def normalise_phones(
    frame: pl.DataFrame,
    column: str,
    *,
    region: str,
    region_column: str | None = None,
) -> pl.DataFrame:
    """Add the six `<column>_*` E.164 columns; `region_column` overrides `region` row by row."""
    row_region = _row_region(region, region_column)
    keyed = frame.with_columns(
        _cleaned=_international_zero_zero(cleaned_phone(pl.col(column)), row_region),
        _parse_region=row_region,
    )
    distinct = keyed.select("_cleaned", "_parse_region").unique().drop_nulls("_cleaned")
    results = parse_values(distinct.filter(~pl.col("_cleaned").str.contains(_EXCEL_SCIENTIFIC)))
    joined = keyed.join(results, on=["_cleaned", "_parse_region"], how="left", nulls_equal=True, maintain_order="left")
    return (
        joined.with_columns(
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
    """The raw value after the region-independent pre-cleaning rules; null when nothing is left."""
    cleaned = raw.str.strip_chars().str.strip_chars("\"'").str.strip_chars().str.replace(r"^([0-9]+)\.0+$", "$1")
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def parse_values(values: pl.DataFrame) -> pl.DataFrame:
    """phonenumbers' answer for each distinct (`_cleaned`, `_parse_region`) pair."""
    keyed = values.with_columns(
        _plus=pl.col("_cleaned").str.starts_with("+"),
        _digits=pl.col("_cleaned").str.replace_all(r"[^0-9]", ""),
    ).with_columns(_is_plain=_is_plain_shape(pl.col("_cleaned"), pl.col("_digits"), pl.col("_parse_region")))
    canonical = _parse_canonical(keyed.filter("_is_plain").select("_parse_region", "_plus", "_digits").unique())
    decided = canonical.filter(pl.col("_decided")).drop("_decided")
    plain = keyed.filter("_is_plain").join(decided, on=["_parse_region", "_plus", "_digits"], how="inner")
    undecided = keyed.join(plain, on=["_cleaned", "_parse_region"], how="anti")
    return pl.concat([plain.select(list(_RESULT_SCHEMA)), _parse_with_phonenumbers(undecided)])


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


def _row_region(region: str, region_column: str | None) -> pl.Expr:
    if region_column is None:
        return pl.lit(region)
    row_region = pl.col(region_column).str.strip_chars().str.to_uppercase()
    return pl.when(row_region.str.len_chars() > 0).then(row_region).otherwise(pl.lit(region))


def _international_zero_zero(cleaned: pl.Expr, region: pl.Expr) -> pl.Expr:
    """In +1 regions a leading `00` can only be an international prefix: write it as `+`."""
    is_nanpa = region.is_in(sorted(_NANPA_REGIONS))
    return (
        pl.when(is_nanpa & cleaned.str.starts_with("00"))
        .then(pl.concat_str(pl.lit("+"), cleaned.str.slice(2)))
        .otherwise(cleaned)
    )


def _is_plain_shape(cleaned: pl.Expr, digits: pl.Expr, region: pl.Expr) -> pl.Expr:
    """Values the vectorised port handles: plain punctuation, at least three digits, a known region.

    With three or more digits such a value is always viable, and its parse depends only on
    (region, leading plus, digits).
    """
    return (
        cleaned.str.contains(_PLAIN_SHAPE)
        & (digits.str.len_chars() >= 3)
        & (cleaned.str.len_chars() <= _LONGEST_PLAIN_VALUE)
        & region.is_in(sorted(phonenumbers.SUPPORTED_REGIONS))
    )


def _parse_with_phonenumbers(values: pl.DataFrame) -> pl.DataFrame:
    """The fallback: phonenumbers itself, one call per distinct value."""
    rows = [
        (value, region, *parse_phone(value, region))
        for value, region in values.select("_cleaned", "_parse_region").iter_rows()
    ]
    return pl.DataFrame(rows, schema=_RESULT_SCHEMA, orient="row")


def _parse_canonical(keys: pl.DataFrame) -> pl.DataFrame:
    """The vectorised port on canonical keys; `_decided` is false where phonenumbers must answer.

    Three steps, each per group sharing the metadata it needs: the country code and national number
    (per default region), the national prefix strip (per region of the country code), and region,
    type and validity (per country code).
    """
    located = _per_group(keys, "_parse_region", _locate)
    stripped = _per_group(located.filter(pl.col("_status") == "ok"), "_main_region", _strip_national_prefix)
    validated = _per_group(stripped.filter(pl.col("_status") == "ok"), "_cc", _validate)
    finished = pl.concat(
        [located.filter(pl.col("_status") != "ok"), stripped.filter(pl.col("_status") != "ok"), validated],
        how="diagonal_relaxed",
    )
    return finished.select(
        "_parse_region",
        "_plus",
        "_digits",
        _decided=pl.col("_status") != "fallback",
        e164=pl.when(pl.col("valid")).then(pl.concat_str(pl.lit("+"), "_cc", "_nsn")),
        valid=pl.col("valid").fill_null(False),
        type="type",
        region="region",
        reason="reason",
        extension=pl.lit(None, pl.String),
    )


def _per_group(frame: pl.DataFrame, key: str, step: Callable[[pl.DataFrame, str], pl.DataFrame]) -> pl.DataFrame:
    """Apply `step` to each group of rows sharing `key`; metadata differs per group, rows do not.

    An empty frame still passes through `step` once (with the main region of +1), so the result
    always has the columns `step` adds.
    """
    if frame.height == 0:
        return step(frame, _EMPTY_GROUP[key])
    parts = [step(group, name) for (name,), group in frame.partition_by(key, as_dict=True).items()]
    return pl.concat(parts, how="diagonal_relaxed")


def _locate(keys: pl.DataFrame, region: str) -> pl.DataFrame:
    """Country code and national number, as `_maybe_extract_country_code` finds them from `region`."""
    rules = region_rules(region)
    digits, plus = pl.col("_digits"), pl.col("_plus")
    idd = (
        digits.str.extract(f"^({rules.international_prefix})", 1)
        if rules.international_prefix
        else pl.lit(None, pl.String)
    )
    after_idd = digits.str.slice(idd.str.len_chars())
    # An IDD followed by 0 is not an IDD: country codes never begin with 0.
    has_idd = ~plus & idd.is_not_null() & ~after_idd.str.starts_with("0")
    international = plus | has_idd
    after_prefix = pl.when(plus).then(digits).otherwise(after_idd)
    country_code = _leading_country_code(after_prefix)

    own_code = str(rules.country_code)
    without_own_code = digits.str.strip_prefix(own_code)
    candidate = rules.strip_national_prefix(without_own_code)
    # A national-format number that starts with the region's own country code is read as
    # international when only then does it fit the region's pattern, or when it is too long.
    takes_own_code = digits.str.starts_with(own_code) & (
        (~rules.matches_general(digits) & rules.matches_general(candidate)) | (rules.length_check(digits) == "too_long")
    )
    located = keys.with_columns(
        _cc=pl.when(international).then(country_code).otherwise(pl.lit(own_code)),
        _national=pl.when(international)
        .then(after_prefix.str.slice(country_code.str.len_chars()))
        .when(takes_own_code)
        .then(candidate)
        .otherwise(digits),
        _status=pl.when(international & (after_prefix.str.len_chars() <= MIN_LENGTH_FOR_NSN))
        .then(pl.lit("failed"))
        .when(international & country_code.is_null())
        .then(pl.lit("fallback"))
        .when(~international & ~takes_own_code & pl.lit(rules.has_transform_rule))
        .then(pl.lit("fallback"))
        .otherwise(pl.lit("ok")),
        reason=pl.lit("too_short"),
        _national_from_region=~international & ~takes_own_code,
    )
    return located.with_columns(
        _main_region=pl.when("_national_from_region").then(pl.lit(region)).otherwise(_main_region_of(pl.col("_cc")))
    )


def _strip_national_prefix(located: pl.DataFrame, main_region: str) -> pl.DataFrame:
    """The national significant number: the national prefix stripped where libphonenumber strips it."""
    rules = region_rules(main_region)
    national = pl.col("_national")
    candidate = rules.strip_national_prefix(national)
    keeps_length = ~rules.length_check(candidate).is_in(["too_short", "is_possible_local_only", "invalid_length"])
    nsn = pl.when(keeps_length).then(candidate).otherwise(national)
    return located.with_columns(_nsn=nsn).with_columns(
        _status=pl.when(pl.lit(rules.has_transform_rule))
        .then(pl.lit("fallback"))
        .when(national.str.len_chars() < MIN_LENGTH_FOR_NSN)
        .then(pl.lit("failed"))
        .when(pl.col("_nsn").str.len_chars() > MAX_LENGTH_FOR_NSN)
        .then(pl.lit("failed"))
        .otherwise(pl.lit("ok")),
        reason=pl.when(national.str.len_chars() < MIN_LENGTH_FOR_NSN)
        .then(pl.lit("too_short"))
        .otherwise(pl.lit("too_long")),
    )


def _validate(numbers: pl.DataFrame, country_code: str) -> pl.DataFrame:
    """Region, type, validity and reason, as `region_code_for_number`, `number_type` and
    `is_possible_number_with_reason` give them."""
    regions = regions_of(int(country_code))
    nsn = pl.col("_nsn")
    remaining, resolved = numbers, []
    for region in regions:
        rules = region_rules(region)
        if len(regions) == 1:
            belongs = pl.lit(True)
        elif rules.leading_digits:
            belongs = nsn.str.contains(f"^(?:{rules.leading_digits})")
        else:
            belongs = rules.number_type(nsn).is_not_null()
        claimed = remaining.filter(belongs)
        resolved.append(claimed.with_columns(region=pl.lit(region.split(":")[0]), type=rules.number_type(nsn)))
        remaining = remaining.filter(~belongs)
    resolved.append(remaining.with_columns(region=pl.lit(None, pl.String), type=pl.lit(None, pl.String)))
    length = region_rules(regions[0]).length_check(nsn)
    return pl.concat(resolved, how="diagonal_relaxed").with_columns(
        valid=pl.col("type").is_not_null(),
        region=pl.when(pl.col("type").is_not_null()).then("region"),
        reason=pl.when(pl.col("type").is_null()).then(length.replace_strict(_LENGTH_REASONS, default="invalid_number")),
    )


def _leading_country_code(digits: pl.Expr) -> pl.Expr:
    """The 1–3 digit country code `digits` starts with; country codes are prefix-free, so at most one fits."""
    code = pl.lit(None, pl.String)
    for length in (3, 2, 1):
        prefix = digits.str.slice(0, length)
        code = pl.when(prefix.is_in([c for c in COUNTRY_CODES if len(c) == length])).then(prefix).otherwise(code)
    return code


def _main_region_of(country_code: pl.Expr) -> pl.Expr:
    """The region whose metadata libphonenumber uses for a country code (`001:<code>` if non-geographic)."""
    return country_code.replace_strict({code: regions_of(int(code))[0] for code in COUNTRY_CODES}, default=None)
