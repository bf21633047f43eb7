"""A vectorised port of libphonenumber's parse and validation, over canonical keys.

A canonical key is (default region, leading plus, digits) of a plainly punctuated value. Each step
works on groups of keys that share the metadata it needs, and follows the phonenumbers function
it is named after. Where a step meets a branch it does not port (a `+` not followed by a country
code, a country code whose numbers have no decisive key), the key is marked `fallback` for
phonenumbers to answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
import polars as pl

from pipelines.phones.region_rules import (
    COUNTRY_CODES,
    MAX_LENGTH_FOR_NSN,
    MIN_LENGTH_FOR_NSN,
    TYPE_COLUMNS,
    decisive_width,
    direct_international_starts,
    direct_national_starts,
    fixed_line_or_mobile,
    international_prefixes,
    national_prefixes,
    region_rules,
    regions_of,
    rules_table,
    tagged,
)

OK, FAILED, FALLBACK = "ok", "failed", "fallback"
# `_test_number_length` results (as RegionRules.length_check names them) that are their own reason.
_LENGTH_REASONS = ["too_short", "too_long", "invalid_length"]
_OUTCOME_SCHEMA = {"valid": pl.Boolean, "type": pl.String, "region": pl.String, "reason": pl.String}
_OUTCOME_COLUMNS = list(_OUTCOME_SCHEMA)
_KEEPS_NATIONAL_PREFIX = ["too_short", "is_possible_local_only", "invalid_length"]
_MAIN_REGIONS = {code: regions_of(int(code))[0] for code in COUNTRY_CODES}


def _direct_code_lengths() -> pl.Series:
    """By a number's first five digits, the length of its country code when the two digits after it
    need no national prefix handling (see `direct_international_starts`); null otherwise."""
    lengths: list[int | None] = [None] * 10**5
    for code, region in _MAIN_REGIONS.items():
        for pair in direct_international_starts(region):
            start = code + pair  # country codes never begin with 0: `start` spans its own heads
            span = 10 ** (5 - len(start))
            lengths[int(start) * span : (int(start) + 1) * span] = [len(code)] * span
    return pl.Series(lengths, dtype=pl.UInt8)


_DIRECT_CODE_LENGTHS = _direct_code_lengths()
# A number's first digits stand beside its country code and length in one 64-bit key (see
# `_decisive_key`). By country code, how many: its decisive width, but at least one, so they are never
# empty; null where the width is unbounded or wider than the key holds.
_KEY_DIGITS = 8
_CODE_UNIT = 100 * 10**_KEY_DIGITS
_DECISIVE_WIDTHS = pl.Series(
    [
        max(width, 1)
        if code in COUNTRY_CODES and (width := decisive_width(code)) is not None and width <= _KEY_DIGITS
        else None
        for code in map(str, range(1000))
    ],
    dtype=pl.Int64,
)
# A bit for each length (see `_length_check_by_row`).
_LENGTH_BITS = pl.Series([1 << length for length in range(64)], dtype=pl.UInt64)
# The `rules_table` columns that locating and stripping prefixes read, and those that classifying reads.
_LENGTH_RULES = ["first_length", "last_length", "other_lengths", "local_only_lengths"]
_PREFIX_RULES = ["country_code", "main_region", "transform_prefix", "general_pattern", *_LENGTH_RULES]
_TYPE_RULES = [f"{name}_{cell}" for name in TYPE_COLUMNS for cell in ("pattern", "lengths")] + _LENGTH_RULES
_SHARED_COUNTRY_CODES = [int(code) for code in COUNTRY_CODES if len(regions_of(int(code))) > 1]
_REGION_COUNTRY_CODES = {
    region: str(phonenumbers.country_code_for_region(region)) for region in phonenumbers.SUPPORTED_REGIONS
}


def parse_canonical(keys: pl.DataFrame) -> pl.DataFrame:
    """phonenumbers' answer added to each row's (`_parse_region`, `_plus`, `_digits`) key.

    `_decided` is false for keys phonenumbers itself must answer. The steps work on the keys
    alone and put the answers back in row order, so other columns never travel through them.
    Keys that need no prefix handling (bare national numbers, and `+` numbers whose national
    number starts plainly) go straight to validation; the others are located and stripped first.
    """
    regions = keys.get_column("_parse_region").unique().to_list()
    digits, code_length = pl.col("_digits"), pl.col("_code_length")
    # How many of the digits are the country code, for keys that go straight to validation (0 for a
    # bare national number, whose code is its region's); null for keys that need prefix handling.
    direct_code_length = (
        pl.when(~pl.col("_plus"))
        .then(pl.when(is_direct_national(digits, pl.col("_parse_region"), regions=regions)).then(0))
        .otherwise(_direct_code_length(digits))
    )
    # Eager frames evaluate repeated expressions again; lazy queries, as here, evaluate them once.
    narrow = (
        keys.lazy()
        .select("_parse_region", "_plus", "_digits", _code_length=direct_code_length)
        .with_row_index("_index")
        .collect()
    )
    is_direct = code_length.is_not_null()
    direct = (
        narrow.lazy()
        .filter(is_direct)
        .select(
            "_index",
            _cc=pl.when("_plus")
            .then(digits.str.head(code_length))
            .otherwise(pl.col("_parse_region").replace_strict(_REGION_COUNTRY_CODES)),
            _nsn=digits.str.slice(code_length),
        )
    )
    ok, unfinished = pl.col("_status") == OK, ["_index", "_status", "reason"]
    located = _locate(narrow.filter(~is_direct).drop("_code_length"))
    stripped = _strip_national_prefix(located.select(*unfinished, "_cc", "_national", "_main_region").filter(ok))
    to_validate = pl.concat([direct, stripped.lazy().filter(ok).select("_index", "_cc", "_nsn")])
    stopped = [located.lazy().select(unfinished).filter(~ok), stripped.lazy().select(unfinished).filter(~ok)]
    answers = (
        pl.concat([*stopped, _validate(to_validate, pl.col("_cc"))], how="diagonal_relaxed")
        .select(
            "_index",
            "e164",
            _decided=pl.col("_status") != FALLBACK,
            valid=pl.col("valid").fill_null(False),
            type="type",
            region="region",
            reason="reason",
        )
        .sort("_index")
        .collect()
    )
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
    allowed = {name: "".join(sorted(direct_national_starts(name))) if _is_keyed(name) else "" for name in regions}
    if len(allowed) == 1:
        (starts,) = allowed.values()
        return raw.str.contains(f"^[{starts}][0-9]{{2,16}}$").fill_null(False) if starts else pl.lit(False)
    pairs = [f"{name}{digit}" for name, starts in allowed.items() for digit in starts]
    first = pl.concat_str(region, raw.str.head(1))
    return (raw.str.contains(r"^[0-9]{3,17}$") & first.is_in(pairs)).fill_null(False)


def _direct_code_length(digits: pl.Expr) -> pl.Expr:
    """The length of the country code of `+` digits whose national number needs no prefix handling, else null.

    Their national significant number is the rest of the digits as written, so they skip straight
    to validation: the shape of E.164 and international-format numbers.
    """
    length = pl.lit(_DIRECT_CODE_LENGTHS).gather(digits.str.head(5).cast(pl.Int32))
    national_length = digits.str.len_bytes() - length
    return pl.when(
        (digits.str.len_bytes() >= 5) & national_length.is_between(MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN)
    ).then(length)


def _is_keyed(region: str) -> bool:
    """Whether `region` is supported and its numbers have a decisive key, so the port can validate them."""
    code = _REGION_COUNTRY_CODES.get(region)
    return code is not None and _DECISIVE_WIDTHS[int(code)] is not None


def validate_direct_national(rows: pl.DataFrame, *, region: str) -> pl.DataFrame:
    """phonenumbers' answer for rows of one region that `is_direct_national` accepts, in `_raw`."""
    validated = _validate(rows.lazy().with_columns(_nsn="_raw"), pl.lit(_REGION_COUNTRY_CODES[region]))
    return validated.drop("_nsn", "_status").with_columns(extension=pl.lit(None, pl.String)).collect()


