"""A vectorised port of libphonenumber's parse and validation, over canonical keys.

A canonical key is (default region, leading plus, digits) of a plainly punctuated value. Each step
works on groups of keys that share the metadata it needs, and follows the phonenumbers function
it is named after. Where a step meets a branch it does not port (a national prefix transform rule,
a `+` not followed by a country code), the key is marked `fallback` for phonenumbers to answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import phonenumbers
import polars as pl

from pipelines.phone_metadata import (
    COUNTRY_CODES,
    MAX_LENGTH_FOR_NSN,
    MIN_LENGTH_FOR_NSN,
    RegionRules,
    decisive_width,
    direct_national_starts,
    region_rules,
    regions_of,
)

OK, FAILED, FALLBACK = "ok", "failed", "fallback"
# `_test_number_length` results (as RegionRules.length_check names them) that are their own reason.
_LENGTH_REASONS = ["too_short", "too_long", "invalid_length"]
_OUTCOME_COLUMNS = ["valid", "type", "region", "reason"]
_KEEPS_NATIONAL_PREFIX = ["too_short", "is_possible_local_only", "invalid_length"]
_MAIN_REGIONS = {code: regions_of(int(code))[0] for code in COUNTRY_CODES}
_ANSWER_TEMPLATE = pl.DataFrame(
    schema={
        "_status": pl.String, "_cc": pl.String, "_national": pl.String, "_main_region": pl.String,
        "_nsn": pl.String, "e164": pl.String, "valid": pl.Boolean, "type": pl.String, "region": pl.String,
        "reason": pl.String,
    }
)  # fmt: skip
_REGION_COUNTRY_CODES = {
    region: str(phonenumbers.country_code_for_region(region)) for region in phonenumbers.SUPPORTED_REGIONS
}


def parse_canonical(keys: pl.DataFrame) -> pl.DataFrame:
    """phonenumbers' answer added to each row's (`_parse_region`, `_plus`, `_digits`) key.

    `_decided` is false for keys phonenumbers itself must answer. The steps work on the keys
    alone and put the answers back in row order, so other columns never travel through them.
    """
    regions = keys.get_column("_parse_region").unique().to_list()
    is_direct = ~pl.col("_plus") & is_direct_national(pl.col("_digits"), pl.col("_parse_region"), regions=regions)
    narrow = keys.select("_parse_region", "_plus", "_digits", _direct=is_direct).with_row_index("_index")
    direct = narrow.filter("_direct").select(
        "_index", _cc=pl.col("_parse_region").replace_strict(_REGION_COUNTRY_CODES), _nsn=pl.col("_digits")
    )
    ok, unfinished = pl.col("_status") == OK, ["_index", "_status", "reason"]
    located = _per_group(narrow.filter(~pl.col("_direct")), "_parse_region", _locate)
    to_strip = located.select(*unfinished, "_cc", "_national", "_main_region").filter(ok)
    stripped = _per_group(to_strip, "_main_region", _strip_national_prefix)
    to_validate = pl.concat([direct, stripped.select("_index", "_status", "_cc", "_nsn").filter(ok).drop("_status")])
    validated = _per_group(to_validate, "_cc", _validate).with_columns(_status=pl.lit(OK))
    finished = pl.concat(
        [located.select(unfinished).filter(~ok), stripped.select(unfinished).filter(~ok), validated],
        how="diagonal_relaxed",
    )
    answers = finished.select(
        "_index",
        "e164",
        _decided=pl.col("_status") != FALLBACK,
        valid=pl.col("valid").fill_null(False),
        type="type",
        region="region",
        reason="reason",
    ).sort("_index")
    # Every step must answer every key exactly once, or the answers would stand beside the wrong keys.
    is_each_key_once = pl.col("_index") == pl.int_range(pl.len(), dtype=pl.UInt32)
    if answers.height != keys.height or not answers.select(is_each_key_once.all(ignore_nulls=False)).item():
        raise RuntimeError("the E.164 port lost or repeated a key: no answer can be trusted to its row")
    return pl.concat([keys, answers.drop("_index")], how="horizontal")


def is_direct_national(raw: pl.Expr, region: pl.Expr, *, regions: Iterable[str]) -> pl.Expr:
    """Bare national numbers (3–17 digits) whose first digit needs no prefix handling in their region.

    Their national significant number is the value itself, so they skip straight to validation:
    the shape of a national registry download, and of most national-format CRM numbers.
    `regions` lists the regions present, so the test is built for those alone.
    """
    allowed = {
        name: "".join(sorted(direct_national_starts(name))) if name in phonenumbers.SUPPORTED_REGIONS else ""
        for name in regions
    }
    if len(allowed) == 1:
        (starts,) = allowed.values()
        return raw.str.contains(f"^[{starts}][0-9]{{2,16}}$").fill_null(False) if starts else pl.lit(False)
    pairs = [f"{name}{digit}" for name, starts in allowed.items() for digit in starts]
    first = pl.concat_str(region, raw.str.head(1))
    return (raw.str.contains(r"^[0-9]{3,17}$") & first.is_in(pairs)).fill_null(False)


def validate_direct_national(rows: pl.DataFrame, *, region: str) -> pl.DataFrame:
    """phonenumbers' answer for rows of one region that `is_direct_national` accepts, in `_raw`."""
    validated = _validate(rows.lazy().with_columns(_nsn="_raw"), _REGION_COUNTRY_CODES[region])
    return validated.drop("_nsn").with_columns(extension=pl.lit(None, pl.String)).collect()


