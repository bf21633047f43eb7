"""What the engine reads from libphonenumber's metadata, and how it reads a pattern's structure."""

import re

import phonenumbers
import polars as pl
import pytest

from pipelines.phones.pattern_shapes import group_can_be_empty, match_heads
from pipelines.phones.region_rules import (
    direct_international_starts,
    international_prefixes,
    national_prefixes,
    polars_replacement,
    region_rules,
    tagged,
)


@pytest.mark.parametrize(
    ("pattern", "heads"),
    [
        ("0|180020", {"0", "18"}),
        ("(183[12])|0", {"0", "18"}),
        (r"(1(?:[12]\d|79)\d\d)|0", {"0", "11", "12", "17"}),
        ("0?", {"", "0"}),
        ("9[0-9]{2,}", {f"9{digit}" for digit in "0123456789"}),
        ("(?:00)?1", {"1", "00"}),
    ],
)
def test_match_heads_are_the_first_two_characters_of_every_match_or_all_of_a_shorter_one(
    pattern: str, heads: set[str]
) -> None:
    assert match_heads(pattern, 2) == heads


def test_a_national_number_starting_like_a_longer_national_prefix_but_not_with_it_is_direct() -> None:
    starts = direct_international_starts("GB")  # national prefix for parsing: 0|180020
    assert {"16", "20", "79"} <= starts
    assert not {"01", "09", "18"} & starts


def test_a_region_with_a_national_prefix_transform_rule_has_the_starts_its_prefix_cannot_begin() -> None:
    starts = direct_international_starts("BR")  # national prefix for parsing: (?:0|90)(?:(1[245]|…)(\d{10,11}))?
    assert {"11", "21", "91", "99"} <= starts
    assert not {"01", "09", "90"} & starts


def test_the_tagged_patterns_match_each_region_s_prefixes_as_its_own_patterns_do() -> None:
    heads = ["", "0", "00", "011", "010", "1", "8", "810", "90", "0015", "14110011", "180020", "99", "1831", "000"]
    tails = ["", "2", "4641234", "212345", "11961234567", "50012345"]
    rows = [(name, head + tail) for name in sorted(phonenumbers.SUPPORTED_REGIONS) for head in heads for tail in tails]
    frame = pl.DataFrame(rows, schema={"region": pl.String, "number": pl.String}, orient="row")
    tag_length = pl.col("region").str.len_bytes() + 1
    number = tagged(pl.col("region"), pl.col("number"))
    got = frame.select(
        idd=number.str.extract(international_prefixes(), 0).str.len_bytes() - tag_length,
        prefix=number.str.extract(national_prefixes()[0], 0).str.len_bytes() - tag_length,
    ).rows()
    rules = {name: region_rules(name) for name, _ in rows}
    expected = [
        (
            _match_end(rules[name].international_prefix, value),
            _match_end(rules[name].national_prefix_for_parsing, value),
        )
        for name, value in rows
    ]
    assert got == expected


def _match_end(pattern: str | None, number: str) -> int | None:
    """Where Python's `re.match` of `pattern` ends in `number`, as libphonenumber reads a prefix; None if none."""
    match = re.match(pattern, number) if pattern else None
    return match.end() if match else None


@pytest.mark.parametrize(
    ("pattern", "group", "can_be_empty"),
    [("([2-9][0-9]{6})$|1", 1, False), ("0(1[0-9])?", 1, False), ("0([0-9]?)", 1, True), ("0", 1, True)],
)
def test_a_group_that_can_match_nothing_is_told_apart(pattern: str, group: int, can_be_empty: bool) -> None:
    assert group_can_be_empty(pattern, group) is can_be_empty


def test_a_transform_rule_becomes_a_polars_replacement() -> None:
    assert polars_replacement("670\\1") == "670${1}"
    assert polars_replacement(None) is None
