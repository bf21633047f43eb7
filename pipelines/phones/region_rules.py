"""libphonenumber's per-region metadata as polars expressions.

Everything is read from the installed `phonenumbers` at import, so upgrading it updates the engine;
the differential test against `phonenumbers` itself catches any drift in how the rules are applied.
Patterns are anchored the way libphonenumber applies them: `^(?:p)$` is Python's `fullmatch`,
`^(?:p)` its `match`, and polars' regex engine picks the same leftmost-first match.
"""

from __future__ import annotations

import functools
import re

# CPython's own regex parser: the one way to read a pattern's structure rather than guess it.
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberDesc

from pipelines.phones.pattern_shapes import constrained_width, first_characters, group_can_be_empty, match_heads

MIN_LENGTH_FOR_NSN = 2
MAX_LENGTH_FOR_NSN = 17
NON_GEO_REGION = "001"

# libphonenumber's type chain, in its order: the first matching description names the type.
_TYPE_CHAIN = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
)  # fmt: skip


@dataclass(frozen=True)
class NumberPattern:
    """A number description: the national number regex and the lengths it allows (empty: any)."""

    regex: str
    lengths: tuple[int, ...]

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> NumberPattern | None:
        if desc is None or not desc.national_number_pattern:
            return None
        return cls(regex=ascii_digits(desc.national_number_pattern), lengths=tuple(desc.possible_length))

    def matches(self, number: pl.Expr) -> pl.Expr:
        """libphonenumber's `_is_number_matching_desc`: a possible length and a full pattern match."""
        full_match = number.str.contains(f"^(?:{self.regex})$")
        if not self.lengths:
            return full_match
        return number.str.len_chars().is_in(self.lengths) & full_match


@dataclass(frozen=True)
class RegionRules:
    """What the engine needs of one region's metadata."""

    region: str
    country_code: int
    international_prefix: str | None
    national_prefix_for_parsing: str | None
    # The transform rule as polars writes a replacement (`${1}`), and how many groups the prefix pattern has.
    national_prefix_transform: str | None
    national_prefix_groups: int
    leading_digits: str | None
    general_regex: str
    possible_lengths: tuple[int, ...]
    local_only_lengths: tuple[int, ...]
    general: NumberPattern
    types: tuple[tuple[str, NumberPattern], ...]
    fixed_line: NumberPattern | None
    mobile: NumberPattern | None
    same_mobile_and_fixed_line_pattern: bool

    def length_check(self, number: pl.Expr) -> pl.Expr:
        """libphonenumber's `_test_number_length` for an unknown type, as a `ValidationResult` name."""
        length = number.str.len_chars()
        lengths = self.possible_lengths
        return (
            pl.when(length.is_in(self.local_only_lengths))
            .then(pl.lit("is_possible_local_only"))
            .when(length == lengths[0])
            .then(pl.lit("is_possible"))
            .when(length < lengths[0])
            .then(pl.lit("too_short"))
            .when(length > lengths[-1])
            .then(pl.lit("too_long"))
            .when(length.is_in(lengths[1:]))
            .then(pl.lit("is_possible"))
            .otherwise(pl.lit("invalid_length"))
        )

    def number_type(self, number: pl.Expr) -> pl.Expr:
        """libphonenumber's `_number_type_helper` as a lower-case type name; null for UNKNOWN."""
        result = pl.lit(None, pl.String)
        fixed = self.fixed_line.matches(number) if self.fixed_line else pl.lit(False)
        if self.same_mobile_and_fixed_line_pattern:
            # The mobile pattern is the fixed-line one: never run it a second time.
            result = pl.when(fixed).then(pl.lit("fixed_line_or_mobile")).otherwise(result)
        elif self.fixed_line is not None or self.mobile is not None:
            mobile = self.mobile.matches(number) if self.mobile else pl.lit(False)
            result = fixed_line_or_mobile(fixed, mobile, otherwise=result)
        for name, pattern in reversed(self.types):
            result = pl.when(pattern.matches(number)).then(pl.lit(name)).otherwise(result)
        return pl.when(self.general.matches(number)).then(result)