def _per_group(frame: pl.DataFrame, key: str, step: Callable[[pl.LazyFrame, str], pl.LazyFrame]) -> pl.DataFrame:
    """Apply `step` to each group of rows sharing `key`: the metadata differs per group, not per row.

    The groups' plans run as one query, in parallel and with repeated expressions computed once.
    The result always has the answer columns, typed, even when there was no group to answer.
    """
    parts = [step(group.lazy(), name) for (name,), group in frame.partition_by(key, as_dict=True).items()]
    return pl.concat([frame.clear().lazy(), *parts, _ANSWER_TEMPLATE.lazy()], how="diagonal_relaxed").collect()


def _locate(keys: pl.LazyFrame, region: str) -> pl.LazyFrame:
    """Country code and national number, as `_maybe_extract_country_code` finds them from `region`."""
    rules = region_rules(region)
    digits = pl.col("_digits")
    with_idd = keys.filter(~pl.col("_plus")).with_columns(_idd=_prefix_match(digits, rules.international_prefix))
    after_idd = digits.str.slice(pl.col("_idd").str.len_chars())
    # An IDD followed by 0 is not an IDD: country codes never begin with 0.
    has_idd = pl.col("_idd").is_not_null() & ~after_idd.str.starts_with("0")
    international = pl.concat(
        [
            keys.filter("_plus").with_columns(_after_prefix=digits),
            with_idd.filter(has_idd).with_columns(_after_prefix=after_idd).drop("_idd"),
        ]
    )
    national = with_idd.filter(~has_idd).drop("_idd")
    return pl.concat([_after_international_prefix(international), _in_region(national, rules)], how="diagonal_relaxed")


def _after_international_prefix(keys: pl.LazyFrame) -> pl.LazyFrame:
    """Numbers written with `+` or an IDD: the country code comes next."""
    rest = pl.col("_after_prefix")
    country_code = _leading_country_code(rest)
    located = keys.with_columns(
        _cc=country_code,
        _national=rest.str.slice(country_code.str.len_chars()),
        _status=pl.when(rest.str.len_chars() <= MIN_LENGTH_FOR_NSN)
        .then(pl.lit(FAILED))
        .when(country_code.is_null())
        .then(pl.lit(FALLBACK))
        .otherwise(pl.lit(OK)),
        reason=pl.lit("too_short"),
    )
    return located.with_columns(_main_region=_main_region_of(pl.col("_cc"))).drop("_after_prefix")