def _locate(keys: pl.DataFrame) -> pl.DataFrame:
    """Country code and national number, as `_maybe_extract_country_code` finds them from each key's region.

    One query for every region: all regions' IDDs are one pattern (`international_prefixes`), their other
    rules `rules_table` columns. After a `+` or an IDD the country code comes next, whatever the region.
    """
    digits, region = pl.col("_digits"), pl.col("_parse_region")
    idd = tagged(region, digits).str.extract(international_prefixes(), 0)
    after_idd = digits.str.slice(idd.str.len_bytes() - region.str.len_bytes() - 1)
    # An IDD followed by 0 is not an IDD: country codes never begin with 0.
    has_idd = idd.is_not_null() & ~after_idd.str.starts_with("0")
    marked = _with_rules(keys.lazy(), "_parse_region", _PREFIX_RULES).with_columns(
        _after_prefix=pl.when("_plus").then(digits).when(has_idd).then(after_idd)
    )
    is_international = pl.col("_after_prefix").is_not_null()
    international = _after_international_prefix(marked.filter(is_international))
    located = pl.concat([international, _in_region(marked.filter(~is_international))], how="diagonal_relaxed")
    return located.select(*keys.columns, "_cc", "_national", "_main_region", "_status", "reason").collect()


def _in_region(keys: pl.LazyFrame) -> pl.LazyFrame:
    """National-format numbers; one that starts with its region's own country code is read as international
    when only then does it fit the region's pattern, or when it is too long."""
    digits, own_code, candidate = pl.col("_digits"), pl.col("_rule_country_code"), pl.col("_candidate")
    takes_own_code = (~_fits_general(digits) & _fits_general(candidate)) | (_length_check_by_row(digits) == "too_long")
    starts_with_code = digits.str.starts_with(own_code)
    with_code = keys.filter(starts_with_code).pipe(
        _without_national_prefix, digits.str.slice(own_code.str.len_bytes()), "_parse_region", "_candidate"
    )
    national = [
        with_code.filter(takes_own_code).with_columns(_national=candidate, _main_region="_rule_main_region"),
        with_code.filter(~takes_own_code).with_columns(_national=digits, _main_region="_parse_region"),
        keys.filter(~starts_with_code).with_columns(_national=digits, _main_region="_parse_region"),
    ]
    return pl.concat(national, how="diagonal_relaxed").drop("_candidate").with_columns(_cc=own_code, _status=pl.lit(OK))