@functools.cache
def region_rules(region: str) -> RegionRules:
    """The rules of a supported region, or of a non-geographic country code given as `001:<code>`."""
    if region.startswith(f"{NON_GEO_REGION}:"):
        metadata = PhoneMetadata.metadata_for_nongeo_region(int(region.split(":")[1]))
    else:
        metadata = PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc
    return RegionRules(
        region=region,
        country_code=metadata.country_code,
        international_prefix=ascii_digits(metadata.international_prefix),
        national_prefix_for_parsing=ascii_digits(metadata.national_prefix_for_parsing),
        national_prefix_transform=polars_replacement(metadata.national_prefix_transform_rule),
        national_prefix_groups=re.compile(metadata.national_prefix_for_parsing or "").groups,
        leading_digits=ascii_digits(metadata.leading_digits),
        general_regex=ascii_digits(general.national_number_pattern),
        possible_lengths=tuple(general.possible_length),
        local_only_lengths=tuple(general.possible_length_local_only),
        general=NumberPattern(
            regex=ascii_digits(general.national_number_pattern), lengths=tuple(general.possible_length)
        ),
        types=tuple(
            (name, pattern)
            for name in _TYPE_CHAIN
            if (pattern := NumberPattern.of(getattr(metadata, name))) is not None
        ),
        fixed_line=NumberPattern.of(metadata.fixed_line),
        mobile=NumberPattern.of(metadata.mobile),
        same_mobile_and_fixed_line_pattern=bool(metadata.same_mobile_and_fixed_line_pattern),
    )


def ascii_digits(pattern: str | None) -> str | None:
    """`pattern` with `\\d` written `[0-9]`: the same matches on the ASCII digits the engine reads.

    polars compiles a pattern afresh on each query (its cache holds 32) and Unicode `\\d` makes
    that about twice as slow. libphonenumber's patterns use `\\d` only outside character classes.
    """
    return pattern and pattern.replace(r"\d", "[0-9]")


def polars_replacement(template: str | None) -> str | None:
    """A `re.sub` template (`670\\1`) as polars' regex replacement writes it (`670${1}`); None for none."""
    if not template:
        return None
    return re.sub(r"\\([0-9]+)", r"${\1}", template.replace("$", "$$"))


