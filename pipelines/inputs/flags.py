"""Yes/no columns read cautiously: an unclear flag must never let a call through."""

from __future__ import annotations

import polars as pl

_FALSE_FLAGS = ["", "0", "false", "f", "no", "n", "none", "null"]


def is_set_flag(flag: pl.Expr) -> pl.Expr:
    """A yes/no column read cautiously: anything present and not recognisably "no" counts as yes."""
    return flag.is_not_null() & ~flag.str.strip_chars().str.to_lowercase().is_in(_FALSE_FLAGS)
