"""What the engine reads from libphonenumber's metadata, and how it reads a pattern's structure."""

import pytest

from pipelines.phones.pattern_shapes import match_heads
from pipelines.phones.region_rules import direct_international_starts


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