def regions_of(country_code: int) -> tuple[str, ...]:
    """The regions sharing a country code, main region first (`001:<code>` for non-geographic codes)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
    return tuple(f"{NON_GEO_REGION}:{country_code}" if region == NON_GEO_REGION else region for region in regions)


COUNTRY_CODES: tuple[str, ...] = tuple(sorted(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@functools.cache
def rules_table() -> pl.DataFrame:
    """One row per region (and per `001:<code>`): its rules as data, so that one query applies every region's
    rules to that region's own rows, rather than one query per region (a fixed cost of milliseconds each).

    Lengths are bit masks (bit n for length n), as `RegionRules.length_check` reads them: the first, the last,
    the others, local only. `transform_prefix` is what a transform rule writes before the group it keeps
    (`268` of `268\\1`). Each number description of `TYPE_COLUMNS` is a full-match pattern (`^(?:p)$`) and
    its lengths' mask (all bits: any length); where the mobile pattern is the fixed-line one, libphonenumber
    never runs it and neither does the table, which gives the fixed-line description again, to the same answer.
    """
    return pl.DataFrame([_rules_row(region_rules(name)) for name in _TABLE_REGIONS], schema=_RULES_SCHEMA, orient="row")


def tagged(region: pl.Expr, number: pl.Expr) -> pl.Expr:
    """`<region>:<number>`, the form `international_prefixes` and `national_prefixes` read."""
    return pl.concat_str(region, pl.lit(":"), number)


@functools.cache
def international_prefixes() -> str:
    """Every region's IDD in one pattern over `tagged` numbers.

    Only the number's own region's alternative can match, and it matches as that region's pattern alone
    would: the match is `<region>:` and the IDD.
    """
    return _alternatives({name: region_rules(name).international_prefix for name in _TABLE_REGIONS})


@functools.cache
def national_prefixes() -> tuple[str, str]:
    """Every region's national prefix for parsing in one pattern over `tagged` numbers, and the replacement
    that writes, for a region with a transform rule, the group the rule keeps in place of the whole match.

    The kept group is the prefix pattern's last group, named `t<n>` and the only capturing one; it never
    matches empty, so an empty replacement means the rule does not apply (libphonenumber then strips the
    prefix). A transform rule of another form is refused here, so no number is ever transformed wrongly.
    """
    kept = {}
    for name in _TABLE_REGIONS:
        rules = region_rules(name)
        if rules.national_prefix_transform is not None:
            kept[name] = f"t{len(kept)}"
    patterns = {
        name: _only_group(region_rules(name).national_prefix_for_parsing, kept.get(name))
        for name in _TABLE_REGIONS
        if region_rules(name).national_prefix_for_parsing
    }
    return _alternatives(patterns), "".join(f"${{{group}}}" for group in kept.values())


def _alternatives(patterns: dict[str, str | None]) -> str:
    """One pattern of `<region>:(?:<pattern>)` alternatives, anchored at the start."""
    return "^(?:" + "|".join(f"{name}:(?:{pattern})" for name, pattern in patterns.items() if pattern) + ")"


def _only_group(pattern: str, name: str | None) -> str:
    """`pattern` with every group non-capturing but its last, which is named `name` (none kept when `name` is None)."""
    count = re.compile(pattern).groups
    opening = iter(range(1, count + 1))
    rewritten = re.sub(r"\((?!\?)", lambda _: f"(?P<{name}>" if next(opening) == count and name else "(?:", pattern)
    if (
        next(opening, None) is not None
        or re.compile(rewritten).groups != bool(name)
        or (name and group_can_be_empty(rewritten, 1))
    ):
        raise ValueError(f"a national prefix pattern the engine cannot read: {pattern!r}")
    return rewritten


_TABLE_REGIONS = (
    *sorted(phonenumbers.SUPPORTED_REGIONS),
    *(f"{NON_GEO_REGION}:{code}" for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)),
)
_RULES_SCHEMA = {
    "region": pl.String, "country_code": pl.String, "main_region": pl.String, "first_length": pl.Int64,
    "last_length": pl.Int64, "other_lengths": pl.UInt64, "local_only_lengths": pl.UInt64, "transform_prefix": pl.String,
}  # fmt: skip
# The number descriptions `rules_table` gives: the general one, then libphonenumber's type chain.
TYPE_COLUMNS = ("general", *_TYPE_CHAIN, "fixed_line", "mobile")
_DESCRIPTION_CELLS = {"pattern": pl.String, "lengths": pl.UInt64}
_RULES_SCHEMA |= {f"{name}_{cell}": dtype for name in TYPE_COLUMNS for cell, dtype in _DESCRIPTION_CELLS.items()}
_ANY_LENGTH = (1 << 64) - 1


def _rules_row(rules: RegionRules) -> tuple[object, ...]:
    """`rules` as a row of `rules_table`."""
    return (
        rules.region,
        str(rules.country_code),
        regions_of(rules.country_code)[0],
        rules.possible_lengths[0],
        rules.possible_lengths[-1],
        _length_bits(rules.possible_lengths[1:]),
        _length_bits(rules.local_only_lengths),
        _transform_prefix(rules.national_prefix_transform, rules.national_prefix_groups),
        *(cell for name in TYPE_COLUMNS for cell in _pattern_cells(_description(rules, name))),
    )


def _transform_prefix(replacement: str | None, groups: int) -> str | None:
    """The literal a transform rule writes before the prefix pattern's last group (`268` of `268${1}`); None
    for no rule. A rule of another form is refused, so no number is ever transformed wrongly."""
    if replacement is None:
        return None
    literal, group, rest = replacement.partition(f"${{{groups}}}")
    if not group or rest or "$" in literal:
        raise ValueError(f"a national prefix transform rule the engine cannot apply: {replacement!r}")
    return literal


def _length_bits(lengths: tuple[int, ...]) -> int:
    """Lengths as a bit mask: bit n set for length n."""
    return sum(1 << length for length in set(lengths))


def _description(rules: RegionRules, name: str) -> NumberPattern | None:
    """The number description `name` of `TYPE_COLUMNS` as `RegionRules.number_type` applies it."""
    if name == "general":
        return rules.general
    if name == "mobile" and rules.same_mobile_and_fixed_line_pattern:
        return rules.fixed_line
    if name in ("fixed_line", "mobile"):
        return getattr(rules, name)
    return dict(rules.types).get(name)


def _pattern_cells(description: NumberPattern | None) -> tuple[str | None, int]:
    """A description as a full-match pattern and its lengths' mask; none and no length where it is absent."""
    if description is None:
        return None, 0
    return f"^(?:{description.regex})$", _length_bits(description.lengths) if description.lengths else _ANY_LENGTH