def _in_region(keys: pl.LazyFrame, rules: RegionRules) -> pl.LazyFrame:
    """National-format numbers; one that starts with the region's own country code is read as
    international when only then does it fit the region's pattern, or when it is too long."""
    own_code = str(rules.country_code)
    if rules.has_transform_rule:
        return keys.with_columns(_status=pl.lit(FALLBACK))
    digits = pl.col("_digits")
    candidate = rules.strip_national_prefix(digits.str.strip_prefix(own_code))
    takes_own_code = (~rules.matches_general(digits) & rules.matches_general(candidate)) | (
        rules.length_check(digits) == "too_long"
    )
    starting_with_code = keys.filter(digits.str.starts_with(own_code)).with_columns(_takes=takes_own_code)
    own_main_region = regions_of(rules.country_code)[0]
    return (
        pl.concat(
            [
                starting_with_code.filter("_takes").with_columns(
                    _national=candidate, _main_region=pl.lit(own_main_region)
                ),
                starting_with_code.filter(~pl.col("_takes")).with_columns(
                    _national=digits, _main_region=pl.lit(rules.region)
                ),
                keys.filter(~digits.str.starts_with(own_code)).with_columns(
                    _national=digits, _main_region=pl.lit(rules.region)
                ),
            ],
            how="diagonal_relaxed",
        )
        .with_columns(_cc=pl.lit(own_code), _status=pl.lit(OK))
        .drop("_takes", strict=False)
    )


def _strip_national_prefix(located: pl.LazyFrame, main_region: str) -> pl.LazyFrame:
    """The national significant number: the national prefix stripped where libphonenumber strips it."""
    rules = region_rules(main_region)
    if rules.has_transform_rule:
        return located.with_columns(_status=pl.lit(FALLBACK))
    national = pl.col("_national")
    with_prefix = located.with_columns(_prefix=_prefix_match(national, rules.national_prefix_for_parsing))
    candidate = rules.strip_national_prefix(national)
    keeps_length = ~rules.length_check(candidate).is_in(_KEEPS_NATIONAL_PREFIX)
    stripped = pl.concat(
        [
            with_prefix.filter(pl.col("_prefix").is_not_null()).with_columns(
                _nsn=pl.when(keeps_length).then(candidate).otherwise(national)
            ),
            with_prefix.filter(pl.col("_prefix").is_null()).with_columns(_nsn=national),
        ]
    ).drop("_prefix")
    too_short = national.str.len_chars() < MIN_LENGTH_FOR_NSN
    too_long = pl.col("_nsn").str.len_chars() > MAX_LENGTH_FOR_NSN
    return stripped.with_columns(
        _status=pl.when(too_short | too_long).then(pl.lit(FAILED)).otherwise(pl.lit(OK)),
        reason=pl.when(too_short).then(pl.lit("too_short")).otherwise(pl.lit("too_long")),
    )


def _validate(numbers: pl.LazyFrame, country_code: str) -> pl.LazyFrame:
    """Region, type, validity, reason and E.164; numbers alike in their decisive digits are classified once."""
    nsn = pl.col("_nsn")
    width = decisive_width(country_code)
    keyed = numbers.with_columns(_key=_decisive_key(nsn, width)).collect()
    keys = keyed.get_column("_key")
    distinct = _distinct(keys).to_frame("_key").with_columns(_nsn=_representative(pl.col("_key"), width))
    classified = _classify(distinct, country_code)
    outcomes = classified.select(_OUTCOME_COLUMNS).unique(maintain_order=True).with_row_index("_outcome")
    codes = classified.join(outcomes, on=_OUTCOME_COLUMNS, nulls_equal=True)
    # Few outcomes, many numbers: map each number to its outcome's index, then the index to each column.
    return (
        keyed.lazy()
        .drop("reason", strict=False)
        .with_columns(_outcome=_looked_up(keys, codes["_key"], codes["_outcome"]))
        .with_columns(pl.lit(outcomes[name]).gather(pl.col("_outcome")).alias(name) for name in _OUTCOME_COLUMNS)
        .with_columns(e164=pl.when("valid").then(pl.concat_str(pl.lit(f"+{country_code}"), nsn)))
        .drop("_key", "_outcome")
    )


def _decisive_key(nsn: pl.Expr, width: int | None) -> pl.Expr:
    """Equal for numbers of one length sharing their first `width` digits: `length * 10**width + digits`.

    Without a bound the number itself is the key.
    """
    if width is None:
        return nsn
    length = nsn.str.len_bytes().cast(pl.Int64) * 10**width
    return length if width == 0 else length + nsn.str.head(width).cast(pl.Int64)


def _representative(key: pl.Expr, width: int | None) -> pl.Expr:
    """A number with the key's length and decisive digits, zeros after them: it classifies as all its kind."""
    if width is None:
        return key
    length = key // 10**width
    head = pl.lit("") if width == 0 else (key % 10**width).cast(pl.String).str.zfill(pl.min_horizontal(length, width))
    return head.str.pad_end(length, "0")