def _strip_national_prefix(located: pl.DataFrame) -> pl.DataFrame:
    """The national significant number: the national prefix stripped where libphonenumber strips it, by
    the rules of each number's main region."""
    national, candidate = pl.col("_national"), pl.col("_candidate")
    has_prefix = tagged(pl.col("_main_region"), national).str.contains(national_prefixes()[0])
    keeps_length = ~_length_check_by_row(candidate).is_in(_KEEPS_NATIONAL_PREFIX)
    too_short = national.str.len_chars() < MIN_LENGTH_FOR_NSN
    too_long = pl.col("_nsn").str.len_chars() > MAX_LENGTH_FOR_NSN
    return (
        _with_rules(located.lazy(), "_main_region", _PREFIX_RULES)
        .pipe(_without_national_prefix, national, "_main_region", "_candidate")
        .with_columns(_nsn=pl.when(has_prefix & keeps_length).then(candidate).otherwise(national))
        .select(
            *located.drop("_status", "reason").columns,
            "_nsn",
            _status=pl.when(too_short | too_long).then(pl.lit(FAILED)).otherwise(pl.lit(OK)),
            reason=pl.when(too_short).then(pl.lit("too_short")).otherwise(pl.lit("too_long")),
        )
        .collect()
    )


def _with_rules(keys: pl.LazyFrame, region: str, columns: list[str]) -> pl.LazyFrame:
    """`keys` with `columns` of the `rules_table` row of their `region` column as `_rule_*` columns, ordered by
    region: a pattern taken from a column is compiled again whenever it differs from the previous row's.

    Collected here, so that the steps which split the rows read them once rather than once a part.
    """
    rules = rules_table().lazy().select(pl.col("region").alias(region), pl.col(columns).name.prefix("_rule_"))
    # Sorted before the join: sorting after it would copy every row's patterns.
    return keys.sort(region).join(rules, on=region, how="left", maintain_order="left").collect().lazy()