@functools.cache
def decisive_width(country_code: str) -> int | None:
    """How many leading digits of a national number decide its region and type (with its length).

    Beyond this width every pattern used for the country code's regions only asks for "a digit",
    so numbers sharing their first `decisive_width` digits and their length are validated once.
    None when some pattern's structure does not allow the bound.
    """
    widths = []
    for region in regions_of(int(country_code)):
        rules = region_rules(region)
        patterns = [rules.general_regex, rules.leading_digits, *(pattern.regex for _, pattern in rules.types)]
        patterns += [pattern.regex for pattern in (rules.fixed_line, rules.mobile) if pattern is not None]
        widths += [constrained_width(pattern) for pattern in patterns if pattern]
    return None if None in widths else max(widths, default=0)


@functools.cache
def direct_national_starts(region: str) -> frozenset[str]:
    """First digits with which a national-format number of `region` needs no prefix handling.

    No international prefix, own country code or national prefix of the region can begin with
    them, so such a number's national significant number is its digits as written.
    """
    rules = region_rules(region)
    prefixes = [rules.international_prefix, rules.national_prefix_for_parsing]
    firsts = [first_characters(pattern) for pattern in prefixes if pattern]
    if None in firsts:
        return frozenset()
    taken = frozenset(str(rules.country_code)[0]).union(*firsts)
    return frozenset("0123456789") - taken


@functools.cache
def direct_international_starts(region: str) -> frozenset[str]:
    """First two digits with which the national number after `region`'s country code needs no prefix handling.

    No match of the region's national prefix can begin them, so the national significant number of
    `+<country code><national number>` is the national number as written.
    """
    rules = region_rules(region)
    prefix = rules.national_prefix_for_parsing
    heads = match_heads(prefix, 2) if prefix else frozenset()
    if heads is None:
        return frozenset()
    pairs = (f"{first}{second}" for first in "0123456789" for second in "0123456789")
    return frozenset(pair for pair in pairs if not any(pair.startswith(head) for head in heads))


def fixed_line_or_mobile(fixed: pl.Expr, mobile: pl.Expr, *, otherwise: pl.Expr) -> pl.Expr:
    """libphonenumber's type of a number by whether its fixed-line and mobile patterns match; `otherwise` for
    neither."""
    return (
        pl.when(fixed & mobile)
        .then(pl.lit("fixed_line_or_mobile"))
        .when(fixed)
        .then(pl.lit("fixed_line"))
        .when(mobile)
        .then(pl.lit("mobile"))
        .otherwise(otherwise)
    )
