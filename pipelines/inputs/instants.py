"""Instants and dates read from text: every instant Scrubline keeps is UTC."""

from __future__ import annotations

import polars as pl

UTC = "UTC"
_ISO_DATE = "%Y-%m-%d"


def utc_instant(raw: pl.Expr) -> pl.Expr:
    """ISO 8601 text as a UTC instant: `Z`, `UTC` or an offset are honoured, no offset means UTC; else null."""
    text = (
        raw.str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]", "${1}T").str.replace(r"\s*(?:Z|UTC)$", "+00:00")
    )
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone=UTC),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_zone=UTC),
    )


def utc_instant_or_day(raw: pl.Expr) -> pl.Expr:
    """An ISO 8601 instant, or a bare `YYYY-MM-DD` read as the start of that UTC day; else null."""
    day = iso_date(raw).cast(pl.Datetime("us")).dt.replace_time_zone(UTC)
    return pl.coalesce(utc_instant(raw), day)


def iso_date(raw: pl.Expr) -> pl.Expr:
    """A `YYYY-MM-DD` date, or the date part of an ISO 8601 time; else null."""
    return pl.coalesce(raw.str.strip_chars().str.strptime(pl.Date, _ISO_DATE, strict=False), utc_instant(raw).dt.date())
