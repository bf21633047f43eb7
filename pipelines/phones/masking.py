"""Masking phone numbers for previews and logs: country code and last four digits only."""

from __future__ import annotations

import re

import phonenumbers
import polars as pl

CALLING_CODES = {str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
# A written number: digits with the separators people write between them; seven digits or more is masked.
_WRITTEN_NUMBER = re.compile(r"\+?\(?\d[\d ().-]*\d")
_MASKED_DIGITS = 7
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def masked_e164(e164: pl.Expr) -> pl.Expr:
    """`+12015550123` → `+1******0123`."""
    digits = e164.str.strip_prefix("+")
    code_length = country_code_length(digits).fill_null(0)
    return pl.concat_str(pl.lit("+"), digits.str.slice(0, code_length), _last_four(digits.str.slice(code_length)))


def masked_digits(value: pl.Expr) -> pl.Expr:
    """Any written value as its digits with all but the last four hidden: `201.555.068` → `*****5068`."""
    return _last_four(value.str.replace_all(r"[^0-9]", ""))


def country_code_length(digits: pl.Expr) -> pl.Expr:
    """The length of the country calling code an E.164 number's digits start with; null for none.

    Country calling codes are prefix-free, so the one that matches is it.
    """
    code_length = pl.lit(None, pl.Int64)
    for length in (3, 2, 1):
        codes = sorted(code for code in CALLING_CODES if len(code) == length)
        code_length = pl.when(digits.str.slice(0, length).is_in(codes)).then(length).otherwise(code_length)
    return code_length


def _last_four(digits: pl.Expr) -> pl.Expr:
    hidden = (digits.str.len_chars().cast(pl.Int64) - 4).clip(lower_bound=0)
    return pl.concat_str(pl.lit("*").repeat_by(hidden).list.join(""), digits.str.slice(-4))


def masked_text(text: str) -> str:
    """`text` with every written number of seven digits or more masked but its last four: for messages that
    quote what a file holds (`L1, (201) 555-0123` → `L1, (***) ***-0123`)."""
    return _WRITTEN_NUMBER.sub(_mask_number, text)


def _mask_number(match: re.Match[str]) -> str:
    written = match.group()
    digits = sum(character.isdigit() for character in written)
    if digits < _MASKED_DIGITS or _ISO_DATE.fullmatch(written):
        return written
    hidden = iter(range(digits - 4))
    return "".join(
        "*" if character.isdigit() and next(hidden, None) is not None else character for character in written
    )