def _fits_general(number: pl.Expr) -> pl.Expr:
    """libphonenumber's `_match_national_number` on the general description (its regex alone), by the rules
    in each row."""
    return number.str.contains(pl.col("_rule_general_pattern"))


def _without_national_prefix(keys: pl.LazyFrame, number: pl.Expr, region: str, name: str) -> pl.LazyFrame:
    """`keys` with column `name`: libphonenumber's `_maybe_strip_national_prefix_carrier_code`, the `number`
    after its national prefix, by the rules of `region`, the column `_with_rules` joined on.

    Where the region's transform rule applies (see `national_prefixes`), the prefix is rewritten by it
    (`([2-9]\\d{6})$` to `670\\1`: a local number gains its area code); otherwise it is removed. Either way
    the number stays as written if it was viable and the result is not. Each step is a column of its own, so
    the patterns over every region run once a row.
    """
    pattern, kept_group = national_prefixes()
    prefix, kept, stripped = pl.col("_prefix"), pl.col("_kept"), pl.col("_stripped")
    keeps_prefix = prefix.is_null() | (number.str.len_chars() == 0)
    loses_viability = _fits_general(number) & ~_fits_general(pl.col(name))
    # The group the transform rule keeps, then what follows the prefix: longer than that if the rule applies.
    # Worked out only in regions with a transform rule: a region's rows stay together, in the order of regions.
    has_rule = pl.col("_rule_transform_prefix").is_not_null()
    with_prefix = keys.with_columns(_prefix=tagged(pl.col(region), number).str.extract(pattern, 0))
    transformed = [
        with_prefix.filter(has_rule).with_columns(
            _kept=tagged(pl.col(region), number).str.replace(pattern, kept_group)
        ),
        with_prefix.filter(~has_rule).with_columns(_kept=pl.lit(None, pl.String)),
    ]
    return (
        pl.concat(transformed)
        .with_columns(_stripped=number.str.slice(prefix.str.len_bytes() - pl.col(region).str.len_bytes() - 1))
        .with_columns(
            pl.when(kept.str.len_bytes() > stripped.str.len_bytes())
            .then(pl.concat_str(pl.col("_rule_transform_prefix"), kept))
            .otherwise(stripped)
            .alias(name)
        )
        .with_columns(pl.when(keeps_prefix | loses_viability).then(number).otherwise(pl.col(name)).alias(name))
        .drop("_prefix", "_kept", "_stripped")
    )


def _length_check_by_row(number: pl.Expr) -> pl.Expr:
    """`RegionRules.length_check` by the rules in each row."""
    length, bit = number.str.len_chars(), _length_bit(number)
    return (
        pl.when((pl.col("_rule_local_only_lengths") & bit) != 0)
        .then(pl.lit("is_possible_local_only"))
        .when(length == pl.col("_rule_first_length"))
        .then(pl.lit("is_possible"))
        .when(length < pl.col("_rule_first_length"))
        .then(pl.lit("too_short"))
        .when(length > pl.col("_rule_last_length"))
        .then(pl.lit("too_long"))
        .when((pl.col("_rule_other_lengths") & bit) != 0)
        .then(pl.lit("is_possible"))
        .otherwise(pl.lit("invalid_length"))
    )


def _length_bit(number: pl.Expr) -> pl.Expr:
    """The bit of `number`'s length in a `rules_table` length mask."""
    return pl.lit(_LENGTH_BITS).gather(number.str.len_chars().clip(0, _LENGTH_BITS.len() - 1))


