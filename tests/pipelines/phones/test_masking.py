"""Previews and logs show a number's country code and last four digits only."""

import polars as pl
import pytest

from pipelines.phones.masking import masked_digits, masked_e164, masked_text


def test_masks_all_but_country_code_and_last_four() -> None:
    numbers = pl.Series(["+12015550123", "+442079460018", "+35312345678", "+8613800138000", None])
    assert pl.select(masked_e164(pl.lit(numbers))).to_series().to_list() == [
        "+1******0123",
        "+44******0018",
        "+353****5678",
        "+86*******8000",
        None,
    ]


def test_a_written_value_keeps_only_its_last_four_digits() -> None:
    values = pl.Series(["201.555.068.0", "+0 201 555 0680", "call 555", "n/a", None])
    assert pl.select(masked_digits(pl.lit(values))).to_series().to_list() == [
        "******0680", "*******0680", "555", "", None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("L1, (201) 555-0123, US", "L1, (***) ***-0123, US"),
        ("+442079460018 and 2015550199", "+********0018 and ******0199"),
        ("row 12, 2026-11-27, file 123456", "row 12, 2026-11-27, file 123456"),
    ],
)
def test_written_numbers_in_a_message_are_masked_but_their_last_four_digits(text: str, masked: str) -> None:
    assert masked_text(text) == masked