def _dense_range(keys: pl.Series) -> int | None:
    """The smallest key when integer keys span no more values than there are keys, so a table indexed by
    key is no bigger than the keys themselves and beats hashing them (a national registry's shape)."""
    if not keys.dtype.is_integer() or keys.is_empty():
        return None
    low, high = keys.min(), keys.max()
    return low if high - low < keys.len() else None


def _distinct(keys: pl.Series) -> pl.Series:
    """The distinct keys; in a dense range, by marking each key's slot in a table."""
    low = _dense_range(keys)
    if low is None:
        return keys.unique()
    seen = pl.zeros(keys.max() - low + 1, pl.Boolean, eager=True).scatter(keys - low, True)
    return seen.arg_true().cast(pl.Int64) + low


def _looked_up(keys: pl.Series, known: pl.Series, values: pl.Series) -> pl.Expr:
    """`values` of each of `keys` (all among `known`); in a dense range, by indexing a table."""
    low = _dense_range(keys)
    if low is None:
        return pl.lit(keys).replace_strict(known, values)
    table = pl.zeros(keys.max() - low + 1, values.dtype, eager=True).scatter(known - low, values)
    return pl.lit(table).gather(pl.lit(keys - low))


def _classify(numbers: pl.DataFrame, country_code: str) -> pl.DataFrame:
    """As `region_code_for_number`, `number_type` and `is_possible_number_with_reason` answer."""
    regions = regions_of(int(country_code))
    nsn = pl.col("_nsn")
    remaining, resolved = numbers, []
    for region in regions:
        if remaining.is_empty():
            break
        rules = region_rules(region)
        if len(regions) == 1 or rules.leading_digits:
            # Leading digits tell the region's own numbers apart: only they meet its type patterns.
            belongs = pl.lit(True) if len(regions) == 1 else nsn.str.contains(f"^(?:{rules.leading_digits})")
            own, remaining = _typed(remaining.filter(belongs), rules), remaining.filter(~belongs)
        else:
            typed = _typed(remaining, rules)
            own, remaining = typed.filter(pl.col("type").is_not_null()), typed.filter(pl.col("type").is_null())
            remaining = remaining.drop("type")
        resolved.append(own.with_columns(region=pl.lit(region.split(":")[0])))
    resolved.append(remaining.with_columns(region=pl.lit(None, pl.String), type=pl.lit(None, pl.String)))
    length = region_rules(regions[0]).length_check(nsn)
    is_valid = pl.col("type").is_not_null()
    return pl.concat(resolved, how="diagonal_relaxed").with_columns(
        valid=is_valid,
        region=pl.when(is_valid).then("region"),
        reason=pl.when(is_valid)
        .then(None)
        .when(length.is_in(_LENGTH_REASONS))
        .then(length)
        .otherwise(pl.lit("invalid_number")),
    )


def _typed(numbers: pl.DataFrame, rules: RegionRules) -> pl.DataFrame:
    """`numbers` with their type in the region; no numbers need no patterns, whose building is not free."""
    if numbers.is_empty():
        return numbers.with_columns(type=pl.lit(None, pl.String))
    return numbers.with_columns(type=rules.number_type(pl.col("_nsn")))


def _prefix_match(digits: pl.Expr, pattern: str | None) -> pl.Expr:
    """What `re.match(pattern, digits)` matches at the start, or null."""
    if not pattern:
        return pl.lit(None, pl.String)
    return digits.str.extract(f"^({pattern})", 1)


def _leading_country_code(digits: pl.Expr) -> pl.Expr:
    """The 1–3 digit country code `digits` starts with; country codes are prefix-free, so at most one fits."""
    code = pl.lit(None, pl.String)
    for length in (3, 2, 1):
        prefix = digits.str.slice(0, length)
        code = pl.when(prefix.is_in([c for c in COUNTRY_CODES if len(c) == length])).then(prefix).otherwise(code)
    return code


def _main_region_of(country_code: pl.Expr) -> pl.Expr:
    """The region whose metadata libphonenumber uses for a country code (`001:<code>` if non-geographic)."""
    return country_code.replace_strict(_MAIN_REGIONS, default=None)