def _number_type_by_row(number: pl.Expr) -> pl.Expr:
    """`RegionRules.number_type` by the rules in each row."""
    matches = {name: _matches_by_row(number, name) for name in TYPE_COLUMNS}
    result = fixed_line_or_mobile(matches["fixed_line"], matches["mobile"], otherwise=pl.lit(None, pl.String))
    for name in reversed(TYPE_COLUMNS[1:-2]):
        result = pl.when(matches[name]).then(pl.lit(name)).otherwise(result)
    return pl.when(matches["general"]).then(result)


def _matches_by_row(number: pl.Expr, description: str) -> pl.Expr:
    """`NumberPattern.matches` for the row's number description `description` (of `TYPE_COLUMNS`); false if absent."""
    is_possible_length = (pl.col(f"_rule_{description}_lengths") & _length_bit(number)) != 0
    return is_possible_length & number.str.contains(pl.col(f"_rule_{description}_pattern")).fill_null(False)


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


def _validate(numbers: pl.LazyFrame, country_code: pl.Expr) -> pl.LazyFrame:
    """Region, type, validity, reason and E.164 of each `_nsn` with its `country_code`.

    Numbers alike in their country code, length and decisive digits are classified once. A country
    code whose decisive width is unbounded, or wider than the key holds, gives no key, and its
    numbers are left to phonenumbers.
    """
    keyed = numbers.with_columns(_key=_decisive_key(country_code, pl.col("_nsn"))).collect()
    keys = keyed.get_column("_key")
    distinct = _distinct(keys.drop_nulls()).to_frame("_key").with_columns(_nsn=_representative(pl.col("_key")))
    code_of = _country_code_of(pl.col("_key"))
    is_shared = code_of.is_in(_SHARED_COUNTRY_CODES)
    classified = pl.concat(
        [
            _classify_by_row(distinct.filter(~is_shared)),
            *(
                _classify_shared(distinct.filter(code_of == code), str(code))
                for code in distinct.filter(is_shared).select(code_of.unique()).to_series()
            ),
        ],
        how="diagonal_relaxed",
    )
    outcomes = classified.select(_OUTCOME_COLUMNS).unique(maintain_order=True).with_row_index("_outcome")
    codes = classified.join(outcomes, on=_OUTCOME_COLUMNS, nulls_equal=True)
    # Few outcomes, many numbers: map each number to its outcome's index, then the index to each column.
    return (
        keyed.lazy()
        .drop("reason", strict=False)
        .with_columns(_outcome=_looked_up(keys, codes["_key"], codes["_outcome"]))
        .with_columns(pl.lit(outcomes[name]).gather(pl.col("_outcome")).alias(name) for name in _OUTCOME_COLUMNS)
        .with_columns(
            e164=pl.when("valid").then(pl.concat_str(pl.lit("+"), country_code, "_nsn")),
            _status=pl.when(pl.col("_key").is_null()).then(pl.lit(FALLBACK)).otherwise(pl.lit(OK)),
        )
        .drop("_key", "_outcome")
    )


def _decisive_key(country_code: pl.Expr, nsn: pl.Expr) -> pl.Expr:
    """Equal for numbers of one country code and length that share their decisive digits.

    `(code * 100 + length) * 10**8 + first digits`, as one 64-bit integer; null for a country code
    without a decisive width.
    """
    code = country_code.cast(pl.Int64)
    first_digits = nsn.str.head(pl.lit(_DECISIVE_WIDTHS).gather(code)).cast(pl.Int64)
    return code * _CODE_UNIT + nsn.str.len_bytes().cast(pl.Int64) * 10**_KEY_DIGITS + first_digits


def _representative(key: pl.Expr) -> pl.Expr:
    """A national number with the key's length and first digits, zeros after them: it classifies as all its kind."""
    length = key // 10**_KEY_DIGITS % 100
    width = pl.lit(_DECISIVE_WIDTHS).gather(_country_code_of(key)).clip(upper_bound=length)
    return (key % 10**_KEY_DIGITS).cast(pl.String).str.zfill(width).str.pad_end(length, "0")


def _country_code_of(key: pl.Expr) -> pl.Expr:
    """The country code that a `_decisive_key` holds."""
    return key // _CODE_UNIT


