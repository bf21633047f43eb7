"""Masking phone numbers for previews and logs: country code and last four digits only."""

from __future__ import annotations

import phonenumbers
import polars as pl

_COUNTRY_CODES = {str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}


def masked_e164(e164: pl.Expr) -> pl.Expr:
    """`+12015550123` → `+1******0123`; E.164 country codes are prefix-free, so the first match is it."""
    digits = e164.str.strip_prefix("+")
    code_length = pl.lit(None, pl.Int64)
    for length in (3, 2, 1):
        codes = sorted(code for code in _COUNTRY_CODES if len(code) == length)
        code_length = pl.when(digits.str.slice(0, length).is_in(codes)).then(length).otherwise(code_length)
    hidden = digits.str.len_chars() - code_length.fill_null(0) - 4
    return pl.concat_str(
        pl.lit("+"),
        digits.str.slice(0, code_length.fill_null(0)),
        pl.lit("*").repeat_by(hidden.clip(lower_bound=0)).list.join(""),
        digits.str.slice(-4),
    )