def _dense_range(keys: pl.Series) -> int | None:
    """The smallest key when integer keys span no more values than there are keys, so a table indexed by
    key is no bigger than the keys themselves and beats hashing them (a national registry's shape)."""
    if not keys.dtype.is_integer() or keys.null_count() == keys.len():
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


def _classify_by_row(numbers: pl.DataFrame) -> pl.DataFrame:
    """`_classify_shared`'s answers in one query for numbers whose country code is one region's, by the rules in
    each row."""
    nsn, type_ = pl.col("_nsn"), pl.col("type")
    is_valid = type_.is_not_null()
    length = _length_check_by_row(nsn)
    return (
        numbers.lazy()
        .with_columns(_region=_main_region_of(_country_code_of(pl.col("_key")).cast(pl.String)))
        .pipe(_with_rules, "_region", _TYPE_RULES)
        .with_columns(type=_number_type_by_row(nsn))
        .select(
            *numbers.columns,
            "type",
            valid=is_valid,
            # For a non-geographic country code, `001:<code>` names its metadata, `001` its region.
            region=pl.when(is_valid).then(pl.col("_region").str.split(":").list.first()),
            reason=pl.when(is_valid)
            .then(None)
            .when(length.is_in(_LENGTH_REASONS))
            .then(length)
            .otherwise(pl.lit("invalid_number")),
        )
        .collect()
    )


def _classify_shared(numbers: pl.DataFrame, country_code: str) -> pl.DataFrame:
    """As `region_code_for_number`, `number_type` and `is_possible_number_with_reason` answer, for numbers of
    a country code that several regions share."""
    regions = regions_of(int(country_code))
    # The main region claims most numbers; the others are tried only on what it leaves.
    by_main, unclaimed = _claim(numbers, regions[:1])
    by_others, unclaimed = _claim(unclaimed, regions[1:])
    nobody = unclaimed.with_columns(type=pl.lit(None, pl.String), _region=pl.lit(None, pl.String))
    claimed = pl.concat([by_main, by_others, nobody]).lazy()
    length = region_rules(regions[0]).length_check(pl.col("_nsn"))
    is_valid = pl.col("type").is_not_null()
    return claimed.select(
        pl.exclude("_region"),
        valid=is_valid,
        region=pl.when(is_valid).then("_region"),
        reason=pl.when(is_valid)
        .then(None)
        .when(length.is_in(_LENGTH_REASONS))
        .then(length)
        .otherwise(pl.lit("invalid_number")),
    ).collect()


def _claim(numbers: pl.DataFrame, regions: Iterable[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The numbers that one of `regions` claims, with its `_region` and their `type` there; and the rest.

    Regions sharing a country code claim numbers in turn: one with leading digits claims the
    numbers that start with them; one without claims the numbers its types match.
    """
    nsn = pl.col("_nsn")
    told_by_type = {region: f"_type:{region}" for region in regions if not region_rules(region).leading_digits}
    claiming = pl.lit(None, pl.String)
    for region in reversed(list(regions)):
        claims = (
            pl.col(told_by_type[region]).is_not_null()
            if region in told_by_type
            else nsn.str.contains(f"^(?:{region_rules(region).leading_digits})")
        )
        claiming = pl.when(claims).then(pl.lit(region)).otherwise(claiming)
    marked = (
        numbers.lazy()
        .with_columns(**{column: region_rules(region).number_type(nsn) for region, column in told_by_type.items()})
        .with_columns(_region=claiming)
        .collect()
    )
    typed = [
        marked.lazy()
        .filter(pl.col("_region") == region)
        .with_columns(
            type=pl.col(told_by_type[region]) if region in told_by_type else region_rules(region).number_type(nsn)
        )
        for region in marked.get_column("_region").drop_nulls().unique()
    ]
    columns = [*numbers.columns, "type", "_region"]
    claimed = pl.concat([marked.lazy().clear().with_columns(type=pl.lit(None, pl.String)), *typed]).select(columns)
    return claimed.collect(), marked.filter(pl.col("_region").is_null()).select(numbers.columns)


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
